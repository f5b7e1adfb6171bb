#include "policies/manifests/pod_spec.hpp"

#include <array>
#include <utility>

#include "policies/common/ascii.hpp"
#include "policies/common/quoting.hpp"
#include "policies/manifests/json_access.hpp"
#include "policies/rules/rule.hpp"

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

constexpr std::string_view kArgoGroup = "argoproj.io";
constexpr std::string_view kAnyGroup = "*";

// One step of a pod-spec path: a field name, and whether the field is a list to go through.
struct PathStep {
  std::string_view key;
  bool every_entry = false;
};

std::optional<std::vector<PathStep>> parse_path(std::string_view path, std::string* error) {
  auto fail = [&](std::string text) -> std::optional<std::vector<PathStep>> {
    if (error != nullptr) *error = std::move(text);
    return std::nullopt;
  };
  if (path.empty()) return fail("the path is empty");
  std::vector<PathStep> steps;
  while (true) {
    const std::size_t dot = path.find('.');
    std::string_view step = path.substr(0, dot);
    PathStep parsed;
    if (step.ends_with("[*]")) {
      parsed.every_entry = true;
      step.remove_suffix(3);
    }
    if (step.empty()) return fail("a step has no field name");
    for (const char c : step) {
      if (!ascii::is_alnum(c) && c != '_' && c != '-') {
        return fail("the field name " + emguard::quoted(step) +
                    " has a character other than letters, digits, '_' and '-'");
      }
    }
    parsed.key = step;
    steps.push_back(parsed);
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return steps;
}

// Every node a parsed path reaches, with its printed field path.
void collect(const nlohmann::json& root, const std::vector<PathStep>& steps,
             std::vector<PodSpecAt>& out) {
  std::vector<PodSpecAt> frontier{{&root, std::string()}};
  for (const PathStep& step : steps) {
    std::vector<PodSpecAt> next;
    for (const PodSpecAt& at : frontier) {
      const nlohmann::json* child = member(*at.spec, step.key);
      if (child == nullptr) continue;
      std::string path = rules::field_path(at.path, step.key);
      if (!step.every_entry) {
        next.push_back({child, std::move(path)});
        continue;
      }
      if (!child->is_array()) continue;
      for (std::size_t i = 0; i < child->size(); ++i) {
        next.push_back({&(*child)[i], rules::field_path(path, i)});
      }
    }
    frontier = std::move(next);
  }
  for (PodSpecAt& at : frontier) {
    if (at.spec->is_object()) out.push_back(std::move(at));
  }
}

bool names_group_kind(const PodSpecKind& entry, std::string_view group, std::string_view kind) {
  return entry.kind == kind && (entry.api_group == kAnyGroup || entry.api_group == group);
}

void collect_declared(const nlohmann::json& object, std::string_view group, std::string_view kind,
                      const std::vector<PodSpecKind>& kinds, std::vector<PodSpecAt>& out) {
  for (const PodSpecKind& entry : kinds) {
    if (!names_group_kind(entry, group, kind)) continue;
    for (const std::string& path : entry.paths) {
      if (const auto steps = parse_path(path, nullptr)) collect(object, *steps, out);
    }
  }
}

bool is_argo_workflow_kind(std::string_view kind) {
  return kind == "Workflow" || kind == "WorkflowTemplate" || kind == "ClusterWorkflowTemplate" ||
         kind == "CronWorkflow";
}

}  // namespace

