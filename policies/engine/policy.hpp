// The policy: which namespaces form which environment, what each environment declares (public
// hostname, scheme, Gateway listener), how strictly each rule applies there, rule options, and
// dated exceptions. Loaded from YAML and validated against policies/policy.schema.json.
#pragma once

#include <compare>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emguard {

// Stable rule names (docs/architecture.md, Rules).
inline constexpr std::string_view kPinnedImages = "pinned-images";
inline constexpr std::string_view kPinnedChartVersions = "pinned-chart-versions";
inline constexpr std::string_view kGatewayConsistency = "gateway-consistency";
inline constexpr std::string_view kRuleNames[] = {kPinnedImages, kPinnedChartVersions,
                                                  kGatewayConsistency};

enum class Mode { Off, Warn, Enforce };
std::string_view mode_name(Mode mode);  // "off", "warn", "enforce"

// A calendar date (exceptions expire at the end of their date, in UTC).
struct Date {
  int year = 0;
  int month = 0;
  int day = 0;

  auto operator<=>(const Date&) const = default;
  std::string to_string() const;  // "2026-11-24"
  // Parses "YYYY-MM-DD" (a real calendar day); nullopt otherwise.
  static std::optional<Date> parse(std::string_view text);
  static Date today_utc();
};

// The Gateway listener an environment's routes must attach to.
struct GatewayListener {
  std::string namespace_;
  std::string name;
  std::string listener;  // a listener (sectionName); "" when any listener of the Gateway will do

  bool declared() const { return !name.empty(); }
};

struct Environment {
  std::string name;
  // Namespace names or globs ("em-prod-*"); a namespace belongs to the environment when it
  // matches one of these or carries every label of `namespace_labels`.
  std::vector<std::string> namespaces;
  std::map<std::string, std::string> namespace_labels;
  std::string hostname;  // declared public hostname, "" when not declared
  std::string scheme;    // "http" or "https", "" when not declared
  GatewayListener gateway;
  std::map<std::string, Mode, std::less<>> modes;  // every rule has an entry after loading

  Mode mode_of(std::string_view rule) const;
};

// What an exception exempts: every non-empty list must match (globs, `*` and `?`).
struct PolicyException {
  std::string name;
  std::vector<std::string> rules;  // empty: every rule
  std::vector<std::string> environments;
  std::vector<std::string> images;  // pinned-images only: the image reference
  std::vector<std::string> kinds;
  std::vector<std::string> namespaces;
  std::vector<std::string> names;
  std::string reason;
  Date expires;  // last day the exception applies
};

// Which configuration settings (container env var names, ConfigMap data keys, `--flag=` args)
// hold what. Name patterns are globs matched case-insensitively.
struct SettingPatterns {
  std::vector<std::string> urls;       // a public URL: scheme://hostname[/path]
  std::vector<std::string> origins;    // a CORS allowed-origins list
  std::vector<std::string> hostnames;  // a bare hostname, or a URL (Keycloak's KC_HOSTNAME)
};

// A kind whose objects carry pod specs at known paths, matched by API group and kind (the
// group matters: a Knative Service and a core Service share a kind name). Paths are dotted
// field names from the object root; a step ending in `[*]` goes through every entry of a list,
// e.g. "spec.templates[*].template.spec".
struct PodSpecKind {
  std::string api_group;  // "" is the core group; "*" matches any group
  std::string kind;
  std::vector<std::string> paths;
};

struct PinnedImagesOptions {
  bool require_digest = false;
  std::vector<std::string> mutable_tags;  // beyond "latest", which is always mutable
  // Kinds the policy declares pod specs for (rules.pinned-images.podSpecPaths), beyond those
  // em-guard knows (manifests/pod_spec.hpp).
  std::vector<PodSpecKind> pod_spec_kinds;
};

struct GatewayConsistencyOptions {
  SettingPatterns settings;
};

class Policy {
 public:
  // Parses and validates a policy file. Throws InputError naming `origin` and, for schema
  // problems, the JSON path and what was expected.
  static Policy load(std::string_view yaml_text, const std::string& origin);
  // The policy file at `path` (a --policy option), or the built-in one when `path` is empty.
  // Throws InputError when the file cannot be read or is not a valid policy.
  static Policy load_file_or_builtin(const std::string& path);
  // policies/default.yaml, compiled in.
  static const Policy& builtin();
  static std::string_view builtin_text();
  static std::string_view schema_text();

  const std::vector<Environment>& environments() const { return environments_; }
  const Environment* find_environment(std::string_view name) const;
  // The environment a namespace belongs to: the first whose names/globs or labels match; else
  // the policy's defaultEnvironment; else nullptr. `labels` are the namespace's labels when
  // known (in a batch that contains the Namespace object).
  const Environment* environment_for_namespace(
      std::string_view namespace_,
      const std::map<std::string, std::string>* labels = nullptr) const;
  const std::string& default_environment() const { return default_environment_; }

  const PinnedImagesOptions& pinned_images() const { return pinned_images_; }
  const GatewayConsistencyOptions& gateway_consistency() const { return gateway_consistency_; }
  const std::vector<PolicyException>& exceptions() const { return exceptions_; }

 private:
  std::vector<Environment> environments_;
  std::string default_environment_;
  PinnedImagesOptions pinned_images_;
  GatewayConsistencyOptions gateway_consistency_;
  std::vector<PolicyException> exceptions_;
};

}  // namespace emguard
