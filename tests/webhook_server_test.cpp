// `em-guard-webhook serve` end to end: the real binary on 127.0.0.1 with certificates from
// certs-dev/make-certs.sh, spoken to over TLS by a real client with the AdmissionReview bodies
// the Kubernetes API server sends. Every wait is bounded, so a hung server fails a test instead
// of hanging the suite.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/bad_reviews.hpp"
#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"
#include "tests/support/tls_client.hpp"
#include "tests/support/webhook_server.hpp"

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

  // An environment the policy does not have: refused as a review (allowed: false, code 404),
  // not with a bare 404 that `failurePolicy: Ignore` would turn into an admission.
  const json unknown = review(*client, "/validate/qa", pod_review("qa", "nginx:1.25.3"));
  EXPECT_EQ(unknown.value("allowed", true), false) << unknown;
  EXPECT_EQ(unknown["status"].value("code", 0), 404) << unknown;
  EXPECT_EQ(unknown["status"].value("message", ""),
            "environment \"qa\" is not in the policy (it has: production, staging, dev): the "
            "webhook configuration's path /validate/qa and the policy disagree")
      << unknown;
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

  // `kubectl debug --image=busybox:latest`: an UPDATE of pods/ephemeralcontainers whose
  // object is the Pod with the new ephemeral container (ephemeral containers cannot be set on
  // CREATE). Evaluated, and denied in production.
  Review debug;
  debug.operation = "UPDATE";
  debug.sub_resource = "ephemeralcontainers";
  debug.old_object = pod("web", "production", "nginx:1.25.3");
  debug.object = debug.old_object;
  debug.object["spec"]["ephemeralContainers"] = json::array({{{"name", "debugger-x7k2q"},
                                                              {"image", "busybox:latest"},
                                                              {"imagePullPolicy", "Always"},
                                                              {"stdin", true},
                                                              {"tty", true},
                                                              {"targetContainerName", "app"},
                                                              {"terminationMessagePolicy", "File"},
                                                              {"resources", json::object()}}});
  const json debugged = review(*client, "/validate/production", debug);
  EXPECT_EQ(debugged.value("allowed", true), false) << debugged;
  EXPECT_TRUE(
      contains(debugged["status"].value("message", ""), "spec.ephemeralContainers[0].image"))
      << debugged;

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
  // A review sent to a /validate/ path the policy lacks is refused as a review.
  const json refused =
      review(*client, "/validate/Production", pod_review("production", "nginx:1.25.3"));
  EXPECT_EQ(refused.value("allowed", true), false) << refused;
  EXPECT_EQ(refused["status"].value("code", 0), 404) << refused;
  expect_json_error(send(*client, get("/")), 404, no_such_path);

  // Wrong content type: 415 for a body that is no review; a review is refused as a review.
  HttpRequest text = post("/validate", "hello");
  text.content_type = "text/plain";
  const std::string not_json = "Content-Type must be application/json (an AdmissionReview)";
  expect_json_error(send(*client, text), 415, not_json);
  HttpRequest none = post("/validate", good);
  none.content_type.clear();
  response = send(*client, none);
  EXPECT_EQ(response.status, 200) << response.body;
  const json typeless = body_json(response)["response"];
  EXPECT_EQ(typeless.value("allowed", true), false) << typeless;
  EXPECT_EQ(typeless["status"].value("code", 0), 415) << typeless;
  // application/json with parameters and odd case is JSON.
  HttpRequest charset = post("/validate/production", good);
  charset.content_type = "Application/JSON; charset=utf-8";
  EXPECT_EQ(send(*client, charset).status, 200);

  // Malformed JSON and JSON that is not an AdmissionReview: 400, connection kept.
  for (const auto& [body, message] : test::bodies_that_are_no_review()) {
    response = send(*client, post("/validate/production", body));
    expect_json_error(response, 400, message);
    EXPECT_TRUE(response.keep_alive) << body;
  }
  EXPECT_EQ(send(*client, post("/validate/production", good)).status, 200)
      << "the connection survives 4xx answers";

  // Once the uid is known, whatever is wrong is a refusal in the review, with the code.
  const std::pair<std::string, int> failed_reviews[] = {
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
       R"("request":{"uid":"u1","operation":"CREATE","object":"nope"}})",
       400},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
       R"("request":{"uid":"u1","operation":"create","object":{}}})",
       400},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
       R"("request":{"uid":"u1","object":{}}})",
       400}};
  for (const auto& [body, code] : failed_reviews) {
    response = send(*client, post("/validate/production", body));
    EXPECT_EQ(response.status, 200) << body;
    const json answer = body_json(response);
    EXPECT_EQ(answer["response"].value("uid", ""), "u1") << answer;
    EXPECT_EQ(answer["response"].value("allowed", true), false) << answer;
    EXPECT_EQ(answer["response"]["status"].value("code", 0), code) << answer;
  }
  // A v1beta1 review is refused in v1beta1, the version the API server asked in.
  response =
      send(*client, post("/validate/production",
                         R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview",)"
                         R"("request":{"uid":"x"}})"));
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body_json(response).value("apiVersion", ""), "admission.k8s.io/v1beta1");
  EXPECT_EQ(body_json(response)["response"].value("allowed", true), false);

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
    // A review: refused in an AdmissionReview (allowed: false, code 404), with HTTP 200.
    EXPECT_EQ(send(*client, post("/validate/scan-" + std::to_string(i), review)).status, 200);
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

  const std::string bomb =
      "apiVersion: em-guard.io/v1alpha1\nkind: Policy\nlaughs:\n" + alias_bomb_lines("  ", "l", 10);
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

