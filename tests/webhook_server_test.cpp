// `em-guard-webhook serve` end to end: the real binary on 127.0.0.1 with certificates from
// certs-dev/make-certs.sh, spoken to over TLS by a real client with the AdmissionReview bodies
// the Kubernetes API server sends. Every wait is bounded, so a hung server fails a test instead
// of hanging the suite.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/files.hpp"
#include "support/script_runner.hpp"
#include "support/text.hpp"
#include "support/tls_client.hpp"
#include "support/webhook_server.hpp"

namespace emguard::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const fs::path kMakeCerts = fs::path(EMGUARD_SOURCE_DIR) / "certs-dev/make-certs.sh";
constexpr const char* kSecret = "s3cr3t-do-not-log";

long long elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

// --- certificates --------------------------------------------------------------------------

// Runs make-certs.sh into `out` (keeping the CA already there); returns its stdout (caBundle).
std::string make_certs(const fs::path& out) {
  const ProcessResult run =
      run_process({"bash", kMakeCerts.string(), "--out", out.string()}, base_env(), 60s);
  if (!run.ok()) throw std::runtime_error("make-certs.sh failed:\n" + run.combined());
  return run.out;
}

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProcessResult run = run_process(argv, base_env(), 30s);
  if (!run.ok()) throw std::runtime_error("openssl failed:\n" + run.combined());
}

// One CA and serving certificate for the tests that do not rotate them.
const fs::path& shared_certs() {
  static const TempDir dir;
  static const bool made = (make_certs(dir.path()), true);
  (void)made;
  return dir.path();
}

// Writes `content` to `path` through a rename, as cert-manager and editors that care do.
void replace_file(const fs::path& path, const std::string& content) {
  const fs::path temporary = path.string() + ".new";
  write_file(temporary, content);
  fs::rename(temporary, path);
}

// --- AdmissionReview bodies as the API server sends them ----------------------------------

std::string next_uid() {
  static std::atomic<unsigned> counter{0};
  char text[64];
  std::snprintf(text, sizeof text, "7c9e6679-7425-40de-944b-%012x", counter.fetch_add(1) + 1);
  return text;
}

json managed_fields(const std::string& api_version, const json& fields) {
  return json::array({{{"manager", "argocd-controller"},
                       {"operation", "Apply"},
                       {"apiVersion", api_version},
                       {"time", "2025-03-14T09:26:53Z"},
                       {"fieldsType", "FieldsV1"},
                       {"fieldsV1", fields}}});
}

json pod(const std::string& name, const std::string& namespace_, const std::string& image) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", name},
        {"namespace", namespace_},
        {"uid", "0d9f3a52-6c1e-4a8b-b2f7-3e5d1c9a7b64"},
        {"creationTimestamp", "2025-03-14T09:26:53Z"},
        {"labels", {{"app.kubernetes.io/name", name}}},
        {"managedFields",
         managed_fields("v1", {{"f:metadata", {{"f:labels", {{"f:app.kubernetes.io/name", {}}}}}},
                               {"f:spec",
                                {{"f:containers",
                                  {{"k:{\"name\":\"app\"}",
                                    {{".", json::object()},
                                     {"f:image", json::object()},
                                     {"f:name", json::object()}}}}}}}})}}},
      {"spec",
       {{"containers",
         json::array({{{"name", "app"},
                       {"image", image},
                       {"imagePullPolicy", "IfNotPresent"},
                       {"ports", json::array({{{"containerPort", 8080}, {"protocol", "TCP"}}})},
                       {"resources", json::object()},
                       {"terminationMessagePath", "/dev/termination-log"},
                       {"terminationMessagePolicy", "File"}}})},
        {"restartPolicy", "Always"},
        {"terminationGracePeriodSeconds", 30},
        {"dnsPolicy", "ClusterFirst"},
        {"serviceAccountName", "default"},
        {"securityContext", json::object()},
        {"schedulerName", "default-scheduler"},
        {"enableServiceLinks", true},
        {"preemptionPolicy", "PreemptLowerPriority"},
        {"priority", 0}}},
      {"status", {{"phase", "Pending"}, {"qosClass", "BestEffort"}}}};
}

struct Review {
  std::string uid = next_uid();
  json kind = {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}};
  json resource = {{"group", ""}, {"version", "v1"}, {"resource", "pods"}};
  std::string sub_resource;
  std::string name = "web";
  std::string namespace_ = "production";
  std::string operation = "CREATE";
  json object = nullptr;
  json old_object = nullptr;
  bool dry_run = false;
};

std::string review_body(const Review& review) {
  json options = nullptr;
  if (review.operation == "CONNECT") {
    options = {{"kind", "PodExecOptions"},
               {"apiVersion", "v1"},
               {"stdin", true},
               {"stdout", true},
               {"tty", true},
               {"container", "app"},
               {"command", json::array({"sh"})}};
  } else {
    const std::string kind = review.operation == "CREATE"   ? "CreateOptions"
                             : review.operation == "UPDATE" ? "UpdateOptions"
                                                            : "DeleteOptions";
    options = {{"kind", kind}, {"apiVersion", "meta.k8s.io/v1"}};
    if (review.operation != "DELETE") options["fieldManager"] = "argocd-controller";
  }
  json request = {
      {"uid", review.uid},
      {"kind", review.kind},
      {"resource", review.resource},
      {"requestKind", review.kind},
      {"requestResource", review.resource},
      {"name", review.name},
      {"namespace", review.namespace_},
      {"operation", review.operation},
      {"userInfo",
       {{"username", "system:serviceaccount:argocd:argocd-application-controller"},
        {"uid", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"},
        {"groups", json::array({"system:serviceaccounts", "system:serviceaccounts:argocd",
                                "system:authenticated"})}}},
      {"object", review.object},
      {"oldObject", review.old_object},
      {"dryRun", review.dry_run},
      {"options", options}};
  if (!review.sub_resource.empty()) {
    request["subResource"] = review.sub_resource;
    request["requestSubResource"] = review.sub_resource;
  }
  return json{{"kind", "AdmissionReview"},
              {"apiVersion", "admission.k8s.io/v1"},
              {"request", std::move(request)}}
      .dump();
}

Review pod_review(const std::string& namespace_, const std::string& image) {
  Review review;
  review.namespace_ = namespace_;
  review.object = pod(review.name, namespace_, image);
  return review;
}

// --- HTTP ------------------------------------------------------------------------------------

HttpRequest post(const std::string& target, std::string body) {
  HttpRequest request;
  request.target = target;
  request.body = std::move(body);
  return request;
}

HttpRequest get(const std::string& target) {
  HttpRequest request;
  request.method = "GET";
  request.target = target;
  request.content_type.clear();
  return request;
}

TlsClientOptions client_options(const fs::path& certs = shared_certs()) {
  TlsClientOptions options;
  options.ca_file = certs / "ca.crt";
  return options;
}

std::unique_ptr<TlsClient> connected(const WebhookServer& server,
                                     const TlsClientOptions& options = client_options()) {
  auto client = std::make_unique<TlsClient>(options);
  const std::string error = client->connect(server.port());
  EXPECT_EQ(error, "") << "cannot connect to the webhook";
  return client;
}

HttpResponse send(TlsClient& client, const HttpRequest& request) {
  std::string error;
  std::optional<HttpResponse> response = client.request(request, &error);
  if (!response) {
    ADD_FAILURE() << request.method << " " << request.target << ": " << error;
    return {};
  }
  return *response;
}

json body_json(const HttpResponse& response) {
  json parsed = json::parse(response.body, nullptr, false);
  if (parsed.is_discarded()) {
    ADD_FAILURE() << "not JSON (" << response.status << "): " << response.body;
    return json::object();
  }
  return parsed;
}

// Sends a review and checks the envelope every answer must have; returns response.response.
json review(TlsClient& client, const std::string& target, const Review& review) {
  HttpRequest request = post(target, review_body(review));
  // What kube-apiserver's webhook client sends besides.
  request.headers = {{"Accept", "application/json, */*"},
                     {"User-Agent", "kube-apiserver-admission"},
                     {"Accept-Encoding", "gzip"}};
  const HttpResponse response = send(client, request);
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(contains(response.header("content-type"), "application/json"));
  const json answer = body_json(response);
  EXPECT_EQ(answer.value("apiVersion", ""), "admission.k8s.io/v1") << answer;
  EXPECT_EQ(answer.value("kind", ""), "AdmissionReview") << answer;
  if (!answer.contains("response") || !answer["response"].is_object()) {
    ADD_FAILURE() << "no response in " << answer;
    return json::object();
  }
  EXPECT_EQ(answer["response"].value("uid", ""), review.uid);
  return answer["response"];
}

// The value of one series in Prometheus text ("name{labels}"), or nullopt.
std::optional<double> metric(const std::string& text, const std::string& series) {
  const std::string wanted = series + " ";
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    if (text.compare(at, wanted.size(), wanted) == 0) {
      return std::stod(text.substr(at + wanted.size(), end - at - wanted.size()));
    }
    at = end + 1;
  }
  return std::nullopt;
}

