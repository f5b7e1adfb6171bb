// Batch evaluation (em-guard-webhook check, em-guard-render --validate, policy test suites): the
// objects of one input evaluated together, so that rules can cross-check the objects of one
// release and a Namespace in the input places the objects it holds.
#pragma once

#include <string>
#include <vector>

#include "policies/engine/engine.hpp"
#include "policies/engine/policy.hpp"
#include "policies/manifests/objects.hpp"

namespace emguard {

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
