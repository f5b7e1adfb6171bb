#include "policies/manifests/objects.hpp"

#include <map>
#include <memory>
#include <string_view>

#include "policies/common/error.hpp"
#include "policies/engine/engine.hpp"
#include "policies/manifests/json_access.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"

namespace emguard {
namespace {

using nlohmann::json;

bool is_list_kind(const json& object) {
  const auto kind = object.find("kind");
  if (kind == object.end() || !kind->is_string()) return false;
  const std::string& name = kind->get_ref<const std::string&>();
  return name.size() >= 4 && name.compare(name.size() - 4, 4, "List") == 0 &&
         object.contains("items");
}

// Checks the shape every Kubernetes object has; `where` names it for the message.
void require_object(const json& object, const std::string& where) {
  if (!object.is_object()) throw InputError(where + ": expected a Kubernetes object (a mapping)");
  for (const char* key : {"apiVersion", "kind"}) {
    const auto found = object.find(key);
    if (found == object.end() || !found->is_string() ||
        found->get_ref<const std::string&>().empty()) {
      throw InputError(where + ": " + key + " is missing or not a string");
    }
  }
  if (const auto metadata = object.find("metadata");
      metadata != object.end() && !metadata->is_object() && !metadata->is_null()) {
    throw InputError(where + ": metadata is not a mapping");
  }
}

// Why a document is no Kubernetes object at all (Chart.yaml, a values file, a kustomization
// without apiVersion and kind, a list), or "" when it claims to be one. What claims to be one and
// is malformed stays an error (require_object).
std::string not_an_object(const json& value) {
  if (value.is_array()) return "it is a sequence, not a mapping";
  if (!value.is_object()) return "it is a scalar, not a mapping";
  const bool has_api_version = value.contains("apiVersion");
  const bool has_kind = value.contains("kind");
  if (has_api_version && has_kind) return "";
  if (has_api_version) return "it has no kind";
  return has_kind ? "it has no apiVersion" : "it has neither apiVersion nor kind";
}

// Records a document that is no Kubernetes object when the caller skips those (`skipped`);
// true when it was recorded and so is not to be added.
bool skip_not_an_object(const json& value, const ManifestObject& where,
                        std::vector<SkippedDocument>* skipped) {
  if (skipped == nullptr) return false;
  std::string reason = not_an_object(value);
  if (reason.empty()) return false;
  skipped->push_back({where.location(), std::move(reason)});
  return true;
}

// "items[3]" inside `parent` ("", or the path of the List it is in).
std::string item_path(const std::string& parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  return child.front() == '[' ? parent + std::string(child) : parent + "." + std::string(child);
}

// Adds the object, or the items of a List (Lists inside Lists too: `kubectl get -o yaml` nests
// none, but a hand-written one may, and kubectl applies every item). With `skipped`, a whole
// document that is no Kubernetes object is noted there; the items of a List claim to be objects
// and never are skipped.
void add_object(std::vector<ManifestObject>& out, json object, ManifestObject where,
                std::vector<SkippedDocument>* skipped) {
  if (skip_not_an_object(object, where, skipped)) return;
  if (object.is_object() && is_list_kind(object)) {
    json& items = object["items"];
    if (!items.is_array()) throw InputError(where.location() + ": items of a List is not a list");
    const std::string list = where.item;
    for (std::size_t i = 0; i < items.size(); ++i) {
      ManifestObject item = where;
      item.item = item_path(list, "items[" + std::to_string(i) + "]");
      add_object(out, std::move(items[i]), std::move(item), nullptr);
    }
    return;
  }
  require_object(object, where.location());
  // Read through a JSON pointer: operator[] would add the keys it looks for.
  static const json::json_pointer filename(
      "/metadata/annotations/postrenderer.helm.sh~1postrender-filename");
  if (where.source.empty() && object.contains(filename) && object.at(filename).is_string()) {
    where.postrender_filename = object.at(filename).get<std::string>();
  }
  where.object = std::move(object);
  out.push_back(std::move(where));
}

std::size_t line_of(std::string_view text, std::size_t byte) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

void load_json(std::string_view text, const std::string& file, std::vector<ManifestObject>& out,
               std::vector<SkippedDocument>* skipped) {
  json value;
  try {
    value = json::parse(text);
  } catch (const json::parse_error& error) {
    // nlohmann's message ends with "; last read: '...'", the input's text (a Secret's value,
    // perhaps): only its reason before that is kept.
    std::string reason = error.what();
    if (const std::size_t colon = reason.find(": "); colon != std::string::npos) {
      reason.erase(0, colon + 2);
    }
    if (const std::size_t quoted = reason.find("; last read"); quoted != std::string::npos) {
      const std::size_t expected = reason.rfind("'; expected ");
      const std::string tail =
          expected != std::string::npos && expected > quoted ? reason.substr(expected + 1) : "";
      reason.erase(quoted);
      reason += tail;
    }
    throw InputError(file + ": line " + std::to_string(line_of(text, error.byte)) +
                     ": malformed JSON: " + reason);
  }
  ManifestObject where;
  where.file = file;
  where.document = 1;
  if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      ManifestObject item = where;
      // Appended rather than `"[" + std::to_string(i) + "]"`: GCC 12 warns (-Wrestrict, a false
      // positive, GCC bug 105329) on `const char* + std::string&&` once inlined at -O3.
      item.item = "[";
      item.item += std::to_string(i);
      item.item += ']';
      if (skip_not_an_object(value[i], item, skipped)) continue;
      add_object(out, std::move(value[i]), std::move(item), nullptr);
    }
    return;
  }
  add_object(out, std::move(value), std::move(where), skipped);
}

