// The pre-upgrade backup: a Job that dumps every database, snapshots Redis and saves the
// credentials Secrets onto a volume, verifies all of it, and fails (stopping the upgrade) on any
// error. In hook mode it is a Helm pre-upgrade/pre-rollback hook; in gated mode a plain Job that
// the migrating services wait for.
#include <algorithm>
#include <numeric>

#include "emguard/yaml.hpp"
#include "inject.hpp"

namespace emguard::render {
namespace {

constexpr std::string_view kBackupRoot = "/backups";

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

// Hooks run in weight order; the RBAC must exist before the Job's pod asks the API for Secrets.
void make_hook(YAML::Node object, int weight) {
  YAML::Node annotations = object["metadata"]["annotations"];
  annotations["helm.sh/hook"] = yaml_string("pre-upgrade,pre-rollback");
  annotations["helm.sh/hook-weight"] = yaml_string(std::to_string(weight));
  annotations["helm.sh/hook-delete-policy"] = yaml_string("before-hook-creation");
}

YAML::Node role(std::string_view name, const Release& release, std::string_view resource,
                const std::vector<std::string>& resource_names, std::string_view component) {
  YAML::Node object = new_object("rbac.authorization.k8s.io/v1", "Role", name, release, component);
  YAML::Node rule;
  rule["apiGroups"].push_back(yaml_string(resource == "jobs" ? "batch" : ""));
  rule["resources"].push_back(yaml_string(resource));
  // Only these names: the Role cannot read any other Secret or Job in the namespace.
  for (const std::string& item : resource_names) rule["resourceNames"].push_back(yaml_string(item));
  rule["verbs"].push_back(yaml_string("get"));
  object["rules"].push_back(rule);
  return object;
}

YAML::Node role_binding(std::string_view name, const Release& release,
                        const std::vector<std::string>& service_accounts,
                        std::string_view component) {
  YAML::Node object =
      new_object("rbac.authorization.k8s.io/v1", "RoleBinding", name, release, component);
  object["roleRef"]["apiGroup"] = yaml_string("rbac.authorization.k8s.io");
  object["roleRef"]["kind"] = yaml_string("Role");
  object["roleRef"]["name"] = yaml_string(name);
  for (const std::string& account : service_accounts) {
    YAML::Node subject;
    subject["kind"] = yaml_string("ServiceAccount");
    subject["name"] = yaml_string(account);
    if (!release.namespace_.empty()) subject["namespace"] = yaml_string(release.namespace_);
    object["subjects"].push_back(subject);
  }
  return object;
}

YAML::Node mount(std::string_view volume, std::string_view path) {
  YAML::Node node;
  node["name"] = yaml_string(volume);
  node["mountPath"] = yaml_string(path);
  return node;
}

std::vector<YAML::Node> with(std::vector<YAML::Node> env, const std::vector<YAML::Node>& more) {
  env.insert(env.end(), more.begin(), more.end());
  return env;
}

YAML::Node backup_job(const Context& context, std::string_view claim,
                      std::string_view service_account) {
  const RenderConfig& config = context.config;
  const BackupConfig& backup = config.backup;
  const Connections& c = config.connections;
  const Release& release = context.release;
  const std::string run_id = context.backup.content_hash.substr(0, 12);
  const std::string staging = std::string(kBackupRoot) + "/.partial-" + run_id;

  YAML::Node job = new_object("batch/v1", "Job", context.backup.job_name, release, "backup");
  job["metadata"]["annotations"]["em-guard.io/content-hash"] =
      yaml_string(context.backup.content_hash);
  YAML::Node spec = job["spec"];
  spec["backoffLimit"] = yaml_int(backup.backoff_limit);
  spec["activeDeadlineSeconds"] = yaml_int(backup.active_deadline_seconds);
  YAML::Node pod = spec["template"];
  pod["metadata"]["labels"] = labels_for(release, "backup");
  YAML::Node pod_spec = pod["spec"];
  pod_spec["serviceAccountName"] = yaml_string(service_account);
  pod_spec["automountServiceAccountToken"] = yaml_bool(backup.secrets.size() > 0);
  pod_spec["restartPolicy"] = yaml_string("Never");
  YAML::Node security = pod_spec["securityContext"];
  security["runAsNonRoot"] = yaml_bool(true);
  security["runAsUser"] = yaml_int(backup.run_as_user);
  security["runAsGroup"] = yaml_int(backup.run_as_group);
  security["fsGroup"] = yaml_int(backup.fs_group);
  security["seccompProfile"]["type"] = yaml_string("RuntimeDefault");

  const std::vector<YAML::Node> timing = {
      env_value("EMG_TIMEOUT", std::to_string(config.wait_timeout_seconds)),
      env_value("EMG_INTERVAL", std::to_string(config.wait_interval_seconds))};
  const std::vector<YAML::Node> storage = {env_value("EMG_BACKUP_DIR", staging)};
  const std::vector<YAML::Node> pg_env = {env_from("PGHOST", c.pg_host, c.secret, release),
                                          env_from("PGPORT", c.pg_port, c.secret, release),
                                          env_from("PGUSER", c.pg_username, c.secret, release),
                                          env_from("PGPASSWORD", c.pg_password, c.secret, release)};
  std::vector<YAML::Node> redis_env = {env_from("EMG_REDIS_HOST", c.redis_host, c.secret, release),
                                       env_from("EMG_REDIS_PORT", c.redis_port, c.secret, release)};
  if (!c.redis_password.secret_key.empty() || !c.redis_password.value.empty()) {
    redis_env.push_back(env_from("REDISCLI_AUTH", c.redis_password, c.secret, release));
  }

  std::vector<YAML::Node> steps;
  if (backup.postgresql) {
    steps.push_back(script_container("wait-postgresql", config.image_postgres, "wait-postgres",
                                     with(pg_env, timing), backup.resources, 0));
  }
  if (backup.redis) {
    steps.push_back(script_container("wait-redis", config.image_redis, "wait-redis",
                                     with(redis_env, timing), backup.resources, 0));
  }
  if (backup.postgresql) {
    steps.push_back(script_container(
        "backup-postgresql", config.image_postgres, "backup-postgres",
        with(with(pg_env, storage), {env_value("EMG_DATABASES", join(backup.databases, " ")),
                                     env_value("EMG_PG_GLOBALS", backup.globals),
                                     env_value("EMG_PG_MISSING", backup.missing_database)}),
        backup.resources, 0));
  }
  if (backup.redis) {
    steps.push_back(script_container("backup-redis", config.image_redis, "backup-redis",
                                     with(redis_env, storage), backup.resources, 0));
  }
  if (!backup.secrets.empty()) {
    steps.push_back(script_container(
        "backup-secrets", config.image_kubectl, "backup-secrets",
        with(storage, {env_field("EMG_NAMESPACE", "metadata.namespace"),
                       env_value("EMG_SECRETS", join(backup.secrets, " ")),
                       env_value("EMG_OPTIONAL_SECRETS", join(backup.optional_secrets, " ")),
                       env_value("HOME", "/tmp")}),
        backup.resources, 0));
  }
  YAML::Node finalize = script_container(
      "verify", config.image_postgres, "backup-finalize",
      with(storage, {env_value("EMG_BACKUP_ROOT", kBackupRoot), env_value("EMG_RUN_ID", run_id),
                     env_value("EMG_RELEASE", release.name),
                     env_field("EMG_NAMESPACE", "metadata.namespace"),
                     env_value("EMG_KEEP", std::to_string(backup.keep))}),
      backup.resources, 0);

  // Init containers run one after another and stop the pod at the first failure, which is
  // exactly the order and the all-or-nothing the backup needs.
  for (YAML::Node& step : steps) {
    step["volumeMounts"].push_back(mount("backups", kBackupRoot));
    step["volumeMounts"].push_back(mount("tmp", "/tmp"));
    pod_spec["initContainers"].push_back(step);
  }
  finalize["volumeMounts"].push_back(mount("backups", kBackupRoot));
  finalize["volumeMounts"].push_back(mount("tmp", "/tmp"));
  pod_spec["containers"].push_back(finalize);

  YAML::Node backups_volume;
  backups_volume["name"] = yaml_string("backups");
  backups_volume["persistentVolumeClaim"]["claimName"] = yaml_string(claim);
  YAML::Node tmp_volume;
  tmp_volume["name"] = yaml_string("tmp");
  tmp_volume["emptyDir"]["sizeLimit"] = yaml_string("64Mi");
  pod_spec["volumes"].push_back(backups_volume);
  pod_spec["volumes"].push_back(tmp_volume);
  return job;
}

}  // namespace

std::vector<GeneratedObject> backup_objects(const Context& context,
                                            const std::vector<std::string>& gate_accounts) {
  const RenderConfig& config = context.config;
  const BackupConfig& backup = config.backup;
  const Release& release = context.release;
  const bool hook = context.backup.mode == BackupMode::Hook;
  const std::string base = release.name + "-em-guard-backup";
  std::vector<GeneratedObject> objects;

  YAML::Node account = new_object("v1", "ServiceAccount", base, release, "backup");
  account["automountServiceAccountToken"] = yaml_bool(false);
  objects.push_back(
      {"em-guard/backup-rbac.yaml", account, "ServiceAccount " + base + " for the backup Job"});
  if (!backup.secrets.empty()) {
    objects.push_back({"em-guard/backup-rbac.yaml",
                       role(base, release, "secrets", backup.secrets, "backup"),
                       "Role " + base + ": get only Secrets " + join(backup.secrets, ", ")});
    objects.push_back({"em-guard/backup-rbac.yaml", role_binding(base, release, {base}, "backup"),
                       "RoleBinding " + base + " to ServiceAccount " + base});
  }
  if (hook) {
    for (GeneratedObject& object : objects) make_hook(object.object, -10);
  } else if (!gate_accounts.empty()) {
    const std::string gate = base + "-gate";
    objects.push_back({"em-guard/backup-gate.yaml",
                       role(gate, release, "jobs", {context.backup.job_name}, "backup-gate"),
                       "Role " + gate + ": get only Job " + context.backup.job_name});
    objects.push_back({"em-guard/backup-gate.yaml",
                       role_binding(gate, release, gate_accounts, "backup-gate"),
                       "RoleBinding " + gate + " to ServiceAccounts " + join(gate_accounts, ", ") +
                           " (the migrating services, which wait for the Job)"});
  }

  std::string claim = expand(backup.existing_claim, release);
  if (claim.empty()) {
    claim = release.name + "-em-guard-backups";
    YAML::Node pvc = new_object("v1", "PersistentVolumeClaim", claim, release, "backup");
    // Kept on uninstall and never a hook: backups must outlive the release and every upgrade.
    pvc["metadata"]["annotations"]["helm.sh/resource-policy"] = yaml_string("keep");
    pvc["spec"]["accessModes"].push_back(yaml_string("ReadWriteOnce"));
    pvc["spec"]["resources"]["requests"]["storage"] = yaml_string(backup.storage_size);
    if (!backup.storage_class.empty()) {
      pvc["spec"]["storageClassName"] = yaml_string(backup.storage_class);
    }
    objects.push_back({"em-guard/backup-storage.yaml", pvc,
                       "PersistentVolumeClaim " + claim + " (" + backup.storage_size +
                           ", kept on uninstall) for the backups"});
  }

  YAML::Node job = backup_job(context, claim, base);
  std::vector<std::string> contents;
  if (backup.postgresql) contents.push_back("PostgreSQL databases " + join(backup.databases, ", "));
  if (backup.redis) contents.push_back("a Redis RDB snapshot");
  if (!backup.secrets.empty()) contents.push_back("Secrets " + join(backup.secrets, ", "));
  std::string summary = "Job " + context.backup.job_name + " (";
  summary += hook ? "Helm hook pre-upgrade,pre-rollback" : "gated: migrating services wait for it";
  summary += "): backs up " + join(contents, "; ") + " onto PVC " + claim + ", verifies, keeps " +
             std::to_string(backup.keep) + " runs";
  if (hook) make_hook(job, -5);
  objects.push_back({"em-guard/backup-job.yaml", job, summary});
  return objects;
}

}  // namespace emguard::render
