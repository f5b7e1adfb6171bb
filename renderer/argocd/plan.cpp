// Planning `em-guard-render argocd generate`: see renderer/argocd/plan.hpp for the upstream
// code each piece mirrors.
#include "renderer/argocd/plan.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <utility>

#include "policies/common/error.hpp"

namespace emguard::render::argocd {
namespace {

using nlohmann::json;

constexpr const char* kParametersVariable = "ARGOCD_APP_PARAMETERS";

enum class Shape { String, Array, Map };

struct ParameterSpec {
  const char* name;
  Shape shape;
};

// One entry per parameter plugin.yaml announces (tests/argocd_test.cpp checks they agree).
constexpr ParameterSpec kParameterSpecs[] = {
    {"releaseName", Shape::String},
    {"valueFiles", Shape::Array},
    {"ignoreMissingValueFiles", Shape::String},
    {"values", Shape::String},
    {"set", Shape::Map},
    {"setString", Shape::Map},
    {"setFile", Shape::Map},
    {"skipCrds", Shape::String},
    {"emguardArgs", Shape::Array},
};

const char* shape_name(Shape shape) {
  switch (shape) {
    case Shape::String:
      return "string";
    case Shape::Array:
      return "array";
    case Shape::Map:
      return "map";
  }
  return "string";
}

std::string known_names() {
  std::string names;
  for (const ParameterSpec& spec : kParameterSpecs) {
    if (!names.empty()) names += ", ";
    names += spec.name;
  }
  return names;
}

// Where a parameter sits, as the user wrote it in the Application.
std::string place(std::size_t index, std::string_view name) {
  return std::string(kParametersVariable) + "[" + std::to_string(index) + "] (parameter \"" +
         std::string(name) + "\", spec.source.plugin.parameters)";
}

bool parse_boolean(const std::string& text, const std::string& where) {
  if (text == "true") return true;
  if (text == "false" || text.empty()) return false;
  throw InputError(where + ": must be \"true\" or \"false\"");
}

std::vector<std::string> string_array(const json& value, const std::string& where) {
  std::vector<std::string> items;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) {
      throw InputError(where + ": item " + std::to_string(i) + " is not a string");
    }
    items.push_back(value[i].get<std::string>());
  }
  return items;
}

// Go's encoding/json writes map keys sorted, and nlohmann's object is sorted the same way
// (bytewise), so --set comes out in the order the JSON has.
std::vector<KeyValue> string_map(const json& value, const std::string& where) {
  std::vector<KeyValue> entries;
  for (const auto& item : value.items()) {
    if (item.key().empty()) throw InputError(where + ": a key is empty");
    if (!item.value().is_string()) {
      throw InputError(where + ": the value of key \"" + item.key() + "\" is not a string");
    }
    entries.push_back({item.key(), item.value().get<std::string>()});
  }
  return entries;
}

// White-space separated words; the emguardArgs parameter carries values with spaces.
std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t begin = text.find_first_not_of(" \t\r\n", start);
    if (begin == std::string_view::npos) break;
    const std::size_t end = std::min(text.find_first_of(" \t\r\n", begin), text.size());
    words.emplace_back(text.substr(begin, end - begin));
    start = end;
  }
  return words;
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> items;
  if (text.empty()) return items;  // strings.Join of no API versions is ""
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma - start);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

std::string variable(const Environment& environment, const std::string& name) {
  const auto found = environment.find(name);
  return found == environment.end() ? std::string() : found->second;
}

bool is_glob(std::string_view path) {
  // util/io/path isGlobPath: the characters filepath.Match treats as a pattern.
  return path.find_first_of("*?[") != std::string_view::npos;
}

