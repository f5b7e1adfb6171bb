#include "policies/manifests/yaml.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <istream>
#include <sstream>

#include "policies/common/error.hpp"

namespace emguard {
namespace {

constexpr std::string_view kPlainTag = "?";
constexpr std::string_view kQuotedTag = "!";

bool one_of(std::string_view value, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), value) != words.end();
}

bool is_null_word(std::string_view v) { return one_of(v, {"", "~", "null", "Null", "NULL"}); }

bool is_bool_word_core(std::string_view v) {
  return one_of(v, {"true", "True", "TRUE", "false", "False", "FALSE"});
}

// YAML 1.1 readers (go-yaml v2 behind sigs.k8s.io/yaml, used by kubectl and Helm) also take
// these as booleans, so a string spelled like one must be quoted.
bool is_bool_word_yaml11(std::string_view v) {
  return is_bool_word_core(v) || one_of(v, {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No",
                                            "NO", "on", "On", "ON", "off", "Off", "OFF"});
}

std::optional<long long> parse_int(std::string_view v) {
  if (v.empty()) return std::nullopt;
  int base = 10;
  std::string_view digits = v;
  bool negative = false;
  if (digits.front() == '+' || digits.front() == '-') {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
    if (v.front() == '+' || v.front() == '-') return std::nullopt;  // core schema: unsigned only
    base = digits[1] == 'x' ? 16 : 8;
    digits.remove_prefix(2);
  }
  // from_chars takes a '-' of its own: "--5" and "0x-1" are strings, not numbers.
  if (digits.empty() || digits.front() == '-' || digits.front() == '+') return std::nullopt;
  // Parsing the '-' with the digits lets the most negative value fit.
  if (negative && base == 10) digits = v;
  long long value = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_float(std::string_view v) {
  if (one_of(v, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) return HUGE_VAL;
  if (one_of(v, {"-.inf", "-.Inf", "-.INF"})) return -HUGE_VAL;
  if (one_of(v, {".nan", ".NaN", ".NAN"})) return std::nan("");
  // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
    return i - start;
  };
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
  if (i < v.size() && v[i] == '.') {
    ++i;
    if (digits() == 0) return std::nullopt;
  } else {
    if (digits() == 0) return std::nullopt;
    if (i < v.size() && v[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
    if (digits() == 0) return std::nullopt;
  }
  if (i != v.size()) return std::nullopt;
  return std::strtod(std::string(v).c_str(), nullptr);
}

// Would a YAML 1.1 or 1.2 reader take this plain scalar for anything but a string? Numbers,
// sexagesimals (`1:20`), timestamps (`2024-01-01`) and octals all start like a number and use
// only these characters, so quoting all of those is safe and simple.
bool plain_would_not_be_string(std::string_view v) {
  if (is_null_word(v) || is_bool_word_yaml11(v)) return true;
  if (parse_float(v)) return true;
  const char first = v.front();
  const bool number_start = std::isdigit(static_cast<unsigned char>(first)) ||
                            ((first == '-' || first == '+' || first == '.') && v.size() > 1);
  return number_start && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) ||
                  std::string_view("xXoO_.:+-eE").find(c) != std::string_view::npos;
         });
}

// A literal block keeps scripts readable. yaml-cpp writes no indentation indicator, so a first
// line starting with a space (or other awkward content) goes double-quoted instead.
bool fits_literal_block(std::string_view v) {
  if (v.find('\n') == std::string_view::npos || v.front() == ' ' || v.front() == '\n') return false;
  if (v.find_first_of("\r\t") != std::string_view::npos) return false;
  for (std::size_t at = v.find('\n'); at != std::string_view::npos; at = v.find('\n', at + 1)) {
    if (at > 0 && v[at - 1] == ' ') return false;
  }
  // yaml-cpp always clips: exactly one trailing newline survives a round trip, none or two don't.
  return v.back() == '\n' && (v.size() < 2 || v[v.size() - 2] != '\n');
}

void emit_scalar(YAML::Emitter& out, const YAML::Node& node) {
  const std::string& value = node.Scalar();
  const std::string& tag = node.Tag();
  if (tag == kPlainTag) {
    out << value;
    return;
  }
  if (tag != kQuotedTag && !tag.empty()) out << YAML::VerbatimTag(tag);
  if (value.empty() || plain_would_not_be_string(value)) {
    out << YAML::DoubleQuoted << value;
  } else if (fits_literal_block(value)) {
    out << YAML::Literal << value;
  } else {
    out << value;  // yaml-cpp quotes on its own where plain is not valid syntax
  }
}

void emit_node(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out << YAML::Null;
      return;
    case YAML::NodeType::Scalar:
      emit_scalar(out, node);
      return;
    case YAML::NodeType::Sequence:
      if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : node) emit_node(out, item);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Map:
      if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key;
        emit_node(out, entry.first);
        out << YAML::Value;
        emit_node(out, entry.second);
      }
      out << YAML::EndMap;
      return;
  }
}

}  // namespace

YAML::Node yaml_string(std::string_view value) {
  YAML::Node node(std::string{value});
  node.SetTag(std::string(kQuotedTag));
  return node;
}

YAML::Node yaml_plain(std::string_view value) {
  YAML::Node node(std::string{value});
  node.SetTag(std::string(kPlainTag));
  return node;
}

YAML::Node yaml_int(long long value) { return yaml_plain(std::to_string(value)); }

YAML::Node yaml_bool(bool value) { return yaml_plain(value ? "true" : "false"); }

std::string emit_yaml(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit_node(out, node);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

bool is_string_scalar(const YAML::Node& node) {
  if (!node.IsScalar()) return false;
  return node.Tag() != kPlainTag || to_json(node).is_string();
}

nlohmann::json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& value = node.Scalar();
      if (node.Tag() != kPlainTag) return value;
      if (is_null_word(value)) return nullptr;
      if (is_bool_word_core(value)) return value[0] == 't' || value[0] == 'T';
      if (const auto integer = parse_int(value)) return *integer;
      if (const auto real = parse_float(value)) return *real;
      return value;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& item : node) array.push_back(to_json(item));
      return array;
    }
    case YAML::NodeType::Map: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& entry : node) object[entry.first.Scalar()] = to_json(entry.second);
      return object;
    }
  }
  return nullptr;
}

YAML::Node merge_yaml(const YAML::Node& base, const YAML::Node& overlay) {
  if (!base.IsMap() || !overlay.IsMap()) return YAML::Clone(overlay);
  YAML::Node merged = YAML::Clone(base);
  for (const auto& entry : overlay) {
    const std::string key = entry.first.Scalar();
    merged[key] = merged[key] ? merge_yaml(merged[key], entry.second) : YAML::Clone(entry.second);
  }
  return merged;
}

bool yaml_equal(const YAML::Node& a, const YAML::Node& b) { return to_json(a) == to_json(b); }

}  // namespace emguard
