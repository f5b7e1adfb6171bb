#include "policies/engine/policy.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "emguard/embedded_policy.hpp"
#include "policies/common/error.hpp"
#include "policies/common/files.hpp"
#include "policies/common/glob.hpp"
#include "policies/common/quoting.hpp"
#include "policies/engine/schema.hpp"
#include "policies/manifests/pod_spec.hpp"
#include "policies/manifests/yaml.hpp"
#include "policies/references/hostname.hpp"

namespace emguard {
namespace {

using nlohmann::json;

Mode parse_mode(const std::string& text) {
  if (text == "enforce") return Mode::Enforce;
  if (text == "warn") return Mode::Warn;
  return Mode::Off;  // the schema admits nothing else
}

std::vector<std::string> strings(const json& object, const char* key) {
  std::vector<std::string> items;
  if (const auto found = object.find(key); found != object.end()) {
    for (const json& item : *found) items.push_back(item.get<std::string>());
  }
  return items;
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

Environment read_environment(const json& item) {
  Environment env;
  env.name = item.at("name").get<std::string>();
  env.namespaces = strings(item, "namespaces");
  // Named locals: iterating items() of a temporary dangles (and GCC 12 warns about it).
  const json labels = item.value("namespaceLabels", json::object());
  for (const auto& [key, value] : labels.items()) {
    env.namespace_labels[key] = value.get<std::string>();
  }
  env.hostname = item.value("hostname", "");
  env.scheme = item.value("scheme", "");
  if (const auto gateway = item.find("gateway"); gateway != item.end()) {
    env.gateway.namespace_ = gateway->value("namespace", "");
    env.gateway.name = gateway->value("name", "");
    env.gateway.listener = gateway->value("listener", "");
  }
  const Mode fallback = parse_mode(item.value("mode", "enforce"));
  const json rules = item.value("rules", json::object());
  for (const std::string_view rule : kRuleNames) {
    const std::string key(rule);
    env.modes[key] = rules.contains(key) ? parse_mode(rules[key].get<std::string>()) : fallback;
  }
  return env;
}

// Checks the schema cannot express; `errors` collects "$.path: message" lines.
void check_semantics(const std::vector<Environment>& environments,
                     const std::string& default_environment,
                     const std::vector<PolicyException>& exceptions,
                     std::vector<std::string>& errors) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < environments.size(); ++i) {
    const Environment& env = environments[i];
    const std::string path = "$.environments[" + std::to_string(i) + "]";
    if (!names.insert(env.name).second) {
      errors.push_back(path + ".name: environment " + emguard::quoted(env.name) +
                       " is declared twice");
    }
    if (!env.hostname.empty()) {
      if (const auto check = gateway::check_hostname(env.hostname); !check.valid) {
        errors.push_back(path + ".hostname: " + check.error);
      }
    }
    if (env.gateway.declared() && env.gateway.namespace_.empty()) {
      errors.push_back(path +
                       ".gateway.namespace: required: HTTPRoutes of other namespaces can only "
                       "be compared with a Gateway whose namespace is known");
    }
  }
  if (!default_environment.empty() && names.count(default_environment) == 0) {
    errors.push_back("$.defaultEnvironment: " + emguard::quoted(default_environment) +
                     " is not one of the environments");
  }
  std::set<std::string> exception_names;
  for (std::size_t i = 0; i < exceptions.size(); ++i) {
    const PolicyException& exception = exceptions[i];
    const std::string path = "$.exceptions[" + std::to_string(i) + "]";
    if (!exception_names.insert(exception.name).second) {
      errors.push_back(path + ".name: exception " + emguard::quoted(exception.name) +
                       " is declared twice");
    }
    if (exception.expires.year == 0) {
      errors.push_back(path + ".expires: not a calendar date (expected YYYY-MM-DD)");
    }
    const bool covers_images =
        exception.rules.empty() || std::find(exception.rules.begin(), exception.rules.end(),
                                             kPinnedImages) != exception.rules.end();
    if (!exception.images.empty() && !covers_images) {
      errors.push_back(path +
                       ".match.images: only pinned-images looks at images; add it to rules or "
                       "remove match.images");
    }
  }
}

// The schema's pattern for pod-spec paths can only say that it failed; say what is wrong with the
// path instead, at the same JSON path.
void explain_pod_spec_path_errors(const json& value, std::vector<std::string>& errors) {
  const json* declared = value.contains("rules") && value["rules"].is_object() &&
                                 value["rules"].contains("pinned-images") &&
                                 value["rules"]["pinned-images"].is_object() &&
                                 value["rules"]["pinned-images"].contains("podSpecPaths")
                             ? &value["rules"]["pinned-images"]["podSpecPaths"]
                             : nullptr;
  if (declared == nullptr || !declared->is_array()) return;
  for (std::size_t i = 0; i < declared->size(); ++i) {
    const json& entry = (*declared)[i];
    if (!entry.is_object() || !entry.contains("paths") || !entry["paths"].is_array()) continue;
    for (std::size_t j = 0; j < entry["paths"].size(); ++j) {
      const json& path = entry["paths"][j];
      std::string why;
      if (!path.is_string() || valid_pod_spec_path(path.get<std::string>(), &why)) continue;
      const std::string where = "$.rules.pinned-images.podSpecPaths[" + std::to_string(i) +
                                "].paths[" + std::to_string(j) + "]";
      for (std::string& error : errors) {
        if (error.starts_with(where + ": Failed to match regex")) {
          error = where + ": " + emguard::quoted(path.get<std::string>()) +
                  " is not a pod-spec path: " + why +
                  "; write field names separated by dots, name[*] for every entry of a list, e.g. "
                  "spec.jobTemplate.spec.template.spec";
        }
      }
    }
  }
}

}  // namespace

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::Enforce:
      return "enforce";
    case Mode::Warn:
      return "warn";
    case Mode::Off:
      break;
  }
  return "off";
}

