// The engine around the rules: environments, modes, exceptions and their expiry, decisions.
#include "policies/engine/engine.hpp"

#include <gtest/gtest.h>

#include <string>

namespace emguard {
namespace {

using nlohmann::json;

const char* const kPolicy = R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
environments:
  - name: production
    namespaces: [production]
  - name: staging
    mode: warn
  - name: dev
    mode: off
exceptions:
  - name: vendor-sidecar
    rules: [pinned-images]
    match: {images: ["vendor.example.com/*"], namespaces: [production]}
    reason: vendor publishes only latest (OPS-1)
    expires: 2026-12-31
  - name: old-debug-pod
    match: {kinds: [Pod], names: ["debug-*"]}
    reason: incident 42
    expires: 2026-01-31
)";

json pod(const std::string& name, const std::string& image,
         const std::string& namespace_ = "production") {
  return json{{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", namespace_}}},
              {"spec", {{"containers", json::array({{{"name", "app"}, {"image", image}}})}}}};
}

class EngineTest : public ::testing::Test {
 protected:
  Evaluation evaluate(const json& object, const std::string& environment,
                      Date today = Date{2026, 11, 24}) const {
    EvaluationContext context;
    context.environment = engine.policy().find_environment(environment);
    context.today = today;
    return engine.evaluate(object, context);
  }
  Engine engine{Policy::load(kPolicy, "test")};
};

TEST_F(EngineTest, ModesDecide) {
  const json latest = pod("web", "nginx:latest");
  const Evaluation production = evaluate(latest, "production");
  ASSERT_EQ(production.violations.size(), 1u);
  EXPECT_EQ(production.violations[0].rule, "pinned-images");
  EXPECT_EQ(production.violations[0].mode, Mode::Enforce);
  EXPECT_EQ(production.violations[0].path, "spec.containers[0].image");
  EXPECT_EQ(production.violations[0].object.display(), "Pod production/web");
  EXPECT_EQ(production.decision(), Decision::Deny);

  const Evaluation staging = evaluate(latest, "staging");
  ASSERT_EQ(staging.violations.size(), 1u);
  EXPECT_EQ(staging.violations[0].mode, Mode::Warn);
  EXPECT_EQ(staging.decision(), Decision::Warn);

  EXPECT_EQ(evaluate(latest, "dev").decision(), Decision::Allow);
  EXPECT_TRUE(evaluate(latest, "dev").violations.empty());
  EXPECT_EQ(evaluate(pod("web", "nginx:1.27.3"), "production").decision(), Decision::Allow);
}

TEST_F(EngineTest, NoEnvironmentOrNotAnObjectMeansNothingToEvaluate) {
  EvaluationContext context;  // no environment
  EXPECT_TRUE(engine.evaluate(pod("web", "nginx"), context).violations.empty());
  context.environment = engine.policy().find_environment("production");
  EXPECT_TRUE(engine.evaluate(json::array({1, 2}), context).violations.empty());
  EXPECT_TRUE(engine.evaluate(json("text"), context).violations.empty());
}

TEST_F(EngineTest, ActiveExceptionExemptsWhatItMatchesAndSaysSo) {
  const Evaluation exempt = evaluate(pod("web", "vendor.example.com/sidecar:latest"), "production");
  EXPECT_TRUE(exempt.violations.empty());
  ASSERT_EQ(exempt.notes.size(), 1u);
  EXPECT_NE(exempt.notes[0].find("exception \"vendor-sidecar\" until 2026-12-31"),
            std::string::npos)
      << exempt.notes[0];
  EXPECT_NE(exempt.notes[0].find("OPS-1"), std::string::npos);

  // The last day still counts; the day after it does not.
  EXPECT_TRUE(
      evaluate(pod("web", "vendor.example.com/sidecar:latest"), "production", Date{2026, 12, 31})
          .violations.empty());

  // Other images, namespaces and environments are not covered.
  EXPECT_EQ(evaluate(pod("web", "nginx:latest"), "production").violations.size(), 1u);
  EXPECT_EQ(evaluate(pod("web", "vendor.example.com/sidecar:latest", "other"), "production")
                .violations.size(),
            1u);
}

TEST_F(EngineTest, ExpiredExceptionStopsApplyingAndSaysSo) {
  const Evaluation after =
      evaluate(pod("web", "vendor.example.com/sidecar:latest"), "production", Date{2027, 1, 1});
  ASSERT_EQ(after.violations.size(), 1u);
  EXPECT_NE(after.violations[0].message.find(
                "Exception \"vendor-sidecar\" expired on 2026-12-31 and no longer applies"),
            std::string::npos)
      << after.violations[0].message;
  EXPECT_EQ(after.decision(), Decision::Deny);

  const Evaluation debug = evaluate(pod("debug-1", "busybox"), "production");
  ASSERT_EQ(debug.violations.size(), 1u);
  EXPECT_NE(debug.violations[0].message.find("\"old-debug-pod\" expired on 2026-01-31"),
            std::string::npos);
  EXPECT_TRUE(
      evaluate(pod("debug-1", "busybox"), "production", Date{2026, 1, 15}).violations.empty());
}

TEST(ObjectRef, ReadsWhatIsThereAndNeverThrows) {
  const ObjectRef ref = ObjectRef::of(json::parse(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","namespace":"ns"}})"));
  EXPECT_EQ(ref.api_version, "apps/v1");
  EXPECT_EQ(ref.display(), "Deployment ns/a");
  EXPECT_EQ(
      ObjectRef::of(json::parse(R"({"kind":"Namespace","metadata":{"name":"prod"}})")).display(),
      "Namespace prod");
  EXPECT_EQ(ObjectRef::of(json::parse(R"({"kind":"Pod","metadata":{"generateName":"job-"}})")).name,
            "job-");
  EXPECT_EQ(ObjectRef::of(json::parse(R"({"kind":7,"metadata":"x"})")).display(),
            "object (unnamed)");
  EXPECT_EQ(ObjectRef::of(json()).display(), "object (unnamed)");
}

}  // namespace
}  // namespace emguard
