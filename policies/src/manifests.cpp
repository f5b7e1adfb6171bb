#include "emguard/manifests.hpp"

#include <map>

#include "emguard/error.hpp"
#include "emguard/stream.hpp"
#include "emguard/yaml.hpp"
#include "json_access.hpp"

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

void add_object(std::vector<ManifestObject>& out, json object, ManifestObject where) {
  if (where.item.empty() && object.is_object() && is_list_kind(object)) {
    const json& items = object["items"];
    if (!items.is_array()) throw InputError(where.location() + ": items of a List is not a list");
    for (std::size_t i = 0; i < items.size(); ++i) {
      ManifestObject item = where;
      item.item = "items[" + std::to_string(i) + "]";
      require_object(items[i], item.location());
      item.object = items[i];
      out.push_back(std::move(item));
    }
    return;
  }
  require_object(object, where.location());
  where.object = std::move(object);
  out.push_back(std::move(where));
}

bool looks_like_json(std::string_view text) {
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

std::size_t line_of(std::string_view text, std::size_t byte) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

void load_json(std::string_view text, const std::string& file, std::vector<ManifestObject>& out) {
  json value;
  try {
    value = json::parse(text);
  } catch (const json::parse_error& error) {
    throw InputError(file + ": line " + std::to_string(line_of(text, error.byte)) +
                     ": malformed JSON: " + error.what());
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
      require_object(value[i], item.location());
      item.object = std::move(value[i]);
      out.push_back(std::move(item));
    }
    return;
  }
  add_object(out, std::move(value), std::move(where));
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
  if (!source.empty()) text += "# Source: " + source + ", ";
  text += "line " + std::to_string(line) + ")";
  if (!item.empty()) text += ", " + item;
  return text;
}

std::vector<ManifestObject> load_manifests(std::string_view text, const std::string& file,
                                           ReadDepth depth, const Policy* policy) {
  std::vector<ManifestObject> out;
  if (looks_like_json(text)) {
    load_json(text, file, out);
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
        !rules_read_kind(kind, policy)) {
      out.push_back(header_object(document.header, std::move(where)));
      continue;
    }
    YAML::Node node;
    try {
      node = parse_document(document);
    } catch (const InputError& error) {
      throw InputError(file + ": " + error.what());
    }
    add_object(out, to_json(node), std::move(where));
  }
  return out;
}

std::vector<BatchResult> evaluate_batch(const Engine& engine,
                                        const std::vector<ManifestObject>& objects,
                                        const BatchOptions& options) {
  EvaluationContext context;
  context.today = options.today;
  context.batch.reserve(objects.size());
  std::map<std::string, std::map<std::string, std::string>> namespace_labels;
  for (const ManifestObject& item : objects) {
    context.batch.push_back(&item.object);
    const ObjectRef ref = ObjectRef::of(item.object);
    if (ref.is_namespace()) namespace_labels[ref.name] = string_labels(item.object);
  }

  std::vector<BatchResult> results;
  results.reserve(objects.size());
  for (const ManifestObject& item : objects) {
    BatchResult result;
    result.object = &item;
    result.environment = options.environment;
    if (result.environment == nullptr) {
      const ObjectRef ref = ObjectRef::of(item.object);
      // A Namespace belongs to the environment its own labels name.
      const std::string namespace_ =
          ref.is_namespace()
              ? ref.name
              : (ref.namespace_.empty() ? options.default_namespace : ref.namespace_);
      const auto labels = namespace_labels.find(namespace_);
      result.environment = engine.policy().environment_for_namespace(
          namespace_, labels == namespace_labels.end() ? nullptr : &labels->second);
    }
    context.environment = result.environment;
    result.evaluation = engine.evaluate(item.object, context);
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace emguard
