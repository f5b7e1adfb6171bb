// bench_webhook: drives `em-guard-webhook serve` over TLS keep-alive connections with realistic
// AdmissionReviews and prints throughput, latency percentiles and the server's RSS, beside the
// same load against the server's baseline handler (POST /baseline: decodes the review and
// answers "allowed" with its uid, evaluating nothing), the floor any correct webhook pays. See
// bench/README.md.
//
//   bench_webhook --server BIN --certs DIR [--connections N] [--rate R] [--seconds S]
//                 [--threads T] [--server-arg ARG]...
//   bench_webhook --print-reviews     the reviews it sends, one JSON document per line
//
// Two measurements per handler:
// - open loop at --rate reviews/s (default 2000): each connection sends on a fixed schedule and
//   latency counts from the scheduled send time, so a slow server cannot hide its queueing
//   (no coordinated omission);
// - closed loop: every connection sends back to back, for the maximum throughput.
// The client runs in this process on one thread; on a 2-core machine it shares the CPU with the
// server, equally for both handlers, so the ratio is the number to read.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string server;
  std::string certs;
  int connections = 8;
  double rate = 2000;
  double seconds = 5;
  int threads = 2;
  std::vector<std::string> server_args;  // --server-arg: passed on to `serve`
};

[[noreturn]] void die(const std::string& message) {
  std::cerr << "bench_webhook: " << message << "\n";
  std::exit(2);
}

// --- realistic reviews ---------------------------------------------------------------------