// Whether a second `apiVersion`, `kind` or `metadata` key may follow the first: a header read
// stops at the first complete header, and a reader that keeps the last copy would see another
// object. The test is by lines (a top-level key starts at the root mapping's column), so it
// costs microseconds where a whole parse of a CRD costs milliseconds; a false alarm only costs
// that parse. A flow-style root (`{...}`) is always read whole.
bool may_repeat_header_key(std::string_view text) {
  std::size_t root_column = std::string_view::npos;
  std::map<std::string_view, int> seen;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.substr(0, 3) == "---") line.remove_prefix(3);
    const std::size_t column = line.find_first_not_of(" \t\r");
    if (column == std::string_view::npos || line[column] == '#' || line[column] == '%') continue;
    if (root_column == std::string_view::npos) {
      root_column = column;
      if (line[column] == '{' || line[column] == '[') return true;
    }
    if (column != root_column) continue;
    std::string_view key = line.substr(column);
    if (!key.empty() && (key.front() == '"' || key.front() == '\'')) key.remove_prefix(1);
    for (const std::string_view name : {"apiVersion", "kind", "metadata"}) {
      if (key.substr(0, name.size()) == name && ++seen[name] > 1) return true;
    }
  }
  return false;
}

// An object of a kind no rule reads, as much of it as its header gives.
ManifestObject header_object(const DocumentHeader& header, ManifestObject where) {
  json metadata = json::object();
  if (!header.name.empty()) metadata["name"] = header.name;
  if (!header.namespace_.empty()) metadata["namespace"] = header.namespace_;
  if (!header.labels.empty()) metadata["labels"] = header.labels;
  if (!header.annotations.empty()) metadata["annotations"] = header.annotations;
  where.object = {
      {"apiVersion", header.api_version}, {"kind", header.kind}, {"metadata", metadata}};
  return where;
}

}  // namespace

std::string ManifestObject::location() const {
  std::string text = file + ": document " + std::to_string(document) + " (";
  if (!source.empty()) {
    text += "# Source: " + source + ", ";
  } else if (!postrender_filename.empty()) {
    text += "postrender-filename " + postrender_filename + ", ";
  }
  text += "line " + std::to_string(line) + ")";
  if (!item.empty()) text += ", " + item;
  return text;
}

std::size_t ManifestObject::line_of(std::string_view path) const {
  if (lines == nullptr) return line;
  return lines->line_of(item_path(item, path), line);
}

bool looks_like_json(std::string_view text) {
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

std::vector<ManifestObject> load_manifests(std::string_view text, const std::string& file,
                                           ReadDepth depth, const Policy* policy,
                                           std::vector<SkippedDocument>* skipped) {
  std::vector<ManifestObject> out;
  if (looks_like_json(text)) {
    load_json(text, file, out, skipped);
    return out;
  }
  std::vector<Document> documents = split_documents(text);
  if (depth == ReadDepth::WhatRulesRead) {
    try {
      read_headers(documents);
    } catch (const InputError& error) {
      throw InputError(file + ": " + error.what());
    }
  }
  return load_documents(documents, file, depth, policy, skipped);
}

std::vector<ManifestObject> load_documents(const std::vector<Document>& documents,
                                           const std::string& file, ReadDepth depth,
                                           const Policy* policy,
                                           std::vector<SkippedDocument>* skipped) {
  std::vector<ManifestObject> out;
  for (const Document& document : documents) {
    if (!document.has_content) continue;
    ManifestObject where;
    where.file = file;
    where.document = document.index + 1;
    where.line = document.first_line;
    where.source = std::string(document.source);
    const std::string& kind = document.header.kind;
    if (depth == ReadDepth::WhatRulesRead && !kind.empty() &&
        !document.header.api_version.empty() && !kind.ends_with("List") &&
        !rules_read_kind(document.header.api_version, kind, policy) &&
        !may_repeat_header_key(parse_text(document))) {
      out.push_back(header_object(document.header, std::move(where)));
      continue;
    }
    auto parsed = std::make_shared<ParsedYaml>();
    try {
      *parsed = read_document(document);
    } catch (const InputError& error) {
      throw InputError(file + ": " + error.what());
    }
    where.lines = std::shared_ptr<const SourceLines>(parsed, &parsed->lines);
    add_object(out, to_json(parsed->node), std::move(where), skipped);
  }
  return out;
}

}  // namespace emguard
