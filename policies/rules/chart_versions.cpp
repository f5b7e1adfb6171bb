// pinned-chart-versions (docs/architecture.md, Rules): GitOps sources must name one exact version,
// so that what a production cluster runs follows from what is committed. Classifying a version
// string belongs to version_pin.hpp; this file finds the fields (Argo CD Application and
// ApplicationSet, Flux HelmRelease, HelmChart and OCIRepository) and explains the verdict.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "policies/common/ascii.hpp"
#include "policies/common/quoting.hpp"
#include "policies/manifests/json_access.hpp"
#include "policies/references/version_pin.hpp"
#include "policies/rules/rule.hpp"

namespace emguard::rules {
namespace {

using nlohmann::json;

constexpr std::string_view kArgoGroup = "argoproj.io/";
constexpr std::string_view kFluxHelmGroup = "helm.toolkit.fluxcd.io/";
constexpr std::string_view kFluxSourceGroup = "source.toolkit.fluxcd.io/";

constexpr std::string_view kNotReproducible = "so a production release is not reproducible";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// YAML reads `version: 1.2` as a number; the CRD schemas declare these fields as strings, so the
// API server rejects it, and a number cannot say "1.10" (it becomes 1.1). The value is shown
// for numbers only: other values could be long, and the type name says enough.
Finding not_a_string(const std::string& path, const json& value, std::string_view example) {
  const std::string type = value.type_name();
  std::string message = path + " is " + (type == "object" || type == "array" ? "an " : "a ") + type;
  if (value.is_number()) {
    message += " (" + value.dump() +
               "), not a string: the API server rejects it, and an unquoted YAML number loses "
               "digits (1.10 reads as 1.1).";
  } else {
    message += ", not a string: the API server rejects it.";
  }
  return {
      path,
      message + " Write the exact version as a quoted string, e.g. " + std::string(example) + ".",
      {}};
}

// One finding for an unpinned value: "<path> <reason>. <consequence>. <fix>". The classifier's
// reason already starts with the quoted value and says why it floats.
std::string unpinned_message(const std::string& path, const VersionPinResult& result,
                             std::string_view consequence, std::string_view fix) {
  // The classifier's reasons start with the quoted value, except for an empty one.
  std::string message = result.pin == VersionPin::Empty
                            ? path + " is empty: " + result.reason + ". "
                            : path + " " + result.reason + ". ";
  if (result.pin == VersionPin::Invalid) {
    message += "Nobody can tell from the manifest which version will run, ";
    message += kNotReproducible;
  } else {
    message += consequence;
  }
  return message + ". " + std::string(fix);
}

// ---------------------------------------------------------------------------------------------
// Argo CD

enum class ArgoSourceKind { Git, Helm, Oci };

// As Argo CD's repo-server decides (reposerver/repository/repository.go, runRepoOperation and
// ResolveRevision: `switch { case source.IsOCI(): ... case source.IsHelm(): ... default: git }`;
// pkg/apis/application/v1alpha1/types.go: IsOCI is a repoURL starting with "oci://", IsHelm a
// non-empty `chart`). So an oci:// repoURL is an OCI source even with `chart` set, and a Helm
// chart in an OCI registry written without the scheme (`repoURL: ghcr.io/acme/charts`,
// `chart: x`) is a Helm source. The source hydrator's drySource has no `chart` field.
ArgoSourceKind argo_source_kind(const json& source) {
  if (starts_with(string_member(source, "repoURL"), "oci://")) return ArgoSourceKind::Oci;
  if (const json* chart = member(source, "chart");
      chart != nullptr && !(chart->is_string() && chart->get_ref<const std::string&>().empty())) {
    return ArgoSourceKind::Helm;
  }
  return ArgoSourceKind::Git;
}

constexpr std::string_view kGitFix =
    "Pin a tag or a full commit SHA, e.g. targetRevision: v1.8.2, or refs/tags/<name> for a tag "
    "whose name is not a version.";
constexpr std::string_view kHelmFix = "Pin the exact chart version, e.g. targetRevision: 1.8.2.";
constexpr std::string_view kOciFix =
    "Pin an exact version tag or a digest, e.g. targetRevision: 1.8.2 or targetRevision: "
    "sha256:<64 hex digits>.";

// A short name such as "release-1.0" is looked up among branches and tags alike (lsRemote
// compares it with each ref's short name), so the manifest cannot say which it is; written as
// refs/tags/<name> it can only be the tag.
bool is_short_ref_name(std::string_view value) {
  return value != "HEAD" && !starts_with(value, "refs/");
}

std::string short_ref_fix(std::string_view value) {
  const std::string tag_ref = "refs/tags/" + std::string(value);
  return "If " + quoted(value) + " is a tag, write targetRevision: " + quoted(tag_ref) +
         "; otherwise pin a tag or a full commit SHA, e.g. targetRevision: v1.8.2.";
}

// One Argo CD source at `path` (spec.source, spec.sources[i] or sourceHydrator.drySource).
void check_argo_source(const json& source, const std::string& path, ArgoSourceKind kind,
                       bool templated, std::vector<Finding>& findings) {
  const std::string revision_path = field_path(path, "targetRevision");
  const std::string_view fix = kind == ArgoSourceKind::Git    ? kGitFix
                               : kind == ArgoSourceKind::Helm ? kHelmFix
                                                              : kOciFix;
  const std::string consequence =
      std::string(kind == ArgoSourceKind::Git ? "Every sync can deploy different code, "
                  : kind == ArgoSourceKind::Helm
                      ? "Every sync can install a different chart version, "
                      : "Every sync can deploy different content, ") +
      std::string(kNotReproducible);

  const json* revision = member(source, "targetRevision");
  if (revision != nullptr && !revision->is_string()) {
    findings.push_back(not_a_string(
        revision_path, *revision,
        kind == ArgoSourceKind::Git ? "targetRevision: \"v1.8.2\"" : "targetRevision: \"1.8.2\""));
    return;
  }
  const std::string value = revision != nullptr ? revision->get<std::string>() : std::string();
  // An ApplicationSet fills placeholders per generated Application; the value is not known
  // here. The generated Applications are checked themselves at admission.
  if (templated && value.find("{{") != std::string::npos) return;

  const VersionPinResult result =
      classify_version(kind == ArgoSourceKind::Git    ? VersionField::GitRevision
                       : kind == ArgoSourceKind::Helm ? VersionField::HelmChartVersion
                                                      : VersionField::OciRevision,
                       value);
  if (is_pinned(result.pin)) return;
  if (result.pin == VersionPin::Empty) {
    // The classifier's reason for "" is about an empty string; say what Argo CD does instead.
    const std::string what = revision == nullptr ? " is not set" : " is empty";
    if (kind == ArgoSourceKind::Oci) {
      // oras cannot resolve an empty reference and "" is no constraint (util/oci/client.go).
      findings.push_back({revision_path,
                          revision_path + what +
                              ": an OCI source needs a tag or a digest, and Argo CD cannot "
                              "resolve an empty one, so the Application does not sync. " +
                              std::string(fix),
                          {}});
      return;
    }
    const std::string_view defaults_to =
        kind == ArgoSourceKind::Git ? ": Argo CD then uses HEAD, which follows the latest commit. "
                                    : ": Argo CD then uses the latest chart version. ";
    findings.push_back(
        {revision_path,
         revision_path + what + std::string(defaults_to) + consequence + ". " + std::string(fix),
         {}});
    return;
  }
  const std::string trimmed(ascii::trim(value));
  const std::string specific_fix =
      kind == ArgoSourceKind::Git && result.pin == VersionPin::Branch && is_short_ref_name(trimmed)
          ? short_ref_fix(trimmed)
          : std::string(fix);
  findings.push_back(
      {revision_path, unpinned_message(revision_path, result, consequence, specific_fix), {}});
}

// `spec` is an Application spec at `path` ("spec", or "spec.template.spec" in an
// ApplicationSet).
void check_argo_spec(const json& spec, const std::string& path, bool templated,
                     std::vector<Finding>& findings) {
  // With a source hydrator, Argo CD renders drySource and syncs what it committed to
  // syncSource.targetBranch, ignoring spec.source and spec.sources (types.go GetSources and
  // HasMultipleSources). The dry source is what must be pinned; the sync branch is written by
  // Argo CD from it.
  if (const json* hydrator = object_member(spec, "sourceHydrator")) {
    const std::string hydrator_path = field_path(path, "sourceHydrator");
    const json* dry_source = object_member(*hydrator, "drySource");
    if (dry_source == nullptr) return;  // a schema error, reported by the API server
    const ArgoSourceKind kind = starts_with(string_member(*dry_source, "repoURL"), "oci://")
                                    ? ArgoSourceKind::Oci
                                    : ArgoSourceKind::Git;
    check_argo_source(*dry_source, field_path(hydrator_path, "drySource"), kind, templated,
                      findings);
    return;
  }
  // Argo CD ignores spec.source once spec.sources has entries (HasMultipleSources), so only the
  // sources that take effect are checked.
  if (const json* sources = member(spec, "sources");
      sources != nullptr && sources->is_array() && !sources->empty()) {
    const std::string sources_path = field_path(path, "sources");
    for (std::size_t i = 0; i < sources->size(); ++i) {
      const json& source = (*sources)[i];
      if (!source.is_object()) continue;  // a schema error, reported by the API server
      check_argo_source(source, field_path(sources_path, i), argo_source_kind(source), templated,
                        findings);
    }
    return;
  }
  if (const json* source = object_member(spec, "source")) {
    check_argo_source(*source, field_path(path, "source"), argo_source_kind(*source), templated,
                      findings);
  }
}

// ---------------------------------------------------------------------------------------------
// Flux

constexpr std::string_view kChartVersionFix = "Pin the exact chart version, e.g. version: 1.8.2.";
constexpr std::string_view kFluxChartConsequence =
    "Every reconciliation can install a different chart version, so a production release is "
    "not reproducible";

// Flux ignores the chart version when the chart comes from a GitRepository or Bucket (the chart
// is whatever the source revision holds), so a version there decides nothing.
bool version_is_ignored(const json& chart_spec) {
  const json* source_ref = object_member(chart_spec, "sourceRef");
  if (source_ref == nullptr) return false;
  const std::string kind = string_member(*source_ref, "kind");
  return kind == "GitRepository" || kind == "Bucket";
}

// HelmRelease spec.chart.spec and HelmChart spec: `version`, "*" (the latest) when omitted.
void check_chart_version(const json& chart_spec, const std::string& path,
                         std::vector<Finding>& findings) {
  if (version_is_ignored(chart_spec)) return;
  const std::string version_path = field_path(path, "version");
  const json* version = member(chart_spec, "version");
  if (version == nullptr) {
    findings.push_back(
        {version_path,
         version_path + " is not set: Flux then uses \"*\", the latest chart version. " +
             std::string(kFluxChartConsequence) + ". " + std::string(kChartVersionFix),
         {}});
    return;
  }
  if (!version->is_string()) {
    findings.push_back(not_a_string(version_path, *version, "version: \"1.8.2\""));
    return;
  }
  const VersionPinResult result =
      classify_version(VersionField::HelmChartVersion, version->get_ref<const std::string&>());
  if (is_pinned(result.pin)) return;
  findings.push_back(
      {version_path,
       unpinned_message(version_path, result, kFluxChartConsequence, kChartVersionFix),
       {}});
}

void check_helm_release(const json& object, std::vector<Finding>& findings) {
  const json* spec = object_member(object, "spec");
  if (spec == nullptr) return;
  // spec.chartRef points at an OCIRepository or HelmChart, which is checked as an object of
  // its own; the two fields are mutually exclusive in Flux.
  if (member(*spec, "chartRef") != nullptr) return;
  const json* chart = object_member(*spec, "chart");
  const json* chart_spec = chart != nullptr ? object_member(*chart, "spec") : nullptr;
  if (chart_spec == nullptr) return;  // no chart at all is a schema error, not a pin problem
  check_chart_version(*chart_spec, "spec.chart.spec", findings);
}

void check_helm_chart(const json& object, std::vector<Finding>& findings) {
  const json* spec = object_member(object, "spec");
  if (spec == nullptr) return;
  check_chart_version(*spec, "spec", findings);
}

constexpr std::string_view kOciFluxConsequence =
    "Every reconciliation can fetch different content, so a production release is not "
    "reproducible";
constexpr std::string_view kOciFluxFix =
    "Pin a digest, e.g. ref: {digest: \"sha256:<64 hex digits>\"}, or an exact version, e.g. "
    "ref: {tag: \"1.8.2\"}.";

void check_oci_repository(const json& object, std::vector<Finding>& findings) {
  const json* spec = object_member(object, "spec");
  if (spec == nullptr) return;
  const json* ref = member(*spec, "ref");
  if (ref != nullptr && !ref->is_object()) return;  // a schema error, reported by the API server

  // Flux's precedence: digest, then semver, then tag; an empty string counts as unset.
  struct RefField {
    std::string_view key;
    VersionField field;
  };
  constexpr RefField kRefFields[] = {
      {"digest", VersionField::OciDigest},
      {"semver", VersionField::OciSemver},
      {"tag", VersionField::OciTag},
  };
  if (ref != nullptr) {
    for (const RefField& ref_field : kRefFields) {
      const json* value = member(*ref, ref_field.key);
      if (value == nullptr) continue;
      const std::string path = field_path("spec.ref", ref_field.key);
      if (!value->is_string()) {
        findings.push_back(not_a_string(path, *value, "tag: \"1.8.2\""));
        return;
      }
      if (value->get_ref<const std::string&>().empty()) continue;
      const VersionPinResult result =
          classify_version(ref_field.field, value->get_ref<const std::string&>());
      if (!is_pinned(result.pin)) {
        findings.push_back(
            {path, unpinned_message(path, result, kOciFluxConsequence, kOciFluxFix), {}});
      }
      return;
    }
  }
  const std::string what = ref == nullptr ? " is not set" : " names no digest, semver or tag";
  findings.push_back({"spec.ref",
                      "spec.ref" + what +
                          ": Flux then fetches the tag \"latest\", which is moved to every new "
                          "push. " +
                          std::string(kOciFluxConsequence) + ". " + std::string(kOciFluxFix),
                      {}});
}

}  // namespace

// By kind alone: the group is checked where the fields are read (Argo CD's and Flux's own).
bool pinned_chart_versions_reads(std::string_view /*api_version*/, std::string_view kind) {
  return kind == "Application" || kind == "ApplicationSet" || kind == "HelmRelease" ||
         kind == "OCIRepository" || kind == "HelmChart";
}

std::vector<Finding> check_pinned_chart_versions(const RuleInput& input) {
  std::vector<Finding> findings;
  const std::string api_version = string_member(input.object, "apiVersion");
  const std::string kind = string_member(input.object, "kind");
  if (starts_with(api_version, kArgoGroup)) {
    if (kind == "Application") {
      if (const json* spec = object_member(input.object, "spec")) {
        check_argo_spec(*spec, "spec", false, findings);
      }
    } else if (kind == "ApplicationSet") {
      const json* spec = object_member(input.object, "spec");
      const json* templ = spec != nullptr ? object_member(*spec, "template") : nullptr;
      const json* app_spec = templ != nullptr ? object_member(*templ, "spec") : nullptr;
      if (app_spec != nullptr) check_argo_spec(*app_spec, "spec.template.spec", true, findings);
    }
  } else if (starts_with(api_version, kFluxHelmGroup)) {
    if (kind == "HelmRelease") check_helm_release(input.object, findings);
  } else if (starts_with(api_version, kFluxSourceGroup)) {
    if (kind == "OCIRepository") check_oci_repository(input.object, findings);
    if (kind == "HelmChart") check_helm_chart(input.object, findings);
  }
  return findings;
}

}  // namespace emguard::rules
