// review_admission: the AdmissionReview contract without HTTP (the server tests cover transport).
#include "emguard/admission.hpp"

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
    namespaceLabels: {em-guard.io/environment: production}
  - name: staging
    namespaces: [staging]
    mode: warn
)";

json pod(const std::string& image, int containers = 1) {
  json list = json::array();
  for (int i = 0; i < containers; ++i) {
    // Appended: `"c" + std::to_string(i)` draws GCC 12's false -Wrestrict at -O3 (bug 105329).
    std::string name = "c";
    name += std::to_string(i);
    list.push_back({{"name", name}, {"image", image}});
  }
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "web"}, {"namespace", "production"}}},
          {"spec", {{"containers", list}}}};
}

json review(const json& object, const std::string& operation = "CREATE",
            const std::string& namespace_ = "production") {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "d0c6c5a3-7f1e-4c1b-9d2a-000000000001"},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", object.value("kind", "")}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"namespace", namespace_},
            {"name", "web"},
            {"operation", operation},
            {"userInfo", {{"username", "alice"}}},
            {"object", object},
            {"oldObject", nullptr},
            {"dryRun", false}}}};
}

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionOutcome run(const json& body, const std::string& environment = "") const {
    return review_admission(engine, body.dump(), environment, Date{2026, 11, 24});
  }
  Engine engine{Policy::load(kPolicy, "test")};
};