std::string metrics_text(TlsClient& client) {
  const HttpResponse response = send(client, get("/metrics"));
  EXPECT_EQ(response.status, 200);
  return response.body;
}

// Polls a condition every 20 ms until it holds or `timeout` passes.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

std::vector<json> decisions_for(const WebhookServer& server, const std::string& uid) {
  std::vector<json> found;
  for (const json& line : server.log_lines("admission review")) {
    if (line.value("uid", "") == uid) found.push_back(line);
  }
  return found;
}

std::unique_ptr<WebhookServer> serve(const std::vector<std::string>& args = {},
                                     const fs::path& certs = shared_certs(),
                                     std::uint16_t port = 0) {
  return std::make_unique<WebhookServer>(certs / "tls.crt", certs / "tls.key", args, port);
}

// --- 1. decisions ----------------------------------------------------------------------------

TEST(WebhookServer, AllowsDeniesAndWarnsLikeTheApiServerExpects) {
  const auto server = serve();
  const auto client = connected(*server);

  // A pinned Pod in production: allowed, nothing to say.
  const json allowed =
      review(*client, "/validate/production", pod_review("production", "nginx:1.25.3"));
  EXPECT_EQ(allowed.value("allowed", false), true) << allowed;
  EXPECT_FALSE(allowed.contains("status")) << allowed;
  EXPECT_FALSE(allowed.contains("warnings")) << allowed;

  // nginx:latest in production: denied with 403 and a message naming the rule and the field.
  const json denied =
      review(*client, "/validate/production", pod_review("production", "nginx:latest"));
  EXPECT_EQ(denied.value("allowed", true), false) << denied;
  ASSERT_TRUE(denied.contains("status")) << denied;
  EXPECT_EQ(denied["status"].value("code", 0), 403) << denied;
  const std::string message = denied["status"].value("message", "");
  EXPECT_TRUE(contains(message, "[pinned-images]")) << message;
  EXPECT_TRUE(contains(message, "spec.containers[0].image")) << message;
  EXPECT_TRUE(contains(message, "nginx:latest")) << message;

  // kube-apiserver appends its timeout to the webhook's URL.
  const json with_query =
      review(*client, "/validate/production?timeout=10s", pod_review("production", "nginx:latest"));
  EXPECT_EQ(with_query.value("allowed", true), false) << with_query;

  // The same object in staging (warn mode): allowed, with warnings kubectl prints.
  const json warned = review(*client, "/validate/staging", pod_review("staging", "nginx:latest"));
  EXPECT_EQ(warned.value("allowed", false), true) << warned;
  ASSERT_TRUE(warned.contains("warnings") && warned["warnings"].is_array()) << warned;
  ASSERT_FALSE(warned["warnings"].empty());
  EXPECT_TRUE(contains(warned["warnings"][0].get<std::string>(), "pinned-images")) << warned;
}

TEST(WebhookServer, EnvironmentComesFromThePathOrTheNamespace) {
  const auto server = serve();
  const auto client = connected(*server);

  // POST /validate: the policy maps the namespace to an environment.
  EXPECT_EQ(
      review(*client, "/validate", pod_review("production", "nginx:latest")).value("allowed", true),
      false);
  const json staging = review(*client, "/validate", pod_review("staging", "nginx:latest"));
  EXPECT_EQ(staging.value("allowed", false), true) << staging;
  EXPECT_TRUE(staging.contains("warnings")) << staging;
  const json dev = review(*client, "/validate", pod_review("dev", "nginx:latest"));
  EXPECT_EQ(dev.value("allowed", false), true) << dev;
  EXPECT_FALSE(dev.contains("warnings")) << dev;
  // A namespace no environment claims is production (defaultEnvironment).
  EXPECT_EQ(
      review(*client, "/validate", pod_review("team-a", "nginx:latest")).value("allowed", true),
      false);
  // The path wins over the namespace: the API server's namespaceSelector decided.
  EXPECT_EQ(review(*client, "/validate/production", pod_review("dev", "nginx:latest"))
                .value("allowed", true),
            false);

  // An environment the policy does not have: 404 with a JSON error, on a kept connection.
  const HttpResponse unknown =
      send(*client, post("/validate/qa", review_body(pod_review("qa", "nginx:latest"))));
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(body_json(unknown).value("error", ""),
            "environment \"qa\" is not in the policy: the webhook configuration's path and the "
            "policy disagree")
      << unknown.body;
  EXPECT_TRUE(unknown.keep_alive);
  EXPECT_EQ(review(*client, "/validate/production", pod_review("production", "nginx:1.25.3"))
                .value("allowed", false),
            true);
}

