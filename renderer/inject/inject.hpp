// Internal to the renderer: the pieces the two injectors (backup, waits) share.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policies/manifests/stream.hpp"
#include "renderer/inject/config.hpp"
#include "renderer/inject/render.hpp"

namespace emguard::render {

// Everything injected carries this prefix (containers, volumes) or annotation (objects), which
// is how a second run recognises and replaces its own work: rendering is idempotent.
inline constexpr std::string_view kInjectedPrefix = "em-guard-";
inline constexpr std::string_view kGeneratedAnnotation = "em-guard.io/generated";
// What em-guard did, on each of its own objects: Helm 4 shows none of em-guard's stderr, and
// `kubectl describe` and `helm get manifest` show this (README "Helm 4").
inline constexpr std::string_view kSummaryAnnotation = "em-guard.io/summary";
// Helm 4 names every input document with this annotation and groups the output by it into the
// release's files (pkg/action/action.go, annotateAndMerge and splitAndDeannotate).
inline constexpr std::string_view kHelm4FilenameAnnotation =
    "postrenderer.helm.sh/postrender-filename";
inline constexpr std::string_view kTokenMountPath = "/var/run/secrets/em-guard";
// Every injected container runs its script from one ConfigMap per release, mounted here, so the
// scripts appear once in the output instead of once per container (docs: README "Compact").
inline constexpr std::string_view kScriptsVolume = "em-guard-scripts";
inline constexpr std::string_view kScriptsMountPath = "/em-guard/scripts";

struct Release {
  std::string name;
  std::string
      namespace_;  // empty when unknown; only `{namespace}` in configuration strings uses it
};

// One migrating workload as the backup sees it: its service and the key of its version.
struct CoveredWorkload {
  std::string service;
  // A hash of the workload as the chart rendered it (em-guard's additions removed). It is all a
  // gated pod carries about the backup, so a workload whose own spec did not change keeps its
  // pod template (and its pods) when another service is upgraded.
  std::string version_key;
};

// What the backup injector decided; the wait injector and the summary read it.
struct BackupPlan {
  bool enabled = false;
  BackupMode mode = BackupMode::Gated;
  std::string mode_reason;
  std::string mode_short_reason;  // a few words of mode_reason, for the summary annotation
  std::string job_name;
  std::string run_id;                    // names the run's folder on the volume
  std::vector<CoveredWorkload> covered;  // sorted by service, then key
};

struct Context {
  const RenderConfig& config;
  Release release;
  BackupPlan backup;
  std::set<std::string> present_services;  // services with a workload in this release
  std::string scripts_config_map;          // name of the ConfigMap the containers mount
};

// Names of em-guard's per-release objects that the gate and the backup share.
std::string backup_record_name(const Release& release);  // written by the Job, never rendered
std::string backup_plan_name(const Release& release);    // rendered: the current Job and keys

// `{release}` and `{namespace}` replaced.
std::string expand(std::string_view text, const Release& release);

// The ConfigMap holding lib.sh and every script, named by a hash of its content (pods that
// mount it restart only when the scripts change). `name` empty:
// `<release>-em-guard-scripts-<hash>`.
YAML::Node scripts_config_map(const Release& release, std::string_view name = {});

// A volume for the scripts ConfigMap, named kScriptsVolume.
YAML::Node scripts_volume(std::string_view config_map);

// `<release><suffix>` within a label value's 63 characters: the release part is shortened,
// never the suffix that says what the object is.
std::string bounded_name(std::string release, std::string_view suffix);

// One environment variable.
YAML::Node env_value(std::string_view name, std::string_view value);
YAML::Node env_secret(std::string_view name, std::string_view secret, std::string_view key);
YAML::Node env_field(std::string_view name, std::string_view field_path);
YAML::Node env_from(std::string_view name, const ValueSource& source, std::string_view secret,
                    const Release& release);

// A container running one of em-guard's scripts (sourced from the scripts volume after lib.sh)
// under the Pod Security "restricted" profile.
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
// `version_key` is the workload's CoveredWorkload::version_key (used in gated mode).
std::vector<std::string> inject_waits(YAML::Node pod_spec, const ServiceConfig& service,
                                      const Context& context, std::string_view version_key);

// A projected volume with a service-account token and the cluster CA, for the containers that
// call the API (and only those: the pod itself mounts no token).
YAML::Node api_token_volume(std::string_view name);

struct GeneratedObject {
  // Its file name, distinct for each object: the `# Source:` comment, or for Helm 4 input the
  // postrender-filename annotation that names its file in the release, e.g.
  // em-guard/backup-job.yaml.
  std::string source;
  YAML::Node object;
  std::string summary;  // one line for --explain
};

// The backup Job and what it needs (ServiceAccount, RBAC, storage), built once per render.
// Names the Job: sets context.backup.job_name (gated mode: a hash of the Job's spec and run).
// `gate_service_accounts` are the service accounts of the workloads that wait for the Job in
// gated mode.
std::vector<GeneratedObject> backup_objects(Context& context,
                                            const std::vector<std::string>& gate_service_accounts);

// The release the manifests are (release.cpp): the options first, then the configuration, then
// the most common app.kubernetes.io/instance (or `release`) label and namespace of the
// documents, em-guard's own objects left out.
Release resolve_release(const std::vector<Document>& documents, const RenderConfig& config,
                        const RenderOptions& options);

// Whether Helm 4 rendered the input: its documents carry postrender-filename annotations.
bool is_helm4_input(const std::vector<Document>& documents);

// The backup's mode and why (backup_mode.cpp); the Job's name and run are set later.
BackupPlan plan_backup(const RenderConfig& config, const RenderOptions& options,
                       const std::vector<Document>& documents, bool helm4);

// The output, built in one buffer of the exact size: kept documents' bytes, rewritten ones,
// then em-guard's objects.
// For Helm 4 input (`helm4`) em-guard's objects carry their file name as Helm's
// postrender-filename annotation, put there by the caller, and no `# Source:` comment: Helm
// writes its own from the annotation, and kyaml would keep ours as a second one.
// `pieces` (optional) gets where each piece starts in the output and the header it is known
// to have (that of its input document; none for em-guard's objects).
struct Piece {
  std::size_t offset = 0;
  std::size_t size = 0;
  const DocumentHeader* header = nullptr;
};

std::string assemble(const std::vector<Document>& documents, const std::vector<bool>& drop,
                     const std::map<std::size_t, std::string>& rewritten,
                     const std::vector<GeneratedObject>& generated, bool helm4,
                     std::vector<Piece>* pieces = nullptr);

// --validate's objects of the output `assemble` wrote (output.cpp says how headers are reused).
std::vector<ManifestObject> output_objects(const std::string& output,
                                           const std::vector<Piece>& pieces, const Policy& policy);

}  // namespace emguard::render
