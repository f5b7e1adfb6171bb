#include "bench/webhook_load.hpp"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

namespace webhook_load {

using tcp = asio::ip::tcp;

namespace {

// A completion token that stores the error instead of throwing. Made fresh for every operation:
// Boost 1.74's composed operations (Beast) cannot take the token as a const lvalue.
auto into(beast::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

tcp::endpoint loopback(int port) {
  return {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)};
}

const nlohmann::json& labels() {
  static const nlohmann::json value = {{"app.kubernetes.io/name", "em-runtime"},
                                       {"app.kubernetes.io/instance", "em-runtime"}};
  return value;
}

}  // namespace

// --- reviews ---------------------------------------------------------------------------------

nlohmann::json admission_review(const std::string& uid, const nlohmann::json& kind,
                                const nlohmann::json& resource, const nlohmann::json& object) {
  nlohmann::json managed = nlohmann::json::array(
      {{{"manager", "helm"},
        {"operation", "Update"},
        {"apiVersion", object["apiVersion"]},
        {"time", "2026-11-24T09:00:00Z"},
        {"fieldsType", "FieldsV1"},
        {"fieldsV1", {{"f:metadata", {{"f:labels", {{".", nlohmann::json::object()}}}}}}}}});
  nlohmann::json with_fields = object;
  with_fields["metadata"]["managedFields"] = managed;
  with_fields["metadata"]["uid"] = "6f0c7a52-b7a4-4b8e-9a44-0d1a2b3c4d5e";
  with_fields["metadata"]["resourceVersion"] = "123456";
  return {
      {"apiVersion", "admission.k8s.io/v1"},
      {"kind", "AdmissionReview"},
      {"request",
       {{"uid", uid},
        {"kind", kind},
        {"resource", resource},
        {"requestKind", kind},
        {"requestResource", resource},
        {"name", object["metadata"]["name"]},
        {"namespace", "em-runtime"},
        {"operation", "CREATE"},
        {"userInfo",
         {{"username", "system:serviceaccount:argocd:argocd-application-controller"},
          {"uid", "0b7c2f0e-1111-2222-3333-444455556666"},
          {"groups",
           {"system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"}}}},
        {"object", with_fields},
        {"oldObject", nullptr},
        {"dryRun", false},
        {"options", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "CreateOptions"}}}}}};
}

nlohmann::json container(const std::string& name, const std::string& image) {
  return {
      {"name", name},
      {"image", image},
      {"ports", {{{"containerPort", 8000}, {"protocol", "TCP"}}}},
      {"env",
       {{{"name", "LOG_LEVEL"}, {"value", "info"}},
        {{"name", "PUBLIC_URL"}, {"value", "https://em.example.com"}},
        {{"name", "DATABASE_PASSWORD"},
         {"valueFrom", {{"secretKeyRef", {{"name", "em-runtime-secrets"}, {"key", "pw"}}}}}}}},
      {"resources",
       {{"requests", {{"cpu", "100m"}, {"memory", "256Mi"}}}, {"limits", {{"memory", "512Mi"}}}}},
      {"readinessProbe", {{"httpGet", {{"path", "/health"}, {"port", 8000}}}}}};
}

nlohmann::json pod_review(const std::string& uid, const std::string& image) {
  const nlohmann::json pod = {{"apiVersion", "v1"},
                              {"kind", "Pod"},
                              {"metadata",
                               {{"name", "em-runtime-utils-5d8f7c9b6-x2k4p"},
                                {"namespace", "em-runtime"},
                                {"labels", labels()}}},
                              {"spec", {{"containers", {container("utils", image)}}}}};
  return admission_review(uid, {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}},
                          {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}, pod);
}