// "scheme:" at the start, as url.Parse sees one (letters first, then letters, digits, +-.).
bool has_url_scheme(std::string_view raw) {
  const std::size_t colon = raw.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (!std::isalpha(static_cast<unsigned char>(raw[0]))) return false;
  return std::all_of(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

}  // namespace

const std::vector<std::string>& parameter_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const ParameterSpec& spec : kParameterSpecs) list.emplace_back(spec.name);
    return list;
  }();
  return names;
}

Parameters parse_parameters(std::string_view json_text) {
  Parameters parameters;
  if (json_text.find_first_not_of(" \t\r\n") == std::string_view::npos) return parameters;
  json document;
  try {
    document = json::parse(json_text);
  } catch (const json::parse_error& error) {
    // The byte offset, not the text: a parameter may carry a secret.
    throw InputError(std::string(kParametersVariable) + " is not valid JSON (at byte " +
                     std::to_string(error.byte) + "); Argo CD sets it from the Application's " +
                     "spec.source.plugin.parameters");
  }
  if (document.is_null()) return parameters;  // json.Marshal of no parameters
  if (!document.is_array()) {
    throw InputError(std::string(kParametersVariable) + " must be a JSON array of parameters");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < document.size(); ++i) {
    const json& entry = document[i];
    const std::string index_place =
        std::string(kParametersVariable) + "[" + std::to_string(i) + "]";
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
      throw InputError(index_place + ": each parameter is an object with a string \"name\"");
    }
    const std::string name = entry["name"].get<std::string>();
    const std::string where = place(i, name);
    const auto spec = std::find_if(std::begin(kParameterSpecs), std::end(kParameterSpecs),
                                   [&name](const ParameterSpec& s) { return name == s.name; });
    if (spec == std::end(kParameterSpecs)) {
      throw InputError(where + ": unknown parameter; em-guard's plugin takes " + known_names());
    }
    if (!seen.insert(name).second) throw InputError(where + ": given twice");
    for (const char* field : {"string", "array", "map"}) {
      if (entry.contains(field) && std::string_view(field) != shape_name(spec->shape)) {
        throw InputError(where + ": takes a " + std::string(shape_name(spec->shape)) + ", not a " +
                         field);
      }
    }
    const char* field = shape_name(spec->shape);
    if (!entry.contains(field)) {
      throw InputError(where + ": has no " + std::string(field) + " value");
    }
    const json& value = entry[field];
    const bool shape_ok = (spec->shape == Shape::String && value.is_string()) ||
                          (spec->shape == Shape::Array && value.is_array()) ||
                          (spec->shape == Shape::Map && value.is_object());
    if (!shape_ok) {
      throw InputError(where + ": \"" + field + "\" must be a JSON " +
                       (spec->shape == Shape::Map ? "object" : field));
    }
    if (name == "releaseName") {
      parameters.release_name = value.get<std::string>();
    } else if (name == "valueFiles") {
      parameters.value_files = string_array(value, where);
    } else if (name == "ignoreMissingValueFiles") {
      parameters.ignore_missing_value_files = parse_boolean(value.get<std::string>(), where);
    } else if (name == "values") {
      parameters.values = value.get<std::string>();
    } else if (name == "set") {
      parameters.set = string_map(value, where);
    } else if (name == "setString") {
      parameters.set_string = string_map(value, where);
    } else if (name == "setFile") {
      parameters.set_file = string_map(value, where);
    } else if (name == "skipCrds") {
      parameters.skip_crds = parse_boolean(value.get<std::string>(), where);
    } else if (name == "emguardArgs") {
      parameters.emguard_args = string_array(value, where);
    }
  }
  return parameters;
}