std::string Date::to_string() const {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", year, month, day);
  return text;
}

std::optional<Date> Date::parse(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](std::size_t from, std::size_t length) {
    int value = 0;
    for (std::size_t i = from; i < from + length; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const Date date{number(0, 4), number(5, 2), number(8, 2)};
  if (date.year < 1 || date.month < 1 || date.month > 12 || date.day < 1 ||
      date.day > days_in_month(date.year, date.month)) {
    return std::nullopt;
  }
  return date;
}

Date Date::today_utc() {
  const auto days = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day ymd{days};
  return Date{static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
              static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

Mode Environment::mode_of(std::string_view rule) const {
  const auto found = modes.find(rule);
  return found == modes.end() ? Mode::Off : found->second;
}

Policy Policy::load(std::string_view yaml_text, const std::string& origin) {
  static const JsonSchema schema(embedded::policy_schema());
  const YAML::Node root = parse_yaml(yaml_text, origin);
  const json value = to_json(root);
  if (!value.is_object()) {
    throw InputError(origin +
                     ": $: expected a mapping with apiVersion: em-guard.io/v1alpha1, "
                     "kind: Policy and environments");
  }
  if (auto errors = schema.validate(value); !errors.empty()) {
    explain_pod_spec_path_errors(value, errors);
    std::string message = origin + ": invalid policy:";
    for (const std::string& error : errors) message += "\n  " + error;
    throw InputError(message);
  }

  Policy policy;
  policy.default_environment_ = value.value("defaultEnvironment", "");
  const json rules = value.value("rules", json::object());
  const json images = rules.value("pinned-images", json::object());
  policy.pinned_images_.require_digest = images.value("requireDigest", false);
  policy.pinned_images_.mutable_tags = strings(images, "mutableTags");
  const json declared = images.value("podSpecPaths", json::array());
  for (const json& item : declared) {
    policy.pinned_images_.pod_spec_kinds.push_back({item.at("apiGroup").get<std::string>(),
                                                    item.at("kind").get<std::string>(),
                                                    strings(item, "paths")});
  }
  const json gateway = rules.value("gateway-consistency", json::object());
  const json settings = gateway.value("settings", json::object());
  policy.gateway_consistency_.settings.urls = strings(settings, "urls");
  policy.gateway_consistency_.settings.origins = strings(settings, "origins");
  policy.gateway_consistency_.settings.hostnames = strings(settings, "hostnames");

  for (const json& item : value.at("environments")) {
    policy.environments_.push_back(read_environment(item));
  }
  const json exceptions = value.value("exceptions", json::array());
  for (const json& item : exceptions) {
    PolicyException exception;
    exception.name = item.at("name").get<std::string>();
    exception.rules = strings(item, "rules");
    const json& match = item.at("match");
    exception.environments = strings(match, "environments");
    exception.images = strings(match, "images");
    exception.kinds = strings(match, "kinds");
    exception.namespaces = strings(match, "namespaces");
    exception.names = strings(match, "names");
    exception.reason = item.at("reason").get<std::string>();
    exception.expires = Date::parse(item.at("expires").get<std::string>()).value_or(Date{});
    policy.exceptions_.push_back(std::move(exception));
  }

  std::vector<std::string> errors;
  check_semantics(policy.environments_, policy.default_environment_, policy.exceptions_, errors);
  if (!errors.empty()) {
    std::string message = origin + ": invalid policy:";
    for (const std::string& error : errors) message += "\n  " + error;
    throw InputError(message);
  }
  return policy;
}

Policy Policy::load_file_or_builtin(const std::string& path) {
  if (path.empty()) return builtin();
  return load(read_text_file(path), path);
}

const Policy& Policy::builtin() {
  static const Policy policy = load(builtin_text(), "default policy");
  return policy;
}

std::string_view Policy::builtin_text() { return embedded::default_policy(); }

std::string_view Policy::schema_text() { return embedded::policy_schema(); }

const Environment* Policy::find_environment(std::string_view name) const {
  for (const Environment& env : environments_) {
    if (env.name == name) return &env;
  }
  return nullptr;
}

// Labels first: a namespace labelled em-guard.io/environment=staging is staging even when its
// name looks like production's (the webhook chart routes namespaces by the same labels).
const Environment* Policy::environment_for_namespace(
    std::string_view namespace_, const std::map<std::string, std::string>* labels) const {
  if (labels != nullptr) {
    for (const Environment& env : environments_) {
      if (env.namespace_labels.empty()) continue;
      const bool all = std::all_of(env.namespace_labels.begin(), env.namespace_labels.end(),
                                   [&](const auto& label) {
                                     const auto found = labels->find(label.first);
                                     return found != labels->end() && found->second == label.second;
                                   });
      if (all) return &env;
    }
  }
  if (!namespace_.empty()) {
    for (const Environment& env : environments_) {
      for (const std::string& pattern : env.namespaces) {
        if (glob_match(pattern, namespace_)) return &env;
      }
    }
  }
  return default_environment_.empty() ? nullptr : find_environment(default_environment_);
}

}  // namespace emguard
