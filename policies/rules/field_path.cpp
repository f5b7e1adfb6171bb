#include <string>

#include "policies/common/ascii.hpp"
#include "policies/rules/rule.hpp"

namespace emguard::rules {
namespace {

bool is_identifier(std::string_view key) {
  if (key.empty()) return false;
  for (const char c : key) {
    const bool ok = ascii::is_alnum(c) || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string field_path(const std::string& parent, std::string_view key) {
  if (is_identifier(key))
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
  // Keys like "app.properties" or "em-guard.io/environment": a JSON string in brackets.
  return parent + "[" +
         nlohmann::json(std::string(key))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "]";
}

std::string field_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

}  // namespace emguard::rules