TEST(WebhookServer, DeleteConnectSubresourcesAndDryRun) {
  const auto server = serve();
  const auto client = connected(*server);

  // DELETE: object null, oldObject the Pod; allowed without evaluation.
  Review deletion;
  deletion.operation = "DELETE";
  deletion.old_object = pod("web", "production", "nginx:latest");
  EXPECT_EQ(review(*client, "/validate/production", deletion).value("allowed", false), true);

  // CONNECT pods/exec: the object is the PodExecOptions.
  Review exec;
  exec.operation = "CONNECT";
  exec.sub_resource = "exec";
  exec.kind = {{"group", ""}, {"version", "v1"}, {"kind", "PodExecOptions"}};
  exec.object = {{"kind", "PodExecOptions"},
                 {"apiVersion", "v1"},
                 {"stdin", true},
                 {"tty", true},
                 {"container", "app"},
                 {"command", json::array({"sh"})}};
  EXPECT_EQ(review(*client, "/validate/production", exec).value("allowed", false), true);

  // UPDATE of pods/status (the kubelet): the subresource is not the workload's spec.
  Review status;
  status.operation = "UPDATE";
  status.sub_resource = "status";
  status.object = pod("web", "production", "nginx:latest");
  status.old_object = status.object;
  status.object["status"]["phase"] = "Running";
  EXPECT_EQ(review(*client, "/validate/production", status).value("allowed", false), true);

  // UPDATE of the Pod itself is evaluated.
  Review update = pod_review("production", "nginx:latest");
  update.operation = "UPDATE";
  update.old_object = pod("web", "production", "nginx:1.25.3");
  EXPECT_EQ(review(*client, "/validate/production", update).value("allowed", true), false);

  // dryRun: evaluated the same, and the log says it was a dry run.
  Review dry = pod_review("production", "nginx:latest");
  dry.dry_run = true;
  const json denied = review(*client, "/validate/production", dry);
  EXPECT_EQ(denied.value("allowed", true), false) << denied;
  EXPECT_EQ(denied["status"].value("code", 0), 403) << denied;
  const auto line =
      server->wait_for_log([&](const json& l) { return l.value("uid", "") == dry.uid; }, 2s);
  ASSERT_TRUE(line) << server->log_text();
  EXPECT_EQ(line->value("dryRun", false), true) << *line;
  EXPECT_EQ(line->value("decision", ""), "deny") << *line;
}

// --- 2. bad input ----------------------------------------------------------------------------

TEST(WebhookServer, BadInputGetsTheRightStatusAndNeverHangs) {
  const auto server = serve({"--max-body-bytes", "4096"});
  const std::string good = review_body(pod_review("production", "nginx:1.25.3"));
  auto client = connected(*server);

  // The error says what is wrong and what to do (the README's error table quotes these);
  // `message` is how it starts.
  const auto expect_json_error = [](const HttpResponse& response, int status,
                                    const std::string& message) {
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_TRUE(contains(response.header("content-type"), "application/json"))
        << response.header("content-type");
    const json error = json::parse(response.body, nullptr, false);
    ASSERT_TRUE(error.is_object() && error.contains("error") && error["error"].is_string())
        << response.body;
    const std::string said = error["error"];
    EXPECT_EQ(said.substr(0, message.size()), message);
  };

  // Wrong method: 405 with Allow.
  HttpResponse response = send(*client, get("/validate"));
  expect_json_error(response, 405, "method GET is not allowed on /validate; use POST");
  EXPECT_EQ(response.header("allow"), "POST");
  response = send(*client, post("/healthz", "{}"));
  expect_json_error(response, 405, "method POST is not allowed on /healthz; use GET");
  EXPECT_EQ(response.header("allow"), "GET");

  // Unknown paths: 404.
  const std::string no_such_path =
      "no such path; admission reviews go to POST /validate or /validate/<environment>";
  expect_json_error(send(*client, post("/mutate", good)), 404, no_such_path);
  expect_json_error(send(*client, post("/validate/Production", good)), 404, no_such_path);
  expect_json_error(send(*client, get("/")), 404, no_such_path);

  // Wrong content type: 415.
  HttpRequest text = post("/validate", good);
  text.content_type = "text/plain";
  const std::string not_json = "Content-Type must be application/json (an AdmissionReview)";
  expect_json_error(send(*client, text), 415, not_json);
  HttpRequest none = post("/validate", good);
  none.content_type.clear();
  expect_json_error(send(*client, none), 415, not_json);
  // application/json with parameters and odd case is JSON.
  HttpRequest charset = post("/validate/production", good);
  charset.content_type = "Application/JSON; charset=utf-8";
  EXPECT_EQ(send(*client, charset).status, 200);

  // Malformed JSON and JSON that is not an AdmissionReview: 400, connection kept.
  const std::string not_a_review =
      "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview (the webhook "
      "configuration must list admissionReviewVersions: [v1])";
  const std::string not_an_object = "expected an AdmissionReview object";
  const std::string bad_uid = "request.uid is missing or not a string";
  const std::pair<std::string, std::string> bad_bodies[] = {
      {R"({"apiVersion": "admission.k8s.io/v1", "kind": )", "malformed JSON at byte 47"},
      {"{]", "malformed JSON at byte 2"},
      {"", "malformed JSON at byte 1"},
      {R"({"hello": "world"})", not_a_review},
      {"[1, 2, 3]", not_an_object},
      {R"("AdmissionReview")", not_an_object},
      {R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview",)"
       R"("request":{"uid":"x"}})",
       not_a_review},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})",
       "AdmissionReview has no request object"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":42}})",
       bad_uid},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
       R"("request":{"uid":"u1","operation":"CREATE","object":"nope"}})",
       "request.object is missing or not an object for CREATE"},
      {std::string(200, '[') + std::string(200, ']'), not_an_object}};
  for (const auto& [body, message] : bad_bodies) {
    response = send(*client, post("/validate/production", body));
    expect_json_error(response, 400, message);
    EXPECT_TRUE(response.keep_alive) << body;
  }
  EXPECT_EQ(send(*client, post("/validate/production", good)).status, 200)
      << "the connection survives 4xx answers";

  // Not HTTP at all, and headers past the limit: answered, then closed.
  {
    auto garbage = connected(*server);
    ASSERT_EQ(garbage->write_raw("HELLO THERE\r\n\r\n"), "");
    std::string error;
    const auto answer = garbage->read_response(&error);
    ASSERT_TRUE(answer) << error;
    EXPECT_EQ(answer->status, 400);
    EXPECT_TRUE(garbage->wait_closed(2s));
  }
  {
    auto huge = connected(*server);
    HttpRequest request = post("/validate", good);
    request.headers.emplace_back("X-Padding", std::string(20000, 'p'));
    response = send(*huge, request);
    EXPECT_EQ(response.status, 431) << response.body;
  }

  // After all that: still up, still answering.
  ASSERT_TRUE(server->running()) << server->log_text();
  client = connected(*server);
  const json answer =
      review(*client, "/validate/production", pod_review("production", "nginx:latest"));
  EXPECT_EQ(answer.value("allowed", true), false);
}