const std::vector<PodSpecKind>& extended_pod_spec_kinds() {
  // Paths from each project's API types: argoproj/argo-rollouts pkg/apis/rollouts/v1alpha1
  // (Rollout.spec.template, Experiment.spec.templates[].template, the Job metric provider of
  // analysis templates and runs), knative/serving pkg/apis/serving/v1 (Service and
  // Configuration spec.template.spec, Revision spec: RevisionSpec embeds PodSpec), and
  // openshift/api apps/v1 (DeploymentConfig.spec.template; OpenShift 3 also served it as v1).
  static const std::vector<PodSpecKind> kinds{
      {std::string(kArgoGroup), "Rollout", {"spec.template.spec"}},
      {std::string(kArgoGroup), "Experiment", {"spec.templates[*].template.spec"}},
      {std::string(kArgoGroup),
       "AnalysisTemplate",
       {"spec.metrics[*].provider.job.spec.template.spec"}},
      {std::string(kArgoGroup),
       "ClusterAnalysisTemplate",
       {"spec.metrics[*].provider.job.spec.template.spec"}},
      {std::string(kArgoGroup), "AnalysisRun", {"spec.metrics[*].provider.job.spec.template.spec"}},
      {"serving.knative.dev", "Service", {"spec.template.spec"}},
      {"serving.knative.dev", "Configuration", {"spec.template.spec"}},
      {"serving.knative.dev", "Revision", {"spec"}},
      {"apps.openshift.io", "DeploymentConfig", {"spec.template.spec"}},
      {"", "DeploymentConfig", {"spec.template.spec"}},
  };
  return kinds;
}

std::string_view api_group_of(std::string_view api_version) {
  const std::size_t slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view{} : api_version.substr(0, slash);
}

bool valid_pod_spec_path(std::string_view path, std::string* error) {
  return parse_path(path, error).has_value();
}

std::vector<PodSpecAt> find_pod_specs(const nlohmann::json& object,
                                      const std::vector<PodSpecKind>& declared) {
  std::vector<PodSpecAt> out;
  const nlohmann::json* kind_value = member(object, "kind");
  if (kind_value == nullptr || !kind_value->is_string()) return out;
  const std::string& kind = kind_value->get_ref<const std::string&>();
  const std::string api_version = string_member(object, "apiVersion");
  const std::string_view group = api_group_of(api_version);
  // Core kinds go by kind alone, as they always have: old group versions (extensions/v1beta1
  // Deployments) carry the same pod spec.
  if (const std::string_view core_path = pod_spec_path(kind); !core_path.empty()) {
    if (const nlohmann::json* spec = walk(object, core_path);
        spec != nullptr && spec->is_object()) {
      out.push_back({spec, std::string(core_path)});
    }
  }
  collect_declared(object, group, kind, extended_pod_spec_kinds(), out);
  collect_declared(object, group, kind, declared, out);
  // A policy that declares a path em-guard already knows must not report an image twice.
  std::vector<PodSpecAt> unique;
  for (PodSpecAt& at : out) {
    bool seen = false;
    for (const PodSpecAt& kept : unique) seen = seen || kept.spec == at.spec;
    if (!seen) unique.push_back(std::move(at));
  }
  return unique;
}

std::optional<PodSpecAt> argo_workflow_spec(const nlohmann::json& object) {
  const std::string kind = string_member(object, "kind");
  if (!is_argo_workflow_kind(kind)) return std::nullopt;
  if (api_group_of(string_member(object, "apiVersion")) != kArgoGroup) return std::nullopt;
  // argoproj/argo-workflows pkg/apis/workflow/v1alpha1: Workflow, WorkflowTemplate and
  // ClusterWorkflowTemplate have `Spec WorkflowSpec`; CronWorkflowSpec has
  // `WorkflowSpec WorkflowSpec json:"workflowSpec"`.
  const std::string_view path = kind == "CronWorkflow" ? "spec.workflowSpec" : "spec";
  const nlohmann::json* spec = walk(object, path);
  if (spec == nullptr || !spec->is_object()) return std::nullopt;
  return PodSpecAt{spec, std::string(path)};
}

bool may_carry_pod_specs(std::string_view api_version, std::string_view kind) {
  if (is_pod_bearing_kind(kind)) return true;
  const std::string_view group = api_group_of(api_version);
  if (is_argo_workflow_kind(kind) && group == kArgoGroup) return true;
  for (const PodSpecKind& entry : extended_pod_spec_kinds()) {
    if (names_group_kind(entry, group, kind)) return true;
  }
  return false;
}

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

bool names_kind(const PodSpecKind& entry, std::string_view api_version, std::string_view kind) {
  return names_group_kind(entry, api_group_of(api_version), kind);
}

}  // namespace emguard
