#include "renderer/inject/config.hpp"

#include <algorithm>
#include <set>

#include "emguard/embedded_render.hpp"
#include "policies/common/error.hpp"
#include "policies/engine/schema.hpp"
#include "policies/manifests/yaml.hpp"
#include "policies/references/image_ref.hpp"

namespace emguard::render {
namespace {

using nlohmann::json;

std::string text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();  // numbers such as a port or a cpu quantity
}

ValueSource read_source(const json& value) {
  if (value.is_null()) return {};
  ValueSource source;
  if (value.contains("secretKey")) source.secret_key = value["secretKey"].get<std::string>();
  if (value.contains("value")) source.value = text(value["value"]);
  return source;
}

ResourceSpec read_resources(const json& value) {
  ResourceSpec spec;
  // Named locals: a range-for over items() of a temporary would dangle.
  const json requests = value.value("requests", json::object());
  const json limits = value.value("limits", json::object());
  for (const auto& [key, quantity] : requests.items()) spec.requests[key] = text(quantity);
  for (const auto& [key, quantity] : limits.items()) spec.limits[key] = text(quantity);
  return spec;
}

std::vector<std::string> strings(const json& value) {
  std::vector<std::string> items;
  if (value.is_array()) {
    for (const auto& item : value) items.push_back(item.get<std::string>());
  }
  return items;
}

Connections read_connections(const json& value) {
  Connections c;
  c.secret = value.at("secret").get<std::string>();
  const json& pg = value.at("postgresql");
  c.pg_host = read_source(pg.at("host"));
  c.pg_port = read_source(pg.at("port"));
  c.pg_username = read_source(pg.at("username"));
  c.pg_password = read_source(pg.at("password"));
  const json& redis = value.at("redis");
  c.redis_host = read_source(redis.at("host"));
  c.redis_port = read_source(redis.at("port"));
  c.redis_password = read_source(redis.value("password", json()));
  return c;
}

// Checks the schema cannot express: references between services, images pinned.
void check_semantics(const RenderConfig& config, const std::string& origin) {
  std::vector<std::string> errors;
  std::set<std::string> earlier;
  for (std::size_t i = 0; i < config.services.size(); ++i) {
    const ServiceConfig& service = config.services[i];
    const std::string path = "$.services[" + std::to_string(i) + "]";
    if (earlier.count(service.name) != 0) {
      errors.push_back(path + ".name: service \"" + service.name + "\" is listed twice");
    }
    for (const std::string& upstream : service.after) {
      if (earlier.count(upstream) == 0) {
        errors.push_back(path + ".after: \"" + upstream +
                         "\" must name a service listed before this one (the list is the "
                         "migration order)");
      }
    }
    earlier.insert(service.name);
  }
  for (std::size_t i = 0; i < config.services.size(); ++i) {
    for (const std::string& upstream : config.services[i].after) {
      const auto found = std::find_if(config.services.begin(), config.services.end(),
                                      [&](const ServiceConfig& s) { return s.name == upstream; });
      if (found != config.services.end() && found->health_url.empty()) {
        errors.push_back("$.services[" + std::to_string(i) + "].after: service \"" + upstream +
                         "\" has no healthUrl to wait for");
      }
    }
  }
  const std::pair<const char*, const std::string*> images[] = {{"postgres", &config.image_postgres},
                                                               {"redis", &config.image_redis},
                                                               {"kubectl", &config.image_kubectl},
                                                               {"http", &config.image_http}};
  for (const auto& [key, image] : images) {
    const ImageParseResult parsed = parse_image_reference(*image);
    if (!parsed.ref) {
      errors.push_back(std::string("$.images.") + key + ": " + parsed.error);
    } else if (const PinState state = pin_state(*parsed.ref, {});
               state != PinState::Digest && state != PinState::ExactTag) {
      errors.push_back(std::string("$.images.") + key + ": \"" + *image +
                       "\" is not pinned: give an exact tag (e.g. :16.4-alpine3.20) or a digest "
                       "(@sha256:...), never latest or no tag");
    }
  }
  for (const std::string& name : config.backup.optional_secrets) {
    if (std::find(config.backup.secrets.begin(), config.backup.secrets.end(), name) ==
        config.backup.secrets.end()) {
      errors.push_back("$.backup.secrets.optional: \"" + name +
                       "\" is not in backup.secrets.names");
    }
  }
  if (errors.empty()) return;
  std::string message = origin + ": invalid configuration:";
  for (const std::string& error : errors) message += "\n  " + error;
  throw InputError(message);
}

// The map under `key`, or an undefined node (const lookups only: a missing key stays missing).
YAML::Node child_map(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node child = node[key];
  return child && child.IsMap() ? child : YAML::Node(YAML::NodeType::Undefined);
}

// A connection field is {value: ...} or {secretKey: ...}: a field the user gives replaces the
// default's whole, since merging key by key would keep both and fail the schema's oneOf.
void drop_overridden_sources(const YAML::Node& base, const YAML::Node& user) {
  for (const char* block : {"chart", "external"}) {
    for (const char* database : {"postgresql", "redis"}) {
      const YAML::Node fields =
          child_map(child_map(child_map(user, "credentials"), block), database);
      YAML::Node defaults = child_map(child_map(child_map(base, "credentials"), block), database);
      if (!fields || !defaults) continue;
      for (const auto& field : fields) {
        if (field.second.IsMap()) defaults.remove(field.first.Scalar());
      }
    }
  }
}

}  // namespace

