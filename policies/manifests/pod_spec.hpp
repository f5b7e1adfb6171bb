// Typed views over Kubernetes objects: where each workload kind keeps its pod spec.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/policy.hpp"  // PodSpecKind

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

// Kinds outside core Kubernetes that em-guard knows carry pod specs: Argo Rollouts (Rollout,
// Experiment, analysis Jobs), Knative Serving (Service, Configuration, Revision) and OpenShift
// DeploymentConfig. Argo Workflows keeps containers in its own template type, not in pod specs;
// see argo_workflow_spec.
const std::vector<PodSpecKind>& extended_pod_spec_kinds();

// "apps" for "apps/v1", "" for "v1".
std::string_view api_group_of(std::string_view api_version);

// Whether a pod-spec path is well formed: dot-separated field names, each optionally followed
// by `[*]`. `error` says what is wrong otherwise.
bool valid_pod_spec_path(std::string_view path, std::string* error = nullptr);

// A pod spec found in an object (JSON form), with its printed field path, e.g.
// "spec.templates[1].template.spec".
struct PodSpecAt {
  const nlohmann::json* spec;
  std::string path;
};

// Every pod spec an object spells out: the core kinds (by kind, as pod_spec_path), the extended
// kinds and the kinds `declared` names (by API group and kind). Never throws on odd shapes.
std::vector<PodSpecAt> find_pod_specs(const nlohmann::json& object,
                                      const std::vector<PodSpecKind>& declared = {});

// The Argo Workflows WorkflowSpec of a Workflow, WorkflowTemplate or ClusterWorkflowTemplate
// (`spec`) or CronWorkflow (`spec.workflowSpec`), group argoproj.io; nullopt for other objects.
std::optional<PodSpecAt> argo_workflow_spec(const nlohmann::json& object);

// Whether objects of this kind may carry images by the built-in knowledge, as find_pod_specs and
// argo_workflow_spec look for them: the core pod-bearing kinds by kind alone, the extended and
// the Argo Workflows kinds in their own API group (a core v1 Service is no Knative Service).
bool may_carry_pod_specs(std::string_view api_version, std::string_view kind);

// Whether an object of this apiVersion and kind is one `entry` names (its group, or any group
// for a declaration with group "*").
bool names_kind(const PodSpecKind& entry, std::string_view api_version, std::string_view kind);

}  // namespace emguard