bool is_valid_release_name(std::string_view name) {
  static const std::regex valid(
      R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  return !name.empty() && name.size() <= 53 && std::regex_match(name.begin(), name.end(), valid);
}

std::string release_name(const Environment& environment, const Parameters& parameters) {
  std::string name;
  std::string origin;
  if (parameters.release_name && !parameters.release_name->empty()) {
    name = *parameters.release_name;
    origin = "the releaseName parameter";
  } else {
    const auto app = environment.find("ARGOCD_APP_NAME");
    if (app == environment.end() || app->second.empty()) {
      throw InputError(
          "ARGOCD_APP_NAME is not set: `em-guard-render argocd generate` runs as Argo CD's config "
          "management plugin, which sets it; or set the releaseName parameter");
    }
    // argo.ParseInstanceName: `<namespace>_<name>` for an Application outside the control-plane
    // namespace; Argo CD's own Helm path uses only the name part (and the whole value when that
    // part is empty).
    const std::size_t underscore = app->second.find('_');
    name = underscore == std::string::npos ? app->second : app->second.substr(underscore + 1);
    if (name.empty()) name = app->second;
    origin = "ARGOCD_APP_NAME \"" + app->second + "\"";
  }
  if (!is_valid_release_name(name)) {
    throw InputError("release name \"" + name + "\" (from " + origin +
                     ") is not a valid Helm release name: at most 53 characters, lower-case "
                     "letters, digits, '-' and '.', starting and ending with a letter or digit "
                     "(Helm's ValidateReleaseName); set the plugin parameter releaseName");
  }
  return name;
}

std::string escape_set_value(std::string_view value) {
  if (value.size() >= 2 && value.front() == '{' && value.back() == '}') return std::string(value);
  std::string escaped;
  escaped.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == ',' && (i == 0 || value[i - 1] != '\\')) escaped += '\\';
    escaped += value[i];
  }
  return escaped;
}

Plan plan_generate(const Environment& environment, const std::vector<std::string>& plugin_args) {
  Plan plan;
  plan.parameters = parse_parameters(variable(environment, kParametersVariable));
  plan.release_name = release_name(environment, plan.parameters);
  plan.release_namespace = variable(environment, "ARGOCD_APP_NAMESPACE");
  plan.kube_version = variable(environment, "KUBE_VERSION");
  plan.api_versions = split_commas(variable(environment, "KUBE_API_VERSIONS"));
  plan.source_path = variable(environment, "ARGOCD_APP_SOURCE_PATH");
  plan.emguard_args = plugin_args;
  const std::vector<std::string> env_args =
      split_words(variable(environment, "ARGOCD_ENV_EMGUARD_ARGS"));
  plan.emguard_args.insert(plan.emguard_args.end(), env_args.begin(), env_args.end());
  plan.emguard_args.insert(plan.emguard_args.end(), plan.parameters.emguard_args.begin(),
                           plan.parameters.emguard_args.end());
  for (const std::string& arg : plan.emguard_args) {
    for (const char* owned : {"--release", "--namespace"}) {
      if (arg == owned || arg.rfind(std::string(owned) + "=", 0) == 0) {
        throw InputError(std::string("em-guard options (plugin.yaml, ARGOCD_ENV_EMGUARD_ARGS, ") +
                         "emguardArgs) " + "must not set " + owned +
                         ": the plugin passes helm's release name and namespace (releaseName "
                         "parameter, spec.destination.namespace)");
      }
    }
  }
  return plan;
}

std::filesystem::path repository_root(const std::filesystem::path& app_path,
                                      std::string_view source_path) {
  std::filesystem::path root = app_path.lexically_normal();
  if (root.has_filename() == false && root != root.root_path()) root = root.parent_path();
  const std::filesystem::path relative = std::filesystem::path(source_path).lexically_normal();
  std::vector<std::filesystem::path> components;
  for (const auto& component : relative) {
    if (component == "." || component.empty() || component == "/") continue;
    if (component == "..") {
      throw InputError("ARGOCD_APP_SOURCE_PATH \"" + std::string(source_path) +
                       "\" leaves the repository");
    }
    components.push_back(component);
  }
  // With a manifest-generate-paths annotation (and the cmpserver's useManifestGeneratePaths)
  // Argo CD sends only a common root of the repository, so the working directory ends with just
  // the last components of the source path: the root is where they stop matching.
  for (auto component = components.rbegin(); component != components.rend(); ++component) {
    if (root.filename() != *component) break;
    root = root.parent_path();
  }
  return root;
}

