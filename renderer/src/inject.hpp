// Internal to the renderer: the pieces the two injectors (backup, waits) share.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "emguard/render/config.hpp"
#include "emguard/stream.hpp"

namespace emguard::render {

// Everything injected carries this prefix (containers, volumes) or annotation (objects), which
// is how a second run recognises and replaces its own work: rendering is idempotent.
inline constexpr std::string_view kInjectedPrefix = "em-guard-";
inline constexpr std::string_view kGeneratedAnnotation = "em-guard.io/generated";
inline constexpr std::string_view kTokenMountPath = "/var/run/secrets/em-guard";

struct Release {
  std::string name;
  std::string namespace_;  // empty when unknown; only the gated backup's RoleBinding needs it
};

// What the backup injector decided; the wait injector and the summary read it.
struct BackupPlan {
  bool enabled = false;
  BackupMode mode = BackupMode::Gated;
  std::string mode_reason;
  std::string job_name;
  std::string content_hash;  // of the migrating workloads, em-guard's own additions removed
};

struct Context {
  const RenderConfig& config;
  Release release;
  BackupPlan backup;
  std::set<std::string> present_services;  // services with a workload in this release
};

// `{release}` and `{namespace}` replaced.
std::string expand(std::string_view text, const Release& release);

// The script as it runs in the container: lib.sh, then the named script.
std::string script_text(std::string_view name);

// One environment variable.
YAML::Node env_value(std::string_view name, std::string_view value);
YAML::Node env_secret(std::string_view name, std::string_view secret, std::string_view key);
YAML::Node env_field(std::string_view name, std::string_view field_path);
YAML::Node env_from(std::string_view name, const ValueSource& source, std::string_view secret,
                    const Release& release);

// A container running one of em-guard's scripts under the Pod Security "restricted" profile.
YAML::Node script_container(std::string_view name, std::string_view image, std::string_view script,
                            const std::vector<YAML::Node>& env, const ResourceSpec& resources,
                            long long run_as_user);

// Init containers in the app's pods run as this user unless the pod sets one: the tool images
// (postgres, redis, curl) default to root, which "restricted" rejects.
inline constexpr long long kWaitUser = 65532;

YAML::Node labels_for(const Release& release, std::string_view component);

// A new object with apiVersion, kind and metadata (name, labels, em-guard's annotation).
YAML::Node new_object(std::string_view api_version, std::string_view kind, std::string_view name,
                      const Release& release, std::string_view component);

// Removes em-guard's init containers and volumes from a pod spec.
void strip_injected(YAML::Node pod_spec);

// The service in the config whose match selects this document, or nullptr.
const ServiceConfig* match_service(const DocumentHeader& header, const RenderConfig& config,
                                   const Release& release);

// Adds the wait init containers (and, in gated mode, the wait for the backup Job) in front of
// the pod spec's own. Returns the names of the added containers.
std::vector<std::string> inject_waits(YAML::Node pod_spec, const ServiceConfig& service,
                                      const Context& context);

struct GeneratedObject {
  std::string source;  // `# Source:` path shown in the output, e.g. em-guard/backup-job.yaml
  YAML::Node object;
  std::string summary;  // one line for --explain
};

// The backup Job and what it needs (ServiceAccount, RBAC, storage). `gate_service_accounts`
// are the service accounts of the workloads that wait for the Job in gated mode.
std::vector<GeneratedObject> backup_objects(const Context& context,
                                            const std::vector<std::string>& gate_service_accounts);

}  // namespace emguard::render
