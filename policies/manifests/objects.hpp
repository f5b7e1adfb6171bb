// Manifests as the policy engine sees them in batch mode (em-guard-webhook check,
// em-guard-render --validate, policy test suites): every object of an input, each with where it
// came from. policies/engine/batch.hpp evaluates them together.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/policy.hpp"
#include "policies/manifests/stream.hpp"

namespace emguard {

class SourceLines;  // policies/manifests/yaml.hpp

struct ManifestObject {
  nlohmann::json object;
  std::string file;          // the input's name ("-" for standard input)
  std::size_t document = 0;  // 1-based document number in the file
  std::size_t line = 1;      // 1-based line where the document starts
  std::string source;        // path from its `# Source:` comment (Helm output), or ""
  // Helm 4's name for its template (metadata.annotations
  // postrenderer.helm.sh/postrender-filename), which stands in for `# Source:` there, or "".
  std::string postrender_filename;
  std::string item;  // "items[3]" when the object came from a List, else ""
  // (nested Lists: "items[1].items[0]"; JSON arrays: "[2]")

  // Where each field of the document is written (null for JSON input, which has no lines).
  // Shared by the objects of one List; `item` is their path inside it.
  std::shared_ptr<const SourceLines> lines;

  // The line of the field at `path` in this object (a violation's path), or of its nearest
  // written ancestor: what file:line in reports and SARIF points at.
  std::size_t line_of(std::string_view path) const;

  // "rendered.yaml: document 3 (# Source: em-runtime/templates/x.yaml, line 120), items[2]";
  // Helm 4 input: "... (postrender-filename em-runtime/templates/x.yaml, line 120)".
  std::string location() const;
};

enum class ReadDepth {
  Everything,     // parse every document whole: malformed YAML anywhere is reported
  WhatRulesRead,  // documents of kinds no rule reads (rules_read_kind) keep only their header
                  // (apiVersion, kind, metadata names, labels, annotations); multi-megabyte
                  // CRDs then cost microseconds, as they do in the renderer. A document that
                  // may repeat a header key (a second `kind:`) is read whole, so a duplicate
                  // is refused here as in Everything.
};

// A document that is no Kubernetes object (no apiVersion or no kind, or not a mapping at all):
// the Chart.yaml, values files and kustomizations a GitOps repository keeps beside manifests.
struct SkippedDocument {
  std::string location;  // as ManifestObject::location()
  std::string reason;    // "it has no kind"
};

// Reads every object of a multi-document YAML stream (Helm output included) or of a JSON text
// (one object, a List, or an array of objects). Kinds ending in "List" are expanded into their
// items, Lists inside Lists too; empty and comment-only documents are skipped. YAML is read
// strictly (read_yaml: merge keys resolved, duplicate keys and alias bombs refused). Throws
// InputError naming the file, document, `# Source:` and line when a document is malformed or is
// not a Kubernetes object; with `skipped`, documents that are no Kubernetes object at all are
// listed there instead (a document that has apiVersion and kind but is malformed, and the items
// of a List, still throw). With WhatRulesRead, `policy` adds the kinds it declares pod specs
// for to those read whole.
std::vector<ManifestObject> load_manifests(std::string_view text, const std::string& file,
                                           ReadDepth depth = ReadDepth::Everything,
                                           const Policy* policy = nullptr,
                                           std::vector<SkippedDocument>* skipped = nullptr);

// Whether load_manifests reads `text` as JSON (its first non-blank byte is `{` or `[`).
bool looks_like_json(std::string_view text);

// What load_manifests does with the documents of a YAML stream a caller has already split (and,
// for WhatRulesRead, read the headers of): em-guard-render --validate hands over the documents of
// its own output, so that the output is neither split nor read again.
std::vector<ManifestObject> load_documents(const std::vector<Document>& documents,
                                           const std::string& file,
                                           ReadDepth depth = ReadDepth::Everything,
                                           const Policy* policy = nullptr,
                                           std::vector<SkippedDocument>* skipped = nullptr);

}  // namespace emguard