TEST(WebhookServer, BodiesOverTheLimitAre413) {
  const auto server = serve({"--max-body-bytes", "4096"});
  const auto padded = [](std::size_t size) {
    Review request = pod_review("production", "nginx:1.25.3");
    request.object["metadata"]["annotations"]["padding"] = "";
    const std::size_t base = review_body(request).size();
    request.object["metadata"]["annotations"]["padding"] = std::string(size - base, 'p');
    return review_body(request);
  };
  // Exactly at the limit: served.
  {
    const auto client = connected(*server);
    const std::string body = padded(4096);
    ASSERT_EQ(body.size(), 4096U);
    EXPECT_EQ(send(*client, post("/validate", body)).status, 200);
  }
  // One byte over, by Content-Length and chunked: 413 with a JSON error; the connection closes.
  for (const bool chunked : {false, true}) {
    SCOPED_TRACE(chunked ? "chunked body" : "Content-Length body");
    const auto client = connected(*server);
    HttpRequest request = post("/validate", padded(4097));
    request.chunked = chunked;
    const HttpResponse response = send(*client, request);
    EXPECT_EQ(response.status, 413) << response.body;
    EXPECT_EQ(body_json(response).value("error", ""), "request body exceeds 4096 bytes")
        << response.body;
    EXPECT_FALSE(response.keep_alive);
    EXPECT_TRUE(client->wait_closed(2s));
  }
  // Counted like any other answer.
  const auto client = connected(*server);
  const std::string metrics = metrics_text(*client);
  EXPECT_EQ(
      metric(metrics, R"(em_guard_requests_total{path="/validate",code="413",decision="none"})"),
      2.0)
      << metrics;
}

TEST(WebhookServer, DeeplyNestedReviewIsNoCrash) {
  // 2 million nested arrays (4 MB, under the default 8 MiB limit) where a rule looks.
  const std::size_t depth = 2'000'000;
  Review request = pod_review("production", "nginx:1.25.3");
  request.object["spec"]["containers"][0]["image"] = "PLACEHOLDER";
  std::string body = review_body(request);
  body.replace(body.find("\"PLACEHOLDER\""), std::string("\"PLACEHOLDER\"").size(),
               std::string(depth, '[') + std::string(depth, ']'));
  const auto server = serve();
  // Building and freeing 2 million nodes takes ~0.5 s optimised and many seconds under
  // AddressSanitizer: wait for the answer as long as that takes.
  TlsClientOptions patient = client_options();
  patient.timeout = std::chrono::seconds(60);
  const auto client = connected(*server, patient);
  const HttpResponse response = send(*client, post("/validate", body));
  EXPECT_TRUE(response.status == 200 || response.status == 400) << response.status;
  ASSERT_TRUE(server->running()) << server->log_text();
  EXPECT_EQ(send(*client, get("/healthz")).status, 200);
}

TEST(WebhookServer, UnknownPathsDoNotGrowTheMetricLabels) {
  const auto server = serve();
  const auto client = connected(*server);
  // Paths nobody configured (scanners, typos, a stale webhook configuration) must not each
  // become a label value: the label set has to stay bounded.
  for (int i = 0; i < 5; ++i) {
    const std::string review = review_body(pod_review("production", "nginx:1.25.3"));
    EXPECT_EQ(send(*client, post("/validate/scan-" + std::to_string(i), review)).status, 404);
    EXPECT_EQ(send(*client, post("/probe-" + std::to_string(i), review)).status, 404);
  }
  const std::string metrics = metrics_text(*client);
  EXPECT_FALSE(contains(metrics, "/probe-")) << metrics;
  EXPECT_FALSE(contains(metrics, "/validate/scan-"))
      << "each unknown /validate/<environment> got its own path label:\n"
      << metrics;
}

// --- 3. keep-alive ---------------------------------------------------------------------------

TEST(WebhookServer, FiftyRequestsOnOneConnection) {
  const auto server = serve();
  const auto client = connected(*server);
  const std::string serial = client->peer_serial();
  for (int i = 0; i < 50; ++i) {
    if (i % 10 == 9) {
      const HttpResponse health = send(*client, get("/healthz"));
      EXPECT_EQ(health.status, 200);
      EXPECT_TRUE(health.keep_alive);
      continue;
    }
    const bool bad = i % 3 == 0;
    const Review request = pod_review(i % 2 == 0 ? "production" : "staging",
                                      bad ? "nginx:latest" : "nginx:1.25." + std::to_string(i));
    const json answer = review(*client, "/validate", request);
    const bool denied = bad && request.namespace_ == "production";
    EXPECT_EQ(answer.value("allowed", denied), !denied) << i << ": " << answer;
  }
  EXPECT_EQ(client->peer_serial(), serial) << "still the same TLS session";
  // Two requests in one write (pipelined): two answers, in order.
  const Review first = pod_review("production", "nginx:latest");
  const Review second = pod_review("production", "nginx:1.25.3");
  ASSERT_EQ(client->write_raw(TlsClient::serialize(post("/validate", review_body(first))) +
                              TlsClient::serialize(post("/validate", review_body(second)))),
            "");
  for (const Review* expected : {&first, &second}) {
    std::string error;
    const auto answer = client->read_response(&error);
    ASSERT_TRUE(answer) << error;
    const json body = body_json(*answer);
    EXPECT_EQ(body["response"].value("uid", ""), expected->uid);
    EXPECT_EQ(body["response"].value("allowed", expected == &first), expected == &second);
  }
  // A client that says Connection: close gets its answer, then the server closes.
  HttpRequest last = get("/readyz");
  last.keep_alive = false;
  const HttpResponse closing = send(*client, last);
  EXPECT_EQ(closing.status, 200);
  EXPECT_EQ(closing.header("connection"), "close");
  EXPECT_TRUE(client->wait_closed(2s));
}

// --- 4. probes and metrics -------------------------------------------------------------------

