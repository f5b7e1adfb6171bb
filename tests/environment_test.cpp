// One environment decision (environment_of) behind all four front ends: the same objects, with
// the same facts about their namespace, are run the way `check`, `em-guard-render --validate`,
// `test` and `serve` run them, and land in the same environment everywhere. The built-in
// policy's modes make the environment visible in every decision: production enforces (deny),
// staging warns (warn), dev is off (allow).
#include "policies/engine/environment.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policies/admission/admission.hpp"
#include "policies/engine/batch.hpp"
#include "policies/engine/engine.hpp"
#include "policies/engine/suite.hpp"
#include "policies/manifests/objects.hpp"
#include "policies/manifests/yaml.hpp"
#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard {
namespace {

using nlohmann::json;

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;
const Date kToday{2026, 11, 24};

// What one front end concluded: the environment (when it reports one), the decision, or the
// error it stopped with.
struct Placed {
  std::string environment;
  std::string decision;
  std::string error;
};

struct Case {
  std::string name;
  std::string pod_namespace;  // the Pod's metadata.namespace; "" names none
  std::optional<json> namespace_object;
  std::string named;              // --environment, the suite's environment, /validate/<name>
  std::string default_namespace;  // check --namespace, the release namespace, request.namespace
  std::string expected;           // the environment; "" when the run must stop with an error
};

json namespace_object(const std::string& name, const json& labels) {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata", {{"name", name}, {"labels", labels}}}};
}

json latest_pod(const std::string& namespace_) {
  json metadata = {{"name", "web"}};
  if (!namespace_.empty()) metadata["namespace"] = namespace_;
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", metadata},
          {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "nginx:latest"}}})}}}};
}

const Engine& engine() {
  static const Engine instance(Policy::builtin());
  return instance;
}

std::string decision_of(const std::string& environment) {
  const Environment& found = named_environment(engine().policy(), environment, "");
  switch (found.mode_of(kPinnedImages)) {
    case Mode::Enforce:
      return "deny";
    case Mode::Warn:
      return "warn";
    case Mode::Off:
      break;
  }
  return "allow";
}

// The batch as a YAML stream (JSON documents are YAML), the Namespace first.
std::string manifests(const Case& c) {
  std::string text;
  if (c.namespace_object) text += "---\n" + c.namespace_object->dump() + "\n";
  text += "---\n" + latest_pod(c.pod_namespace).dump() + "\n";
  return text;
}

// check and --validate differ in how they read (every document whole, or only what rules read)
// and where the default namespace comes from (--namespace, the Helm release namespace).
Placed batch(const Case& c, ReadDepth depth) {
  Placed placed;
  try {
    BatchOptions options;
    options.today = kToday;
    options.default_namespace = c.default_namespace;
    if (!c.named.empty()) {
      options.environment = &named_environment(engine().policy(), c.named, "--environment");
    }
    const std::vector<ManifestObject> objects = load_manifests(manifests(c), "in.yaml", depth);
    for (const BatchResult& result : evaluate_batch(engine(), objects, options)) {
      if (ObjectRef::of(result.object->object).kind != "Pod") continue;
      placed.environment = result.environment != nullptr ? result.environment->name : "";
      placed.decision = to_string(result.evaluation.decision());
    }
  } catch (const InputError& error) {
    placed.error = error.what();
  }
  return placed;
}

// `em-guard-webhook test`: one case whose `with` holds the Namespace.
Placed suite(const Case& c) {
  json item = {{"name", c.name}, {"resource", latest_pod(c.pod_namespace)}, {"expect", "allow"}};
  if (c.namespace_object) item["with"] = json::array({*c.namespace_object});
  if (!c.named.empty()) item["environment"] = c.named;
  const json suite_text = {{"apiVersion", "em-guard.io/v1alpha1"},
                           {"kind", "PolicyTest"},
                           {"name", "environments"},
                           {"today", kToday.to_string()},
                           {"cases", json::array({item})}};
  const SuiteResult result = run_suite(suite_text.dump(), "suite.yaml",
                                       [](const std::filesystem::path& path) -> std::string {
                                         throw InputError("no file " + path.string());
                                       });
  Placed placed;
  if (!result.error.empty() || result.cases.size() != 1) {
    placed.error = "suite: " + result.error;
    return placed;
  }
  const std::string& actual = result.cases[0].actual;
  if (actual.starts_with("error: ")) {
    placed.error = actual.substr(7);
  } else {
    placed.decision = actual.substr(0, actual.find('\n'));
  }
  return placed;
}

