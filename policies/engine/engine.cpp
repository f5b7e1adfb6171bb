#include "policies/engine/engine.hpp"

#include <algorithm>

#include "policies/common/error.hpp"
#include "policies/common/glob.hpp"
#include "policies/common/quoting.hpp"
#include "policies/manifests/json_access.hpp"
#include "policies/manifests/pod_spec.hpp"
#include "policies/rules/rule.hpp"

namespace emguard {
namespace {

using nlohmann::json;

bool any_glob(const std::vector<std::string>& patterns, std::string_view text) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return glob_match(pattern, text); });
}

// Every list the exception gives must match; an empty list matches anything.
bool exception_matches(const PolicyException& exception, std::string_view rule,
                       const Environment& environment, const ObjectRef& ref,
                       const rules::Finding& finding) {
  if (!exception.rules.empty() &&
      std::find(exception.rules.begin(), exception.rules.end(), rule) == exception.rules.end()) {
    return false;
  }
  auto matches = [](const std::vector<std::string>& patterns, std::string_view text) {
    return patterns.empty() || any_glob(patterns, text);
  };
  if (!exception.images.empty() && finding.image.empty()) return false;
  return matches(exception.environments, environment.name) &&
         matches(exception.images, finding.image) && matches(exception.kinds, ref.kind) &&
         matches(exception.namespaces, ref.namespace_) && matches(exception.names, ref.name);
}

using RuleFunction = std::vector<rules::Finding> (*)(const rules::RuleInput&);
using ReadsFunction = bool (*)(std::string_view api_version, std::string_view kind);

struct RuleEntry {
  RuleDescription description;
  RuleFunction check;
  ReadsFunction reads;
};

constexpr RuleEntry kRules[] = {
    {{kPinnedImages,
      "Every container image (containers, init and ephemeral containers, image volumes) names "
      "an exact tag or a digest, never latest, a mutable tag or none."},
     &rules::check_pinned_images,
     &rules::pinned_images_reads},
    {{kPinnedChartVersions,
      "GitOps sources (Argo CD Applications and ApplicationSets, Flux HelmReleases, HelmCharts "
      "and OCIRepositories) name one exact version, never HEAD, a branch or a range."},
     &rules::check_pinned_chart_versions,
     &rules::pinned_chart_versions_reads},
    {{kGatewayConsistency,
      "The environment's scheme and hostname, the HTTPRoutes, the Gateway listeners and the "
      "services' public URL and CORS settings agree."},
     &rules::check_gateway_consistency,
     &rules::gateway_consistency_reads},
};

}  // namespace

ObjectRef ObjectRef::of(const json& object) {
  ObjectRef ref;
  ref.api_version = string_member(object, "apiVersion");
  ref.kind = string_member(object, "kind");
  ref.namespace_ = metadata_field(object, "namespace");
  ref.name = metadata_field(object, "name");
  // generateName objects have no name until the API server assigns one.
  if (ref.name.empty()) ref.name = metadata_field(object, "generateName");
  return ref;
}

std::string ObjectRef::display() const {
  std::string text = kind.empty() ? std::string("object") : kind;
  text += ' ';
  if (!namespace_.empty()) text += namespace_ + "/";
  text += name.empty() ? std::string("(unnamed)") : name;
  return text;
}

std::string_view to_string(Decision decision) {
  switch (decision) {
    case Decision::Deny:
      return "deny";
    case Decision::Warn:
      return "warn";
    case Decision::Error:
      return "error";
    case Decision::Allow:
      break;
  }
  return "allow";
}

Decision Evaluation::decision() const {
  Decision decision = Decision::Allow;
  for (const Violation& violation : violations) {
    if (violation.mode == Mode::Enforce) return Decision::Deny;
    if (violation.mode == Mode::Warn) decision = Decision::Warn;
  }
  return decision;
}

std::vector<RuleDescription> rule_descriptions() {
  std::vector<RuleDescription> descriptions;
  for (const RuleEntry& rule : kRules) descriptions.push_back(rule.description);
  return descriptions;
}

bool rules_read_kind(std::string_view api_version, std::string_view kind, const Policy* policy) {
  // Namespaces are read for their labels, which place other objects in environments.
  if (kind == "Namespace") return true;
  if (policy != nullptr) {
    for (const PodSpecKind& declared : policy->pinned_images().pod_spec_kinds) {
      if (names_kind(declared, api_version, kind)) return true;
    }
  }
  for (const RuleEntry& rule : kRules) {
    if (rule.reads(api_version, kind)) return true;
  }
  return false;
}

Engine::Engine(Policy policy) : policy_(std::move(policy)) {}

Evaluation Engine::evaluate(const json& object, const EvaluationContext& context) const {
  Evaluation evaluation;
  if (context.environment == nullptr || !object.is_object()) return evaluation;
  const Environment& environment = *context.environment;
  const ObjectRef ref = ObjectRef::of(object);
  const rules::RuleInput input{object, ref, environment, policy_, context.batch};

  for (const RuleEntry& rule : kRules) {
    const std::string_view name = rule.description.name;
    const Mode mode = environment.mode_of(name);
    if (mode == Mode::Off) continue;
    std::vector<rules::Finding> findings;
    try {
      findings = rule.check(input);
    } catch (const json::exception& error) {
      // Rules read every field defensively; this is the last line, so that a shape nobody
      // foresaw is a clear input error and never a crash of the webhook.
      throw InputError(ref.display() + ": " + std::string(name) +
                       " could not read the object: " + error.what());
    }
    for (rules::Finding& finding : findings) {
      std::string expired_note;
      bool exempt = false;
      for (const PolicyException& exception : policy_.exceptions()) {
        if (!exception_matches(exception, name, environment, ref, finding)) continue;
        if (context.today <= exception.expires) {
          evaluation.notes.push_back(std::string(name) + ": " + finding.path + " of " +
                                     ref.display() + " is exempt by exception " +
                                     emguard::quoted(exception.name) + " until " +
                                     exception.expires.to_string() + " (" + exception.reason + ")");
          exempt = true;
          break;
        }
        expired_note = " (Exception " + emguard::quoted(exception.name) + " expired on " +
                       exception.expires.to_string() +
                       " and no longer applies: fix this or extend the exception.)";
      }
      if (exempt) continue;
      evaluation.violations.push_back(Violation{std::string(name), mode, ref,
                                                std::move(finding.path),
                                                std::move(finding.message) + expired_note});
    }
  }
  return evaluation;
}

}  // namespace emguard
