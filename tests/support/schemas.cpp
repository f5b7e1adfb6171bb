#include "tests/support/schemas.hpp"

#include <cstdlib>

namespace emguard::test {
namespace {

Schemas look_up_schemas() {
  const char* const variable = std::getenv("EMGUARD_SCHEMAS");
  const bool from_environment = variable != nullptr && *variable != '\0';
  const std::filesystem::path root =
      from_environment ? std::filesystem::path(variable)
                       : std::filesystem::path(EMGUARD_SCHEMAS_DIR).lexically_normal();
  std::error_code error;
  if (std::filesystem::is_regular_file(root / "sarif-schema-2.1.0.json", error) &&
      std::filesystem::is_regular_file(root / "junit-10.xsd", error)) {
    return Schemas{root, ""};
  }
  // Appended piece by piece: `"literal" + std::string&&` draws GCC 12's false -Wrestrict at -O3.
  std::string reason = "the report schemas are absent: ";
  reason += root.string();
  reason += " holds no sarif-schema-2.1.0.json and junit-10.xsd (";
  if (from_environment) {
    reason += "from EMGUARD_SCHEMAS=";
    reason += variable;
  } else {
    reason += "EMGUARD_SCHEMAS is not set; that is the build default";
  }
  reason +=
      "). The repository does not hold them; set EMGUARD_SCHEMAS to the directory "
      "shared/reference/schemas to run this test.";
  return Schemas{std::nullopt, std::move(reason)};
}

}  // namespace

const Schemas& schemas_dir() {
  static const Schemas schemas = look_up_schemas();
  return schemas;
}

}  // namespace emguard::test