bool is_within(const std::filesystem::path& path, const std::filesystem::path& root) {
  auto part = path.begin();
  for (const auto& root_part : root) {
    if (root_part.empty()) continue;  // a trailing separator
    if (part == path.end() || *part != root_part) return false;
    ++part;
  }
  return true;
}

std::filesystem::path resolve_repository_path(std::string_view raw,
                                              const std::filesystem::path& app_path,
                                              const std::filesystem::path& repo_root,
                                              std::string_view what) {
  const std::string where(what);
  if (raw.empty()) throw InputError(where + ": the path is empty");
  if (has_url_scheme(raw)) {
    throw InputError(where + ": remote value files (" + std::string(raw.substr(0, raw.find(':'))) +
                     ":) are not fetched by em-guard's plugin; commit the file to the repository");
  }
  if (is_glob(raw)) {
    throw InputError(where + ": \"" + std::string(raw) +
                     "\" is a glob pattern; em-guard's plugin takes each file by name");
  }
  const std::filesystem::path given(raw);
  // As resolveFileOrDirectory: relative to the app path, an absolute path to the repository root.
  std::filesystem::path joined =
      (given.is_absolute() ? repo_root / given.relative_path() : app_path / given)
          .lexically_normal();
  if (!joined.has_filename()) joined = joined.parent_path();  // "dir/" is "dir"
  if (!is_within(joined, repo_root.lexically_normal()) || joined == repo_root.lexically_normal()) {
    throw InputError(where + ": \"" + std::string(raw) +
                     "\" resolves to outside the repository (Argo CD refuses such paths too)");
  }
  return joined;
}

std::vector<std::string> helm_template_arguments(const Plan& plan, const ResolvedFiles& files) {
  std::vector<std::string> args = {"template", ".", "--name-template", plan.release_name};
  if (!plan.release_namespace.empty()) {
    args.insert(args.end(), {"--namespace", plan.release_namespace});
  }
  if (!plan.kube_version.empty()) args.insert(args.end(), {"--kube-version", plan.kube_version});
  for (const KeyValue& entry : plan.parameters.set) {
    args.insert(args.end(), {"--set", entry.key + "=" + escape_set_value(entry.value)});
  }
  for (const KeyValue& entry : plan.parameters.set_string) {
    args.insert(args.end(), {"--set-string", entry.key + "=" + escape_set_value(entry.value)});
  }
  for (const KeyValue& entry : files.set_files) {
    args.insert(args.end(), {"--set-file", entry.key + "=" + escape_set_value(entry.value)});
  }
  for (const std::string& file : files.value_files) args.insert(args.end(), {"--values", file});
  if (files.inline_values_file) {
    args.insert(args.end(), {"--values", *files.inline_values_file});
  }
  for (const std::string& version : plan.api_versions) {
    args.insert(args.end(), {"--api-versions", version});
  }
  if (!plan.parameters.skip_crds) args.emplace_back("--include-crds");
  return args;
}

std::vector<std::string> render_arguments(const Plan& plan) {
  std::vector<std::string> args = {"--release", plan.release_name};
  if (!plan.release_namespace.empty()) {
    args.insert(args.end(), {"--namespace", plan.release_namespace});
  }
  args.insert(args.end(), plan.emguard_args.begin(), plan.emguard_args.end());
  return args;
}

bool is_missing_dependency_error(std::string_view helm_stderr) {
  return helm_stderr.find("found in requirements.yaml, but missing in charts") !=
             std::string_view::npos ||
         helm_stderr.find("found in Chart.yaml, but missing in charts/ directory") !=
             std::string_view::npos;
}

}  // namespace emguard::render::argocd
