// Policy test suites (`em-guard-webhook test DIR`): YAML files that list resources, the
// environment, and the expected decision per resource, so a policy change is reviewed with
// tests like code. Format: policies/policy-test.schema.json; examples: tests/policy-suites/.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace emguard {

// Reads a file a suite names (its policy, resources given by path). Front ends pass one that
// reads the disk; it throws InputError when the file cannot be read.
using FileReader = std::function<std::string(const std::filesystem::path&)>;

struct CaseResult {
  std::string name;
  bool passed = false;
  std::string expected;  // "deny pinned-images \"mutable\""
  std::string actual;    // "deny: pinned-images spec.containers[0].image: ..." lines
};

struct SuiteResult {
  std::filesystem::path file;
  std::string name;
  std::string error;  // the suite itself could not be loaded; no cases ran
  std::vector<CaseResult> cases;

  std::size_t passed() const;
  std::size_t failed() const;  // failed cases, or 1 when the suite could not be loaded
};

// Loads and runs one suite. Paths in it are relative to the suite file's directory. Never
// throws for bad suite content: the error is reported in SuiteResult::error.
SuiteResult run_suite(std::string_view text, const std::filesystem::path& file,
                      const FileReader& read);

std::string_view suite_schema_text();

}  // namespace emguard