TEST(WebhookServer, HealthReadinessAndMetrics) {
  const auto server = serve();
  const auto client = connected(*server);

  HttpResponse health = send(*client, get("/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(send(*client, get("/readyz")).status, 200);

  EXPECT_EQ(review(*client, "/validate/production", pod_review("production", "nginx:1.25.3"))
                .value("allowed", false),
            true);
  EXPECT_EQ(review(*client, "/validate/production", pod_review("production", "nginx:latest"))
                .value("allowed", true),
            false);
  EXPECT_EQ(review(*client, "/validate/staging", pod_review("staging", "nginx:latest"))
                .value("allowed", false),
            true);
  EXPECT_EQ(send(*client, post("/validate/production", "{nope")).status, 400);

  std::string metrics = metrics_text(*client);
  const double failures_before =
      metric(metrics, "em_guard_tls_handshake_failures_total").value_or(-1);
  EXPECT_GE(failures_before, 0) << metrics;

  // Plain HTTP to the TLS port: the handshake fails, the connection closes, the counter rises.
  const PlainExchange plain =
      plain_exchange(server->port(), "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", 3s);
  EXPECT_EQ(plain.error, "");
  EXPECT_TRUE(plain.closed) << "the server closes a connection that does not speak TLS";
  EXPECT_FALSE(contains(plain.received, "HTTP/1.1 200")) << plain.received;
  EXPECT_TRUE(eventually(
      [&] {
        metrics = metrics_text(*client);
        return metric(metrics, "em_guard_tls_handshake_failures_total").value_or(-1) >
               failures_before;
      },
      2s))
      << metrics;

  const HttpResponse response = send(*client, get("/metrics"));
  EXPECT_TRUE(contains(response.header("content-type"), "text/plain"))
      << response.header("content-type");
  metrics = response.body;
  for (const char* series :
       {R"(em_guard_requests_total{path="/validate/production",code="200",decision="allow"})",
        R"(em_guard_requests_total{path="/validate/production",code="200",decision="deny"})",
        R"(em_guard_requests_total{path="/validate/staging",code="200",decision="warn"})",
        R"(em_guard_requests_total{path="/validate/production",code="400",decision="error"})",
        R"(em_guard_requests_total{path="/healthz",code="200",decision="none"})",
        R"(em_guard_requests_total{path="/readyz",code="200",decision="none"})"}) {
    EXPECT_EQ(metric(metrics, series), 1.0) << series << "\n" << metrics;
  }
  EXPECT_EQ(metric(metrics, R"(em_guard_denials_total{rule="pinned-images"})"), 1.0) << metrics;
  // The histogram: cumulative buckets up to +Inf, which equals the count.
  const auto count = metric(metrics, "em_guard_request_duration_seconds_count");
  ASSERT_TRUE(count) << metrics;
  EXPECT_GE(*count, 8.0) << metrics;
  EXPECT_EQ(metric(metrics, R"(em_guard_request_duration_seconds_bucket{le="+Inf"})"), count);
  EXPECT_LE(
      metric(metrics, R"(em_guard_request_duration_seconds_bucket{le="0.001"})").value_or(1e9),
      *count);
  EXPECT_GT(metric(metrics, "em_guard_request_duration_seconds_sum").value_or(-1), 0.0);
  EXPECT_TRUE(contains(metrics, "# TYPE em_guard_request_duration_seconds histogram")) << metrics;
  // This very request is in flight while the metrics are rendered.
  EXPECT_GE(metric(metrics, "em_guard_in_flight_requests").value_or(-1), 1.0) << metrics;
  EXPECT_TRUE(contains(metrics, "# TYPE em_guard_in_flight_requests gauge")) << metrics;
  // The serving certificate's notAfter, in the future.
  const CertificateInfo certificate = read_certificate(shared_certs() / "tls.crt");
  EXPECT_EQ(metric(metrics, "em_guard_certificate_expiry_timestamp_seconds"),
            static_cast<double>(certificate.not_after))
      << metrics;
  EXPECT_GT(certificate.not_after, static_cast<std::int64_t>(std::time(nullptr)));
}

// --- 5. slow clients -------------------------------------------------------------------------

// Sends `prefix` at once and then `trickle` one byte a second until the server hangs up (or
// 8 s pass); the milliseconds from the first trickled byte to the hang-up, -1 if it never came.
struct Trickle {
  long long closed_after = -1;
  int bytes = 0;
};
Trickle trickle(TlsClient& client, const std::string& prefix, const std::string& bytes) {
  Trickle result;
  if (!prefix.empty() && !client.write_raw(prefix).empty()) return result;
  const auto started = Clock::now();
  for (std::size_t i = 0; i < bytes.size() && elapsed_ms(started) < 8000; ++i) {
    if (!client.write_raw(bytes.substr(i, 1)).empty() || client.wait_closed(1s)) {
      result.closed_after = elapsed_ms(started);
      return result;
    }
    ++result.bytes;
  }
  return result;
}

TEST(WebhookServer, SlowClientsAreCutOffWhileOthersAreServed) {
  const auto server = serve({"--read-header-timeout", "2", "--read-body-timeout", "2"});
  const std::string request = TlsClient::serialize(
      post("/validate/production", review_body(pod_review("production", "nginx:1.25.3"))));
  const std::size_t headers_end = request.find("\r\n\r\n") + 4;

  // Headers one byte a second; the whole header and then the body one byte a second; and a
  // client that says nothing at all.
  auto slow_headers = connected(*server);
  auto slow_body = connected(*server);
  auto silent = connected(*server);
  Trickle headers_result, body_result;
  std::thread headers_thread([&] { headers_result = trickle(*slow_headers, "", request); });
  std::thread body_thread([&] {
    body_result = trickle(*slow_body, request.substr(0, headers_end), request.substr(headers_end));
  });
  const auto silent_started = Clock::now();

  // Meanwhile a normal client is served at once, several times.
  auto normal = connected(*server);
  for (int i = 0; i < 5; ++i) {
    const auto started = Clock::now();
    EXPECT_EQ(review(*normal, "/validate/production", pod_review("production", "nginx:1.25.3"))
                  .value("allowed", false),
              true);
    EXPECT_LT(elapsed_ms(started), 1000);
    std::this_thread::sleep_for(200ms);
  }
  const bool silent_closed = silent->wait_closed(4s);
  const long long silent_after = elapsed_ms(silent_started);
  headers_thread.join();
  body_thread.join();

  // Each cut off after its 2 s timeout: not before, and not much later.
  for (const auto& [what, result] : {std::pair{"headers", headers_result}, {"body", body_result}}) {
    EXPECT_GE(result.closed_after, 1500) << what << ": " << result.bytes << " bytes sent";
    EXPECT_LE(result.closed_after, 3500) << what << ": " << result.bytes << " bytes sent";
    EXPECT_LE(result.bytes, 4) << what;
  }
  EXPECT_TRUE(silent_closed);
  EXPECT_GE(silent_after, 1500);
  EXPECT_LE(silent_after, 3500);
  // The normal client kept its connection (idle timeout is 60 s) and is still served.
  EXPECT_EQ(send(*normal, get("/healthz")).status, 200);
  EXPECT_TRUE(server->running());
}

TEST(WebhookServer, OnlyTls12AndNewerWithModernCiphers) {
  const auto server = serve();
  const auto handshake = [&](const std::string& protocol, const std::string& ciphers) {
    TlsClientOptions options = client_options();
    options.protocol = protocol;
    options.ciphers = ciphers;
    TlsClient client(options);
    const std::string error = client.connect(server->port());
    return error.empty() ? client.protocol() : "failed: " + error;
  };
  EXPECT_EQ(handshake("TLSv1.3", ""), "TLSv1.3");
  EXPECT_EQ(handshake("TLSv1.2", ""), "TLSv1.2");
  EXPECT_EQ(handshake("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"), "TLSv1.2");
  EXPECT_EQ(handshake("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305"), "TLSv1.2");
  // Older protocols and CBC suites are refused (the client is made willing to use them).
  EXPECT_TRUE(contains(handshake("TLSv1.1", "DEFAULT:@SECLEVEL=0"), "failed"));
  EXPECT_TRUE(
      contains(handshake("TLSv1.2", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:@SECLEVEL=0"),
               "failed"));
  const auto client = connected(*server);
  EXPECT_EQ(send(*client, get("/healthz")).status, 200);
}

// --- 6. certificate rotation -----------------------------------------------------------------

TEST(WebhookServer, RotatedCertificateIsServedToNewConnections) {
  const TempDir certs;
  const std::string ca_bundle = make_certs(certs.path());
  const std::string first = read_certificate(certs.path() / "tls.crt").serial;
  const auto server = serve({"--reload-interval-ms", "50"}, certs.path());
  const auto loaded = server->wait_for_log("serving certificate loaded", 1s);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->value("serial", ""), first);

  const auto kept = connected(*server, client_options(certs.path()));
  EXPECT_EQ(kept->peer_serial(), first);
  EXPECT_EQ(send(*kept, get("/healthz")).status, 200);

  // cert-manager renews: same CA (the caBundle stays valid), new key and certificate.
  EXPECT_EQ(make_certs(certs.path()), ca_bundle);
  const CertificateInfo second = read_certificate(certs.path() / "tls.crt");
  ASSERT_NE(second.serial, first);
  std::string seen;
  EXPECT_TRUE(eventually(
      [&] {
        TlsClient probe(client_options(certs.path()));
        if (!probe.connect(server->port()).empty()) return false;
        seen = probe.peer_serial();
        return seen == second.serial;
      },
      5s))
      << "new handshakes still see " << seen << ", not " << second.serial;
  // The open connection keeps working with the certificate it was made with.
  EXPECT_EQ(send(*kept, get("/healthz")).status, 200);
  EXPECT_EQ(kept->peer_serial(), first);
  {
    const auto fresh = connected(*server, client_options(certs.path()));
    EXPECT_EQ(review(*fresh, "/validate/production", pod_review("production", "nginx:1.25.3"))
                  .value("allowed", false),
              true);
    EXPECT_EQ(metric(metrics_text(*fresh), "em_guard_certificate_expiry_timestamp_seconds"),
              static_cast<double>(second.not_after));
  }

  // A bad pair: a key that does not belong to the certificate. Rejected, the old one stays.
  const std::size_t rejections_before =
      server->log_lines("new certificate rejected; still serving the previous one").size();
  const fs::path stray = certs.path() / "stray.key";
  openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
           stray.string()});
  replace_file(certs.path() / "tls.key", read_file(stray));
  EXPECT_TRUE(eventually(
      [&] {
        return server->log_lines("new certificate rejected; still serving the previous one")
                   .size() > rejections_before;
      },
      5s))
      << server->log_text();
  const auto after = connected(*server, client_options(certs.path()));
  EXPECT_EQ(after->peer_serial(), second.serial);
  EXPECT_EQ(send(*after, get("/healthz")).status, 200);
  EXPECT_EQ(send(*kept, get("/healthz")).status, 200);
  EXPECT_GE(
      metric(metrics_text(*after), R"(em_guard_reloads_total{file="certificate",result="failure"})")
          .value_or(0),
      1.0);
  EXPECT_TRUE(server->running());
}