TEST(WebhookServer, ConnectionsBeyondTheCapEvictAnIdleOneOrAreClosedAtOnce) {
  const auto server = serve({"--max-connections", "2"});
  // Two connections busy with a request (a body still arriving): nothing to evict.
  const std::string request = TlsClient::serialize(
      post("/validate", review_body(pod_review("production", "nginx:1.25.3"))));
  const auto first = connected(*server);
  const auto second = connected(*server);
  ASSERT_EQ(first->write_raw(request.substr(0, request.size() - 10)), "");
  ASSERT_EQ(second->write_raw(request.substr(0, request.size() - 10)), "");
  std::this_thread::sleep_for(200ms);

  TlsClient third(client_options());
  ASSERT_EQ(third.connect_tcp(server->port()), "");
  const auto started = Clock::now();
  EXPECT_NE(third.handshake(), "");
  EXPECT_LT(elapsed_ms(started), 1000) << "closed at once, not after a timeout";

  // Once they are answered they are idle, and a new connection takes the place of one of them.
  // One after the other, so that the first has been idle the longest.
  std::string error;
  ASSERT_EQ(first->write_raw(request.substr(request.size() - 10)), "");
  ASSERT_TRUE(first->read_response(&error)) << error;
  std::this_thread::sleep_for(50ms);
  ASSERT_EQ(second->write_raw(request.substr(request.size() - 10)), "");
  ASSERT_TRUE(second->read_response(&error)) << error;
  const auto fourth = connected(*server);
  const std::string metrics = metrics_text(*fourth);
  EXPECT_EQ(metric(metrics, "em_guard_rejected_connections_total"), 1.0) << metrics;
  EXPECT_EQ(metric(metrics, "em_guard_evicted_connections_total"), 1.0) << metrics;
  EXPECT_EQ(metric(metrics, "em_guard_open_connections"), 2.0) << metrics;
  // The longest idle one went: the first.
  EXPECT_TRUE(first->wait_closed(2s));
  EXPECT_FALSE(second->wait_closed(100ms));
  EXPECT_EQ(send(*second, get("/healthz")).status, 200);
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

// --- 12. resources bounded as a whole (issue 11) ----------------------------------------------

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer slows the server several times over and keeps freed memory in quarantine:
// the attack tests' deadlines stretch and their peak-RSS bounds do not apply there (the ci build
// and bench/run-attacks measure them).
constexpr int kSlowdown = 5;
constexpr bool kRssBoundsApply = false;
#else
constexpr int kSlowdown = 1;
constexpr bool kRssBoundsApply = true;
#endif

// A "kB" field of /proc/PID/status ("VmHWM:", "VmRSS:"), -1 when unreadable.
long status_kb(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  }
  return -1;
}

// What a fresh client (the API server) gets while an attack runs: one review on a new
// connection, answered within `limit`.
void expect_api_server_served(const WebhookServer& server, std::chrono::milliseconds limit) {
  const auto started = Clock::now();
  TlsClientOptions options = client_options();
  options.timeout = limit;
  TlsClient client(options);
  ASSERT_EQ(client.connect(server.port()), "") << "a fresh client cannot connect";
  const json answer =
      review(client, "/validate/production", pod_review("production", "nginx:latest"));
  EXPECT_EQ(answer.value("allowed", true), false);
  EXPECT_LT(elapsed_ms(started), limit.count());
}

