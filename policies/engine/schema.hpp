// JSON Schema validation (valijson) with errors that name the JSON path of the problem.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace emguard {

class JsonSchema {
 public:
  // Throws std::invalid_argument when the schema itself does not parse: that is a build defect.
  explicit JsonSchema(std::string_view schema_text);
  ~JsonSchema();
  JsonSchema(JsonSchema&&) noexcept;

  // Every problem as "$.services[1].match: required property 'kinds' is missing", sorted by path.
  std::vector<std::string> validate(const nlohmann::json& document) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace emguard