TEST(WebhookServer, CertificateRotatedBySymlinkSwapLikeAKubeletSecretVolume) {
  // A Secret volume: tls.crt -> ..data/tls.crt, ..data -> a timestamped directory; an update
  // writes a new directory and renames a new ..data link over the old one.
  const TempDir dir;
  const fs::path volume = dir.path() / "volume";
  fs::create_directories(volume);
  make_certs(dir.path() / "one");
  fs::create_directories(dir.path() / "two");
  fs::copy_file(dir.path() / "one/ca.crt", dir.path() / "two/ca.crt");
  fs::copy_file(dir.path() / "one/ca.key", dir.path() / "two/ca.key");
  make_certs(dir.path() / "two");
  fs::create_directory_symlink(dir.path() / "one", volume / "..data");
  fs::create_symlink("..data/tls.crt", volume / "tls.crt");
  fs::create_symlink("..data/tls.key", volume / "tls.key");
  const auto server = serve({"--reload-interval-ms", "50"}, volume);
  const TlsClientOptions options = client_options(dir.path() / "one");
  EXPECT_EQ(connected(*server, options)->peer_serial(),
            read_certificate(dir.path() / "one/tls.crt").serial);

  fs::create_directory_symlink(dir.path() / "two", volume / "..data_tmp");
  fs::rename(volume / "..data_tmp", volume / "..data");
  const std::string second = read_certificate(dir.path() / "two/tls.crt").serial;
  std::string seen;
  EXPECT_TRUE(eventually(
      [&] {
        TlsClient probe(options);
        if (!probe.connect(server->port()).empty()) return false;
        seen = probe.peer_serial();
        return seen == second;
      },
      5s))
      << seen << " " << server->log_text();
}

// --- 7. policy reload ------------------------------------------------------------------------

TEST(WebhookServer, PolicyFileReloadsAndABadOneIsRejected) {
  const std::string enforce = read_file(fs::path(EMGUARD_SOURCE_DIR) / "policies/default.yaml");
  std::string warn = enforce;
  const std::size_t mode = warn.find("mode: enforce");
  ASSERT_NE(mode, std::string::npos);
  warn.replace(mode, std::string("mode: enforce").size(), "mode: warn");

  const TempDir dir;
  const fs::path policy = dir.path() / "policy.yaml";
  write_file(policy, warn);
  const auto server = serve({"--policy", policy.string(), "--reload-interval-ms", "50"});
  const auto client = connected(*server);
  const json warned = review(*client, "/validate", pod_review("production", "nginx:latest"));
  EXPECT_EQ(warned.value("allowed", false), true) << warned;
  EXPECT_TRUE(warned.contains("warnings")) << warned;

  replace_file(policy, enforce);
  EXPECT_TRUE(eventually(
      [&] {
        return review(*client, "/validate", pod_review("production", "nginx:latest"))
                   .value("allowed", true) == false;
      },
      5s))
      << server->log_text();
  EXPECT_TRUE(server->wait_for_log("policy reloaded", 1s));

  // A policy that does not load: logged, the enforcing one stays.
  replace_file(policy, enforce + "\nrules: {pinned-images: {requireDigest: perhaps}}\n");
  EXPECT_TRUE(server->wait_for_log("new policy rejected; still enforcing the previous one", 5s))
      << server->log_text();
  const json still = review(*client, "/validate", pod_review("production", "nginx:latest"));
  EXPECT_EQ(still.value("allowed", true), false) << still;
  replace_file(policy, "apiVersion: em-guard.io/v1alpha1\nkind: Policy\nenvironments: [\n");
  EXPECT_TRUE(eventually(
      [&] {
        return server->log_lines("new policy rejected; still enforcing the previous one").size() >=
               2;
      },
      5s))
      << server->log_text();
  EXPECT_EQ(
      review(*client, "/validate", pod_review("production", "nginx:latest")).value("allowed", true),
      false);
  EXPECT_GE(
      metric(metrics_text(*client), R"(em_guard_reloads_total{file="policy",result="failure"})")
          .value_or(0),
      2.0);
}

// A policy file replaced by an alias bomb (about 900 bytes that expand to 9^9 strings) used to
// take the whole process down, every replica at once; it is refused within the reload and the
// previous policy keeps being enforced.
TEST(WebhookServer, PolicyReplacedByAnAliasBombKeepsThePreviousOne) {
  const std::string enforce = read_file(fs::path(EMGUARD_SOURCE_DIR) / "policies/default.yaml");
  const TempDir dir;
  const fs::path policy = dir.path() / "policy.yaml";
  write_file(policy, enforce);
  const auto server = serve({"--policy", policy.string(), "--reload-interval-ms", "50"});
  const auto client = connected(*server);
  ASSERT_EQ(
      review(*client, "/validate", pod_review("production", "nginx:latest")).value("allowed", true),
      false);

  std::string bomb = "apiVersion: em-guard.io/v1alpha1\nkind: Policy\nlaughs:\n";
  bomb += "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level < 10; ++level) {
    const std::string previous = "*l" + std::to_string(level - 1);
    bomb += "  l" + std::to_string(level) + ": &l" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) bomb += (i == 0 ? "" : ", ") + previous;
    bomb += "]\n";
  }
  ASSERT_LT(bomb.size(), 1000u);
  replace_file(policy, bomb);
  const auto rejected =
      server->wait_for_log("new policy rejected; still enforcing the previous one", 5s);
  ASSERT_TRUE(rejected) << server->log_text();
  EXPECT_TRUE(contains(rejected->value("error", ""), "excessive aliasing")) << *rejected;
  const json still = review(*client, "/validate", pod_review("production", "nginx:latest"));
  EXPECT_EQ(still.value("allowed", true), false) << still;
  EXPECT_TRUE(server->running()) << server->log_text();
}

