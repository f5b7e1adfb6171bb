// Reading Kubernetes objects (nlohmann::json) in the core (rules, engine, admission, batches)
// without ever throwing: admission input is whatever a client sends, so every access checks the
// shape first.
#pragma once

#include <climits>
#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace emguard {

// Member `key` of an object, or nullptr when `value` is not an object, lacks the key or holds
// null (the API server prunes nulls: `field: ~` is an absent field).
inline const nlohmann::json* member(const nlohmann::json& value, std::string_view key) {
  if (!value.is_object()) return nullptr;
  const auto found = value.find(key);
  if (found == value.end() || found->is_null()) return nullptr;
  return &*found;
}

inline const nlohmann::json* object_member(const nlohmann::json& value, std::string_view key) {
  const nlohmann::json* found = member(value, key);
  return found != nullptr && found->is_object() ? found : nullptr;
}

// The string at `key`, or "" when it is missing or not a string.
inline std::string string_member(const nlohmann::json& value, std::string_view key) {
  const nlohmann::json* found = member(value, key);
  return found != nullptr && found->is_string() ? found->get<std::string>() : std::string();
}

// The integer at `key` when it is one that fits a long long.
inline std::optional<long long> integer_member(const nlohmann::json& value, std::string_view key) {
  const nlohmann::json* found = member(value, key);
  if (found == nullptr || !found->is_number_integer()) return std::nullopt;
  if (found->is_number_unsigned()) {
    const auto number = found->get<unsigned long long>();
    if (number > static_cast<unsigned long long>(LLONG_MAX)) return std::nullopt;
    return static_cast<long long>(number);
  }
  return found->get<long long>();
}

inline std::string metadata_field(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json* metadata = member(object, "metadata");
  return metadata != nullptr ? string_member(*metadata, key) : std::string();
}

// The object's metadata.labels that are strings (labels are strings; anything else is skipped).
inline std::map<std::string, std::string> string_labels(const nlohmann::json& object) {
  std::map<std::string, std::string> labels;
  const nlohmann::json* metadata = member(object, "metadata");
  const nlohmann::json* found = metadata != nullptr ? member(*metadata, "labels") : nullptr;
  if (found != nullptr && found->is_object()) {
    for (const auto& [key, value] : found->items()) {
      if (value.is_string()) labels[key] = value.get<std::string>();
    }
  }
  return labels;
}

// Follows a dotted path ("spec.template.spec") through objects; nullptr when a step is missing.
inline const nlohmann::json* walk(const nlohmann::json& root, std::string_view dotted) {
  const nlohmann::json* node = &root;
  while (node != nullptr && !dotted.empty()) {
    const std::size_t dot = dotted.find('.');
    node = member(*node, dotted.substr(0, dot));
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  return node;
}

// "a number", "an object": JSON's type name with its article, for messages.
inline std::string a_type_name(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  const std::string name = value.type_name();
  return (name == "object" || name == "array" ? "an " : "a ") + name;
}

}  // namespace emguard