TEST_F(AdmissionTest, DeniesWithTheSameUidAndTheRuleMessage) {
  const AdmissionOutcome outcome = run(review(pod("nginx:latest")));
  EXPECT_EQ(outcome.http_status, 200);
  EXPECT_EQ(outcome.decision, "deny");
  EXPECT_EQ(outcome.environment, "production");
  EXPECT_EQ(outcome.rules, std::vector<std::string>{"pinned-images"});
  const json response = json::parse(outcome.body);
  EXPECT_EQ(response["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(response["kind"], "AdmissionReview");
  EXPECT_EQ(response["response"]["uid"], "d0c6c5a3-7f1e-4c1b-9d2a-000000000001");
  EXPECT_EQ(response["response"]["allowed"], false);
  EXPECT_EQ(response["response"]["status"]["code"], 403);
  const std::string message = response["response"]["status"]["message"];
  EXPECT_NE(message.find("Pod production/web violates em-guard policy (environment production)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("- [pinned-images] spec.containers[0].image: container \"c0\""),
            std::string::npos)
      << message;
}

TEST_F(AdmissionTest, AllowsPinnedAndWarnsInWarnMode) {
  const AdmissionOutcome allowed = run(review(pod("nginx:1.27.3")));
  EXPECT_EQ(allowed.decision, "allow");
  EXPECT_FALSE(json::parse(allowed.body)["response"].contains("warnings"));

  const AdmissionOutcome warned = run(review(pod("nginx:latest")), "staging");
  EXPECT_EQ(warned.decision, "warn");
  const json response = json::parse(warned.body)["response"];
  EXPECT_EQ(response["allowed"], true);
  ASSERT_EQ(response["warnings"].size(), 1u);
  const std::string warning = response["warnings"][0];
  // Whole, with the fix at its end, while the warnings stay under the API server's 4 KiB.
  EXPECT_EQ(warning.rfind("em-guard [pinned-images] spec.containers[0].image: ", 0), 0u);
  EXPECT_NE(warning.find("or a digest, e.g. \"nginx@sha256:<64 hex digits>\"."), std::string::npos)
      << warning;
}

TEST_F(AdmissionTest, ManyWarningsAreCutLikeTheApiServerDoes) {
  // Three fit in the API server's 4 KiB: whole.
  const json few =
      json::parse(run(review(pod("nginx:latest", 3)), "staging").body)["response"]["warnings"];
  ASSERT_EQ(few.size(), 3u);
  for (const json& warning : few) EXPECT_TRUE(std::string(warning).ends_with(".")) << warning;

  // Thirty do not: each is cut to 256 characters as the API server would
  // (k8s.io/apiserver pkg/endpoints/filters/warning.go, truncateItemRunes), and only as many
  // are listed as leave the total under its truncateAtTotalRunes (4 KiB) with room for the
  // count: past that total the API server drops further warnings, so the count must fit too.
  const AdmissionOutcome warned = run(review(pod("nginx:latest", 30)), "staging");
  const json warnings = json::parse(warned.body)["response"]["warnings"];
  ASSERT_GE(warnings.size(), 2u);
  std::size_t total = 0;
  for (std::size_t i = 0; i + 1 < warnings.size(); ++i) {
    const std::string text = warnings[i];
    EXPECT_LE(text.size(), 256u);
    EXPECT_TRUE(text.ends_with("...")) << text;
    EXPECT_EQ(text.rfind("em-guard [pinned-images] spec.containers[" + std::to_string(i) + "]", 0),
              0u)
        << text;
    total += text.size();
  }
  const std::string last = warnings.back();
  total += last.size();
  EXPECT_LE(total, 4096u);
  EXPECT_EQ(last, "em-guard: ... and " + std::to_string(30 - (warnings.size() - 1)) +
                      " more warnings (run em-guard-webhook check on the manifest for all of "
                      "them)");

  const AdmissionOutcome denied = run(review(pod("nginx:latest", 30)));
  const std::string message = json::parse(denied.body)["response"]["status"]["message"];
  EXPECT_NE(message.find("- and 10 more (run em-guard-webhook check"), std::string::npos);
}

TEST_F(AdmissionTest, WarningsOfAHugeObjectStayBounded) {
  // The class of a staging review with 120,000 unpinned images (31.8 MB of warnings before):
  // the answer stays a few KiB however many images warn, and still says how many.
  const std::size_t images = 20'000;
  const AdmissionOutcome warned = run(review(pod("nginx:latest", images)), "staging");
  EXPECT_EQ(warned.decision, "warn");
  EXPECT_LT(warned.body.size(), 8u * 1024) << warned.body.size();
  const json warnings = json::parse(warned.body)["response"]["warnings"];
  ASSERT_GE(warnings.size(), 2u);
  EXPECT_LE(warnings.size(), 21u);
  EXPECT_EQ(std::string(warnings.back()),
            "em-guard: ... and " + std::to_string(images - (warnings.size() - 1)) +
                " more warnings (run em-guard-webhook check on the manifest for all of them)");
}

TEST_F(AdmissionTest, WhatIsNotEvaluated) {
  for (const char* operation : {"DELETE", "CONNECT"}) {
    const AdmissionOutcome outcome = run(review(pod("nginx:latest"), operation));
    EXPECT_EQ(outcome.decision, "allow") << operation;
    EXPECT_NE(outcome.reason.find("is not evaluated"), std::string::npos);
  }
  json status = review(pod("nginx:latest"), "UPDATE");
  status["request"]["subResource"] = "status";
  EXPECT_EQ(run(status).decision, "allow");
  // A namespace no environment claims (and no defaultEnvironment): allowed, and it says why.
  const AdmissionOutcome elsewhere = run(review(pod("nginx:latest"), "CREATE", "other"));
  EXPECT_EQ(elsewhere.decision, "allow");
  EXPECT_NE(elsewhere.reason.find("no environment of the policy claims namespace other"),
            std::string::npos);
}

TEST_F(AdmissionTest, DryRunIsEvaluatedTheSameAndReported) {
  json body = review(pod("nginx:latest"));
  body["request"]["dryRun"] = true;
  const AdmissionOutcome outcome = run(body);
  EXPECT_EQ(outcome.decision, "deny");
  EXPECT_TRUE(outcome.dry_run);
}

TEST_F(AdmissionTest, NamespacesArePlacedByTheirOwnLabels) {
  const json namespace_ = {
      {"apiVersion", "v1"},
      {"kind", "Namespace"},
      {"metadata", {{"name", "shop"}, {"labels", {{"em-guard.io/environment", "production"}}}}}};
  const AdmissionOutcome outcome = run(review(namespace_, "CREATE", ""));
  EXPECT_EQ(outcome.environment, "production");
}

TEST_F(AdmissionTest, BadReviewsAre4xxWithoutQuotingTheBody) {
  const auto status_of = [&](const std::string& body, const std::string& environment = "") {
    return review_admission(engine, body, environment, Date{2026, 11, 24});
  };
  const AdmissionOutcome malformed = status_of(R"({"request": {"uid": "s3cr3t-token-value)");
  EXPECT_EQ(malformed.http_status, 400);
  EXPECT_EQ(malformed.decision, "error");
  EXPECT_EQ(malformed.body.find("s3cr3t"), std::string::npos) << malformed.body;
  EXPECT_EQ(malformed.reason.find("s3cr3t"), std::string::npos) << malformed.reason;
  EXPECT_EQ(json::parse(malformed.body)["error"], "malformed JSON at byte 40");

  EXPECT_EQ(status_of("[]").http_status, 400);
  EXPECT_EQ(status_of(R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview"})")
                .http_status,
            400);
  json no_uid = review(pod("nginx:latest"));
  no_uid["request"].erase("uid");
  EXPECT_EQ(status_of(no_uid.dump()).reason, "request.uid is missing or not a string");
  json no_object = review(pod("nginx:latest"));
  no_object["request"]["object"] = nullptr;
  EXPECT_EQ(status_of(no_object.dump()).http_status, 400);

  const AdmissionOutcome unknown = status_of(review(pod("nginx:1.0")).dump(), "qa");
  EXPECT_EQ(unknown.http_status, 404);
  EXPECT_NE(unknown.reason.find("environment \"qa\" is not in the policy"), std::string::npos);

  // 4 million nested arrays: parsed and freed without recursion, answered 400.
  std::string deep(4'000'000, '[');
  deep += std::string(4'000'000, ']');
  EXPECT_EQ(status_of(deep).http_status, 400);
}

TEST_F(AdmissionTest, BaselineDecodesAndAllowsWithTheUid) {
  const AdmissionOutcome outcome = allow_without_evaluating(review(pod("nginx:latest")).dump());
  EXPECT_EQ(outcome.decision, "allow");
  EXPECT_EQ(json::parse(outcome.body)["response"]["uid"], "d0c6c5a3-7f1e-4c1b-9d2a-000000000001");
  EXPECT_EQ(allow_without_evaluating("{").http_status, 400);
}

}  // namespace
}  // namespace emguard