std::vector<Review> realistic_reviews() {
  const nlohmann::json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata",
       {{"name", "em-runtime-governance"}, {"namespace", "em-runtime"}, {"labels", labels()}}},
      {"spec",
       {{"replicas", 2},
        {"selector", {{"matchLabels", labels()}}},
        {"template",
         {{"metadata", {{"labels", labels()}}},
          {"spec",
           {{"initContainers", {container("migrate", "ghcr.io/emergenceai/em-governance:1.8.2")}},
            {"containers",
             {container("governance", "ghcr.io/emergenceai/em-governance:1.8.2"),
              container("proxy", "docker.io/library/nginx:1.27.3"),
              container(
                  "exporter",
                  "quay.io/prometheus/statsd-exporter@sha256:"
                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")}}}}}}}}};
  const nlohmann::json route = {
      {"apiVersion", "gateway.networking.k8s.io/v1"},
      {"kind", "HTTPRoute"},
      {"metadata", {{"name", "em-runtime"}, {"namespace", "em-runtime"}, {"labels", labels()}}},
      {"spec",
       {{"parentRefs",
         {{{"name", "em-runtime-gateway"}, {"namespace", "gateway"}, {"sectionName", "https"}}}},
        {"hostnames", {"em.example.com"}},
        {"rules",
         {{{"matches", {{{"path", {{"type", "PathPrefix"}, {"value", "/api/governance"}}}}}},
           {"backendRefs", {{{"name", "em-runtime-governance"}, {"port", 8000}}}}},
          {{"matches", {{{"path", {{"type", "PathPrefix"}, {"value", "/keycloak"}}}}}},
           {"backendRefs", {{{"name", "keycloak"}, {"port", 8080}}}}}}}}}};
  const std::string deployment_uid = "b1f6c1d2-0001-4000-8000-000000000001";
  const std::string pod_uid = "b1f6c1d2-0002-4000-8000-000000000002";
  const std::string route_uid = "b1f6c1d2-0003-4000-8000-000000000003";
  return {
      {deployment_uid,
       admission_review(
           deployment_uid, {{"group", "apps"}, {"version", "v1"}, {"kind", "Deployment"}},
           {{"group", "apps"}, {"version", "v1"}, {"resource", "deployments"}}, deployment)
           .dump(),
       true},
      {pod_uid, pod_review(pod_uid, "ghcr.io/emergenceai/em-utils:1.8.2").dump(), true},
      {route_uid,
       admission_review(
           route_uid,
           {{"group", "gateway.networking.k8s.io"}, {"version", "v1"}, {"kind", "HTTPRoute"}},
           {{"group", "gateway.networking.k8s.io"}, {"version", "v1"}, {"resource", "httproutes"}},
           route)
           .dump(),
       true}};
}

Verdict read_answer(const std::string& uid, const Response& response) {
  if (response.result() != http::status::ok) {
    return {"HTTP " + std::to_string(response.result_int()) + ": " +
            response.body().substr(0, 200)};
  }
  const nlohmann::json answer = nlohmann::json::parse(response.body(), nullptr, false);
  if (answer.is_discarded()) return {"the body is not JSON"};
  if (!answer.is_object() || answer.value("apiVersion", "") != "admission.k8s.io/v1" ||
      answer.value("kind", "") != "AdmissionReview" || !answer.contains("response") ||
      !answer["response"].is_object()) {
    return {"not an admission.k8s.io/v1 AdmissionReview response"};
  }
  const nlohmann::json& result = answer["response"];
  const auto found = result.find("uid");
  if (found == result.end() || *found != uid) {
    return {"uid " + (found == result.end() ? "(none)" : found->dump()) + " instead of " + uid};
  }
  const auto allowed = result.find("allowed");
  if (allowed == result.end() || !allowed->is_boolean()) return {"no boolean allowed field"};
  return {"", allowed->get<bool>()};
}

std::string check_answer(const Review& review, const Response& response) {
  const Verdict verdict = read_answer(review.uid, response);
  if (!verdict.failure.empty()) return verdict.failure;
  if (verdict.allowed != review.allowed) {
    return std::string(verdict.allowed ? "allowed" : "denied") + " where the policy " +
           (review.allowed ? "allows" : "denies") + " " + review.uid;
  }
  return {};
}

// --- the server ------------------------------------------------------------------------------

int free_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, loopback(0));
  return acceptor.local_endpoint().port();
}

pid_t start_process(const std::vector<std::string>& argv, int stderr_fd) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    const int null = ::open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(stderr_fd >= 0 ? stderr_fd : null, STDERR_FILENO);
    // Nothing else of this process leaks into the child: its fd count is its own.
    for (int fd = STDERR_FILENO + 1; fd < 1024; ++fd) ::close(fd);
    std::vector<std::string> args = argv;
    std::vector<char*> pointers;
    for (std::string& arg : args) pointers.push_back(arg.data());
    pointers.push_back(nullptr);
    execv(pointers[0], pointers.data());
    _exit(127);
  }
  return pid;
}

bool wait_until_listening(int port, std::chrono::milliseconds limit) {
  const Clock::time_point deadline = Clock::now() + limit;
  for (;;) {
    asio::io_context io;
    tcp::socket socket(io);
    beast::error_code ec;
    socket.connect(loopback(port), ec);
    if (!ec) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

long proc_status_kb(pid_t pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0)
      return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
  }
  return -1;
}

long open_fds(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator entries("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  long count = 0;
  for (const auto& entry : entries) {
    (void)entry;
    ++count;
  }
  return count;
}

int wait_process(pid_t pid, std::chrono::milliseconds limit) {
  const Clock::time_point deadline = Clock::now() + limit;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status;
}

int stop_process(pid_t pid, std::chrono::milliseconds limit) {
  kill(pid, SIGTERM);
  return wait_process(pid, limit);
}

// --- the TLS client --------------------------------------------------------------------------

ssl::context client_tls(const std::string& ca_file) {
  ssl::context tls(ssl::context::tls_client);
  tls.load_verify_file(ca_file);
  tls.set_verify_mode(ssl::verify_peer);
  return tls;
}

asio::awaitable<beast::error_code> connect(Stream& stream, int port, Clock::duration timeout) {
  beast::error_code ec;
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  SSL_set1_host(stream.native_handle(), "localhost");  // verify the name, not only the CA
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(timeout);  // one deadline for the connect and the handshake
  co_await lowest.async_connect(loopback(port), into(ec));
  if (ec) co_return ec;
  lowest.socket().set_option(tcp::no_delay(true), ec);
  co_await stream.async_handshake(ssl::stream_base::client, into(ec));
  co_return ec;
}

asio::awaitable<beast::error_code> exchange(Stream& stream, beast::flat_buffer& buffer,
                                            const std::string& target, const std::string& body,
                                            bool keep_alive, Response& response,
                                            Clock::duration timeout) {
  beast::error_code ec;
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, "localhost");
  request.set(http::field::content_type, "application/json");
  request.keep_alive(keep_alive);
  request.body() = body;
  request.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(timeout);  // for the write and the read together
  co_await http::async_write(stream, request, into(ec));
  if (!ec) co_await http::async_read(stream, buffer, response, into(ec));
  co_return ec;
}

// --- the load --------------------------------------------------------------------------------

namespace {

struct Load {
  ssl::context& tls;
  const LoadPlan& plan;
  const std::function<void(const Answer&)>& on_answer;

  asio::awaitable<void> connection(int index) {
    const auto executor = co_await asio::this_coro::executor;
    const bool open_loop = plan.rate > 0;
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(open_loop ? plan.connections / plan.rate : 0));
    const std::vector<Review>& reviews = *plan.reviews;
    std::optional<Stream> stream;
    beast::flat_buffer buffer;
    asio::steady_timer timer(executor);
    beast::error_code ec;
    std::size_t sent = 0;
    // Connected before the schedule starts, so that no request's latency includes a handshake.
    stream.emplace(executor, tls);
    ec = co_await webhook_load::connect(*stream, plan.port, plan.timeout);
    if (ec) {
      on_answer({Clock::now(), Clock::now(), Clock::now(), "connect: " + ec.message()});
      stream.reset();
    }
    // Connection i starts i/N of an interval late, so the N schedules interleave evenly instead
    // of firing together (a burst of N every interval would measure queueing, not latency).
    Clock::time_point next = plan.start + interval * index / plan.connections;
    for (;;) {
      Clock::time_point scheduled = Clock::now();
      if (open_loop) {
        scheduled = next;
        if (scheduled >= plan.end) break;
        if (Clock::now() < scheduled) {
          timer.expires_at(scheduled);
          co_await timer.async_wait(into(ec));
        }
        next += interval;
      } else if (scheduled >= plan.end) {
        break;
      }
      Answer answer{scheduled, Clock::now(), {}, {}};
      if (!stream) {
        stream.emplace(executor, tls);
        buffer.clear();
        ec = co_await webhook_load::connect(*stream, plan.port, plan.timeout);
        if (ec) {
          answer.answered = Clock::now();
          answer.failure = "connect: " + ec.message();
          on_answer(answer);
          stream.reset();
          if (!open_loop) {  // a closed loop would spin on a refused connect
            timer.expires_after(std::chrono::milliseconds(100));
            co_await timer.async_wait(into(ec));
          }
          continue;
        }
        answer.sent = Clock::now();
      }
      const Review& review = reviews[(sent + static_cast<std::size_t>(index)) % reviews.size()];
      ++sent;
      Response response;
      ec = co_await exchange(*stream, buffer, plan.target, review.body, true, response,
                             plan.timeout);
      answer.answered = Clock::now();
      if (ec) {
        answer.failure = ec.message();
        stream.reset();  // broken or timed out: the next request opens a new connection
      } else if (plan.check_answers) {
        answer.failure = check_answer(review, response);
      } else if (response.result() != http::status::ok) {
        answer.failure = "HTTP " + std::to_string(response.result_int());
      }
      on_answer(answer);
    }
    if (stream) {
      beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(1));
      co_await stream->async_shutdown(into(ec));
    }
  }
};

}  // namespace

void run_load(ssl::context& tls, const LoadPlan& plan,
              const std::function<void(const Answer&)>& on_answer) {
  asio::io_context io;
  Load load{tls, plan, on_answer};
  for (int i = 0; i < plan.connections; ++i) {
    asio::co_spawn(io, load.connection(i), [](std::exception_ptr failure) {
      if (failure) std::rethrow_exception(failure);
    });
  }
  io.run();
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * values.size()));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double microseconds(Clock::duration duration) {
  return std::chrono::duration<double, std::micro>(duration).count();
}

}  // namespace webhook_load
