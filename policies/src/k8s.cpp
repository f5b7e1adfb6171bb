#include "emguard/k8s.hpp"

#include <array>
#include <utility>

namespace emguard {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kPodSpecPaths{{
    {"Pod", "spec"},
    {"Deployment", "spec.template.spec"},
    {"StatefulSet", "spec.template.spec"},
    {"DaemonSet", "spec.template.spec"},
    {"ReplicaSet", "spec.template.spec"},
    {"ReplicationController", "spec.template.spec"},
    {"Job", "spec.template.spec"},
    {"CronJob", "spec.jobTemplate.spec.template.spec"},
    {"PodTemplate", "template.spec"},
}};

// Walks a dotted path through maps; yaml-cpp nodes share storage, so the result is editable.
// (Node::operator= would overwrite the node it refers to; reset() re-points the handle.)
YAML::Node walk(const YAML::Node& root, std::string_view path) {
  YAML::Node node = root;
  while (!path.empty()) {
    const std::size_t dot = path.find('.');
    const std::string key(path.substr(0, dot));
    if (!node.IsMap() || !node[key]) return YAML::Node(YAML::NodeType::Undefined);
    node.reset(node[key]);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  }
  return node;
}

}  // namespace

std::string_view pod_spec_path(std::string_view kind) {
  for (const auto& [name, path] : kPodSpecPaths) {
    if (name == kind) return path;
  }
  return {};
}

bool is_pod_bearing_kind(std::string_view kind) { return !pod_spec_path(kind).empty(); }

std::optional<PodSpecLocation> find_pod_spec(const YAML::Node& object) {
  if (!object.IsMap() || !object["kind"] || !object["kind"].IsScalar()) return std::nullopt;
  const std::string_view path = pod_spec_path(object["kind"].Scalar());
  if (path.empty()) return std::nullopt;
  YAML::Node spec = walk(object, path);
  if (!spec.IsMap()) return std::nullopt;
  return PodSpecLocation{spec, std::string(path)};
}

}  // namespace emguard
