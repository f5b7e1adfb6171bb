// Policy test suites (run_suite) and the reports of check and test.
#include "policies/engine/suite.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "policies/common/error.hpp"
#include "policies/reports/report.hpp"

namespace emguard {
namespace {

using nlohmann::json;

// Files a suite may name, in memory.
FileReader reader(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const std::filesystem::path& path) {
    const auto found = files.find(path.string());
    if (found == files.end()) throw InputError("cannot read " + path.string() + ": no such file");
    return found->second;
  };
}

const char* const kPolicy = R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
environments:
  - {name: production, namespaces: [production]}
  - {name: staging, mode: warn}
exceptions:
  - {name: old, match: {names: [legacy]}, reason: r, expires: 2026-06-30}
)";

const char* const kPods = R"(
apiVersion: v1
kind: Pod
metadata: {name: pinned, namespace: production}
spec: {containers: [{name: app, image: "nginx:1.27.3"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: floating, namespace: production}
spec: {containers: [{name: app, image: "nginx:latest"}]}
)";

SuiteResult run(const std::string& suite) {
  return run_suite(suite, "suites/s.yaml",
                   reader({{"suites/policy.yaml", kPolicy}, {"suites/pods.yaml", kPods}}));
}

TEST(Suite, CasesPassAndFailOnDecisionRuleMessageAndPath) {
  const SuiteResult result = run(R"(
apiVersion: em-guard.io/v1alpha1
kind: PolicyTest
name: images
policy: policy.yaml
environment: production
cases:
  - name: inline latest is denied
    resource:
      apiVersion: v1
      kind: Pod
      metadata: {name: p}
      spec: {containers: [{name: app, image: "nginx:latest"}]}
    expect: deny
    rule: pinned-images
    message: mutable
    path: spec.containers[0].image
    count: 1
  - name: from a file, selected
    file: pods.yaml
    select: {name: pinned}
    expect: allow
  - name: staging warns
    environment: staging
    file: pods.yaml
    select: {name: floating}
    expect: warn
    violations: [{rule: pinned-images, message: latest}]
  - name: wrong expectation fails
    file: pods.yaml
    select: {name: floating}
    expect: allow
  - name: wrong message fails
    file: pods.yaml
    select: {name: floating}
    expect: deny
    rule: pinned-images
    message: no such words
  - name: wrong path fails
    file: pods.yaml
    select: {name: floating}
    expect: deny
    rule: pinned-images
    path: spec.containers[1].image
  - name: wrong count fails
    file: pods.yaml
    select: {name: floating}
    expect: deny
    count: 2
  - name: ambiguous file fails
    file: pods.yaml
    expect: allow
  - name: unknown environment fails
    environment: qa
    file: pods.yaml
    select: {name: pinned}
    expect: allow
)");
  ASSERT_TRUE(result.error.empty()) << result.error;
  EXPECT_EQ(result.name, "images");
  ASSERT_EQ(result.cases.size(), 9u);
  const bool expected[] = {true, true, true, false, false, false, false, false, false};
  for (std::size_t i = 0; i < result.cases.size(); ++i) {
    EXPECT_EQ(result.cases[i].passed, expected[i])
        << result.cases[i].name << "\nexpected: " << result.cases[i].expected
        << "\nactual: " << result.cases[i].actual;
  }
  EXPECT_EQ(result.passed(), 3u);
  EXPECT_EQ(result.failed(), 6u);
  EXPECT_NE(result.cases[7].actual.find("2 objects match"), std::string::npos);
  EXPECT_NE(result.cases[8].actual.find("environment \"qa\" is not in the policy"),
            std::string::npos);
  EXPECT_NE(result.cases[3].actual.find("deny"), std::string::npos);
  EXPECT_EQ(result.cases[3].expected, "allow");
}

TEST(Suite, TodayDecidesExceptionsAndNamespaceDecidesEnvironment) {
  const SuiteResult result = run(R"(
apiVersion: em-guard.io/v1alpha1
kind: PolicyTest
name: dates
policy: policy.yaml
today: 2026-06-30
cases:
  - name: exempt on its last day
    resource: {apiVersion: v1, kind: Pod, metadata: {name: legacy, namespace: production},
               spec: {containers: [{name: a, image: busybox}]}}
    expect: allow
  - name: no environment claims it
    resource: {apiVersion: v1, kind: Pod, metadata: {name: x, namespace: elsewhere},
               spec: {containers: [{name: a, image: busybox}]}}
    expect: allow
)");
  ASSERT_TRUE(result.error.empty()) << result.error;
  EXPECT_EQ(result.passed(), 2u) << result.cases[0].actual;
}

TEST(Suite, BatchCasesSeeTheirNeighbours) {
  // `with` switches to batch mode: the objects are evaluated together as check would.
  const SuiteResult result = run(R"(
apiVersion: em-guard.io/v1alpha1
kind: PolicyTest
name: batch
policy: policy.yaml
environment: production
cases:
  - name: with a file and an inline object
    file: pods.yaml
    select: {name: pinned}
    with:
      - {file: pods.yaml, select: {name: floating}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
    expect: allow
)");
  ASSERT_TRUE(result.error.empty()) << result.error;
  EXPECT_EQ(result.passed(), 1u) << result.cases[0].actual;
}

TEST(Suite, BrokenSuitesReportWhy) {
  const SuiteResult schema =
      run("apiVersion: em-guard.io/v1alpha1\nkind: PolicyTest\nname: x\n"
          "cases: [{name: a, expect: maybe, resource: {apiVersion: v1, "
          "kind: Pod}}]\n");
  EXPECT_NE(schema.error.find("$.cases[0].expect"), std::string::npos) << schema.error;
  EXPECT_EQ(schema.failed(), 1u);
  const SuiteResult missing_policy =
      run("apiVersion: em-guard.io/v1alpha1\nkind: PolicyTest\nname: x\npolicy: nope.yaml\n"
          "cases: [{name: a, expect: allow, resource: {apiVersion: v1, kind: Pod}}]\n");
  EXPECT_NE(missing_policy.error.find("cannot read suites/nope.yaml"), std::string::npos)
      << missing_policy.error;
  const SuiteResult bad_yaml = run("cases: [\n");
  EXPECT_NE(bad_yaml.error.find("suites/s.yaml"), std::string::npos) << bad_yaml.error;
  const SuiteResult both = run(
      "apiVersion: em-guard.io/v1alpha1\nkind: PolicyTest\nname: x\n"
      "cases: [{name: a, expect: allow, file: f.yaml, resource: {apiVersion: v1, kind: Pod}}]\n");
  EXPECT_NE(both.error.find("$.cases[0]"), std::string::npos) << both.error;
}

TEST(Report, SuitesEndWithTheCountLine) {
  const SuiteResult result = run(R"(
apiVersion: em-guard.io/v1alpha1
kind: PolicyTest
name: r
policy: policy.yaml
environment: production
cases:
  - {name: good, file: pods.yaml, select: {name: pinned}, expect: allow}
  - {name: bad, file: pods.yaml, select: {name: pinned}, expect: deny}
)");
  SuiteResult broken;
  broken.file = "suites/broken.yaml";
  broken.name = "broken";
  broken.error = "suites/broken.yaml: invalid";
  const std::string text = report_suites({result, broken});
  EXPECT_NE(text.find("  PASS good\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  FAIL bad\n       expected: deny\n       actual:   allow"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  ERROR suites/broken.yaml: invalid"), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.rfind('\n', text.size() - 2) + 1), "1 passed, 2 failed\n");
}

}  // namespace
}  // namespace emguard
