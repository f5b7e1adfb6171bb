// The webhook's router in the process: each route and error answer that the TLS tests
// (webhook_server_test.cpp) see through a real connection, asked of route() and refuse()
// directly, with no socket, TLS or child process. The policy is the built-in default, as the
// server tests serve it.
#include "webhook/router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/bad_reviews.hpp"
#include "tests/support/decisions.hpp"

namespace emguard::webhook {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kNoSuchPath =
    "no such path; admission reviews go to POST /validate or /validate/<environment>";
constexpr const char* kSecret = "s3cr3t-do-not-log";

json pod(const std::string& namespace_, const std::string& image) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "web"}, {"namespace", namespace_}}},
          {"spec", {{"containers", json::array({{{"name", "app"}, {"image", image}}})}}}};
}

// An AdmissionReview as the API server sends it (trimmed to what em-guard reads).
json review(const std::string& uid, const json& object, const std::string& operation = "CREATE") {
  const std::string namespace_ = object["metadata"].value("namespace", "");
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", uid},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", object.value("kind", "")}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"name", object["metadata"].value("name", "")},
            {"namespace", namespace_},
            {"operation", operation},
            {"object", operation == "DELETE" ? json(nullptr) : object},
            {"oldObject", operation == "DELETE" ? object : json(nullptr)},
            {"dryRun", false}}}};
}

std::string pod_review(const std::string& uid, const std::string& namespace_,
                       const std::string& image) {
  return review(uid, pod(namespace_, image)).dump();
}

Request request(http::verb method, const std::string& target, std::string body = "",
                const std::string& content_type = "application/json", bool keep_alive = true) {
  Request made{method, target, 11};
  made.set(http::field::host, "localhost");
  if (!content_type.empty()) made.set(http::field::content_type, content_type);
  made.body() = std::move(body);
  made.keep_alive(keep_alive);
  made.prepare_payload();
  return made;
}

Request post(const std::string& target, std::string body) {
  return request(http::verb::post, target, std::move(body));
}

Request get(const std::string& target) { return request(http::verb::get, target, "", ""); }

std::string header(const Response& response, http::field field) {
  const auto found = response.find(field);
  return found == response.end() ? std::string() : std::string(found->value());
}

json body_json(const Routed& routed) {
  const json parsed = json::parse(routed.response.body(), nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << routed.response.body();
  return parsed.is_discarded() ? json::object() : parsed;
}

// {"error": "..."} with `status`, starting with `message`.
void expect_json_error(const Routed& routed, unsigned status, const std::string& message) {
  EXPECT_EQ(routed.response.result_int(), status) << routed.response.body();
  EXPECT_EQ(header(routed.response, http::field::content_type), "application/json");
  const json error = body_json(routed);
  ASSERT_TRUE(error.contains("error") && error["error"].is_string()) << error;
  EXPECT_EQ(error["error"].get<std::string>().substr(0, message.size()), message);
}

// The value of one series in Prometheus text ("name{labels}"), or nullopt.
std::optional<double> metric(const std::string& text, const std::string& series) {
  const std::string wanted = "\n" + series + " ";
  const std::size_t at = ("\n" + text).find(wanted);
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + wanted.size() - 1));
}

class RouterTest : public ::testing::Test {
 protected:
  RouterContext context() {
    return RouterContext{engine,         metrics,           budget, draining, baseline,
                         max_body_bytes, Date{2026, 11, 24}};
  }
  // The answer alone.
  Routed answer(const Request& request) { return route(request, context()); }
  // The answer, recorded in the metrics as the connection records it (the log kept quiet).
  Routed send(const Request& request) {
    Routed routed = answer(request);
    Routed recorded = routed;
    record(recorded, 1ms, metrics, quiet);
    return routed;
  }
  // response.response of a review answer, after the envelope every answer must have.
  json review_answer(const Routed& routed, const std::string& uid) {
    EXPECT_EQ(routed.response.result_int(), 200U) << routed.response.body();
    EXPECT_EQ(header(routed.response, http::field::content_type), "application/json");
    const json answer = body_json(routed);
    EXPECT_EQ(answer.value("apiVersion", ""), "admission.k8s.io/v1") << answer;
    EXPECT_EQ(answer.value("kind", ""), "AdmissionReview") << answer;
    if (!answer.contains("response")) return json::object();
    EXPECT_EQ(answer["response"].value("uid", ""), uid);
    return answer["response"];
  }
  json review_answer(const std::string& target, const std::string& namespace_,
                     const std::string& image) {
    return review_answer(send(post(target, pod_review("u-" + image, namespace_, image))),
                         "u-" + image);
  }