// --- 8. SIGTERM --------------------------------------------------------------------------------

TEST(WebhookServer, SigtermDrainsRequestsInFlight) {
  const auto server = serve({"--shutdown-grace", "10"});

  // Clients that have sent their headers and half their body.
  struct InFlight {
    std::unique_ptr<TlsClient> client;
    Review review;
    std::string rest;
  };
  std::vector<InFlight> in_flight;
  for (int i = 0; i < 4; ++i) {
    InFlight entry{connected(*server),
                   pod_review("production", i % 2 == 0 ? "nginx:latest" : "nginx:1.25.3"),
                   {}};
    const std::string bytes = TlsClient::serialize(post("/validate", review_body(entry.review)));
    const std::size_t split = bytes.find("\r\n\r\n") + 4 + 100;
    ASSERT_EQ(entry.client->write_raw(bytes.substr(0, split)), "");
    entry.rest = bytes.substr(split);
    in_flight.push_back(std::move(entry));
  }
  // A readiness probe whose headers are not finished yet.
  const auto probe = connected(*server);
  ASSERT_EQ(probe->write_raw("GET /readyz HTTP/1.1\r\nHost: localhost\r\n"), "");
  // An idle keep-alive connection, which the drain closes.
  const auto idle = connected(*server);
  EXPECT_EQ(send(*idle, get("/readyz")).status, 200);
  std::this_thread::sleep_for(200ms);  // the server has read what there is

  const auto signalled = Clock::now();
  server->signal(SIGTERM);
  ASSERT_TRUE(server->wait_for_log("draining", 2s)) << server->log_text();
  EXPECT_TRUE(eventually([&] { return connection_refused(server->port()); }, 2s))
      << "the listener closes at once";
  EXPECT_TRUE(idle->wait_closed(2s)) << "idle connections are closed";
  idle->close();
  EXPECT_TRUE(server->running()) << "requests in flight keep the server up";

  // They finish sending; every one gets its whole answer, and Connection: close.
  ASSERT_EQ(probe->write_raw("\r\n"), "");
  std::string error;
  const auto ready = probe->read_response(&error);
  ASSERT_TRUE(ready) << error;
  EXPECT_EQ(ready->status, 503);
  EXPECT_FALSE(ready->keep_alive);
  for (InFlight& entry : in_flight) {
    ASSERT_EQ(entry.client->write_raw(entry.rest), "");
  }
  for (std::size_t i = 0; i < in_flight.size(); ++i) {
    InFlight& entry = in_flight[i];
    const auto answer = entry.client->read_response(&error);
    ASSERT_TRUE(answer) << i << ": " << error;
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->header("connection"), "close");
    EXPECT_FALSE(answer->keep_alive);
    const json body = json::parse(answer->body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << answer->body;
    EXPECT_EQ(body["response"].value("uid", ""), entry.review.uid);
    EXPECT_EQ(body["response"].value("allowed", false), i % 2 == 1) << body;
    EXPECT_TRUE(entry.client->wait_closed(2s));
    entry.client->close();
  }
  probe->close();

  const auto code = server->wait_exit(10s);
  ASSERT_TRUE(code) << "still running 10 s (the grace period) after SIGTERM";
  EXPECT_EQ(*code, 0) << server->log_text();
  EXPECT_LT(elapsed_ms(signalled), 10000);
  EXPECT_EQ(server->log_lines("stopped").size(), 1U) << server->log_text();
  EXPECT_TRUE(server->log_lines("grace period over; closing remaining connections").empty())
      << server->log_text();
  EXPECT_TRUE(connection_refused(server->port()));
}

TEST(WebhookServer, GracePeriodEndsADrainThatClientsDoNotFinish) {
  const auto server = serve({"--shutdown-grace", "1"});
  // A request that never completes (its body timeout, 10 s, is longer than the grace).
  const auto stuck = connected(*server);
  const std::string bytes = TlsClient::serialize(
      post("/validate", review_body(pod_review("production", "nginx:1.25.3"))));
  ASSERT_EQ(stuck->write_raw(bytes.substr(0, bytes.size() / 2)), "");
  std::this_thread::sleep_for(100ms);

  const auto signalled = Clock::now();
  server->signal(SIGTERM);
  const auto code = server->wait_exit(5s);
  ASSERT_TRUE(code) << "still running 5 s after SIGTERM with a 1 s grace period";
  EXPECT_GE(elapsed_ms(signalled), 900);
  EXPECT_LE(elapsed_ms(signalled), 3000);
  EXPECT_EQ(*code, 0) << server->log_text();
  EXPECT_EQ(server->log_lines("grace period over; closing remaining connections").size(), 1U)
      << server->log_text();
  EXPECT_TRUE(stuck->wait_closed(2s));
}

// --- 9. client certificates --------------------------------------------------------------------

TEST(WebhookServer, ClientCertificateRequiredWithClientCa) {
  const TempDir dir;
  const fs::path ca = shared_certs() / "ca.crt";
  const fs::path ext = dir.path() / "client.cnf";
  write_file(ext,
             "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n"
             "extendedKeyUsage = clientAuth\n");
  openssl({"req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-keyout", (dir.path() / "client.key").string(), "-out",
           (dir.path() / "client.csr").string(), "-subj", "/CN=kube-apiserver"});
  openssl({"x509", "-req", "-in", (dir.path() / "client.csr").string(), "-CA", ca.string(),
           "-CAkey", (shared_certs() / "ca.key").string(), "-CAcreateserial", "-CAserial",
           (dir.path() / "ca.srl").string(), "-out", (dir.path() / "client.crt").string(), "-days",
           "2", "-sha256", "-extfile", ext.string()});
  // A certificate from some other CA.
  openssl({"req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:prime256v1", "-keyout", (dir.path() / "stranger.key").string(),
           "-out", (dir.path() / "stranger.crt").string(), "-days", "2", "-subj", "/CN=stranger",
           "-addext", "extendedKeyUsage=clientAuth"});

  const auto server = serve({"--client-ca", ca.string()});
  const auto refused = [&](const TlsClientOptions& options) {
    TlsClient client(options);
    std::string error = client.connect(server->port());
    // With TLS 1.3 the client learns of the rejection only when it reads.
    if (error.empty() && client.request(get("/healthz"), &error)) return false;
    return !error.empty();
  };
  EXPECT_TRUE(refused(client_options())) << "no client certificate";
  TlsClientOptions stranger = client_options();
  stranger.client_certificate = dir.path() / "stranger.crt";
  stranger.client_key = dir.path() / "stranger.key";
  EXPECT_TRUE(refused(stranger)) << "a certificate from another CA";

  TlsClientOptions trusted = client_options();
  trusted.client_certificate = dir.path() / "client.crt";
  trusted.client_key = dir.path() / "client.key";
  const auto client = connected(*server, trusted);
  EXPECT_EQ(review(*client, "/validate/production", pod_review("production", "nginx:latest"))
                .value("allowed", true),
            false);
  EXPECT_GE(metric(metrics_text(*client), "em_guard_tls_handshake_failures_total").value_or(0),
            2.0);
}