nlohmann::json review(const std::string& uid, const nlohmann::json& kind,
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

std::vector<std::string> review_bodies() {
  const nlohmann::json labels = {{"app.kubernetes.io/name", "em-runtime"},
                                 {"app.kubernetes.io/instance", "em-runtime"}};
  const nlohmann::json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata",
       {{"name", "em-runtime-governance"}, {"namespace", "em-runtime"}, {"labels", labels}}},
      {"spec",
       {{"replicas", 2},
        {"selector", {{"matchLabels", labels}}},
        {"template",
         {{"metadata", {{"labels", labels}}},
          {"spec",
           {{"initContainers", {container("migrate", "ghcr.io/emergenceai/em-governance:1.8.2")}},
            {"containers",
             {container("governance", "ghcr.io/emergenceai/em-governance:1.8.2"),
              container("proxy", "docker.io/library/nginx:1.27.3"),
              container(
                  "exporter",
                  "quay.io/prometheus/statsd-exporter@sha256:"
                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")}}}}}}}}};
  const nlohmann::json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", "em-runtime-utils-5d8f7c9b6-x2k4p"},
        {"namespace", "em-runtime"},
        {"labels", labels}}},
      {"spec", {{"containers", {container("utils", "ghcr.io/emergenceai/em-utils:1.8.2")}}}}};
  const nlohmann::json route = {
      {"apiVersion", "gateway.networking.k8s.io/v1"},
      {"kind", "HTTPRoute"},
      {"metadata", {{"name", "em-runtime"}, {"namespace", "em-runtime"}, {"labels", labels}}},
      {"spec",
       {{"parentRefs",
         {{{"name", "em-runtime-gateway"}, {"namespace", "gateway"}, {"sectionName", "https"}}}},
        {"hostnames", {"em.example.com"}},
        {"rules",
         {{{"matches", {{{"path", {{"type", "PathPrefix"}, {"value", "/api/governance"}}}}}},
           {"backendRefs", {{{"name", "em-runtime-governance"}, {"port", 8000}}}}},
          {{"matches", {{{"path", {{"type", "PathPrefix"}, {"value", "/keycloak"}}}}}},
           {"backendRefs", {{{"name", "keycloak"}, {"port", 8080}}}}}}}}}};
  return {
      review("b1f6c1d2-0001-4000-8000-000000000001",
             {{"group", "apps"}, {"version", "v1"}, {"kind", "Deployment"}},
             {{"group", "apps"}, {"version", "v1"}, {"resource", "deployments"}}, deployment)
          .dump(),
      review("b1f6c1d2-0002-4000-8000-000000000002",
             {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}},
             {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}, pod)
          .dump(),
      review(
          "b1f6c1d2-0003-4000-8000-000000000003",
          {{"group", "gateway.networking.k8s.io"}, {"version", "v1"}, {"kind", "HTTPRoute"}},
          {{"group", "gateway.networking.k8s.io"}, {"version", "v1"}, {"resource", "httproutes"}},
          route)
          .dump()};
}

// --- the server --------------------------------------------------------------------------------

int free_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

pid_t start_server(const Options& options, int port) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);  // decision logs are written (as in production), then dropped
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    const std::string threads = std::to_string(options.threads);
    const std::string cert = options.certs + "/tls.crt";
    const std::string key = options.certs + "/tls.key";
    std::vector<std::string> args = {options.server, "serve", "--listen",           listen,
                                     "--tls-cert",   cert,    "--tls-key",          key,
                                     "--threads",    threads, "--baseline-endpoint"};
    args.insert(args.end(), options.server_args.begin(), options.server_args.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

long rss_kb(pid_t pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0)
      return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
  }
  return -1;
}

// --- the load ----------------------------------------------------------------------------------

struct Result {
  std::vector<double> latencies_us;  // from the scheduled send time (open loop) or the send
  std::vector<double> service_us;    // from the moment the request was actually written
  std::size_t errors = 0;
  double seconds = 0;
};

struct Load {
  asio::io_context& io;
  ssl::context& tls;
  int port;
  std::string target;
  const std::vector<std::string>& bodies;
  double per_connection_interval = 0;  // seconds; 0 = closed loop
  int connections = 1;
  Clock::time_point start;
  Clock::time_point end;
  Result result;

  asio::awaitable<void> connection(int index) {
    beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, tls);
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    beast::error_code ec;
    auto into = [&ec] { return asio::redirect_error(asio::use_awaitable, ec); };
    co_await beast::get_lowest_layer(stream).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
        into());
    if (ec) die("connect: " + ec.message());
    beast::get_lowest_layer(stream).socket().set_option(tcp::no_delay(true));
    co_await stream.async_handshake(ssl::stream_base::client, into());
    if (ec) die("handshake: " + ec.message());
    beast::flat_buffer buffer;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::size_t sent = 0;
    // Connection i starts i/N of an interval late, so the N schedules interleave evenly instead
    // of firing together (a burst of N every interval would measure queueing, not latency).
    Clock::time_point next =
        start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(per_connection_interval) * index / connections);
    for (;;) {
      Clock::time_point scheduled = Clock::now();
      if (per_connection_interval > 0) {
        scheduled = next;
        if (scheduled >= end) break;
        if (Clock::now() < scheduled) {
          timer.expires_at(scheduled);
          co_await timer.async_wait(into());
        }
        next += std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(per_connection_interval));
      } else if (scheduled >= end) {
        break;
      }
      const Clock::time_point sent_at = Clock::now();
      http::request<http::string_body> request{http::verb::post, target, 11};
      request.set(http::field::host, "localhost");
      request.set(http::field::content_type, "application/json");
      request.body() = bodies[(sent + static_cast<std::size_t>(index)) % bodies.size()];
      request.prepare_payload();
      co_await http::async_write(stream, request, into());
      http::response<http::string_body> response;
      if (!ec) co_await http::async_read(stream, buffer, response, into());
      ++sent;
      if (ec || response.result() != http::status::ok) {
        ++result.errors;
        if (ec) break;
        continue;
      }
      const Clock::time_point answered = Clock::now();
      result.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(answered - scheduled).count());
      result.service_us.push_back(
          std::chrono::duration<double, std::micro>(answered - sent_at).count());
    }
    co_await stream.async_shutdown(into());
  }
};

Result run_load(const Options& options, int port, const std::string& target,
                const std::vector<std::string>& bodies, bool open_loop) {
  asio::io_context io;
  ssl::context tls(ssl::context::tls_client);
  tls.load_verify_file(options.certs + "/ca.crt");
  tls.set_verify_mode(ssl::verify_peer);
  Load load{io, tls, port, target, bodies, 0, 1, {}, {}, {}};
  load.per_connection_interval = open_loop ? options.connections / options.rate : 0;
  load.connections = options.connections;
  load.start = Clock::now() + std::chrono::milliseconds(100);  // after the handshakes
  load.end = load.start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(options.seconds));
  for (int i = 0; i < options.connections; ++i) {
    asio::co_spawn(io, load.connection(i), [](std::exception_ptr failure) {
      if (failure) std::rethrow_exception(failure);
    });
  }
  io.run();
  load.result.seconds = std::chrono::duration<double>(Clock::now() - load.start).count();
  return std::move(load.result);
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * values.size()));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