std::string_view default_config_text() { return embedded::default_render_config(); }

std::vector<std::string> render_config_problems(const json& merged) {
  static const JsonSchema schema(embedded::render_config_schema());
  return schema.validate(merged);
}

RenderConfig load_render_config(const std::string& user_yaml, const std::string& origin) {
  YAML::Node merged = parse_yaml(embedded::default_render_config(), "default configuration");
  bool user_given = false;
  if (!user_yaml.empty()) {
    const YAML::Node user = parse_yaml(user_yaml, origin);
    if (!user.IsNull()) {
      if (!user.IsMap()) throw InputError(origin + ": $: expected a mapping at the top level");
      drop_overridden_sources(merged, user);
      merged = merge_yaml(merged, user);
      user_given = true;
    }
  }
  const json value = to_json(merged);
  if (const auto errors = user_given ? render_config_problems(value) : std::vector<std::string>{};
      !errors.empty()) {
    std::string message = origin + ": invalid configuration:";
    for (const std::string& error : errors) message += "\n  " + error;
    throw InputError(message);
  }

  RenderConfig config;
  const json release = value.value("release", json::object());
  config.release_name = release.value("name", "");
  config.release_namespace = release.value("namespace", "");
  const json& images = value.at("images");
  config.image_postgres = images.at("postgres");
  config.image_redis = images.at("redis");
  config.image_kubectl = images.at("kubectl");
  config.image_http = images.at("http");
  const json& credentials = value.at("credentials");
  config.credentials_mode = credentials.at("mode");
  config.connections = read_connections(credentials.at(config.credentials_mode));
  config.keycloak_url = value.at("keycloak").at("url");
  const json& wait = value.at("wait");
  config.wait_timeout_seconds = wait.at("timeoutSeconds");
  config.wait_interval_seconds = wait.at("intervalSeconds");
  config.wait_resources = read_resources(wait.value("resources", json::object()));

  const json services = value.value("services", json::array());
  for (const json& item : services) {
    ServiceConfig service;
    service.name = item.at("name");
    const json& match = item.at("match");
    service.match.kinds = strings(match.value("kinds", json::array()));
    service.match.names = strings(match.value("names", json::array()));
    const json labels = match.value("labels", json::object());
    for (const auto& [key, label] : labels.items()) {
      service.match.labels[key] = label.get<std::string>();
    }
    service.wait_for = strings(item.value("waitFor", json::array()));
    service.after = strings(item.value("after", json::array()));
    service.health_url = item.value("healthUrl", "");
    service.migrates = item.value("migrates", false);
    service.timeout_seconds = item.value("timeoutSeconds", 0);
    config.services.push_back(std::move(service));
  }

  const json backup = value.value("backup", json::object());
  BackupConfig& b = config.backup;
  b.enabled = backup.value("enabled", true);
  const std::string mode = backup.value("mode", "auto");
  b.mode = mode == "hook"    ? BackupMode::Hook
           : mode == "gated" ? BackupMode::Gated
                             : BackupMode::Auto;
  const json pg = backup.value("postgresql", json::object());
  b.postgresql = pg.value("enabled", true);
  b.databases = strings(pg.value("databases", json::array({"*"})));
  b.globals = pg.value("globals", "full");
  b.missing_database = pg.value("missingDatabase", "skip");
  const json redis = backup.value("redis", json::object());
  b.redis = redis.value("enabled", true);
  const json secrets = backup.value("secrets", json::object());
  b.secrets = strings(secrets.value("names", json::array()));
  b.optional_secrets = strings(secrets.value("optional", json::array()));
  const json storage = backup.value("storage", json::object());
  b.existing_claim = storage.value("existingClaim", "");
  b.storage_size = text(storage.value("size", json("20Gi")));
  b.storage_class = storage.value("storageClassName", "");
  b.keep = backup.value("keep", 5);
  b.active_deadline_seconds = backup.value("activeDeadlineSeconds", 3600);
  b.backoff_limit = backup.value("backoffLimit", 1);
  b.resources = read_resources(backup.value("resources", json::object()));
  const json security = backup.value("securityContext", json::object());
  b.run_as_user = security.value("runAsUser", 70);
  b.run_as_group = security.value("runAsGroup", 70);
  b.fs_group = security.value("fsGroup", 70);

  check_semantics(config, origin);
  return config;
}

}  // namespace emguard::render
