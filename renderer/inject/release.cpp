// Which release the manifests are: its name and namespace, from the options, the configuration
// or, most often, the labels Helm's charts put on every object.
#include <map>
#include <string>
#include <vector>

#include "renderer/inject/inject.hpp"

namespace emguard::render {
namespace {

std::string most_common(const std::map<std::string, int>& counts) {
  std::string best;
  int best_count = 0;
  for (const auto& [value, count] : counts) {
    if (count > best_count) {
      best = value;
      best_count = count;
    }
  }
  return best;
}

}  // namespace

Release resolve_release(const std::vector<Document>& documents, const RenderConfig& config,
                        const RenderOptions& options) {
  std::map<std::string, int> names, namespaces;
  for (const Document& document : documents) {
    const DocumentHeader& header = document.header;
    if (header.annotations.count(std::string(kGeneratedAnnotation)) != 0) continue;
    for (const char* label : {"app.kubernetes.io/instance", "release"}) {
      if (const auto found = header.labels.find(label); found != header.labels.end()) {
        ++names[found->second];
        break;
      }
    }
    if (!header.namespace_.empty()) ++namespaces[header.namespace_];
  }
  Release release;
  release.name = options.release_name.value_or(!config.release_name.empty() ? config.release_name
                                                                            : most_common(names));
  release.namespace_ = options.release_namespace.value_or(
      !config.release_namespace.empty() ? config.release_namespace
      : !namespaces.empty()             ? most_common(namespaces)
                                        : options.helm_namespace);
  return release;
}

}  // namespace emguard::render
