#include "policies/engine/schema.hpp"

// Without this valijson prints and calls abort() on a bad schema; the core never exits the
// process. This file is the only one that includes valijson.
#define VALIJSON_USE_EXCEPTIONS 1

// Valijson's own `"[" + std::to_string(index) + "]"` (validation_visitor.hpp) and
// `subject.replace(...)` (internal/json_pointer.hpp), inlined here at -O3 (release), make GCC 12
// report a -Wrestrict false positive (GCC bug 105329) against code that is not ours. Silenced
// for those headers only: GCC checks the pragma at every location of the inlining chain.
#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#pragma GCC diagnostic pop

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

namespace {

bool valid_utf8(const std::string& text) {
  try {
    // nlohmann's strict serializer is the UTF-8 check (it throws type_error 316 on bad bytes).
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

// Valijson measures string lengths with a UTF-8 decoder that reads out of bounds on invalid
// UTF-8 (found by fuzzing the policy loader), so such strings never reach it: each is reported
// here, by path. Iterative, so a deeply nested document cannot exhaust the stack.
void find_invalid_utf8(const nlohmann::json& root, std::vector<std::string>& errors) {
  std::vector<std::pair<const nlohmann::json*, std::string>> pending = {{&root, "$"}};
  while (!pending.empty() && errors.size() < 20) {
    auto [node, path] = std::move(pending.back());
    pending.pop_back();
    if (node->is_string()) {
      if (!valid_utf8(node->get_ref<const std::string&>())) {
        errors.push_back(path + ": not valid UTF-8 text");
      }
    } else if (node->is_object()) {
      for (auto it = node->begin(); it != node->end(); ++it) {
        if (!valid_utf8(it.key())) {
          errors.push_back(path + ": a key is not valid UTF-8 text");
          continue;
        }
        pending.emplace_back(&it.value(), path + "." + it.key());
      }
    } else if (node->is_array()) {
      for (std::size_t i = 0; i < node->size(); ++i) {
        pending.emplace_back(&(*node)[i], path + "[" + std::to_string(i) + "]");
      }
    }
  }
}

}  // namespace

std::vector<std::string> JsonSchema::validate(const nlohmann::json& document) const {
  std::vector<std::string> invalid_text;
  find_invalid_utf8(document, invalid_text);
  if (!invalid_text.empty()) {
    std::sort(invalid_text.begin(), invalid_text.end());
    return invalid_text;
  }
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