// A TCP connection from `source` (a loopback address) to 127.0.0.1:port that says nothing:
// an idle TLS client that never starts its handshake. -1 on failure.
int silent_connection(const std::string& source, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<const sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(WebhookServer, BodiesInFlightShareOneMemoryBudget) {
  // The issue's attack with the default limits: 30 connections without client certificates,
  // each declaring an 8 MiB - 1 body and sending all of it but the last byte, which it holds
  // back. Per request that is under --max-body-bytes; together it was 240 MB (RSS 10 -> 254 MB
  // against the chart's 256Mi). The body timeout is raised so that the bodies stay in flight
  // while the test measures.
  const auto server = serve({"--read-body-timeout", "60"});
  const long before_kb = status_kb(server->pid(), "VmHWM:");
  const std::size_t body_size = 8 * 1024 * 1024 - 1;
  std::string request = TlsClient::serialize(post("/validate", std::string(body_size, ' ')));
  request.pop_back();  // the last byte never comes

  constexpr int kAttackers = 30;
  std::vector<std::unique_ptr<TlsClient>> attackers;
  for (int i = 0; i < kAttackers; ++i) attackers.push_back(connected(*server));
  std::vector<std::string> written(kAttackers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kAttackers; ++i) {
    threads.emplace_back([&, i] { written[i] = attackers[i]->write_raw(request); });
  }
  for (std::thread& thread : threads) thread.join();

  // Those that found no room waited a second and were told so: 503, Retry-After, closed.
  int refused = 0, held = 0;
  for (int i = 0; i < kAttackers; ++i) {
    if (attackers[i]->wait_closed(100ms)) {
      ++refused;
    } else {
      EXPECT_EQ(written[i], "") << "an admitted body was written whole";
      ++held;
    }
  }
  // 64 MiB by default, 7/8 of it for large bodies: 7 bodies of 8 MiB - 1.
  EXPECT_EQ(held, 7);
  EXPECT_EQ(refused, kAttackers - 7);
  {
    auto late = connected(*server);
    ASSERT_EQ(late->write_raw(request.substr(0, request.find("\r\n\r\n") + 4)), "");
    std::string error;
    const auto answer = late->read_response(&error);
    ASSERT_TRUE(answer) << error;
    EXPECT_EQ(answer->status, 503);
    EXPECT_EQ(answer->header("retry-after"), "1");
    EXPECT_EQ(body_json(*answer).value("error", ""),
              "the server is busy: the request bodies in flight hold its memory budget; retry");
    EXPECT_TRUE(late->wait_closed(2s));
  }

  // The API server's everyday reviews have a reserve of their own: served at once.
  expect_api_server_served(*server, kSlowdown * 2000ms);
  const auto client = connected(*server);
  const std::string metrics = metrics_text(*client);
  EXPECT_EQ(metric(metrics, "em_guard_request_body_bytes_in_flight"), 7.0 * body_size) << metrics;
  EXPECT_EQ(
      metric(metrics, R"(em_guard_requests_total{path="/validate",code="503",decision="none"})"),
      kAttackers - 7 + 1)
      << metrics;

  const long after_kb = status_kb(server->pid(), "VmHWM:");
  std::printf("[ measured ] 30 x 8 MiB-1 bodies: server VmHWM %ld KB -> %ld KB\n", before_kb,
              after_kb);
  // The budget (64 MiB) and the TLS and parser state of ~40 connections, far from 256 MiB.
  if (kRssBoundsApply) {
    EXPECT_LT(after_kb - before_kb, 96L * 1024) << before_kb << " -> " << after_kb;
  }

  // Once the held bodies go, their budget is free again.
  attackers.clear();
  EXPECT_TRUE(eventually(
      [&] { return metric(metrics_text(*client), "em_guard_request_body_bytes_in_flight") == 0.0; },
      3s));
  ASSERT_TRUE(server->running()) << server->log_text();
}

TEST(WebhookServer, ChunkedBodiesAreChargedAsTheyGrow) {
  // A chunked body declares no size: it is charged one read ahead of what it holds, so the
  // budget refuses it as it grows past its share, not after the memory is taken.
  const auto server = serve({"--max-body-bytes", "1048576", "--max-body-budget-bytes", "2097152",
                             "--read-body-timeout", "30"});
  // Large bodies may hold 7/8 of 2 MiB: one 1 MiB chunked body fits, a second does not.
  const std::string header =
      "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";  // 64 KiB
  std::string almost_1_mib;
  for (int i = 0; i < 15; ++i) almost_1_mib += chunk;
  auto first = connected(*server);
  ASSERT_EQ(first->write_raw(header + almost_1_mib), "");
  std::this_thread::sleep_for(300ms);
  auto second = connected(*server);
  ASSERT_EQ(second->write_raw(header), "");
  // The server answers while the body is still being sent: write and read at once.
  std::string written;
  std::string error;
  const auto answer = second->write_while_reading(almost_1_mib, &written, &error);
  ASSERT_TRUE(answer) << error;
  EXPECT_EQ(answer->status, 503) << answer->body;
  // The first, still within its share, completes and is answered (a 400: spaces are no JSON).
  ASSERT_EQ(first->write_raw("0\r\n\r\n"), "");
  const auto first_answer = first->read_response(&error);
  ASSERT_TRUE(first_answer) << error;
  EXPECT_EQ(first_answer->status, 400) << first_answer->body;
  expect_api_server_served(*server, kSlowdown * 2000ms);
}

TEST(WebhookServer, IdleKeepAliveConnectionsNeverLockOutTheApiServer) {
  // The issue's attack: one client opens more idle keep-alive connections than the cap (600
  // against 512 by default) and holds them for the whole idle timeout. At the cap a new
  // connection now evicts an idle one, from the client with the most connections first.
  const auto server = serve({"--max-connections", "40"});
  const long before_kb = status_kb(server->pid(), "VmHWM:");
  // The API server's connection, open before the attack and idle between reviews.
  const auto api_server = connected(*server);
  review(*api_server, "/validate/production", pod_review("production", "nginx:1.25.3"));

  TlsClientOptions attacker_options = client_options();
  attacker_options.source_address = "127.0.0.2";
  std::vector<std::unique_ptr<TlsClient>> attackers;
  int answered = 0;
  for (int i = 0; i < 100; ++i) {
    attackers.push_back(std::make_unique<TlsClient>(attacker_options));
    if (attackers.back()->connect(server->port()).empty() &&
        attackers.back()->request(get("/healthz"))) {
      ++answered;
    }
  }
  EXPECT_EQ(answered, 100) << "every new connection gets in";
  // Fresh clients get in at once, and the API server's idle connection was not the one evicted:
  // the attacker's address held the most connections.
  expect_api_server_served(*server, kSlowdown * 1000ms);
  EXPECT_EQ(review(*api_server, "/validate/production", pod_review("production", "nginx:latest"))
                .value("allowed", true),
            false);
  int still_open = 0;
  for (const auto& attacker : attackers) still_open += attacker->wait_closed(10ms) ? 0 : 1;
  EXPECT_LE(still_open, 39);
  const std::string metrics = metrics_text(*api_server);
  EXPECT_GE(metric(metrics, "em_guard_evicted_connections_total").value_or(0), 100 - 39.0)
      << metrics;
  EXPECT_LE(metric(metrics, "em_guard_open_connections").value_or(1e9), 41.0) << metrics;
  std::printf("[ measured ] 100 idle keep-alive connections at a cap of 40: VmHWM %ld -> %ld KB\n",
              before_kb, status_kb(server->pid(), "VmHWM:"));
}

TEST(WebhookServer, IdleTlsConnectionsNeverLockOutTheApiServer) {
  // The issue's attack with the default cap (512): 2,000 TCP connections that never start
  // their TLS handshake. They used to fill the cap and refuse new clients until the handshake
  // timeout (5 s) freed slots.
  const auto server = serve();
  const long before_kb = status_kb(server->pid(), "VmHWM:");
  const auto api_server = connected(*server);
  review(*api_server, "/validate/production", pod_review("production", "nginx:1.25.3"));
  std::vector<int> silent;
  for (int i = 0; i < 2000; ++i) {
    const int fd = silent_connection("127.0.0.2", server->port());
    if (fd >= 0) silent.push_back(fd);
  }
  EXPECT_EQ(silent.size(), 2000U);
  const auto attacked = Clock::now();
  expect_api_server_served(*server, kSlowdown * 1000ms);
  EXPECT_LT(elapsed_ms(attacked), kSlowdown * 1000);
  // The open idle keep-alive connection of another address survives the flood.
  EXPECT_EQ(review(*api_server, "/validate/production", pod_review("production", "nginx:latest"))
                .value("allowed", true),
            false);
  const std::string metrics = metrics_text(*api_server);
  EXPECT_LE(metric(metrics, "em_guard_open_connections").value_or(1e9), 513.0) << metrics;
  EXPECT_GE(metric(metrics, "em_guard_evicted_connections_total").value_or(0), 2000 - 511.0)
      << metrics;
  std::printf("[ measured ] 2000 idle TCP connections: VmHWM %ld -> %ld KB\n", before_kb,
              status_kb(server->pid(), "VmHWM:"));
  for (const int fd : silent) ::close(fd);
}

TEST(WebhookServer, MalformedFramingGets400AndTheConnectionCloses) {
  const auto server = serve();
  const std::string good = review_body(pod_review("production", "nginx:1.25.3"));
  const auto exchange = [&](const std::string& bytes) {
    auto client = connected(*server);
    EXPECT_EQ(client->write_raw(bytes), "");
    std::string error;
    std::optional<HttpResponse> answer = client->read_response(&error);
    EXPECT_TRUE(answer) << error << " for " << bytes.substr(0, 120);
    EXPECT_TRUE(client->wait_closed(2s)) << bytes.substr(0, 120);
    return answer.value_or(HttpResponse{});
  };
  const std::string start =
      "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";

  // A chunk size that is not hex: 400 (the connection used to close without an answer).
  HttpResponse answer = exchange(start + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(answer.status, 400) << answer.body;
  EXPECT_EQ(body_json(answer).value("error", ""), "malformed chunked body");

  // chunked not last: the length cannot be known (RFC 9112 section 6.3). Beast 1.74 read no
  // body and answered the body as a second request; now one 400 and nothing more.
  const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
  answer = exchange(start + "Transfer-Encoding: chunked, identity\r\n\r\n" + smuggled);
  EXPECT_EQ(answer.status, 400) << answer.body;
  EXPECT_EQ(body_json(answer).value("error", ""),
            "Transfer-Encoding must end in chunked (RFC 9112 section 6.3)");
  answer = exchange(start + "Transfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(answer.status, 400) << answer.body;

  // HTTP/1.1 needs exactly one Host (RFC 9112 section 3.2).
  const std::string no_host =
      "POST /validate HTTP/1.1\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(good.size()) + "\r\n\r\n" + good;
  answer = exchange(no_host);
  EXPECT_EQ(answer.status, 400) << answer.body;
  EXPECT_EQ(body_json(answer).value("error", ""), "an HTTP/1.1 request needs a Host header");
  answer = exchange(
      "POST /validate HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(answer.status, 400) << answer.body;
  EXPECT_EQ(body_json(answer).value("error", ""), "a request must have one Host header");

  // HTTP/1.0 has no Host requirement: served (and closed, as HTTP/1.0 without keep-alive).
  answer = exchange("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(answer.status, 200) << answer.body;

  const auto client = connected(*server);
  const std::string metrics = metrics_text(*client);
  EXPECT_EQ(
      metric(metrics, R"(em_guard_requests_total{path="/validate",code="400",decision="none"})"),
      5.0)
      << metrics;
  ASSERT_TRUE(server->running()) << server->log_text();
}

TEST(WebhookServer, WarningsOfAHugeStagingReviewStayBounded) {
  // The issue's review: 120,000 containers with `:stable` images in staging (warn mode), which
  // came back as 31.8 MB with 120,000 warnings (610 MB RSS). Now the warnings are capped like
  // denials: a few KiB however many images warn.
  constexpr int kImages = 120'000;
  Review request = pod_review("staging", "nginx:stable");
  json containers = json::array();
  for (int i = 0; i < kImages; ++i) {
    containers.push_back({{"name", "c" + std::to_string(i)}, {"image", "nginx:stable"}});
  }
  request.object["spec"]["containers"] = std::move(containers);
  request.object["metadata"].erase("managedFields");
  const std::string body = review_body(request);
  ASSERT_LT(body.size(), 8U * 1024 * 1024);
  const auto server = serve();
  const long before_kb = status_kb(server->pid(), "VmHWM:");
  TlsClientOptions patient = client_options();
  patient.timeout = std::chrono::seconds(60);
  const auto client = connected(*server, patient);
  const HttpResponse response = send(*client, post("/validate/staging", body));
  ASSERT_EQ(response.status, 200) << response.body.substr(0, 300);
  EXPECT_LT(response.body.size(), 8U * 1024);
  const json answer = body_json(response)["response"];
  EXPECT_EQ(answer.value("allowed", false), true);
  ASSERT_TRUE(answer.contains("warnings"));
  const json& warnings = answer["warnings"];
  ASSERT_GE(warnings.size(), 2U);
  EXPECT_LE(warnings.size(), 21U);
  EXPECT_EQ(std::string(warnings.back()),
            "em-guard: ... and " + std::to_string(kImages - (warnings.size() - 1)) +
                " more warnings (run em-guard-webhook check on the manifest for all of them)");
  const long after_kb = status_kb(server->pid(), "VmHWM:");
  std::printf(
      "[ measured ] %d warned images (%zu-byte review): %zu-byte answer, VmHWM %ld -> %ld KB\n",
      kImages, body.size(), response.body.size(), before_kb, after_kb);
}

}  // namespace
}  // namespace emguard::test
