#include "policies/engine/environment.hpp"

#include "policies/common/quoting.hpp"
#include "policies/engine/engine.hpp"
#include "policies/manifests/json_access.hpp"

namespace emguard {

NamespaceLabels namespace_labels_of(const std::vector<const nlohmann::json*>& objects) {
  NamespaceLabels labels;
  for (const nlohmann::json* object : objects) {
    const ObjectRef ref = ObjectRef::of(*object);
    if (ref.is_namespace() && !ref.name.empty()) labels[ref.name] = string_labels(*object);
  }
  return labels;
}

const Environment& named_environment(const Policy& policy, std::string_view name,
                                     std::string_view named_by) {
  if (const Environment* environment = policy.find_environment(name)) return *environment;
  std::string names;
  for (const Environment& environment : policy.environments()) {
    names += (names.empty() ? "" : ", ") + environment.name;
  }
  const std::string setting = named_by.empty() ? "environment" : std::string(named_by);
  throw UnknownEnvironment(setting + " " + quoted(name) +
                           " is not in the policy (it has: " + names + ")");
}

const Environment* environment_of(const Policy& policy, const nlohmann::json& object,
                                  const Placement& placement) {
  if (!placement.named.empty()) {
    return &named_environment(policy, placement.named, placement.named_by);
  }
  const ObjectRef ref = ObjectRef::of(object);
  if (ref.is_namespace()) {
    // A Namespace carries the labels that place it (the webhook chart routes by them too).
    const std::map<std::string, std::string> labels = string_labels(object);
    return policy.environment_for_namespace(ref.name, &labels);
  }
  const std::string_view namespace_ = !placement.known_namespace.empty() ? placement.known_namespace
                                      : ref.namespace_.empty() ? placement.default_namespace
                                                               : std::string_view(ref.namespace_);
  const std::map<std::string, std::string>* labels = nullptr;
  if (placement.namespace_labels != nullptr) {
    if (const auto found = placement.namespace_labels->find(namespace_);
        found != placement.namespace_labels->end()) {
      labels = &found->second;
    }
  }
  return policy.environment_for_namespace(namespace_, labels);
}

}  // namespace emguard
