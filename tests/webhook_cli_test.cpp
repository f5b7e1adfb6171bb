// em-guard-webhook check and test: the offline front ends, run as CI would run them.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/corpus.hpp"
#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard {
namespace {

using test::contains;
using test::occurrences;

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;
const std::filesystem::path kBinary = EMGUARD_WEBHOOK_BIN;
const std::string kSample = (kSource / "charts/em-runtime-sample/rendered.yaml").string();

constexpr auto kDeadline = std::chrono::seconds(60);

using test::TempDir;

// Writes `text` to dir/name, making the directories between.
std::filesystem::path write_in(const TempDir& dir, const std::string& name,
                               const std::string& text) {
  const auto file = dir.path() / name;
  std::filesystem::create_directories(file.parent_path());
  test::write_file(file, text);
  return file;
}

const char* const kLatestPod = R"(apiVersion: v1
kind: Pod
metadata: {name: web, namespace: production}
spec: {containers: [{name: app, image: "nginx:latest"}]}
)";

TEST(WebhookCli, HelpVersionAndUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"help"}, {"check", "--help"}, {"test", "-h"}}) {
    const auto result = test::run_webhook(args);
    EXPECT_EQ(result.exit_code, 0) << args[0];
    EXPECT_TRUE(contains(result.out, "Usage: em-guard-webhook")) << result.out;
  }
  const auto version = test::run_webhook({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(contains(version.out, "em-guard-webhook 0.")) << version.out;

  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "a command is required"},
           {{"frobnicate"}, "unknown command \"frobnicate\""},
           {{"check"}, "give the manifests to check with -f"},
           {{"check", "-f"}, "option -f needs a value"},
           {{"check", "-f", kSample, "--output", "xml"},
            "--output must be text, json, junit or sarif, not \"xml\""},
           {{"check", "-f", kSample, "--environment", "qa"},
            "--environment \"qa\" is not in the policy (it has: production, staging, dev)"},
           {{"check", "-f", kSample, "--bogus"}, "unknown argument \"--bogus\""},
           {{"test"}, "give a directory or file of policy test suites"},
           {{"test", "--bogus"}, "unknown argument"},
       }) {
    const auto result = test::run_webhook(c.args);
    EXPECT_EQ(result.exit_code, 2) << c.message;
    EXPECT_TRUE(contains(result.err, c.message)) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
  }
}

TEST(WebhookCli, ServeThatCannotLoadItsCertificateIsAnInputErrorAndSaysWhich) {
  const TempDir dir;
  const std::string missing = (dir.path() / "tls.crt").string();
  const auto result = test::run_webhook({"serve", "--listen", "127.0.0.1:0", "--tls-cert", missing,
                                         "--tls-key", (dir.path() / "tls.key").string()});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_TRUE(contains(result.err, R"("msg":"cannot start")")) << result.err;
  EXPECT_TRUE(contains(result.err, "\"error\":\"certificate " + missing + ": ")) << result.err;
}

TEST(WebhookCli, SampleReleaseIsClean) {
  const auto result = test::run_webhook({"check", "-f", kSample});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_TRUE(contains(result.out, "17 objects checked (production): 0 errors, 0 warnings"))
      << result.out;
}

TEST(WebhookCli, RenderedSampleWithInjectedObjectsIsClean) {
  // What em-guard-render adds (backup Job, wait containers) must pass em-guard's own policy.
  const auto rendered = test::run_process({EMGUARD_RENDER_BIN, "--namespace", "em-runtime"},
                                          test::base_env(), kDeadline, test::sample_release());
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  const auto result = test::run_webhook({"check", "-f", "-"}, rendered.out);
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_TRUE(contains(result.out, ": 0 errors, 0 warnings")) << result.out;
}

