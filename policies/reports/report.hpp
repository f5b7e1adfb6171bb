// How violations are printed: the same words in em-guard-webhook check, em-guard-render
// --validate and policy test runs. Text for people and CI logs, JSON for tools, JUnit XML for CI
// test reports, SARIF for code scanning.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/batch.hpp"
#include "policies/engine/suite.hpp"
#include "policies/manifests/objects.hpp"

namespace emguard {

struct CheckCounts {
  std::size_t objects = 0;
  std::size_t evaluated = 0;  // objects an environment claimed
  std::size_t errors = 0;     // enforced violations (deny)
  std::size_t warnings = 0;
};
CheckCounts count(const std::vector<BatchResult>& results);

// The line every report (text, JSON, JUnit, SARIF) gives for a violation: the one place that
// decides it.
std::size_t violation_line(const ManifestObject& object, const Violation& violation);

// One block per violation, compiler-style so CI log viewers link it:
//   rendered.yaml:316: error [pinned-images] Deployment em-runtime/em-runtime-governance
//     at spec.template.spec.containers[0].image (document 12, # Source: ..., environment
//     production) container "governance" uses image ...
// then notes (exceptions applied, objects no environment claimed) and a summary line.
std::string report_text(const std::vector<BatchResult>& results);
std::string report_json(const std::vector<BatchResult>& results);
std::string report_junit(const std::vector<BatchResult>& results);
// SARIF 2.1.0 (OASIS) for code-scanning tools: one result per violation with its ruleId, level
// (error when enforced, warning when warned), message and file:line; tool.driver.rules lists
// every rule with its description; notes become tool execution notifications.
std::string report_sarif(const std::vector<BatchResult>& results, std::string_view tool_version);

// Each case as PASS/FAIL (failures with expected and actual), and the last line
// "N passed, M failed".
std::string report_suites(const std::vector<SuiteResult>& suites);
// The same for tools: {"suites": [{file, name, passed, failed, error?, cases: [{name, passed,
// expected?, actual?}]}], "summary": {passed, failed}}.
std::string report_suites_json(const std::vector<SuiteResult>& suites);
// JUnit XML (Jenkins' junit-10.xsd): a <testsuite> per suite, a <testcase> per case, a
// <failure> with expected and actual per failed case, an <error> for a suite that cannot be
// loaded.
std::string report_suites_junit(const std::vector<SuiteResult>& suites);

}  // namespace emguard
