// review_admission: the AdmissionReview contract without HTTP (the router and server tests cover
// the HTTP status each outcome gets, and transport).
#include "policies/admission/admission.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/decisions.hpp"

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
  EXPECT_EQ(outcome.verdict, AdmissionVerdict::Denied);
  EXPECT_EQ(outcome.decision, Decision::Deny);
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
  EXPECT_EQ(allowed.decision, Decision::Allow);
  EXPECT_FALSE(json::parse(allowed.body)["response"].contains("warnings"));

  const AdmissionOutcome warned = run(review(pod("nginx:latest")), "staging");
  EXPECT_EQ(warned.decision, Decision::Warn);
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
  EXPECT_EQ(warned.decision, Decision::Warn);
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
    EXPECT_EQ(outcome.decision, Decision::Allow) << operation;
    EXPECT_NE(outcome.reason.find("is not evaluated"), std::string::npos);
  }
  json status = review(pod("nginx:latest"), "UPDATE");
  status["request"]["subResource"] = "status";
  EXPECT_EQ(run(status).decision, Decision::Allow);
  // A namespace no environment claims (and no defaultEnvironment): allowed, and it says why.
  const AdmissionOutcome elsewhere = run(review(pod("nginx:latest"), "CREATE", "other"));
  EXPECT_EQ(elsewhere.decision, Decision::Allow);
  EXPECT_NE(elsewhere.reason.find("no environment of the policy claims namespace other"),
            std::string::npos);
}