TEST(WebhookCli, CorpusChartsLeaveTheseImagesUnpinned) {
  EMGUARD_CORPUS_OR_SKIP(corpus);
  // argo-cd's install.yaml follows master (quay.io/argoproj/argocd:latest, 8 places);
  // opentelemetry-demo's init containers use busybox:latest and a bare busybox.
  const auto argocd =
      test::run_webhook({"check", "-f", (corpus / "argo-cd-install.yaml").string()});
  EXPECT_EQ(argocd.exit_code, 1);
  EXPECT_EQ(occurrences(argocd.out, "error [pinned-images]"), 8u) << argocd.out;
  EXPECT_EQ(occurrences(argocd.out, "uses image \"quay.io/argoproj/argocd:latest\""), 8u);
  EXPECT_TRUE(contains(argocd.out,
                       "error [pinned-images] Deployment argocd-repo-server\n"
                       "  at spec.template.spec.initContainers[0].image (document 50, "
                       "environment production)\n  init container \"copyutil\""))
      << argocd.out;

  const auto otel =
      test::run_webhook({"check", "-f", (corpus / "opentelemetry-demo.yaml").string()});
  EXPECT_EQ(otel.exit_code, 1);
  EXPECT_EQ(occurrences(otel.out, "error [pinned-images]"), 6u) << otel.out;
  EXPECT_TRUE(contains(otel.out,
                       "init container \"init-config\" uses image \"busybox\" with no "
                       "tag"))
      << otel.out;
  EXPECT_TRUE(contains(otel.out, "# Source: opentelemetry-demo/templates/component.yaml"));

  for (const char* clean : {"cert-manager-crds.yaml", "datadog-agent.yaml",
                            "ingress-nginx-cloud.yaml", "kube-prometheus.yaml", "longhorn.yaml"}) {
    const auto result = test::run_webhook({"check", "-f", (corpus / clean).string()});
    EXPECT_EQ(result.exit_code, 0) << clean << "\n" << result.out;
  }

  // The whole directory is one batch: every file, sorted, in one report.
  const auto all = test::run_webhook({"check", "-f", corpus.string()});
  EXPECT_EQ(all.exit_code, 1);
  EXPECT_TRUE(contains(all.out, "391 objects checked (production): 14 errors, 0 warnings"))
      << all.out.substr(all.out.size() > 300 ? all.out.size() - 300 : 0);
}

// The repository's stand-in for the corpus (tests/support/corpus.hpp): List items are checked
// one by one, comment-only and empty documents and `...` markers are no objects, the 3 MB CRD
// is one.
TEST(WebhookCli, OwnCorpusTraitsAreCheckedObjectByObject) {
  const TempDir dir;
  const auto file = write_in(dir, "traits.yaml", test::traits_stream());
  const auto result = test::run_webhook({"check", "-f", file.string(), "--namespace", "shop"});
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_TRUE(contains(result.out, "8 objects checked (production): 0 errors, 0 warnings"))
      << result.out;

  // A floating image in a List item is found there, by document and item.
  const std::string floating =
      "---\napiVersion: v1\nkind: PodList\nitems:\n"
      "  - apiVersion: v1\n    kind: Pod\n"
      "    metadata: {name: web, namespace: production}\n"
      "    spec: {containers: [{name: app, image: \"nginx:latest\"}]}\n";
  const auto listed = test::run_webhook(
      {"check", "-f", write_in(dir, "list.yaml", test::traits_stream() + floating).string()});
  EXPECT_EQ(listed.exit_code, 1) << listed.out;
  EXPECT_TRUE(contains(listed.out, "document 12")) << listed.out;
  EXPECT_TRUE(contains(listed.out, "items[0]")) << listed.out;
}

