// Typed views over Kubernetes objects: where each workload kind keeps its pod spec.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emguard {

struct PodSpecLocation {
  YAML::Node spec;   // the PodSpec map (shares storage with the object: edits go through)
  std::string path;  // JSON path from the object root, e.g. "spec.template.spec"
};

// Kinds that carry a pod spec: Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
// CronJob, ReplicationController, PodTemplate.
bool is_pod_bearing_kind(std::string_view kind);

// The object's pod spec, when its kind has one and the object spells it out.
std::optional<PodSpecLocation> find_pod_spec(const YAML::Node& object);

// The path of the pod spec for a kind ("spec.template.spec"), or empty when it has none.
std::string_view pod_spec_path(std::string_view kind);

}  // namespace emguard
