#pragma once

// Running one rule of a policy over one object through the public engine, the way the rule tests
// do: objects written as YAML, the policy as YAML text, environment "production".

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/engine.hpp"
#include "tests/support/text.hpp"  // contains(), which the rule suites use with these helpers

namespace emguard::test {

// An object from YAML, the way every front end reads manifests.
nlohmann::json object(const std::string& yaml);

// The violations of `rule` that the policy `policy_yaml` finds in `obj` for its environment
// "production" (which the policy must declare; a non-fatal failure otherwise). `batch` holds the
// other objects of a render or CI run; empty means admission, where each object stands alone.
std::vector<Violation> rule_violations(std::string_view rule, const nlohmann::json& obj,
                                       std::string_view policy_yaml,
                                       const std::vector<const nlohmann::json*>& batch = {});

}  // namespace emguard::test
