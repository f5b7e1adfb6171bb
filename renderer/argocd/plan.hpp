// em-guard-render as an Argo CD config management plugin: the `helm template` command line, the
// release name and em-guard's own options, planned from the environment Argo CD's cmpserver
// gives the plugin's `generate` command. Pure functions: the front end
// (renderer/argocd/frontend.cpp) reads the environment, checks the files, runs helm and renders.
//
// Upstream (argoproj/argo-cd 37ee009), which this mirrors:
//  - reposerver/repository/repository.go `helmTemplate`: the release name, value files, --set
//    and the retry with `helm dependency build` after a missing-dependency error;
//  - util/helm/cmd.go `template()`: the order of helm's arguments and the escaping of commas;
//  - pkg/apis/application/v1alpha1/types.go `ApplicationSourcePluginParameters.Environ()`: the
//    JSON shape of ARGOCD_APP_PARAMETERS.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emguard::render::argocd {

using Environment = std::map<std::string, std::string>;

struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};

// The plugin parameters an Application sets (spec.source.plugin.parameters), named after the
// fields of spec.source.helm that Argo CD's own Helm path reads.
struct Parameters {
  std::optional<std::string> release_name;  // releaseName
  std::vector<std::string> value_files;     // valueFiles
  bool ignore_missing_value_files = false;  // ignoreMissingValueFiles
  std::optional<std::string> values;        // values: a YAML block, passed as the last --values
  std::vector<KeyValue> set;                // set: --set key=value
  std::vector<KeyValue> set_string;         // setString: --set-string key=value
  std::vector<KeyValue> set_file;           // setFile: --set-file key=path (a repository path)
  bool skip_crds = false;                   // skipCrds: leave out --include-crds
  std::vector<std::string> emguard_args;    // emguardArgs: em-guard-render options
};

// The names above, in the order plugin.yaml announces them.
const std::vector<std::string>& parameter_names();

// ARGOCD_APP_PARAMETERS: a JSON array of {"name": ..., "string"|"array"|"map": ...}; empty text
// and `null` (no parameters) give the defaults. Throws InputError naming the parameter (never
// its value) when the JSON is malformed, a name is unknown or repeated, or a value has the wrong
// shape.
Parameters parse_parameters(std::string_view json_text);

// Helm's ValidateReleaseName (helm/helm pkg/chart/v2/util/validate_name.go): at most 53
// characters matching ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$.
bool is_valid_release_name(std::string_view name);

// The release name Argo CD's own Helm path would use: the releaseName parameter, else the name
// part of ARGOCD_APP_NAME (`<namespace>_<name>` for an Application outside the control-plane
// namespace, argo.ParseInstanceName). Throws InputError when it is missing or not a valid Helm
// release name.
std::string release_name(const Environment& environment, const Parameters& parameters);

// Argo CD's cleanSetParameters (util/helm/cmd.go): a comma not already escaped becomes `\,` so
// that helm reads one value, except in a `{a,b}` list.
std::string escape_set_value(std::string_view value);

// Everything `generate` does, decided before anything runs.
struct Plan {
  std::string release_name;
  std::string release_namespace;          // ARGOCD_APP_NAMESPACE (may be empty)
  std::string kube_version;               // KUBE_VERSION (may be empty)
  std::vector<std::string> api_versions;  // KUBE_API_VERSIONS, split at commas
  std::string source_path;                // ARGOCD_APP_SOURCE_PATH: the app path in the repo
  Parameters parameters;
  // plugin.yaml's options, ARGOCD_ENV_EMGUARD_ARGS split at white space, then emguardArgs.
  std::vector<std::string> emguard_args;
};

// `plugin_args` are the em-guard options plugin.yaml's generate command gives (the operator's);
// ARGOCD_ENV_EMGUARD_ARGS and emguardArgs (the Application's) come after them, so they win.
// Throws InputError (bad parameters JSON, invalid release name, a --release or --namespace among
// em-guard's options, which the plugin sets itself).
Plan plan_generate(const Environment& environment,
                   const std::vector<std::string>& plugin_args = {});

// The repository root as the plugin sees it: the app path (the command's working directory)
// without the ARGOCD_APP_SOURCE_PATH components it ends with (all of them, or the last few when
// Argo CD sent only part of the repository). Throws InputError when the source path climbs out
// (`..`).
std::filesystem::path repository_root(const std::filesystem::path& app_path,
                                      std::string_view source_path);

// A value file or --set-file path as Argo CD resolves it (util/io/path/resolved.go), lexically:
// relative to the app path, or, when absolute, to the repository root; it must stay inside the
// root. URLs (remote value files) and glob patterns are refused: see README "Argo CD". The
// front end checks what the file system adds (existence, symlinks). `what` names the parameter
// in errors, e.g. `valueFiles[1]`.
std::filesystem::path resolve_repository_path(std::string_view raw,
                                              const std::filesystem::path& app_path,
                                              const std::filesystem::path& repo_root,
                                              std::string_view what);

// `path` is `root` or below it (both absolute and lexically normal).
bool is_within(const std::filesystem::path& path, const std::filesystem::path& root);

// The files the front end resolved and checked (absolute paths), in the plan's order.
struct ResolvedFiles {
  std::vector<std::string> value_files;
  std::vector<KeyValue> set_files;
  std::optional<std::string> inline_values_file;  // where the `values` parameter was written
};

// helm's arguments (without "helm") in util/helm/cmd.go's order: template . --name-template NAME
// [--namespace NS] [--kube-version V] --set... --set-string... --set-file... --values...
// [--values INLINE] --api-versions V... [--include-crds].
std::vector<std::string> helm_template_arguments(const Plan& plan, const ResolvedFiles& files);

// em-guard-render's options for the rendered stream: --release, --namespace, then the user's.
std::vector<std::string> render_arguments(const Plan& plan);

// Helm's error for a chart whose dependencies are not in charts/, as Argo CD recognises it
// (util/helm/helm.go IsMissingDependencyErr).
bool is_missing_dependency_error(std::string_view helm_stderr);

}  // namespace emguard::render::argocd