TEST_F(AdmissionTest, DryRunIsEvaluatedTheSameAndReported) {
  json body = review(pod("nginx:latest"));
  body["request"]["dryRun"] = true;
  const AdmissionOutcome outcome = run(body);
  EXPECT_EQ(outcome.decision, Decision::Deny);
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

// Malformed: no review to answer, so no AdmissionReview; the router maps it to a bare 400 with
// the reason as its error (tests/router_test.cpp, RouterReview).
TEST_F(AdmissionTest, BodiesThatAreNoReviewAreBare400sWithoutQuotingTheBody) {
  const auto verdict_of = [&](const std::string& body, const std::string& environment = "") {
    return review_admission(engine, body, environment, Date{2026, 11, 24});
  };
  const AdmissionOutcome malformed = verdict_of(R"({"request": {"uid": "s3cr3t-token-value)");
  EXPECT_EQ(malformed.verdict, AdmissionVerdict::Malformed);
  EXPECT_EQ(malformed.decision, Decision::Error);
  EXPECT_EQ(malformed.body.find("s3cr3t"), std::string::npos) << malformed.body;
  EXPECT_EQ(malformed.reason.find("s3cr3t"), std::string::npos) << malformed.reason;
  EXPECT_EQ(malformed.reason, "malformed JSON at byte 40");

  EXPECT_EQ(verdict_of("[]").verdict, AdmissionVerdict::Malformed);
  EXPECT_EQ(
      verdict_of(R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview"})").verdict,
      AdmissionVerdict::Malformed);
  json no_uid = review(pod("nginx:latest"));
  no_uid["request"].erase("uid");
  EXPECT_EQ(verdict_of(no_uid.dump()).verdict, AdmissionVerdict::Malformed);
  EXPECT_EQ(verdict_of(no_uid.dump()).reason, "request.uid is missing or not a string");
  // Not even for an environment the policy lacks: without a uid there is no review to answer.
  EXPECT_EQ(verdict_of(no_uid.dump(), "qa").verdict, AdmissionVerdict::Malformed);

  // 4 million nested arrays: parsed and freed without recursion, Malformed.
  std::string deep(4'000'000, '[');
  deep += std::string(4'000'000, ']');
  EXPECT_EQ(verdict_of(deep).verdict, AdmissionVerdict::Malformed);
}

// Once the uid is known every outcome is an AdmissionReview that refuses, as controller-runtime
// answers with Errored(code, err) (kubernetes-sigs/controller-runtime
// pkg/webhook/admission/http.go, response.go): a bare 4xx would be a failed call, which
// `failurePolicy: Ignore` turns into an admission.
TEST_F(AdmissionTest, FailsClosedOnceTheUidIsKnown) {
  struct Case {
    std::string name;
    json body;
    std::string environment;
    int code;
    std::string message;
  };
  json no_operation = review(pod("nginx:1.27.3"));
  no_operation["request"].erase("operation");
  json no_object = review(pod("nginx:1.27.3"));
  no_object["request"]["object"] = nullptr;
  json not_a_pod = review({{"apiVersion", "v1"}, {"kind", "Binding"}}, "UPDATE");
  not_a_pod["request"]["subResource"] = "ephemeralcontainers";
  json other_kind = review(pod("nginx:1.27.3"));
  other_kind["kind"] = "AdmissionRequest";
  const std::vector<Case> cases = {
      {"an environment the policy lacks", review(pod("nginx:1.27.3")), "qa", 404,
       "environment \"qa\" is not in the policy (it has: production, staging): the webhook "
       "configuration's path /validate/qa and the policy disagree"},
      {"no operation", no_operation, "", 400, "request.operation is missing"},
      {"a lowercase operation", review(pod("nginx:latest"), "create"), "", 400,
       "request.operation \"create\" is not one of CREATE, UPDATE, DELETE, CONNECT"},
      {"an unknown operation", review(pod("nginx:latest"), "PATCH"), "", 400,
       "request.operation \"PATCH\" is not one of"},
      {"no object on CREATE", no_object, "", 400,
       "request.object is missing or not an object for CREATE"},
      {"pods/ephemeralcontainers without a Pod", not_a_pod, "", 400,
       "request.object of pods/ephemeralcontainers is not a v1 Pod"},
      {"not an AdmissionReview", other_kind, "", 400,
       "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const AdmissionOutcome outcome = run(c.body, c.environment);
    EXPECT_EQ(outcome.verdict, AdmissionVerdict::Errored);
    EXPECT_EQ(outcome.decision, Decision::Error);
    const json answer = json::parse(outcome.body);
    EXPECT_EQ(answer["apiVersion"], "admission.k8s.io/v1");
    EXPECT_EQ(answer["kind"], "AdmissionReview");
    EXPECT_EQ(answer["response"]["uid"], "d0c6c5a3-7f1e-4c1b-9d2a-000000000001");
    EXPECT_EQ(answer["response"]["allowed"], false);
    EXPECT_EQ(answer["response"]["status"]["code"], c.code);
    const std::string message = answer["response"]["status"]["message"];
    EXPECT_EQ(message.rfind(c.message, 0), 0u) << message;
    EXPECT_EQ(outcome.reason, message);
  }

  // A v1beta1 review is refused in v1beta1: the API server reads an answer in another version
  // than it asked in as a failed call.
  json beta = review(pod("nginx:1.27.3"));
  beta["apiVersion"] = "admission.k8s.io/v1beta1";
  const json answer = json::parse(run(beta).body);
  EXPECT_EQ(answer["apiVersion"], "admission.k8s.io/v1beta1");
  EXPECT_EQ(answer["response"]["allowed"], false);
  EXPECT_EQ(answer["response"]["status"]["code"], 400);
  // A very long operation is not echoed into the message (or the log).
  const AdmissionOutcome long_operation = run(review(pod("nginx:1.27.3"), std::string(1000, 'X')));
  EXPECT_EQ(long_operation.reason.find("XXXXXXXXXXXXXXXXX"), std::string::npos)
      << long_operation.reason;
}

// What the transport refuses before judging (a wrong Content-Type) is refused as a review too
// when the body is one.
TEST_F(AdmissionTest, TransportRefusalsOfAReviewAreReviews) {
  const AdmissionOutcome review_refused =
      refuse_admission(review(pod("nginx:1.27.3")).dump(), 415, "Content-Type must be JSON");
  EXPECT_EQ(review_refused.verdict, AdmissionVerdict::Errored);
  const json answer = json::parse(review_refused.body);
  EXPECT_EQ(answer["response"]["uid"], "d0c6c5a3-7f1e-4c1b-9d2a-000000000001");
  EXPECT_EQ(answer["response"]["allowed"], false);
  EXPECT_EQ(answer["response"]["status"]["code"], 415);
  EXPECT_EQ(answer["response"]["status"]["message"], "Content-Type must be JSON");
  EXPECT_EQ(refuse_admission("not json", 415, "Content-Type must be JSON").verdict,
            AdmissionVerdict::Malformed);
  EXPECT_EQ(refuse_admission("{}", 415, "Content-Type must be JSON").verdict,
            AdmissionVerdict::Malformed);
}

// `kubectl debug mypod -it --image=busybox:latest` sends an UPDATE of pods/ephemeralcontainers
// whose object is the whole Pod with the new entry in spec.ephemeralContainers (ephemeral
// containers cannot be set on CREATE). The review is shaped like the webhook request example
// of kubernetes/website content/en/docs/reference/access-authn-authz/
// extensible-admission-controllers.md (there: deployments/scale), with the ephemeral
// container kubectl debug builds (kubernetes/kubectl pkg/cmd/debug/debug.go: a generated
// "debugger-" name, the image, stdin/tty, targetContainerName, terminationMessagePolicy File).
json kubectl_debug_review(const std::string& namespace_, const std::string& image) {
  json running = pod("nginx:1.27.3");
  running["metadata"]["namespace"] = namespace_;
  running["metadata"]["uid"] = "6b1d2f3e-2c55-4d0a-9a63-1f0c2e6d5a10";
  running["metadata"]["resourceVersion"] = "48213";
  running["status"] = {{"phase", "Running"}};
  json debugged = running;
  debugged["spec"]["ephemeralContainers"] = json::array({{{"name", "debugger-7xk2q"},
                                                          {"image", image},
                                                          {"imagePullPolicy", "Always"},
                                                          {"stdin", true},
                                                          {"tty", true},
                                                          {"targetContainerName", "c0"},
                                                          {"terminationMessagePolicy", "File"},
                                                          {"resources", json::object()}}});
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"subResource", "ephemeralcontainers"},
            {"requestKind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
            {"requestResource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"requestSubResource", "ephemeralcontainers"},
            {"name", "web"},
            {"namespace", namespace_},
            {"operation", "UPDATE"},
            {"userInfo",
             {{"username", "admin"},
              {"uid", "014fbff9a07c"},
              {"groups", json::array({"system:authenticated", "my-admin-group"})}}},
            {"object", debugged},
            {"oldObject", running},
            {"options", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "UpdateOptions"}}},
            {"dryRun", false}}}};
}

