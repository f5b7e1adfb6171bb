// The policy engine: one object (plus its environment and, in batch mode, the other objects of
// the same release) in, violations out. Shared by em-guard-render --validate, em-guard-webhook
// check/test and the admission webhook, so every front end reports the same rules and messages.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/policy.hpp"

namespace emguard {

struct ObjectRef {
  std::string api_version;
  std::string kind;
  std::string namespace_;  // "" for cluster-scoped objects or when the manifest leaves it out
  std::string name;

  static ObjectRef of(const nlohmann::json& object);
  // A core v1 Namespace: placed in an environment by its own name and labels.
  bool is_namespace() const { return kind == "Namespace" && api_version == "v1"; }
  // "Deployment em-runtime/em-runtime-governance", "Namespace production".
  std::string display() const;
};

struct Violation {
  std::string rule;
  Mode mode = Mode::Enforce;  // Enforce denies, Warn warns
  ObjectRef object;
  std::string path;     // field path in the object, e.g. "spec.template.spec.containers[0].image"
  std::string message;  // what is wrong, why it matters, how to fix it
};

// What becomes of an object. An evaluation decides Allow, Warn or Deny; Error is the admission
// webhook's answer to a review it could not judge (refused, fail closed). Every front end spells
// a decision through the one to_string below.
enum class Decision { Allow, Warn, Deny, Error };
// "allow", "warn", "deny", "error": the "decision" of the admission log line, the decision label
// of em_guard_requests_total, and what a policy suite's `expect` is compared with.
std::string_view to_string(Decision decision);

struct Evaluation {
  std::vector<Violation> violations;  // in rule order, then in the order each rule walks the object
  // Things a reader should know that are not violations, e.g. an exception that applied.
  std::vector<std::string> notes;

  Decision decision() const;  // Allow, Warn or Deny, never Error
};

struct EvaluationContext {
  const Environment* environment = nullptr;  // nullptr: no environment claims it, allow
  // Every object of the same input (this one included), for cross-object checks; empty at
  // admission, where each object is checked against the declared values only.
  std::vector<const nlohmann::json*> batch;
  Date today = Date::today_utc();
};

// Whether any rule (or environment resolution) reads objects of this kind. Objects of other
// kinds never have violations, so batch callers may skip reading their bodies (large CRDs).
// `policy`, when given, adds the kinds it declares pod specs for (pinned-images podSpecPaths).
bool rules_read_kind(std::string_view api_version, std::string_view kind,
                     const Policy* policy = nullptr);

struct RuleDescription {
  std::string_view name;         // "pinned-images", as policies and violations name it
  std::string_view description;  // one sentence: what the rule requires
};
// Every rule, in the order the engine runs them (SARIF's tool.driver.rules lists them).
std::vector<RuleDescription> rule_descriptions();

class Engine {
 public:
  explicit Engine(Policy policy);

  const Policy& policy() const { return policy_; }
  Evaluation evaluate(const nlohmann::json& object, const EvaluationContext& context) const;

 private:
  Policy policy_;
};

}  // namespace emguard