void report(const std::string& label, const Result& result, bool open_loop) {
  std::printf("  %-34s %9.0f reviews/s  p50 %7.0f us  p99 %7.0f us  p99.9 %7.0f us  errors %zu\n",
              label.c_str(), result.latencies_us.size() / result.seconds,
              percentile(result.latencies_us, 50), percentile(result.latencies_us, 99),
              percentile(result.latencies_us, 99.9), result.errors);
  if (open_loop) {
    // The same requests timed from the write: what the server and the network take, without
    // the client's own lateness in waking up for the schedule.
    std::printf("  %-34s %9s              p50 %7.0f us  p99 %7.0f us  p99.9 %7.0f us\n",
                "  from the actual send", "", percentile(result.service_us, 50),
                percentile(result.service_us, 99), percentile(result.service_us, 99.9));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&] {
      if (i + 1 >= argc) die(arg + " needs a value");
      return std::string(argv[++i]);
    };
    if (arg == "--server")
      options.server = value();
    else if (arg == "--certs")
      options.certs = value();
    else if (arg == "--connections")
      options.connections = std::stoi(value());
    else if (arg == "--rate")
      options.rate = std::stod(value());
    else if (arg == "--seconds")
      options.seconds = std::stod(value());
    else if (arg == "--threads")
      options.threads = std::stoi(value());
    else if (arg == "--server-arg")
      options.server_args.push_back(value());
    else if (arg == "--print-reviews") {
      for (const std::string& body : review_bodies()) std::printf("%s\n", body.c_str());
      return 0;
    } else
      die("unknown argument " + arg);
  }
  if (options.server.empty() || options.certs.empty())
    die("--server BIN and --certs DIR are required");
  std::signal(SIGPIPE, SIG_IGN);

  const int port = free_port();
  const pid_t server = start_server(options, port);
  // Ready when a TCP connection succeeds (bounded: 10 s).
  for (int attempt = 0;; ++attempt) {
    asio::io_context io;
    tcp::socket socket(io);
    beast::error_code ec;
    socket.connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
    if (!ec) break;
    if (attempt > 200) die("the server did not start listening");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const long rss_start = rss_kb(server, "VmRSS:");
  const std::vector<std::string> bodies = review_bodies();
  std::printf(
      "em-guard-webhook serve, %d server threads; client: %d TLS keep-alive connections, "
      "one thread; reviews: 3-container Deployment, Pod, HTTPRoute (%zu-%zu bytes)\n",
      options.threads, options.connections, bodies[2].size(), bodies[0].size());

  // Warm-up (TLS session set-up, allocator, caches), not reported.
  Options warm_up = options;
  warm_up.seconds = 0.5;
  run_load(warm_up, port, "/validate", bodies, false);

  std::printf("open loop at %.0f reviews/s for %.0f s (latency from the scheduled send time):\n",
              options.rate, options.seconds);
  const Result open_real = run_load(options, port, "/validate", bodies, true);
  report("/validate (policy evaluated)", open_real, true);
  const Result open_base = run_load(options, port, "/baseline", bodies, true);
  report("/baseline (decode, no evaluation)", open_base, true);

  std::printf("closed loop (as fast as it answers) for %.0f s:\n", options.seconds);
  const Result closed_real = run_load(options, port, "/validate", bodies, false);
  report("/validate (policy evaluated)", closed_real, false);
  const Result closed_base = run_load(options, port, "/baseline", bodies, false);
  report("/baseline (decode, no evaluation)", closed_base, false);

  const double real_rps = closed_real.latencies_us.size() / closed_real.seconds;
  const double base_rps = closed_base.latencies_us.size() / closed_base.seconds;
  const long rss_end = rss_kb(server, "VmRSS:");
  const long rss_peak = rss_kb(server, "VmHWM:");
  std::printf("throughput /validate vs /baseline: %.2f (target >= 0.80)\n", real_rps / base_rps);
  std::printf(
      "p99 at %.0f reviews/s: %.0f us from the schedule, %.0f us from the send "
      "(target < 1000 us)\n",
      options.rate, percentile(open_real.latencies_us, 99), percentile(open_real.service_us, 99));
  std::printf("server RSS: %ld KB after start, %ld KB at the end, %ld KB peak\n", rss_start,
              rss_end, rss_peak);

  kill(server, SIGTERM);
  int status = 0;
  waitpid(server, &status, 0);
  const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf("server exit after SIGTERM: %s\n", clean ? "0 (drained)" : "NOT CLEAN");
  const bool errors =
      open_real.errors + open_base.errors + closed_real.errors + closed_base.errors > 0;
  return clean && !errors ? 0 : 1;
}