  Engine engine{Policy::builtin()};
  Metrics metrics;
  BodyBudget budget{64 * 1024 * 1024, 8 * 1024 * 1024, 64 * 1024};
  bool draining = false;
  bool baseline = false;
  std::size_t max_body_bytes = 4096;
  Logger quiet{LogLevel::Error};
};

class RouterReview : public RouterTest {};
class RouterErrors : public RouterTest {};
class RouterProbes : public RouterTest {};
class RouterRefusals : public RouterTest {};
class RouterLog : public RouterTest {};

// --- reviews ---------------------------------------------------------------------------------

TEST_F(RouterReview, AllowsDeniesAndWarnsLikeTheApiServerExpects) {
  const json allowed = review_answer("/validate/production", "production", "nginx:1.25.3");
  EXPECT_EQ(allowed.value("allowed", false), true) << allowed;
  EXPECT_FALSE(allowed.contains("status")) << allowed;
  EXPECT_FALSE(allowed.contains("warnings")) << allowed;

  const json denied = review_answer("/validate/production", "production", "nginx:latest");
  EXPECT_EQ(denied.value("allowed", true), false) << denied;
  EXPECT_EQ(denied["status"].value("code", 0), 403) << denied;
  const std::string message = denied["status"].value("message", "");
  EXPECT_NE(message.find("[pinned-images]"), std::string::npos) << message;
  EXPECT_NE(message.find("spec.containers[0].image"), std::string::npos) << message;
  EXPECT_NE(message.find("nginx:latest"), std::string::npos) << message;

  // kube-apiserver appends its timeout to the webhook's URL.
  EXPECT_EQ(review_answer("/validate/production?timeout=10s", "production", "nginx:latest")
                .value("allowed", true),
            false);

  const json warned = review_answer("/validate/staging", "staging", "nginx:latest");
  EXPECT_EQ(warned.value("allowed", false), true) << warned;
  ASSERT_TRUE(warned.contains("warnings") && !warned["warnings"].empty()) << warned;
  EXPECT_NE(warned["warnings"][0].get<std::string>().find("pinned-images"), std::string::npos);
}

TEST_F(RouterReview, EnvironmentComesFromThePathOrTheNamespace) {
  EXPECT_EQ(review_answer("/validate", "production", "nginx:latest").value("allowed", true), false);
  const json staging = review_answer("/validate", "staging", "nginx:latest");
  EXPECT_TRUE(staging.value("allowed", false) && staging.contains("warnings")) << staging;
  const json dev = review_answer("/validate", "dev", "nginx:latest");
  EXPECT_TRUE(dev.value("allowed", false) && !dev.contains("warnings")) << dev;
  // A namespace no environment claims is production (defaultEnvironment).
  EXPECT_EQ(review_answer("/validate", "team-a", "nginx:latest").value("allowed", true), false);
  // The path wins over the namespace.
  EXPECT_EQ(review_answer("/validate/production", "dev", "nginx:latest").value("allowed", true),
            false);

  // An environment the policy lacks: refused as a review (HTTP 200, code 404), never a bare 404
  // that `failurePolicy: Ignore` would turn into an admission.
  for (const std::string target : {"/validate/qa", "/validate/Production"}) {
    const json unknown = review_answer(target, "qa", "nginx:1.25.3");
    EXPECT_EQ(unknown.value("allowed", true), false) << unknown;
    EXPECT_EQ(unknown["status"].value("code", 0), 404) << unknown;
  }
  EXPECT_EQ(review_answer("/validate/qa", "qa", "nginx:1.25.3")["status"].value("message", ""),
            "environment \"qa\" is not in the policy (it has: production, staging, dev): the "
            "webhook configuration's path /validate/qa and the policy disagree");
}

