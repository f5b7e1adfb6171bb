#include "emguard/schema.hpp"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <stdexcept>

namespace emguard {

struct JsonSchema::Impl {
  valijson::Schema schema;
};

JsonSchema::JsonSchema(std::string_view schema_text) : impl_(std::make_unique<Impl>()) {
  const nlohmann::json schema_json = nlohmann::json::parse(schema_text);
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter adapter(schema_json);
  parser.populateSchema(adapter, impl_->schema);
}

JsonSchema::~JsonSchema() = default;
JsonSchema::JsonSchema(JsonSchema&&) noexcept = default;

std::vector<std::string> JsonSchema::validate(const nlohmann::json& document) const {
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(document);
  if (validator.validate(impl_->schema, adapter, &results)) return {};

  std::vector<std::string> errors;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    // valijson's context is ["<root>", "[services]", "[1]", ...]; print it as a JSON path.
    std::string path = "$";
    for (std::size_t i = 1; i < error.context.size(); ++i) {
      std::string part = error.context[i];
      if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
        part = part.substr(1, part.size() - 2);
      }
      const bool index = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
      path += index ? "[" + part + "]" : "." + part;
    }
    errors.push_back(path + ": " + error.description);
  }
  std::sort(errors.begin(), errors.end());
  errors.erase(std::unique(errors.begin(), errors.end()), errors.end());
  return errors;
}

}  // namespace emguard
