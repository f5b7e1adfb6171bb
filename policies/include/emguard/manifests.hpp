// Manifests as the policy engine sees them in batch mode (em-guard-webhook check,
// em-guard-render --validate, policy test suites): every object of an input, each with where it
// came from, evaluated together so that rules can cross-check the objects of one release.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "emguard/engine.hpp"
#include "emguard/policy.hpp"

namespace emguard {

struct ManifestObject {
  nlohmann::json object;
  std::string file;          // the input's name ("-" for standard input)
  std::size_t document = 0;  // 1-based document number in the file
  std::size_t line = 1;      // 1-based line where the document starts
  std::string source;        // path from its `# Source:` comment (Helm output), or ""
  std::string item;          // "items[3]" when the object came from a List, else ""

  // "rendered.yaml: document 3 (# Source: em-runtime/templates/x.yaml, line 120), items[2]"
  std::string location() const;
};

enum class ReadDepth {
  Everything,     // parse every document whole: malformed YAML anywhere is reported
  WhatRulesRead,  // documents of kinds no rule reads (rules_read_kind) keep only their header
                  // (apiVersion, kind, metadata names, labels, annotations); multi-megabyte
                  // CRDs then cost microseconds, as they do in the renderer
};

// Reads every object of a multi-document YAML stream (Helm output included) or of a JSON text
// (one object, a List, or an array of objects). Kinds ending in "List" are expanded into their
// items; empty and comment-only documents are skipped. Throws InputError naming the file,
// document, `# Source:` and line when a document is malformed or is not a Kubernetes object.
// With WhatRulesRead, `policy` adds the kinds it declares pod specs for to those read whole.
std::vector<ManifestObject> load_manifests(std::string_view text, const std::string& file,
                                           ReadDepth depth = ReadDepth::Everything,
                                           const Policy* policy = nullptr);

struct BatchOptions {
  // Evaluate everything in this environment; when null, each object's namespace decides
  // (labels of a Namespace object in the input count; see Policy::environment_for_namespace).
  const Environment* environment = nullptr;
  // The namespace of objects that name none (`helm template` output usually names none).
  std::string default_namespace;
  Date today = Date::today_utc();
};

struct BatchResult {
  const ManifestObject* object = nullptr;
  const Environment* environment = nullptr;  // null: no environment claims it, not evaluated
  Evaluation evaluation;
};

// One result per object, in input order; every object sees all the others as its batch.
std::vector<BatchResult> evaluate_batch(const Engine& engine,
                                        const std::vector<ManifestObject>& objects,
                                        const BatchOptions& options);

}  // namespace emguard
