// Init containers that hold a service back until what it needs is up: PostgreSQL, Redis,
// Keycloak, the services before it in migration order and, in gated mode, the backup Job.
#include <algorithm>

#include "policies/manifests/yaml.hpp"
#include "renderer/inject/inject.hpp"

namespace emguard::render {
namespace {

std::vector<YAML::Node> timing_env(const ServiceConfig& service, const RenderConfig& config) {
  const int timeout =
      service.timeout_seconds > 0 ? service.timeout_seconds : config.wait_timeout_seconds;
  return {env_value("EMG_TIMEOUT", std::to_string(timeout)),
          env_value("EMG_INTERVAL", std::to_string(config.wait_interval_seconds))};
}

YAML::Node wait_postgresql(const ServiceConfig& service, const Context& context) {
  const RenderConfig& config = context.config;
  const Connections& c = config.connections;
  std::vector<YAML::Node> env = {
      env_from("PGHOST", c.pg_host, c.secret, context.release),
      env_from("PGPORT", c.pg_port, c.secret, context.release),
      env_from("PGUSER", c.pg_username, c.secret, context.release),
  };
  for (YAML::Node& variable : timing_env(service, config)) env.push_back(variable);
  return script_container("em-guard-wait-postgresql", config.image_postgres, "wait-postgres", env,
                          config.wait_resources, kWaitUser);
}

YAML::Node wait_redis(const ServiceConfig& service, const Context& context) {
  const RenderConfig& config = context.config;
  const Connections& c = config.connections;
  std::vector<YAML::Node> env = {
      env_from("EMG_REDIS_HOST", c.redis_host, c.secret, context.release),
      env_from("EMG_REDIS_PORT", c.redis_port, c.secret, context.release),
  };
  // redis-cli reads the password from REDISCLI_AUTH, so it never shows in a process list.
  if (!c.redis_password.secret_key.empty() || !c.redis_password.value.empty()) {
    env.push_back(env_from("REDISCLI_AUTH", c.redis_password, c.secret, context.release));
  }
  for (YAML::Node& variable : timing_env(service, config)) env.push_back(variable);
  return script_container("em-guard-wait-redis", config.image_redis, "wait-redis", env,
                          config.wait_resources, kWaitUser);
}

YAML::Node wait_http(std::string_view container, std::string_view what, std::string_view url,
                     const ServiceConfig& service, const Context& context) {
  std::vector<YAML::Node> env = {env_value("EMG_URL", expand(url, context.release)),
                                 env_value("EMG_WHAT", what)};
  for (YAML::Node& variable : timing_env(service, context.config)) env.push_back(variable);
  return script_container(container, context.config.image_http, "wait-http", env,
                          context.config.wait_resources, kWaitUser);
}

// Gated mode: the pod starts once the backup of its own version is verified. It reads the
// durable record the backup Job writes (so a deleted or renamed Job does not matter), and only
// while its version is not recorded, the current plan and Job, with a projected
// service-account token of its own (it works whether or not the chart mounts a token).
YAML::Node wait_backup(const ServiceConfig& service, const Context& context,
                       std::string_view version_key) {
  std::vector<YAML::Node> env = {
      env_value("EMG_SERVICE", service.name),
      env_value("EMG_BACKUP_KEY", version_key),
      env_value("EMG_RECORD", backup_record_name(context.release)),
      env_value("EMG_PLAN", backup_plan_name(context.release)),
      env_field("EMG_NAMESPACE", "metadata.namespace"),
      env_value("EMG_TOKEN_DIR", kTokenMountPath),
      env_value("HOME", "/tmp"),
      // A backup takes longer than a dependency takes to start: wait out the Job's own
      // deadline (plus time to schedule it) rather than the dependency timeout.
      env_value("EMG_TIMEOUT", std::to_string(context.config.backup.active_deadline_seconds + 300)),
      env_value("EMG_INTERVAL", std::to_string(context.config.wait_interval_seconds)),
  };
  YAML::Node container =
      script_container("em-guard-wait-backup", context.config.image_kubectl, "wait-backup", env,
                       context.config.wait_resources, kWaitUser);
  YAML::Node token_mount;
  token_mount["name"] = yaml_string("em-guard-api-token");
  token_mount["mountPath"] = yaml_string(kTokenMountPath);
  token_mount["readOnly"] = yaml_bool(true);
  YAML::Node tmp_mount;
  tmp_mount["name"] = yaml_string("em-guard-tmp");
  tmp_mount["mountPath"] = yaml_string("/tmp");
  container["volumeMounts"].push_back(token_mount);
  container["volumeMounts"].push_back(tmp_mount);
  return container;
}

std::vector<YAML::Node> gate_volumes() {
  YAML::Node token = api_token_volume("em-guard-api-token");
  YAML::Node tmp;
  tmp["name"] = yaml_string("em-guard-tmp");
  tmp["emptyDir"]["sizeLimit"] = yaml_string("16Mi");
  return {token, tmp};
}

}  // namespace

std::vector<std::string> inject_waits(YAML::Node pod_spec, const ServiceConfig& service,
                                      const Context& context, std::string_view version_key) {
  std::vector<YAML::Node> added;
  const auto waits_for = [&](std::string_view dependency) {
    return std::find(service.wait_for.begin(), service.wait_for.end(), dependency) !=
           service.wait_for.end();
  };
  if (waits_for("postgresql")) added.push_back(wait_postgresql(service, context));
  if (waits_for("redis")) added.push_back(wait_redis(service, context));
  if (waits_for("keycloak")) {
    added.push_back(wait_http("em-guard-wait-keycloak", "Keycloak", context.config.keycloak_url,
                              service, context));
  }
  for (const std::string& upstream : service.after) {
    // A service that is not deployed would never answer: the pod would only time out.
    if (context.present_services.count(upstream) == 0) continue;
    const auto found = std::find_if(context.config.services.begin(), context.config.services.end(),
                                    [&](const ServiceConfig& s) { return s.name == upstream; });
    added.push_back(
        wait_http("em-guard-wait-" + upstream, upstream, found->health_url, service, context));
  }
  const bool gated =
      context.backup.enabled && context.backup.mode == BackupMode::Gated && service.migrates;
  if (gated) added.push_back(wait_backup(service, context, version_key));

  std::vector<std::string> names;
  if (added.empty()) return names;
  YAML::Node init(YAML::NodeType::Sequence);
  for (const YAML::Node& container : added) {
    names.push_back(container["name"].Scalar());
    init.push_back(container);
  }
  if (pod_spec["initContainers"] && pod_spec["initContainers"].IsSequence()) {
    for (const YAML::Node& existing : pod_spec["initContainers"]) init.push_back(existing);
  }
  pod_spec["initContainers"] = init;
  pod_spec["volumes"].push_back(scripts_volume(context.scripts_config_map));
  if (gated) {
    for (const YAML::Node& volume : gate_volumes()) pod_spec["volumes"].push_back(volume);
  }
  return names;
}

}  // namespace emguard::render