// The chart's routing (charts/em-guard-webhook): a namespace labelled
// `<environmentLabel>: <name>` for an environment of the chart goes to /validate/<name>; one
// without the label to /validate (the unlabelled-namespaces webhook). The API server knows the
// namespace's labels; the review does not carry them.
std::optional<std::string> chart_path(const Case& c) {
  const json values = to_json(
      parse_yaml(test::read_file(kSource / "charts/em-guard-webhook/values.yaml"), "values.yaml"));
  if (!c.named.empty()) return c.named;
  const std::string label = values["webhook"]["environmentLabel"];
  if (!c.namespace_object || !(*c.namespace_object)["metadata"]["labels"].contains(label)) {
    return std::string();
  }
  const std::string value = (*c.namespace_object)["metadata"]["labels"][label];
  for (const json& environment : values["environments"]) {
    if (environment["name"] == value) return value;
  }
  return std::nullopt;  // not sent at all
}

Placed serve(const Case& c) {
  const std::string namespace_ = c.pod_namespace.empty() ? c.default_namespace : c.pod_namespace;
  const json review = {{"apiVersion", "admission.k8s.io/v1"},
                       {"kind", "AdmissionReview"},
                       {"request",
                        {{"uid", "3f7a1c52-0b7e-4f36-9a51-6f2d7f0c9e11"},
                         {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                         {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                         {"namespace", namespace_},
                         {"name", "web"},
                         {"operation", "CREATE"},
                         {"object", latest_pod(c.pod_namespace)},
                         {"oldObject", nullptr},
                         {"dryRun", false}}}};
  Placed placed;
  const std::optional<std::string> path = chart_path(c);
  if (!path) {
    placed.error = "the chart does not send this namespace";
    return placed;
  }
  const AdmissionOutcome outcome = review_admission(engine(), review.dump(), *path, kToday);
  if (outcome.decision == Decision::Error) {
    placed.error = json::parse(outcome.body)["response"]["status"].value("message", outcome.body);
  } else {
    placed.environment = outcome.environment;
    placed.decision = to_string(outcome.decision);
  }
  return placed;
}

const json kStaging = {{"em-guard.io/environment", "staging"}};

const std::vector<Case> kCases = {
    {"an explicit environment wins over the namespace", "prod-shop", std::nullopt, "staging", "",
     "staging"},
    {"the labels of a Namespace in the batch", "shop", namespace_object("shop", kStaging), "", "",
     "staging"},
    {"a label beats a production-looking name", "shop-prod",
     namespace_object("shop-prod", kStaging), "", "", "staging"},
    {"a namespace name pattern", "shop-dev", std::nullopt, "", "", "dev"},
    {"a staging name pattern with the Namespace unlabelled", "staging-web",
     namespace_object("staging-web", {{"team", "web"}}), "", "", "staging"},
    {"an unlabelled namespace no name claims is the default environment", "shop", std::nullopt, "",
     "", "production"},
    {"a Namespace without the label is the default environment too", "shop",
     namespace_object("shop", {{"team", "web"}}), "", "", "production"},
    {"an unknown environment name", "prod-shop", std::nullopt, "qa", "", ""},
};

TEST(Environment, TheSameObjectsLandInTheSameEnvironmentUnderAllFourFrontEnds) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Placed runs[] = {batch(c, ReadDepth::Everything), batch(c, ReadDepth::WhatRulesRead),
                           suite(c), serve(c)};
    const char* const names[] = {"check", "--validate", "test", "serve"};
    for (std::size_t i = 0; i < 4; ++i) {
      SCOPED_TRACE(names[i]);
      const Placed& placed = runs[i];
      if (c.expected.empty()) {
        // One error for an unknown name, whichever front end met it.
        EXPECT_NE(
            placed.error.find("\"qa\" is not in the policy (it has: production, staging, dev)"),
            std::string::npos)
            << placed.error;
        continue;
      }
      EXPECT_EQ(placed.error, "");
      EXPECT_EQ(placed.decision, decision_of(c.expected));
      // `test` reports the decision only; the others name the environment.
      if (i != 2) {
        EXPECT_EQ(placed.environment, c.expected);
      }
    }
  }
}