TEST_F(AdmissionTest, KubectlDebugEphemeralContainersAreEvaluated) {
  const AdmissionOutcome denied = run(kubectl_debug_review("production", "busybox:latest"));
  EXPECT_EQ(denied.decision, Decision::Deny) << denied.body;
  EXPECT_EQ(denied.environment, "production");
  const json answer = json::parse(denied.body)["response"];
  EXPECT_EQ(answer["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(answer["allowed"], false);
  const std::string message = answer["status"]["message"];
  EXPECT_NE(message.find("[pinned-images] spec.ephemeralContainers[0].image"), std::string::npos)
      << message;
  EXPECT_NE(message.find("busybox:latest"), std::string::npos) << message;

  EXPECT_EQ(run(kubectl_debug_review("production", "busybox:1.36.1")).decision, Decision::Allow);
  EXPECT_EQ(run(kubectl_debug_review("staging", "busybox:latest")).decision, Decision::Warn);

  // The other pod subresources carry no Pod spec to judge (Pod Security admission's
  // ignoredPodSubresources, kubernetes staging/src/k8s.io/pod-security-admission/admission/
  // admission.go): still allowed unevaluated, as are subresources of other resources.
  for (const char* subresource :
       {"status", "binding", "eviction", "exec", "attach", "log", "portforward", "proxy"}) {
    json body = kubectl_debug_review("production", "busybox:latest");
    body["request"]["subResource"] = subresource;
    const AdmissionOutcome outcome = run(body);
    EXPECT_EQ(outcome.decision, Decision::Allow) << subresource;
    EXPECT_EQ(outcome.reason, std::string("subresource ") + subresource + " is not evaluated");
  }
  json scale = kubectl_debug_review("production", "busybox:latest");
  scale["request"]["resource"] = {
      {"group", "apps"}, {"version", "v1"}, {"resource", "deployments"}};
  scale["request"]["subResource"] = "scale";
  EXPECT_EQ(run(scale).decision, Decision::Allow);
}

TEST_F(AdmissionTest, BaselineDecodesAndAllowsWithTheUid) {
  const AdmissionOutcome outcome = allow_without_evaluating(review(pod("nginx:latest")).dump());
  EXPECT_EQ(outcome.decision, Decision::Allow);
  EXPECT_EQ(json::parse(outcome.body)["response"]["uid"], "d0c6c5a3-7f1e-4c1b-9d2a-000000000001");
  EXPECT_EQ(allow_without_evaluating("{").verdict, AdmissionVerdict::Malformed);
}

// The typed response and its helpers, as controller-runtime's Allowed, Denied and Errored
// (pkg/webhook/admission/response.go): each field only when it says something.
TEST(AdmissionResponse, HelpersShapeTheAnswer) {
  const json allowed =
      json::parse(admission::answer(admission::allowed("u1"), "admission.k8s.io/v1"));
  EXPECT_EQ(allowed, json::parse(R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                                     "response": {"uid": "u1", "allowed": true}})"));

  AdmissionResponse denied = admission::denied("u2", "no");
  denied.warnings = {"careful"};
  EXPECT_EQ(json::parse(admission::answer(denied, "admission.k8s.io/v1"))["response"],
            json::parse(R"({"uid": "u2", "allowed": false, "warnings": ["careful"],
                            "status": {"code": 403, "reason": "Forbidden", "message": "no"}})"));

  const AdmissionResponse errored = admission::errored("u3", 404, "no such environment");
  EXPECT_FALSE(errored.allowed);
  const json answer = json::parse(admission::answer(errored, "admission.k8s.io/v1beta1"));
  EXPECT_EQ(answer["apiVersion"], "admission.k8s.io/v1beta1");
  EXPECT_EQ(answer["response"], json::parse(R"({"uid": "u3", "allowed": false,
                            "status": {"code": 404, "message": "no such environment"}})"));
}

TEST(AdmissionResponse, DecisionsSpellTheirLabels) {
  EXPECT_EQ(to_string(Decision::Allow), "allow");
  EXPECT_EQ(to_string(Decision::Warn), "warn");
  EXPECT_EQ(to_string(Decision::Deny), "deny");
  EXPECT_EQ(to_string(Decision::Error), "error");
}

}  // namespace
}  // namespace emguard