TEST(WebhookCli, EnvironmentsDecideTheExitCode) {
  const auto production = test::run_webhook({"check", "-f", "-"}, kLatestPod);
  EXPECT_EQ(production.exit_code, 1);
  EXPECT_TRUE(contains(production.out, "-:4: error [pinned-images] Pod production/web"))
      << production.out;
  EXPECT_TRUE(contains(production.out, "1 object checked (production): 1 error, 0 warnings"));

  const auto staging =
      test::run_webhook({"check", "-f", "-", "--environment", "staging"}, kLatestPod);
  EXPECT_EQ(staging.exit_code, 0);
  EXPECT_TRUE(contains(staging.out, "warning [pinned-images]")) << staging.out;
  EXPECT_TRUE(contains(staging.out, "0 errors, 1 warning"));

  const auto dev = test::run_webhook({"check", "-f", "-", "--environment", "dev"}, kLatestPod);
  EXPECT_EQ(dev.exit_code, 0);
  EXPECT_TRUE(contains(dev.out, "0 errors, 0 warnings")) << dev.out;

  // --namespace places objects that name none.
  const std::string no_namespace = R"(apiVersion: v1
kind: Pod
metadata: {name: web}
spec: {containers: [{name: app, image: "nginx:latest"}]}
)";
  EXPECT_EQ(
      test::run_webhook({"check", "-f", "-", "--namespace", "staging"}, no_namespace).exit_code, 0);
  EXPECT_EQ(
      test::run_webhook({"check", "-f", "-", "--namespace", "em-prod"}, no_namespace).exit_code, 1);
}

TEST(WebhookCli, JsonAndJunitOutput) {
  const auto json_result = test::run_webhook({"check", "-f", "-", "-o", "json"}, kLatestPod);
  EXPECT_EQ(json_result.exit_code, 1);
  const auto report = nlohmann::json::parse(json_result.out);
  ASSERT_EQ(report["violations"].size(), 1u);
  const auto& violation = report["violations"][0];
  EXPECT_EQ(violation["file"], "-");
  EXPECT_EQ(violation["document"], 1);
  EXPECT_EQ(violation["rule"], "pinned-images");
  EXPECT_EQ(violation["severity"], "error");
  EXPECT_EQ(violation["environment"], "production");
  EXPECT_EQ(violation["path"], "spec.containers[0].image");
  EXPECT_EQ(violation["object"]["kind"], "Pod");
  EXPECT_EQ(violation["object"]["namespace"], "production");
  EXPECT_TRUE(contains(violation["message"].get<std::string>(), "mutable"));
  EXPECT_EQ(report["summary"]["errors"], 1);

  const auto junit = test::run_webhook({"check", "-f", "-", "--output=junit"}, kLatestPod);
  EXPECT_EQ(junit.exit_code, 1);
  EXPECT_TRUE(contains(junit.out, "<testsuite name=\"em-guard check\" tests=\"1\" failures=\"1\""))
      << junit.out;
  EXPECT_TRUE(contains(junit.out,
                       "<failure type=\"pinned-images\" message=\"pinned-images: "
                       "spec.containers[0].image\">"))
      << junit.out;
  EXPECT_TRUE(contains(junit.out, "&quot;nginx:latest&quot;")) << junit.out;
}