// An object that names no namespace: check takes --namespace, --validate the release
// namespace, serve the request's namespace. (A suite's resource names its own.)
TEST(Environment, AnObjectNamingNoNamespaceTakesTheDefaultNamespace) {
  const Case c{"no namespace", "", std::nullopt, "", "shop-staging", "staging"};
  for (const Placed& placed :
       {batch(c, ReadDepth::Everything), batch(c, ReadDepth::WhatRulesRead), serve(c)}) {
    EXPECT_EQ(placed.environment, "staging") << placed.error;
    EXPECT_EQ(placed.decision, "warn");
  }
}

TEST(Environment, OneDecisionFunction) {
  const Policy& policy = engine().policy();
  const NamespaceLabels labels = {{"shop", {{"em-guard.io/environment", "dev"}}}};
  Placement placement;
  placement.namespace_labels = &labels;
  EXPECT_EQ(environment_of(policy, latest_pod("shop"), placement)->name, "dev");
  EXPECT_EQ(environment_of(policy, latest_pod("other"), placement)->name, "production");
  placement.named = "staging";
  EXPECT_EQ(environment_of(policy, latest_pod("shop"), placement)->name, "staging");
  // A Namespace is placed by its own labels, whatever else is known.
  placement.named = "";
  EXPECT_EQ(environment_of(policy, namespace_object("prod", kStaging), placement)->name, "staging");
  placement.named = "qa";
  placement.named_by = "--environment";
  try {
    environment_of(policy, latest_pod("shop"), placement);
    FAIL() << "no error for an unknown environment";
  } catch (const UnknownEnvironment& error) {
    EXPECT_STREQ(error.what(),
                 "--environment \"qa\" is not in the policy (it has: production, staging, dev)");
  }
  // Without a defaultEnvironment, a namespace nothing claims has no environment.
  const Policy open = Policy::load(R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
environments: [{name: production, namespaces: [prod]}]
)",
                                   "test");
  EXPECT_EQ(environment_of(open, latest_pod("shop"), Placement{}), nullptr);
  const std::vector<const json*> none;
  EXPECT_TRUE(namespace_labels_of(none).empty());
}

// The issue's own case through the binaries: a Pod in a Namespace labelled staging is staging
// under check, --validate and test (test called it production before).
TEST(Environment, TheBinariesAgreeOnAPodInANamespaceLabelledStaging) {
  const test::TempDir dir;
  const Case c{"", "shop", namespace_object("shop", kStaging), "", "", "staging"};
  const std::filesystem::path input = dir.path() / "in.yaml";
  test::write_file(input, manifests(c));
  json item = {{"name", "staging by label"},
               {"resource", latest_pod("shop")},
               {"with", json::array({*c.namespace_object})},
               {"expect", "warn"},
               {"rule", "pinned-images"}};
  const json suite_text = {{"apiVersion", "em-guard.io/v1alpha1"},
                           {"kind", "PolicyTest"},
                           {"name", "labelled staging"},
                           {"cases", json::array({item})}};
  const std::filesystem::path suite_file = dir.path() / "suite.yaml";
  test::write_file(suite_file, suite_text.dump());
  const auto deadline = std::chrono::seconds(60);

  const test::ProcessResult check = test::run_process(
      {EMGUARD_WEBHOOK_BIN, "check", "-f", input.string()}, test::base_env(), deadline);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_TRUE(test::contains(check.out, "environment staging")) << check.out;

  const test::ProcessResult validate = test::run_process({EMGUARD_RENDER_BIN, "--validate"},
                                                         test::base_env(), deadline, manifests(c));
  EXPECT_EQ(validate.exit_code, 0) << validate.err;
  EXPECT_TRUE(test::contains(validate.err, "environment staging")) << validate.err;

  const test::ProcessResult suite_run = test::run_process(
      {EMGUARD_WEBHOOK_BIN, "test", suite_file.string()}, test::base_env(), deadline);
  EXPECT_EQ(suite_run.exit_code, 0) << suite_run.out << suite_run.err;
  EXPECT_TRUE(test::contains(suite_run.out, "1 passed, 0 failed")) << suite_run.out;
}

}  // namespace
}  // namespace emguard
