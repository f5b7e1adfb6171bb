// pinned-images on pod templates outside core Kubernetes, through every front end that shares the
// core: admission (review_admission), the renderer's --validate, `check`, and the chart that
// decides what the API server sends.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "policies/admission/admission.hpp"
#include "policies/engine/policy.hpp"
#include "policies/manifests/pod_spec.hpp"
#include "policies/manifests/yaml.hpp"
#include "tests/support/decisions.hpp"
#include "tests/support/files.hpp"
#include "tests/support/policy_eval.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using test::contains;

const fs::path kSource = EMGUARD_SOURCE_DIR;

// A Rollout, an Argo Workflow and a declared kind, each running an unpinned image, plus a core
// Service that shares its kind name with Knative's and must pass.
constexpr const char* kStream = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web, namespace: production}
spec:
  template:
    spec:
      containers: [{name: app, image: "ghcr.io/acme/web:latest"}]
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: nightly, namespace: production}
spec:
  templates:
    - name: main
      container: {image: busybox}
---
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: tab, namespace: production}
spec:
  jobTemplate: {spec: {template: {spec: {containers: [{name: tab, image: "ghcr.io/acme/tab:edge"}]}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: production}
spec: {selector: {app: web}, ports: [{port: 80}]}
)";

constexpr const char* kPolicy = R"(apiVersion: em-guard.io/v1alpha1
kind: Policy
rules:
  pinned-images:
    mutableTags: [edge]
    podSpecPaths:
      - {apiGroup: stable.example.com, kind: CronTab, paths: [spec.jobTemplate.spec.template.spec]}
environments:
  - name: production
    namespaces: [production]
    rules: {gateway-consistency: off}
)";

const std::vector<std::string> kExpected = {
    "spec.template.spec.containers[0].image",
    "spec.templates[0].container.image",
    "spec.jobTemplate.spec.template.spec.containers[0].image",
};

json review(const json& object, const std::string& group, const std::string& resource) {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "0b9a1f57-4a6e-4b3c-8d7e-000000000011"},
            {"kind", {{"group", group}, {"version", "v1alpha1"}, {"kind", object["kind"]}}},
            {"resource", {{"group", group}, {"version", "v1alpha1"}, {"resource", resource}}},
            {"namespace", "production"},
            {"name", object["metadata"]["name"]},
            {"operation", "CREATE"},
            {"userInfo", {{"username", "alice"}}},
            {"object", object},
            {"oldObject", nullptr},
            {"dryRun", false}}}};
}

TEST(PinnedImagesFrontEnds, AdmissionDeniesTheExtendedAndDeclaredKinds) {
  const Engine engine(Policy::load(kPolicy, "policy.yaml"));
  const std::vector<std::pair<std::string, std::string>> resources = {
      {"argoproj.io", "rollouts"},
      {"argoproj.io", "workflows"},
      {"stable.example.com", "crontabs"}};
  const std::vector<json> objects = {test::object(R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web, namespace: production}
spec: {template: {spec: {containers: [{name: app, image: "ghcr.io/acme/web:latest"}]}}}
)"),
                                     test::object(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: nightly, namespace: production}
spec: {templates: [{name: main, container: {image: busybox}}]}
)"),
                                     test::object(R"(apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: tab, namespace: production}
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: tab, image: "ghcr.io/acme/tab:edge"}]}}}}}
)")};
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const AdmissionOutcome outcome =
        review_admission(engine, review(objects[i], resources[i].first, resources[i].second).dump(),
                         "", Date{2026, 12, 2});
    EXPECT_EQ(outcome.decision, Decision::Deny) << kExpected[i] << "\n" << outcome.body;
    const json response = json::parse(outcome.body)["response"];
    EXPECT_EQ(response["allowed"], false);
    const std::string message = response["status"]["message"];
    EXPECT_TRUE(contains(message, "- [pinned-images] " + kExpected[i] + ": ")) << message;
  }
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

test::ProcessResult run(const std::vector<std::string>& argv, const std::string& input = "") {
  test::Env env = test::base_env();
  return test::run_process(argv, env, std::chrono::seconds(30), input);
}

// The renderer reads only the kinds rules look at (large CRDs stay cheap): the declared kind must
// be among them, or --validate would never see its pod spec.
TEST(PinnedImagesFrontEnds, RendererValidateSeesTheExtendedAndDeclaredKinds) {
  const fs::path dir = fs::temp_directory_path() / ("emguard-images-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path policy = dir / "policy.yaml";
  test::write_file(policy, kPolicy);
  const test::ProcessResult result = run(
      {EMGUARD_RENDER_BIN, "--namespace", "production", "--validate", "--policy", policy.string()},
      kStream);
  EXPECT_NE(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.empty()) << "all or nothing: no manifests after enforced violations";
  for (const std::string& path : kExpected) {
    EXPECT_TRUE(contains(result.err, "  at " + path + " (document")) << path << "\n" << result.err;
  }
  EXPECT_EQ(count_of(result.err, "error [pinned-images]"), 3u) << result.err;
  EXPECT_FALSE(contains(result.err, "Service production/web")) << result.err;

  // `check` reads the same objects the same way.
  const fs::path manifests = dir / "stream.yaml";
  test::write_file(manifests, kStream);
  const test::ProcessResult checked =
      run({EMGUARD_WEBHOOK_BIN, "check", "--policy", policy.string(), "-f", manifests.string()});
  EXPECT_NE(checked.exit_code, 0) << checked.out << checked.err;
  for (const std::string& path : kExpected) {
    EXPECT_TRUE(contains(checked.out + checked.err, "  at " + path + " (document"))
        << path << "\n"
        << checked.out << checked.err;
  }
  fs::remove_all(dir);
}

// What the chart sends: every namespaced kind em-guard knows carries pod templates.
TEST(PinnedImagesFrontEnds, ChartSendsTheExtendedKinds) {
  const json values = to_json(
      parse_yaml(test::read_file(kSource / "charts/em-guard-webhook/values.yaml"), "values.yaml"));
  std::set<std::pair<std::string, std::string>> covered;  // (group, resource)
  for (const json& rule : values["webhook"]["rules"]) {
    for (const json& group : rule["apiGroups"]) {
      for (const json& resource : rule["resources"]) {
        covered.emplace(group.get<std::string>(), resource.get<std::string>());
      }
    }
  }
  // Cluster-scoped kinds are not sent (the chart's rules are scope: Namespaced).
  const std::set<std::string> cluster_scoped = {"ClusterAnalysisTemplate"};
  for (const PodSpecKind& kind : extended_pod_spec_kinds()) {
    if (kind.api_group.empty() || cluster_scoped.count(kind.kind) != 0) continue;
    std::string resource;
    for (const char c : kind.kind) resource += static_cast<char>(std::tolower(c));
    resource += resource.ends_with("s") ? "es" : "s";
    EXPECT_TRUE(covered.count({kind.api_group, resource})) << kind.api_group << " " << resource;
  }
  for (const char* resource : {"workflows", "workflowtemplates", "cronworkflows"}) {
    EXPECT_TRUE(covered.count({"argoproj.io", resource})) << resource;
  }
}

}  // namespace
}  // namespace emguard
