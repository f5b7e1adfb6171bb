#include "tests/support/policy_eval.hpp"

#include <gtest/gtest.h>

#include <utility>

#include "policies/engine/policy.hpp"
#include "policies/manifests/yaml.hpp"

namespace emguard::test {

nlohmann::json object(const std::string& yaml) { return to_json(parse_yaml(yaml, "test object")); }

std::vector<Violation> rule_violations(std::string_view rule, const nlohmann::json& obj,
                                       std::string_view policy_yaml,
                                       const std::vector<const nlohmann::json*>& batch) {
  const Engine engine(Policy::load(policy_yaml, "test"));
  EvaluationContext context;
  context.environment = engine.policy().find_environment("production");
  EXPECT_NE(context.environment, nullptr);
  context.batch = batch;
  std::vector<Violation> result;
  for (Violation& violation : engine.evaluate(obj, context).violations) {
    if (violation.rule == rule) result.push_back(std::move(violation));
  }
  return result;
}

}  // namespace emguard::test