TEST_F(RouterReview, DeleteIsAllowedAndDryRunIsLogged) {
  const Routed deletion = send(post(
      "/validate/production", review("d", pod("production", "nginx:latest"), "DELETE").dump()));
  EXPECT_EQ(review_answer(deletion, "d").value("allowed", false), true);
  EXPECT_EQ(deletion.decision, Decision::Allow);

  json dry = review("dry", pod("production", "nginx:latest"));
  dry["request"]["dryRun"] = true;
  const Routed denied = send(post("/validate/production", dry.dump()));
  EXPECT_EQ(review_answer(denied, "dry")["status"].value("code", 0), 403);
  ASSERT_TRUE(denied.review_log);
  EXPECT_EQ(denied.review_log->value("dryRun", false), true) << *denied.review_log;
  EXPECT_EQ(denied.review_log->value("decision", ""), "deny") << *denied.review_log;
}

TEST_F(RouterReview, BodiesThatAreNoReviewAreBare400s) {
  for (const auto& [body, message] : test::bodies_that_are_no_review()) {
    SCOPED_TRACE(body);
    const Routed routed = send(post("/validate/production", body));
    expect_json_error(routed, 400, message);
    EXPECT_TRUE(routed.response.keep_alive()) << "the connection survives a 400";
    EXPECT_EQ(routed.decision, Decision::Error);
  }

  // Once the uid is known, whatever is wrong is a refusal in the review, with its code.
  for (const std::string request :
       {R"("request":{"uid":"u1","operation":"CREATE","object":"nope"}})",
        R"("request":{"uid":"u1","operation":"create","object":{}}})",
        R"("request":{"uid":"u1","object":{}}})"}) {
    const Routed routed =
        send(post("/validate/production",
                  R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)" + request));
    const json answer = review_answer(routed, "u1");
    EXPECT_EQ(answer.value("allowed", true), false) << answer;
    EXPECT_EQ(answer["status"].value("code", 0), 400) << answer;
    EXPECT_EQ(routed.decision, Decision::Error);
  }
  // A v1beta1 review is refused in v1beta1, the version the API server asked in.
  const Routed beta =
      send(post("/validate/production", R"({"apiVersion":"admission.k8s.io/v1beta1",)"
                                        R"("kind":"AdmissionReview","request":{"uid":"x"}})"));
  EXPECT_EQ(beta.response.result_int(), 200U);
  EXPECT_EQ(body_json(beta).value("apiVersion", ""), "admission.k8s.io/v1beta1");
  EXPECT_EQ(body_json(beta)["response"].value("allowed", true), false);
}

// --- methods, paths, content types -----------------------------------------------------------

TEST_F(RouterErrors, WrongMethodIs405WithAllow) {
  Routed routed = send(get("/validate"));
  expect_json_error(routed, 405, "method GET is not allowed on /validate; use POST");
  EXPECT_EQ(header(routed.response, http::field::allow), "POST");
  routed = send(post("/healthz", "{}"));
  expect_json_error(routed, 405, "method POST is not allowed on /healthz; use GET");
  EXPECT_EQ(header(routed.response, http::field::allow), "GET");
  EXPECT_FALSE(routed.decision.has_value());
}

TEST_F(RouterErrors, UnknownPathsAre404) {
  expect_json_error(send(post("/mutate", pod_review("u", "production", "nginx:1.25.3"))), 404,
                    kNoSuchPath);
  expect_json_error(send(get("/")), 404, kNoSuchPath);
  expect_json_error(send(post("/baseline", pod_review("u", "production", "nginx:1.25.3"))), 404,
                    kNoSuchPath);
}

TEST_F(RouterErrors, WrongContentTypeIs415OrARefusedReview) {
  const std::string not_json = "Content-Type must be application/json (an AdmissionReview)";
  Routed routed = send(request(http::verb::post, "/validate", "hello", "text/plain"));
  expect_json_error(routed, 415, not_json);
  EXPECT_EQ(routed.decision, Decision::Error);
  // A review without a Content-Type is refused as a review.
  const std::string good = pod_review("u", "production", "nginx:1.25.3");
  routed = send(request(http::verb::post, "/validate", good, ""));
  const json typeless = review_answer(routed, "u");
  EXPECT_EQ(typeless.value("allowed", true), false) << typeless;
  EXPECT_EQ(typeless["status"].value("code", 0), 415) << typeless;
  // application/json with parameters and odd case is JSON; spaces before ';' are dropped, tabs
  // are not (the reading the server has always had).
  for (const char* type : {"Application/JSON; charset=utf-8", "application/json  ;charset=utf-8"}) {
    EXPECT_EQ(
        review_answer(send(request(http::verb::post, "/validate/production", good, type)), "u")
            .value("allowed", false),
        true)
        << type;
  }
  expect_json_error(
      send(request(http::verb::post, "/validate", "hello", "application/json\t; charset=utf-8")),
      415, not_json);
}

TEST_F(RouterErrors, BaselineOnlyWhenEnabled) {
  baseline = true;
  const Routed allowed = send(post("/baseline", pod_review("b", "production", "nginx:latest")));
  EXPECT_EQ(review_answer(allowed, "b").value("allowed", false), true);
  EXPECT_EQ(allowed.metric_path, "/baseline");
  EXPECT_FALSE(allowed.review_log) << "the baseline writes no decision line";
  expect_json_error(send(post("/baseline", "{")), 400, "malformed JSON at byte ");
}

// --- probes and metrics ----------------------------------------------------------------------

TEST_F(RouterProbes, HealthAndReadinessUntilTheDrain) {
  Routed routed = send(get("/healthz"));
  EXPECT_EQ(routed.response.result_int(), 200U);
  EXPECT_EQ(routed.response.body(), "ok\n");
  EXPECT_EQ(header(routed.response, http::field::content_type), "text/plain");
  EXPECT_TRUE(routed.response.keep_alive());
  EXPECT_EQ(send(get("/readyz")).response.result_int(), 200U);
  draining = true;
  routed = send(get("/readyz"));
  EXPECT_EQ(routed.response.result_int(), 503U);
  EXPECT_EQ(routed.response.body(), "draining\n");
  EXPECT_EQ(send(get("/healthz")).response.result_int(), 200U);
  // A client that says Connection: close is answered with it.
  routed = send(request(http::verb::get, "/readyz", "", "", false));
  EXPECT_EQ(header(routed.response, http::field::connection), "close");
}

TEST_F(RouterProbes, MetricsCountEachDecisionByPathAndCode) {
  review_answer("/validate/production", "production", "nginx:1.25.3");
  review_answer("/validate/production", "production", "nginx:latest");
  review_answer("/validate/staging", "staging", "nginx:latest");
  EXPECT_EQ(send(post("/validate/production", "{nope")).response.result_int(), 400U);
  send(get("/healthz"));
  send(get("/readyz"));
  BodyBudget::Lease held = budget.lease();
  ASSERT_TRUE(held.resize(1234));

  const Routed routed = send(get("/metrics"));
  EXPECT_EQ(routed.response.result_int(), 200U);
  EXPECT_EQ(header(routed.response, http::field::content_type),
            "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = routed.response.body();
  for (const char* series :
       {R"(em_guard_requests_total{path="/validate/production",code="200",decision="allow"})",
        R"(em_guard_requests_total{path="/validate/production",code="200",decision="deny"})",
        R"(em_guard_requests_total{path="/validate/staging",code="200",decision="warn"})",
        R"(em_guard_requests_total{path="/validate/production",code="400",decision="error"})",
        R"(em_guard_requests_total{path="/healthz",code="200",decision="none"})",
        R"(em_guard_requests_total{path="/readyz",code="200",decision="none"})",
        R"(em_guard_denials_total{rule="pinned-images"})"}) {
    EXPECT_EQ(metric(text, series), 1.0) << series << "\n" << text;
  }
  EXPECT_EQ(metric(text, "em_guard_request_duration_seconds_count"), 6.0) << text;
  EXPECT_EQ(metric(text, "em_guard_request_body_bytes_in_flight"), 1234.0) << text;
}

TEST_F(RouterProbes, UnknownPathsDoNotGrowTheMetricLabels) {
  for (int i = 0; i < 3; ++i) {
    const std::string body = pod_review("u", "production", "nginx:1.25.3");
    const Routed scan = send(post("/validate/scan-" + std::to_string(i), body));
    EXPECT_EQ(scan.response.result_int(), 200U);
    EXPECT_EQ(scan.metric_path, "other");
    const Routed probe = send(post("/probe-" + std::to_string(i), body));
    EXPECT_EQ(probe.response.result_int(), 404U);
    EXPECT_EQ(probe.metric_path, "other");
  }
  EXPECT_EQ(send(post("/validate/production?timeout=10s", "{}")).metric_path,
            "/validate/production");
  EXPECT_EQ(send(post("/validate", "{}")).metric_path, "/validate");
  const std::string text = metrics.render();
  EXPECT_EQ(text.find("/probe-"), std::string::npos) << text;
  EXPECT_EQ(text.find("/validate/scan-"), std::string::npos) << text;
}

// --- requests that cannot be read whole ------------------------------------------------------

TEST_F(RouterRefusals, EachIsAnsweredAndClosesTheConnection) {
  struct Case {
    Unreadable why;
    unsigned status;
    std::string message;
    std::string metric_path;
  };
  const Case cases[] = {
      {Unreadable::BodyTooLarge, 413, "request body exceeds 4096 bytes", "/validate"},
      {Unreadable::BodyOverBudget, 503,
       "the server is busy: the request bodies in flight hold its memory budget; retry",
       "/validate"},
      {Unreadable::MalformedChunks, 400, "malformed chunked body", "/validate"},
      {Unreadable::NotChunked, 400, "Transfer-Encoding must end in chunked (RFC 9112 section 6.3)",
       "/validate"},
      {Unreadable::NoHost, 400, "an HTTP/1.1 request needs a Host header", "/validate"},
      {Unreadable::SeveralHosts, 400, "a request must have one Host header", "/validate"},
      // Before a path is known: "other".
      {Unreadable::HeadersTooLarge, 431, "request headers exceed 16384 bytes", "other"},
      {Unreadable::NotHttp, 400, "malformed HTTP request", "other"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const Routed refused = refuse(c.why, "/validate?timeout=10s", context());
    EXPECT_EQ(refused.response.result_int(), c.status);
    EXPECT_EQ(body_json(refused), json({{"error", c.message}}));
    EXPECT_FALSE(refused.response.keep_alive());
    EXPECT_EQ(refused.response.version(), 11U);
    EXPECT_EQ(header(refused.response, http::field::retry_after),
              c.why == Unreadable::BodyOverBudget ? "1" : "");
    EXPECT_EQ(refused.metric_path, c.metric_path);
    EXPECT_FALSE(refused.decision.has_value());
  }
  EXPECT_EQ(refuse(Unreadable::BodyTooLarge, "/validate/scan", context()).metric_path, "other");
}

// framing_problem() on the bytes the server tests send, parsed as Beast parses them.
std::optional<Unreadable> framing_of(const std::string& bytes) {
  http::request_parser<http::string_body> parser;
  beast::error_code ec;
  parser.put(asio::buffer(bytes), ec);
  EXPECT_FALSE(ec) << ec.message() << " for " << bytes;
  EXPECT_TRUE(parser.is_header_done()) << bytes;
  return framing_problem(parser.get(), parser.chunked());
}

TEST_F(RouterRefusals, MalformedFramingIsFoundInTheHeaders) {
  const std::string start =
      "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
  EXPECT_EQ(framing_of(start + "Content-Length: 2\r\n\r\n{}"), std::nullopt);
  EXPECT_EQ(framing_of(start + "Transfer-Encoding: chunked\r\n\r\n"), std::nullopt);
  // chunked not last: the length cannot be known (request smuggling).
  EXPECT_EQ(framing_of(start + "Transfer-Encoding: chunked, identity\r\n\r\n"),
            Unreadable::NotChunked);
  EXPECT_EQ(framing_of(start + "Transfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}"),
            Unreadable::NotChunked);
  EXPECT_EQ(framing_of("POST /validate HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"),
            Unreadable::NoHost);
  EXPECT_EQ(framing_of("POST /validate HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 2"
                       "\r\n\r\n{}"),
            Unreadable::SeveralHosts);
  // HTTP/1.0 has no Host requirement.
  EXPECT_EQ(framing_of("GET /healthz HTTP/1.0\r\n\r\n"), std::nullopt);
}

// --- the decision log ------------------------------------------------------------------------

TEST_F(RouterLog, OneLinePerDecisionAndNoSecrets) {
  const Logger log(LogLevel::Debug);
  const auto logged = [&](const Request& request) {
    Routed routed = answer(request);
    testing::internal::CaptureStderr();
    record(routed, 2ms, metrics, log);
    const std::string text = testing::internal::GetCapturedStderr();
    return text.empty() ? json() : json::parse(text);
  };
  for (const std::string image : {"nginx:1.25.3", "nginx:latest"}) {
    const json line = logged(post("/validate/production", pod_review("u", "production", image)));
    EXPECT_EQ(line.value("msg", ""), "admission review") << line;
    EXPECT_EQ(line.value("level", ""), "info") << line;
    EXPECT_EQ(line.value("uid", ""), "u") << line;
    EXPECT_EQ(line.value("kind", ""), "Pod") << line;
    EXPECT_EQ(line.value("namespace", ""), "production") << line;
    EXPECT_EQ(line.value("name", ""), "web") << line;
    EXPECT_EQ(line.value("operation", ""), "CREATE") << line;
    EXPECT_EQ(line.value("environment", ""), "production") << line;
    EXPECT_EQ(line.value("path", ""), "/validate/production") << line;
    EXPECT_EQ(line.value("latencyMs", 0.0), 2.0) << line;
    EXPECT_EQ(line.value("code", 0), 200) << line;
    const bool denied = image == "nginx:latest";
    EXPECT_EQ(line.value("decision", ""), denied ? "deny" : "allow") << line;
    EXPECT_EQ(line["rules"], denied ? json::array({"pinned-images"}) : json::array()) << line;
  }
  // A review that could not be read is a warning, and never quotes the body.
  const std::string prefix = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                             R"("request":{"uid":"broken","object":{"data":{"password":")";
  for (const std::string& body :
       {prefix + kSecret + "\" \"" + kSecret + "\"}}}}", prefix + kSecret,
        prefix + kSecret + "\"}, " + kSecret + "}}}", prefix + kSecret + "\xff\xfe\"}}}}"}) {
    const json line = logged(post("/validate/production", body));
    EXPECT_EQ(line.value("level", ""), "warn") << line;
    EXPECT_EQ(line.value("decision", ""), "error") << line;
    EXPECT_EQ(line.value("code", 0), 400) << line;
    EXPECT_EQ(line.dump().find(kSecret), std::string::npos) << line;
  }
  // A ConfigMap carrying a secret value: one line, without the value.
  json config_map = {{"apiVersion", "v1"},
                     {"kind", "ConfigMap"},
                     {"metadata", {{"name", "settings"}, {"namespace", "production"}}},
                     {"data",
                      {{"DB_PASSWORD", kSecret},
                       {"PUBLIC_URL", std::string("http://") + kSecret + ".example.com"}}}};
  const json line = logged(post("/validate", review("cm", config_map).dump()));
  EXPECT_EQ(line.value("uid", ""), "cm") << line;
  EXPECT_EQ(line.dump().find(kSecret), std::string::npos) << line;
  // Probes write no decision line.
  EXPECT_TRUE(logged(get("/healthz")).is_null());
}

TEST_F(RouterLog, LogLevelWarnKeepsOnlyProblems) {
  const Logger log(LogLevel::Warn);
  Routed denied = answer(post("/validate/production", pod_review("u", "production", "x:latest")));
  Routed broken = answer(post("/validate/production", "{]"));
  testing::internal::CaptureStderr();
  record(denied, 1ms, metrics, log);
  const std::string quiet_text = testing::internal::GetCapturedStderr();
  EXPECT_EQ(quiet_text, "");
  testing::internal::CaptureStderr();
  record(broken, 1ms, metrics, log);
  const json line = json::parse(testing::internal::GetCapturedStderr());
  EXPECT_EQ(line.value("level", ""), "warn") << line;
  EXPECT_EQ(line.value("decision", ""), "error") << line;
  EXPECT_EQ(line.value("code", 0), 400) << line;
}

}  // namespace
}  // namespace emguard::webhook
