// The pre-upgrade backup: a Job that dumps every database, snapshots Redis and saves the
// credentials Secrets onto a volume, verifies all of it, and fails (stopping the upgrade) on any
// error. In hook mode it is a Helm pre-upgrade/pre-rollback hook; in gated mode a plain Job that
// the migrating services wait for.
#include <algorithm>
#include <numeric>

#include "policies/common/join.hpp"
#include "policies/common/sha256.hpp"
#include "policies/manifests/yaml.hpp"
#include "renderer/inject/inject.hpp"

namespace emguard::render {
namespace {

constexpr std::string_view kBackupRoot = "/backups";

// Hooks run in weight order; the RBAC must exist before the Job's pod asks the API for Secrets.
void make_hook(YAML::Node object, int weight) {
  YAML::Node annotations = object["metadata"]["annotations"];
  annotations["helm.sh/hook"] = yaml_string("pre-upgrade,pre-rollback");
  annotations["helm.sh/hook-weight"] = yaml_string(std::to_string(weight));
  annotations["helm.sh/hook-delete-policy"] = yaml_string("before-hook-creation");
}

struct Rule {
  std::string_view api_group;  // "" for the core group
  std::string_view resource;
  std::vector<std::string> verbs;
  // Only these objects; empty only for `create`, which RBAC cannot restrict by name.
  std::vector<std::string> names;
};

YAML::Node role(std::string_view name, const Release& release, const std::vector<Rule>& rules,
                std::string_view component) {
  YAML::Node object = new_object("rbac.authorization.k8s.io/v1", "Role", name, release, component);
  for (const Rule& rule : rules) {
    YAML::Node node;
    node["apiGroups"].push_back(yaml_string(rule.api_group));
    node["resources"].push_back(yaml_string(rule.resource));
    for (const std::string& item : rule.names) node["resourceNames"].push_back(yaml_string(item));
    for (const std::string& verb : rule.verbs) node["verbs"].push_back(yaml_string(verb));
    object["rules"].push_back(node);
  }
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
    // No namespace: in a RoleBinding it defaults to the binding's own, which is where the
    // release and its service accounts are (neither Helm passes the namespace to a
    // post-renderer; docs/clients in README "No namespace needed").
    subject["name"] = yaml_string(account);
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

YAML::Node read_only_mount(std::string_view volume, std::string_view path) {
  YAML::Node node = mount(volume, path);
  node["readOnly"] = yaml_bool(true);
  return node;
}

// What the record says the run covered: one `<version key> <service>` line per workload.
std::string covers_text(const BackupPlan& plan) {
  std::string text;
  for (const CoveredWorkload& workload : plan.covered) {
    text += workload.version_key + " " + workload.service + "\n";
  }
  return text;
}

std::string lines(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += item + "\n";
  return text;
}

// The Job, and handles on the two scalars that hold its own name (metadata.name and the record
// step's EMG_JOB_NAME): gated mode names the Job by a hash of the Job itself, so it builds the
// Job without a name, hashes it and then fills these in, instead of building it twice.
struct BackupJob {
  YAML::Node job;
  std::vector<YAML::Node> name_fields;
};

BackupJob backup_job(const Context& context, std::string_view claim,
                     std::string_view service_account, std::string_view scripts) {
  const RenderConfig& config = context.config;
  const BackupConfig& backup = config.backup;
  const Connections& c = config.connections;
  const Release& release = context.release;
  const std::string& run_id = context.backup.run_id;
  const std::string staging = std::string(kBackupRoot) + "/.partial-" + run_id;

  YAML::Node job = new_object("batch/v1", "Job", context.backup.job_name, release, "backup");
  std::vector<YAML::Node> name_fields = {job["metadata"]["name"]};
  YAML::Node spec = job["spec"];
  spec["backoffLimit"] = yaml_int(backup.backoff_limit);
  spec["activeDeadlineSeconds"] = yaml_int(backup.active_deadline_seconds);
  YAML::Node pod = spec["template"];
  pod["metadata"]["labels"] = labels_for(release, "backup");
  YAML::Node pod_spec = pod["spec"];
  pod_spec["serviceAccountName"] = yaml_string(service_account);
  // Only the containers that call the API mount a token (a projected volume of their own).
  pod_spec["automountServiceAccountToken"] = yaml_bool(false);
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
  const std::vector<YAML::Node> api = {env_field("EMG_NAMESPACE", "metadata.namespace"),
                                       env_value("EMG_TOKEN_DIR", kTokenMountPath),
                                       env_value("HOME", "/tmp")};
  const std::vector<YAML::Node> pg_env = {env_from("PGHOST", c.pg_host, c.secret, release),
                                          env_from("PGPORT", c.pg_port, c.secret, release),
                                          env_from("PGUSER", c.pg_username, c.secret, release),
                                          env_from("PGPASSWORD", c.pg_password, c.secret, release)};
  std::vector<YAML::Node> redis_env = {env_from("EMG_REDIS_HOST", c.redis_host, c.secret, release),
                                       env_from("EMG_REDIS_PORT", c.redis_port, c.secret, release)};
  if (!c.redis_password.secret_key.empty() || !c.redis_password.value.empty()) {
    redis_env.push_back(env_from("REDISCLI_AUTH", c.redis_password, c.secret, release));
  }

  // Init containers run one after another and stop the pod at the first failure, which is
  // exactly the order and the all-or-nothing the backup needs. `api` marks the ones that get
  // the token.
  struct Step {
    YAML::Node container;
    bool api = false;
  };
  std::vector<Step> steps;
  steps.push_back({script_container(
      "prepare", config.image_postgres, "backup-prepare",
      with(storage, {env_value("EMG_BACKUP_ROOT", kBackupRoot), env_value("EMG_RUN_ID", run_id),
                     env_value("EMG_KEEP", std::to_string(backup.keep))}),
      backup.resources, 0)});
  if (backup.postgresql) {
    steps.push_back({script_container("wait-postgresql", config.image_postgres, "wait-postgres",
                                      with(pg_env, timing), backup.resources, 0)});
  }
  if (backup.redis) {
    steps.push_back({script_container("wait-redis", config.image_redis, "wait-redis",
                                      with(redis_env, timing), backup.resources, 0)});
  }
  if (backup.postgresql) {
    steps.push_back({script_container(
        "backup-postgresql", config.image_postgres, "backup-postgres",
        with(with(pg_env, storage), {env_value("EMG_DATABASES", lines(backup.databases)),
                                     env_value("EMG_PG_GLOBALS", backup.globals),
                                     env_value("EMG_PG_MISSING", backup.missing_database)}),
        backup.resources, 0)});
  }
  if (backup.redis) {
    steps.push_back({script_container("backup-redis", config.image_redis, "backup-redis",
                                      with(redis_env, storage), backup.resources, 0)});
  }
  if (!backup.secrets.empty()) {
    steps.push_back({script_container("backup-secrets", config.image_kubectl, "backup-secrets",
                                      with(with(storage, api),
                                           {env_value("EMG_SECRETS", join(backup.secrets, " ")),
                                            env_value("EMG_OPTIONAL_SECRETS",
                                                      join(backup.optional_secrets, " "))}),
                                      backup.resources, 0),
                     true});
  }
  steps.push_back({script_container(
      "verify", config.image_postgres, "backup-finalize",
      with(storage, {env_value("EMG_BACKUP_ROOT", kBackupRoot), env_value("EMG_RUN_ID", run_id),
                     env_value("EMG_RELEASE", release.name),
                     env_field("EMG_NAMESPACE", "metadata.namespace"),
                     env_value("EMG_KEEP", std::to_string(backup.keep))}),
      backup.resources, 0)});
  for (Step& step : steps) {
    step.container["volumeMounts"].push_back(mount("backups", kBackupRoot));
    step.container["volumeMounts"].push_back(mount("tmp", "/tmp"));
    if (step.api) {
      step.container["volumeMounts"].push_back(read_only_mount("api-token", kTokenMountPath));
    }
    pod_spec["initContainers"].push_back(step.container);
  }

  // Last, once the run is published: the durable record that lets a gated pod of a covered
  // version start at once, whatever happens to this Job later.
  YAML::Node record = script_container(
      "record", config.image_kubectl, "backup-record",
      with(api, {env_value("EMG_BACKUP_ROOT", kBackupRoot), env_value("EMG_RUN_ID", run_id),
                 env_value("EMG_RECORD", backup_record_name(release)),
                 env_value("EMG_JOB_NAME", context.backup.job_name),
                 env_value("EMG_RELEASE", release.name),
                 env_value("EMG_COVERS", covers_text(context.backup))}),
      backup.resources, 0);
  for (YAML::Node variable : record["env"]) {
    if (variable["name"].Scalar() == "EMG_JOB_NAME") name_fields.push_back(variable["value"]);
  }
  record["volumeMounts"].push_back(read_only_mount("backups", kBackupRoot));
  record["volumeMounts"].push_back(mount("tmp", "/tmp"));
  record["volumeMounts"].push_back(read_only_mount("api-token", kTokenMountPath));
  pod_spec["containers"].push_back(record);

  YAML::Node backups_volume;
  backups_volume["name"] = yaml_string("backups");
  backups_volume["persistentVolumeClaim"]["claimName"] = yaml_string(claim);
  YAML::Node tmp_volume;
  tmp_volume["name"] = yaml_string("tmp");
  tmp_volume["emptyDir"]["sizeLimit"] = yaml_string("64Mi");
  pod_spec["volumes"].push_back(backups_volume);
  pod_spec["volumes"].push_back(tmp_volume);
  pod_spec["volumes"].push_back(api_token_volume("api-token"));
  pod_spec["volumes"].push_back(scripts_volume(scripts));
  return {job, std::move(name_fields)};
}

// Gated mode: a Job's pod template is immutable, so the Job's name covers its own spec
// (images, scripts, settings: a new em-guard or configuration gets a new Job instead of a
// rejected patch) besides the run, i.e. the versions of the migrating workloads it backs up.
std::string gated_job_name(const Context& context, const YAML::Node& nameless_job) {
  Sha256 hash;
  hash.update(context.backup.run_id);
  hash.update(emit_yaml(nameless_job));
  return bounded_name(context.release.name, "-em-guard-backup-" + hash.hex().substr(0, 10));
}

// Gated mode: which Job backs up which workload versions now. Rendered with the release and
// read by the gate, so a pod's own template never names the Job (which changes whenever any
// migrating service does).
YAML::Node backup_plan(const Context& context) {
  YAML::Node plan =
      new_object("v1", "ConfigMap", backup_plan_name(context.release), context.release, "backup");
  plan["data"]["job"] = yaml_string(context.backup.job_name);
  plan["data"]["record"] = yaml_string(backup_record_name(context.release));
  for (const CoveredWorkload& workload : context.backup.covered) {
    plan["data"][workload.version_key] = yaml_string(workload.service);
  }
  return plan;
}

}  // namespace

std::vector<GeneratedObject> backup_objects(Context& context,
                                            const std::vector<std::string>& gate_accounts) {
  const RenderConfig& config = context.config;
  const BackupConfig& backup = config.backup;
  const Release& release = context.release;
  const bool hook = context.backup.mode == BackupMode::Hook;
  const std::string base = release.name + "-em-guard-backup";
  const std::string record = backup_record_name(release);
  std::vector<GeneratedObject> objects;

  // The Job first: in gated mode every other object names it.
  const std::string scripts = hook ? base + "-scripts" : context.scripts_config_map;
  std::string claim = expand(backup.existing_claim, release);
  const bool own_claim = claim.empty();
  if (own_claim) claim = release.name + "-em-guard-backups";
  context.backup.job_name = hook ? bounded_name(release.name, "-em-guard-backup") : "";
  BackupJob job = backup_job(context, claim, base, scripts);
  if (!hook) {
    context.backup.job_name = gated_job_name(context, job.job);
    for (YAML::Node field : job.name_fields) field = context.backup.job_name;
  }

  YAML::Node account = new_object("v1", "ServiceAccount", base, release, "backup");
  account["automountServiceAccountToken"] = yaml_bool(false);
  objects.push_back({"em-guard/backup-serviceaccount.yaml", account,
                     "ServiceAccount " + base + " for the backup Job"});
  std::vector<Rule> rules;
  if (!backup.secrets.empty()) rules.push_back({"", "secrets", {"get"}, backup.secrets});
  rules.push_back({"", "configmaps", {"get", "update"}, {record}});
  rules.push_back({"", "configmaps", {"create"}, {}});
  std::string granted = "get only Secrets " + join(backup.secrets, ", ") + "; ";
  if (backup.secrets.empty()) granted.clear();
  objects.push_back(
      {"em-guard/backup-role.yaml", role(base, release, rules, "backup"),
       "Role " + base + ": " + granted + "get, update ConfigMap " + record +
           " (the record of verified backups) and create it (RBAC cannot limit create by name)"});
  objects.push_back({"em-guard/backup-rolebinding.yaml",
                     role_binding(base, release, {base}, "backup"),
                     "RoleBinding " + base + " to ServiceAccount " + base});
  if (hook) {
    // Pre-upgrade hooks run before the release's own resources exist: the Job gets a hook
    // copy of the scripts, replaced at every upgrade like the other hooks.
    objects.push_back({"em-guard/backup-scripts.yaml", scripts_config_map(release, scripts),
                       "ConfigMap " + scripts + ": the backup Job's scripts (a hook copy)"});
    for (GeneratedObject& object : objects) make_hook(object.object, -10);
  } else {
    objects.push_back({"em-guard/backup-plan.yaml", backup_plan(context),
                       "ConfigMap " + backup_plan_name(release) + ": Job " +
                           context.backup.job_name + " backs up " +
                           std::to_string(context.backup.covered.size()) +
                           " workload versions; the gate reads it"});
  }
  if (!hook && !gate_accounts.empty()) {
    const std::string gate = base + "-gate";
    const std::string plan = backup_plan_name(release);
    objects.push_back({"em-guard/backup-gate-role.yaml",
                       role(gate, release,
                            {{"", "configmaps", {"get"}, {record, plan}},
                             {"batch", "jobs", {"get"}, {context.backup.job_name}}},
                            "backup-gate"),
                       "Role " + gate + ": get only ConfigMaps " + record + ", " + plan +
                           " and Job " + context.backup.job_name});
    objects.push_back({"em-guard/backup-gate-rolebinding.yaml",
                       role_binding(gate, release, gate_accounts, "backup-gate"),
                       "RoleBinding " + gate + " to ServiceAccounts " + join(gate_accounts, ", ") +
                           " (the migrating services, which wait for the backup)"});
  }

  if (own_claim) {
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

  std::vector<std::string> contents;
  if (backup.postgresql) contents.push_back("PostgreSQL databases " + join(backup.databases, ", "));
  if (backup.redis) contents.push_back("a Redis RDB snapshot");
  if (!backup.secrets.empty()) contents.push_back("Secrets " + join(backup.secrets, ", "));
  std::string summary = "Job " + context.backup.job_name + " (";
  summary += hook ? "Helm hook pre-upgrade,pre-rollback" : "gated: migrating services wait for it";
  summary += "): backs up " + join(contents, "; ") + " onto PVC " + claim + ", verifies, keeps " +
             std::to_string(backup.keep) + " runs, records the run in ConfigMap " + record;
  if (hook) make_hook(job.job, -5);
  objects.push_back({"em-guard/backup-job.yaml", job.job, summary});
  return objects;
}

}  // namespace emguard::render
