// How violations are printed: the same words in em-guard-webhook check, em-guard-render
// --validate and policy test runs. Text for people and CI logs, JSON for tools, JUnit XML for CI
// test reports.
#pragma once

#include <string>
#include <vector>

#include "emguard/manifests.hpp"
#include "emguard/suite.hpp"

namespace emguard {

struct CheckCounts {
  std::size_t objects = 0;
  std::size_t evaluated = 0;  // objects an environment claimed
  std::size_t errors = 0;     // enforced violations (deny)
  std::size_t warnings = 0;
};
CheckCounts count(const std::vector<BatchResult>& results);

// One block per violation, compiler-style so CI log viewers link it:
//   rendered.yaml:316: error [pinned-images] Deployment em-runtime/em-runtime-governance
//     at spec.template.spec.containers[0].image (document 12, # Source: ..., environment
//     production) container "governance" uses image ...
// then notes (exceptions applied, objects no environment claimed) and a summary line.
std::string report_text(const std::vector<BatchResult>& results);
std::string report_json(const std::vector<BatchResult>& results);
std::string report_junit(const std::vector<BatchResult>& results);

// Each case as PASS/FAIL (failures with expected and actual), and the last line
// "N passed, M failed".
std::string report_suites(const std::vector<SuiteResult>& suites);

}  // namespace emguard
