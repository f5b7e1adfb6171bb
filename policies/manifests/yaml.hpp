// The one YAML reader of em-guard (renderer, check, policies, configurations) and the helpers
// around it: emit a node without changing what any scalar means, convert to JSON.
//
// Reading follows Kubernetes (go-yaml behind sigs.k8s.io/yaml, strict decoding): merge keys (`<<`)
// are resolved, a duplicate mapping key is an error, alias expansion is bounded relative to the
// document's size, and error messages never quote the input (a Secret's value stays out of logs).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "policies/manifests/stream.hpp"

namespace emguard {

// Where each field of a parsed document is written: field path, spelled as violations spell it
// ("spec.template.spec.containers[0].image", "" for the root), to its 1-based line in the input.
// A mapping value is at the line of its key; a value reached through an alias or a merge key is at
// the line where it is used (alias) or written (merged key).
class SourceLines {
 public:
  void record(const std::string& path, std::size_t line);  // the first record of a path stays
  // The line of `path`, or of its nearest recorded ancestor (a rule may name a field that is
  // missing, e.g. the image of a container without one); `fallback` when none is recorded.
  std::size_t line_of(std::string_view path, std::size_t fallback) const;
  std::size_t size() const { return lines_.size(); }

 private:
  std::unordered_map<std::string, std::size_t> lines_;
};

struct ParsedYaml {
  YAML::Node node;
  SourceLines lines;
};

// Reads the first YAML document of `text` strictly (see above). `where` prefixes every error
// message; `first_line` is the line of text's first byte in the file, so lines in messages and in
// `lines` count from the file's start. Throws InputError ("WHERE: invalid YAML at line L, column
// C: REASON"). With `record_lines` false, `lines` stays empty (callers that only emit).
ParsedYaml read_yaml(std::string_view text, const std::string& where, std::size_t first_line = 1,
                     bool record_lines = true);

// A document of a stream, read with read_yaml: errors name the document and its lines in the
// stream.
ParsedYaml read_document(const Document& document);

// read_document without source lines (the renderer, which only rewrites what it parses).
YAML::Node parse_document(const Document& document);

// A standalone YAML text (a configuration file). Throws InputError naming `origin`.
YAML::Node parse_yaml(std::string_view text, const std::string& origin);

// The message for an error yaml-cpp's parser threw while reading `document`: its location and a
// generic reason, never the input's text.
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
