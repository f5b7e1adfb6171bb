// Which environment of the policy an object belongs to. One decision for `check`, `test`,
// `em-guard-render --validate` and `serve`: the same object with the same facts about its
// namespace lands in the same environment everywhere, and an environment name the policy does
// not have is the same error everywhere.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/engine/policy.hpp"

namespace emguard {

// An environment was named (--environment, a suite's `environment`, /validate/<name>) that the
// policy does not declare. An InputError, so front ends that only know InputError still stop.
class UnknownEnvironment : public InputError {
 public:
  using InputError::InputError;
};

// The labels of the namespaces whose Namespace object is at hand, by namespace name.
using NamespaceLabels = std::map<std::string, std::map<std::string, std::string>, std::less<>>;

// The labels of the Namespace objects among `objects` (a batch; a suite case's resource and its
// `with` objects).
NamespaceLabels namespace_labels_of(const std::vector<const nlohmann::json*>& objects);

// What the caller knows about where an object goes.
struct Placement {
  // The environment the caller names; it decides alone. "" when none is named.
  std::string_view named;
  // The setting that named it, the subject of the error: "--environment"; "" for "environment".
  std::string_view named_by;
  // The namespace of an object whose metadata names none: check --namespace, the Helm release
  // namespace, the admission request's namespace.
  std::string_view default_namespace;
  // The namespace the object is written to, when the caller knows it for certain (the admission
  // request's `namespace`, which the API server fills in): it wins over the object's metadata.
  std::string_view known_namespace;
  // Labels of the namespaces known to the caller; null when none are known.
  const NamespaceLabels* namespace_labels = nullptr;
};

// The environment called `name`. Throws UnknownEnvironment when the policy has none of that
// name, the same sentence everywhere: `--environment "qa" is not in the policy (it has:
// production, staging, dev)`, with `named_by` ("environment" when empty) as its subject.
const Environment& named_environment(const Policy& policy, std::string_view name,
                                     std::string_view named_by);

// The environment `object` belongs to: the named one when `placement` names one; otherwise by
// the object's namespace (a Namespace by its own name and labels): the labels of that Namespace
// when they are known, then the policy's namespace names and globs, then its
// defaultEnvironment. nullptr when nothing claims the object (no defaultEnvironment). Throws
// UnknownEnvironment for a named environment the policy lacks.
const Environment* environment_of(const Policy& policy, const nlohmann::json& object,
                                  const Placement& placement);

}  // namespace emguard
