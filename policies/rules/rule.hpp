// The rules behind the engine. Each rule looks at one object (with its environment and, in batch
// mode, the other objects) and reports findings; the engine applies modes and exceptions.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/engine.hpp"
#include "policies/engine/policy.hpp"

namespace emguard::rules {

struct RuleInput {
  const nlohmann::json& object;  // a Kubernetes object (JSON form)
  const ObjectRef& ref;
  const Environment& environment;
  const Policy& policy;
  const std::vector<const nlohmann::json*>& batch;  // empty at admission
};

struct Finding {
  std::string path;     // field path, e.g. "spec.template.spec.containers[0].image"
  std::string message;  // what is wrong, why it matters, how to fix it
  std::string image;    // pinned-images: the reference, for exceptions that name images
};

// Field paths as Kubernetes prints them: "spec.containers[0].image", and keys that are not
// identifiers in brackets: data["app.properties"].
std::string field_path(const std::string& parent, std::string_view key);
std::string field_path(const std::string& parent, std::size_t index);

// Whether a rule ever looks at objects of a kind, as the object evaluated or in its batch: objects
// of kinds no rule reads never have violations, so a caller may skip reading their bodies.
bool pinned_images_reads(std::string_view api_version, std::string_view kind);
bool pinned_chart_versions_reads(std::string_view api_version, std::string_view kind);
bool gateway_consistency_reads(std::string_view api_version, std::string_view kind);

std::vector<Finding> check_pinned_images(const RuleInput& input);
std::vector<Finding> check_pinned_chart_versions(const RuleInput& input);
std::vector<Finding> check_gateway_consistency(const RuleInput& input);

}  // namespace emguard::rules