TEST(WebhookCli, InputErrorsExitTwoAndNameTheLocation) {
  TempDir dir;
  const auto bad = write_in(dir, "bad.yaml",
                            "apiVersion: v1\nkind: Pod\n---\n# Source: em/x.yaml\n"
                            "kind: [Pod\n");
  const auto result = test::run_webhook({"check", "-f", bad.string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(result.out.empty()) << result.out;
  EXPECT_TRUE(contains(result.err, bad.string() + ": document 2 (# Source: em/x.yaml"))
      << result.err;

  const auto missing = test::run_webhook({"check", "-f", (dir.path() / "nope.yaml").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(contains(missing.err, "nope.yaml: no such file or directory")) << missing.err;

  const auto policy = write_in(dir, "policy.yaml",
                               "apiVersion: em-guard.io/v1alpha1\nkind: Policy\n"
                               "environments: [{name: prod, mode: strict}]\n");
  const auto bad_policy = test::run_webhook({"check", "-f", kSample, "--policy", policy.string()});
  EXPECT_EQ(bad_policy.exit_code, 2);
  EXPECT_TRUE(contains(bad_policy.err, policy.string() + ": invalid policy:\n  "
                                                         "$.environments[0].mode"))
      << bad_policy.err;
}

// file:line is the line of the offending field, in every document of every file, and the JSON
// report carries the same line (the one SARIF output uses).
TEST(WebhookCli, ViolationLinesPointAtTheField) {
  TempDir dir;
  const auto first = write_in(dir, "first.yaml", kLatestPod);
  const auto second = write_in(dir, "second.yaml",
                               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: "
                               "production}\n---\n# Source: em/pod.yaml\napiVersion: v1\n"
                               "kind: Pod\nmetadata:\n  name: two\n  namespace: production\n"
                               "spec:\n  containers:\n    - name: ok\n      image: nginx:1.27\n"
                               "    - name: bad\n      image: nginx:latest\n");
  const auto text = test::run_webhook({"check", "-f", first.string(), "-f", second.string()});
  EXPECT_EQ(text.exit_code, 1) << text.err;
  EXPECT_TRUE(contains(text.out, first.string() + ":4: error [pinned-images]")) << text.out;
  EXPECT_TRUE(contains(text.out, second.string() + ":16: error [pinned-images]")) << text.out;
  const auto report = test::run_webhook({"check", "-f", second.string(), "-o", "json"});
  const nlohmann::json parsed = nlohmann::json::parse(report.out);
  ASSERT_EQ(parsed["violations"].size(), 1u) << report.out;
  EXPECT_EQ(parsed["violations"][0]["line"], 16) << report.out;
  EXPECT_EQ(parsed["violations"][0]["path"], "spec.containers[1].image") << report.out;
}

// What a lenient reader would pass: a merged pod spec, a Pod in a List in a List. And what
// would take check down: an alias bomb.
TEST(WebhookCli, CheckReadsYamlAsKubernetesDoes) {
  TempDir dir;
  const auto merged = write_in(dir, "merged.yaml",
                               "apiVersion: v1\nkind: Pod\nmetadata: {name: m, namespace: "
                               "production}\nspec: {<<: {containers: [{name: a, image: "
                               "\"nginx:latest\"}]}}\n");
  const auto merged_result = test::run_webhook({"check", "-f", merged.string()});
  EXPECT_EQ(merged_result.exit_code, 1) << merged_result.out << merged_result.err;
  EXPECT_TRUE(contains(merged_result.out, "[pinned-images] Pod production/m")) << merged_result.out;

  const auto nested = write_in(dir, "nested.yaml",
                               "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n"
                               "    kind: List\n    items:\n      - apiVersion: v1\n"
                               "        kind: Pod\n        metadata: {name: deep, namespace: "
                               "production}\n        spec: {containers: [{name: a, image: "
                               "\"nginx:latest\"}]}\n");
  const auto nested_result = test::run_webhook({"check", "-f", nested.string()});
  EXPECT_EQ(nested_result.exit_code, 1) << nested_result.out << nested_result.err;
  EXPECT_TRUE(contains(nested_result.out, nested.string() + ":10: error [pinned-images]"))
      << nested_result.out;

  const std::string bomb = "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n" +
                           test::alias_bomb_lines("  ", "l", 10);
  const auto bomb_file = write_in(dir, "bomb.yaml", bomb);
#if defined(__SANITIZE_ADDRESS__)
  const std::string limit;  // AddressSanitizer reserves terabytes of shadow memory
#else
  const std::string limit = "ulimit -v 262144; ";  // KiB: 256 MiB
#endif
  const auto start = std::chrono::steady_clock::now();
  const auto bomb_result =
      test::run_process({"/bin/sh", "-c", limit + "exec \"$0\" check -f \"$1\"", kBinary.string(),
                         bomb_file.string()},
                        test::base_env(), kDeadline, "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(bomb_result.exit_code, 2) << bomb_result.err;
  EXPECT_TRUE(contains(bomb_result.err, bomb_file.string() + ": document 1 (line 1): invalid "
                                                             "YAML at line "))
      << bomb_result.err;
  EXPECT_TRUE(contains(bomb_result.err, "excessive aliasing")) << bomb_result.err;
}

TEST(WebhookCli, PolicyFileAndDirectoryInput) {
  TempDir dir;
  const auto policy = write_in(dir, "policy.yaml", R"(apiVersion: em-guard.io/v1alpha1
kind: Policy
environments:
  - {name: production, namespaces: [production], rules: {pinned-images: warn}}
)");
  write_in(dir, "manifests/a.yaml", kLatestPod);
  write_in(dir, "manifests/b.json",
           R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"db","namespace":"production"},
                "spec":{"containers":[{"name":"db","image":"postgres"}]}})");
  write_in(dir, "manifests/.hidden/c.yaml", "not: [valid\n");
  write_in(dir, "manifests/notes.txt", "ignored");
  const auto result = test::run_webhook(
      {"check", "-f", (dir.path() / "manifests").string(), "--policy", policy.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(occurrences(result.out, "warning [pinned-images]"), 2u) << result.out;
  EXPECT_LT(result.out.find("a.yaml:4:"), result.out.find("b.json:1:")) << result.out;
}

TEST(WebhookCli, PrintDefaultPolicyRoundTrips) {
  const auto result = test::run_webhook({"check", "--print-default-policy"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, test::read_file(kSource / "policies/default.yaml"));
}

TEST(WebhookCli, PolicySuitesOfTheRepositoryPass) {
  const auto result = test::run_webhook({"test", (kSource / "tests/policy-suites").string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_TRUE(contains(result.out, " passed, 0 failed\n")) << result.out;
  EXPECT_FALSE(contains(result.out, "FAIL")) << result.out;
  // Every rule has a suite.
  for (const char* rule : {"pinned-images", "pinned-chart-versions", "gateway-consistency"}) {
    EXPECT_TRUE(contains(result.out, rule)) << rule;
  }
}

TEST(WebhookCli, FailingSuiteFailsTheRun) {
  const auto result =
      test::run_webhook({"test", (kSource / "tests/fixtures/policy/failing-suite.yaml").string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.out,
                       "  FAIL latest is allowed (wrong on purpose)\n"
                       "       expected: allow\n       actual:   deny"))
      << result.out;
  EXPECT_TRUE(contains(result.out, "  PASS pinned is allowed\n")) << result.out;
  EXPECT_TRUE(result.out.ends_with("1 passed, 1 failed\n")) << result.out;

  TempDir dir;
  write_in(dir, "not-a-suite.yaml", kLatestPod);
  write_in(dir, "fixture.yaml", "kind: [broken\n");
  const auto none = test::run_webhook({"test", dir.path().string()});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "no policy test suite (kind: PolicyTest) found")) << none.err;

  // A suite that does not parse fails loudly instead of being skipped.
  const auto broken = write_in(dir, "broken-suite.yaml",
                               "apiVersion: em-guard.io/v1alpha1\nkind: PolicyTest\nname: b\n"
                               "cases: [{name: a, path: x[0]}]\n");
  const auto result_broken = test::run_webhook({"test", dir.path().string()});
  EXPECT_EQ(result_broken.exit_code, 1);
  EXPECT_TRUE(contains(result_broken.out, "  ERROR " + broken.string() + ": invalid YAML"))
      << result_broken.out;
  EXPECT_TRUE(result_broken.out.ends_with("0 passed, 1 failed\n")) << result_broken.out;

  // YAML that breaks the suite schema: every JSON path that is wrong.
  const TempDir other;
  const auto invalid = write_in(other, "invalid-suite.yaml",
                                "apiVersion: em-guard.io/v1alpha1\nkind: PolicyTest\nname: i\n"
                                "cases: [{name: a, expect: maybe}]\n");
  const auto result_invalid = test::run_webhook({"test", other.path().string()});
  EXPECT_EQ(result_invalid.exit_code, 1);
  EXPECT_TRUE(contains(result_invalid.out, "  ERROR " + invalid.string() +
                                               ": invalid policy test suite:\n"
                                               "  $.cases[0].expect: "))
      << result_invalid.out;
}

}  // namespace
}  // namespace emguard
