// YAML helpers over yaml-cpp: parse a document with located errors, emit a node without changing
// what any scalar means, convert to JSON for schema validation.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "emguard/stream.hpp"

namespace emguard {

// Parses the whole document. Throws InputError with the document's location.
YAML::Node parse_document(const Document& document);

// Parses a standalone YAML text (a configuration file). Throws InputError naming `origin`.
YAML::Node parse_yaml(std::string_view text, const std::string& origin);

std::string yaml_error_message(const Document& document, const YAML::Exception& error);

// Scalars built in code: yaml-cpp stores every scalar as text, so the tag records what it is.
// A plain scalar from a parsed file keeps yaml-cpp's "?" tag and is emitted plain as it was;
// these helpers give built scalars the same treatment.
YAML::Node yaml_string(std::string_view value);  // always a string, quoted when plain would not be
YAML::Node yaml_plain(std::string_view value);   // a number or boolean, emitted plain
YAML::Node yaml_int(long long value);
YAML::Node yaml_bool(bool value);

// Emits block-style YAML. Strings that were quoted in the source, or built with yaml_string, are
// quoted whenever a plain scalar would read as something else (`"8000"`, `"true"`, `"on"`), so
// emit -> parse -> emit is a fixed point and the API server sees the same types.
std::string emit_yaml(const YAML::Node& node);

// YAML 1.2 core-schema resolution of plain scalars; quoted scalars stay strings.
nlohmann::json to_json(const YAML::Node& node);

// True when a scalar that came from a file (or yaml_string) holds a string, not a number etc.
bool is_string_scalar(const YAML::Node& node);

// Deep merge for layered configuration: maps merge key by key, everything else is replaced.
YAML::Node merge_yaml(const YAML::Node& base, const YAML::Node& overlay);

// Structural equality (yaml-cpp's operator== compares identity, not content).
bool yaml_equal(const YAML::Node& a, const YAML::Node& b);

}  // namespace emguard