// --- 10. connection cap ------------------------------------------------------------------------

TEST(WebhookServer, ConnectionsBeyondTheCapAreClosedAtOnce) {
  const auto server = serve({"--max-connections", "2"});
  const auto first = connected(*server);
  const auto second = connected(*server);
  EXPECT_EQ(send(*first, get("/healthz")).status, 200);
  EXPECT_EQ(send(*second, get("/healthz")).status, 200);

  TlsClient third(client_options());
  ASSERT_EQ(third.connect_tcp(server->port()), "");
  const auto started = Clock::now();
  EXPECT_NE(third.handshake(), "");
  EXPECT_LT(elapsed_ms(started), 1000) << "closed at once, not after a timeout";

  const std::string metrics = metrics_text(*first);
  EXPECT_EQ(metric(metrics, "em_guard_rejected_connections_total"), 1.0) << metrics;
  EXPECT_EQ(metric(metrics, "em_guard_open_connections"), 2.0) << metrics;

  // A slot that frees up is taken again.
  second->close();
  EXPECT_TRUE(eventually(
      [&] {
        TlsClient again(client_options());
        return again.connect(server->port()).empty() && again.request(get("/healthz"));
      },
      2s));
}

// --- 11. logs ----------------------------------------------------------------------------------

TEST(WebhookServer, OneLogLinePerDecisionAndNoSecrets) {
  const auto server = serve({"--log-level", "debug"});
  const auto client = connected(*server);

  const Review allowed = pod_review("production", "nginx:1.25.3");
  const Review denied = pod_review("production", "nginx:latest");
  review(*client, "/validate/production", allowed);
  review(*client, "/validate/production", denied);

  // Objects carrying secret values: a ConfigMap (one key the gateway rule reads), a Secret.
  Review config_map;
  config_map.kind = {{"group", ""}, {"version", "v1"}, {"kind", "ConfigMap"}};
  config_map.resource = {{"group", ""}, {"version", "v1"}, {"resource", "configmaps"}};
  config_map.name = "settings";
  config_map.object = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {{"name", "settings"},
        {"namespace", "production"},
        {"managedFields",
         managed_fields("v1", {{"f:data", {{"f:DB_PASSWORD", json::object()}}}})}}},
      {"data",
       {{"DB_PASSWORD", kSecret},
        {"PUBLIC_URL", std::string("http://") + kSecret + ".example.com"},
        {"CORS_ALLOWED_ORIGINS", std::string("http://") + kSecret + ".example.com"}}}};
  review(*client, "/validate", config_map);
  Review secret = config_map;
  secret.uid = next_uid();
  secret.kind["kind"] = "Secret";
  secret.resource["resource"] = "secrets";
  secret.object["kind"] = "Secret";
  secret.object["type"] = "Opaque";
  secret.object["stringData"] = {{"password", kSecret}};
  secret.object["data"] = {{"password", "czNjcjN0LWRvLW5vdC1sb2c="}};
  review(*client, "/validate", secret);

  // Malformed bodies around the secret: the parse error must not quote it.
  const std::string prefix = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                             R"("request":{"uid":"broken","object":{"data":{"password":")";
  for (const std::string& body :
       {prefix + kSecret + "\" \"" + kSecret + "\"}}}}", prefix + kSecret,
        prefix + kSecret + "\"}, " + kSecret + "}}}", prefix + kSecret + "\xff\xfe\"}}}}"}) {
    EXPECT_EQ(send(*client, post("/validate/production", body)).status, 400) << body;
  }
  ASSERT_TRUE(server->running());
  EXPECT_EQ(send(*client, get("/healthz")).status, 200);

  // One line per decision, with what an operator needs.
  for (const Review* request : {&allowed, &denied}) {
    const std::vector<json> lines = decisions_for(*server, request->uid);
    ASSERT_EQ(lines.size(), 1U) << server->log_text();
    const json& line = lines[0];
    EXPECT_EQ(line.value("kind", ""), "Pod") << line;
    EXPECT_EQ(line.value("namespace", ""), "production") << line;
    EXPECT_EQ(line.value("name", ""), "web") << line;
    EXPECT_EQ(line.value("operation", ""), "CREATE") << line;
    EXPECT_EQ(line.value("environment", ""), "production") << line;
    ASSERT_TRUE(line.contains("latencyMs") && line["latencyMs"].is_number()) << line;
    EXPECT_GE(line["latencyMs"].get<double>(), 0.0);
    EXPECT_LT(line["latencyMs"].get<double>(), 1000.0);
    ASSERT_TRUE(line.contains("rules") && line["rules"].is_array()) << line;
    if (request == &allowed) {
      EXPECT_EQ(line.value("decision", ""), "allow") << line;
      EXPECT_TRUE(line["rules"].empty()) << line;
    } else {
      EXPECT_EQ(line.value("decision", ""), "deny") << line;
      EXPECT_EQ(line["rules"], json::array({"pinned-images"})) << line;
    }
  }
  EXPECT_EQ(decisions_for(*server, config_map.uid).size(), 1U);
  EXPECT_EQ(decisions_for(*server, secret.uid).size(), 1U);

  const std::string log = server->log_text();
  EXPECT_FALSE(contains(log, kSecret)) << log;
  EXPECT_FALSE(contains(log, "czNjcjN0LWRvLW5vdC1sb2c")) << log;
  for (const json& line : server->log_lines()) {
    EXPECT_FALSE(line.contains("unparsed")) << "every log line is JSON: " << line;
    EXPECT_TRUE(line.contains("time") && line.contains("level") && line.contains("msg")) << line;
  }
}

TEST(WebhookServer, LogLevelWarnKeepsOnlyProblems) {
  // Without the "listening" line (info), the port is chosen here.
  const auto server =
      serve({"--log-level", "warn"}, shared_certs(), static_cast<std::uint16_t>(free_port()));
  const auto client = connected(*server);
  const Review denied = pod_review("production", "nginx:latest");
  review(*client, "/validate/production", denied);
  EXPECT_EQ(send(*client, post("/validate/production", "{]")).status, 400);
  EXPECT_EQ(send(*client, get("/healthz")).status, 200);
  EXPECT_TRUE(decisions_for(*server, denied.uid).empty()) << server->log_text();
  EXPECT_TRUE(server->log_lines("listening").empty()) << server->log_text();
  // A review that could not be read is a warning.
  const auto bad = server->wait_for_log(
      [](const json& line) {
        return line.value("msg", "") == "admission review" && line.value("decision", "") == "error";
      },
      2s);
  ASSERT_TRUE(bad) << server->log_text();
  EXPECT_EQ(bad->value("level", ""), "warn");
  EXPECT_EQ(bad->value("code", 0), 400);
}

}  // namespace
}  // namespace emguard::test
