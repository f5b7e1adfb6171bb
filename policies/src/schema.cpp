#include "emguard/schema.hpp"

// Without this valijson prints and calls abort() on a bad schema; the core never exits the
// process. This file is the only one that includes valijson.
#define VALIJSON_USE_EXCEPTIONS 1

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace emguard {

struct JsonSchema::Impl {
  valijson::Schema schema;
};

JsonSchema::JsonSchema(std::string_view schema_text) : impl_(std::make_unique<Impl>()) {
  try {
    const nlohmann::json schema_json = nlohmann::json::parse(schema_text);
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(schema_json);
    parser.populateSchema(adapter, impl_->schema);
  } catch (const std::exception& error) {  // nlohmann's parse_error, valijson's runtime_error
    throw std::invalid_argument(std::string("invalid JSON Schema: ") + error.what());
  }
}

JsonSchema::~JsonSchema() = default;
JsonSchema::JsonSchema(JsonSchema&&) noexcept = default;

std::vector<std::string> JsonSchema::validate(const nlohmann::json& document) const {
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(document);
  if (validator.validate(impl_->schema, adapter, &results)) return {};

  std::vector<std::string> errors;
  std::vector<std::string> summaries;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    // valijson's context is ["<root>", "[services]", "[1]", ...]; print it as a JSON path.
    std::string path = "$";
    for (std::size_t i = 1; i < error.context.size(); ++i) {
      std::string part = error.context[i];
      if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
        part = part.substr(1, part.size() - 2);
      }
      const bool index = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      });
      path += index ? "[" + part + "]" : "." + part;
    }
    // valijson repeats every problem once per enclosing object or array ("Failed to validate
    // against schema associated with property name 'x'"); the innermost line says it all.
    const bool summary =
        error.description.rfind("Failed to validate against schema associated", 0) == 0 ||
        error.description.rfind("Failed to validate item #", 0) == 0;
    (summary ? summaries : errors).push_back(path + ": " + error.description);
  }
  if (errors.empty()) errors = std::move(summaries);
  std::sort(errors.begin(), errors.end());
  errors.erase(std::unique(errors.begin(), errors.end()), errors.end());
  return errors;
}

}  // namespace emguard
