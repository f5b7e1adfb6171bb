#include "policies/engine/batch.hpp"

#include "policies/engine/environment.hpp"

namespace emguard {

std::vector<BatchResult> evaluate_batch(const Engine& engine,
                                        const std::vector<ManifestObject>& objects,
                                        const BatchOptions& options) {
  EvaluationContext context;
  context.today = options.today;
  context.batch.reserve(objects.size());
  for (const ManifestObject& item : objects) context.batch.push_back(&item.object);
  const NamespaceLabels namespace_labels = namespace_labels_of(context.batch);
  Placement placement;
  placement.default_namespace = options.default_namespace;
  placement.namespace_labels = &namespace_labels;

  std::vector<BatchResult> results;
  results.reserve(objects.size());
  for (const ManifestObject& item : objects) {
    BatchResult result;
    result.object = &item;
    result.environment = options.environment != nullptr
                             ? options.environment
                             : environment_of(engine.policy(), item.object, placement);
    context.environment = result.environment;
    result.evaluation = engine.evaluate(item.object, context);
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace emguard
