#pragma once

// The report-format schemas (SARIF 2.1.0, Jenkins' JUnit XSD) live in ../shared/reference/schemas,
// like the corpus outside the repository. The tests find them through one setting, the
// environment variable EMGUARD_SCHEMAS, whose default is fixed at build time
// (tests/CMakeLists.txt: ../shared/reference/schemas next to the source tree). Where they are
// absent, the tests that need them skip and say why.

#include <filesystem>
#include <optional>
#include <string>

namespace emguard::test {

struct Schemas {
  std::optional<std::filesystem::path> directory;  // holds sarif-schema-2.1.0.json, junit-10.xsd
  std::string absent_reason;                       // why `directory` is empty: the skip message
};

// Looked up once: EMGUARD_SCHEMAS if set and not empty, else the build default.
const Schemas& schemas_dir();

}  // namespace emguard::test

// In a test body: skips the test, with the reason, when the schemas are absent; otherwise
// declares `const std::filesystem::path var`, the schema directory.
#define EMGUARD_SCHEMAS_OR_SKIP(var)                              \
  if (!::emguard::test::schemas_dir().directory) {                \
    GTEST_SKIP() << ::emguard::test::schemas_dir().absent_reason; \
  }                                                               \
  const std::filesystem::path var = *::emguard::test::schemas_dir().directory
