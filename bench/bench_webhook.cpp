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
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "bench/args.hpp"
#include "bench/webhook_load.hpp"

namespace {

using namespace webhook_load;

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

pid_t start_server(const Options& options, int port) {
  std::vector<std::string> args = {options.server,       "serve",
                                   "--listen",           "127.0.0.1:" + std::to_string(port),
                                   "--tls-cert",         options.certs + "/tls.crt",
                                   "--tls-key",          options.certs + "/tls.key",
                                   "--threads",          std::to_string(options.threads),
                                   "--baseline-endpoint"};
  args.insert(args.end(), options.server_args.begin(), options.server_args.end());
  // Decision logs are written (as in production), then dropped in /dev/null.
  return start_process(args);
}

// --- the load ----------------------------------------------------------------------------------

struct Result {
  std::vector<double> latencies_us;  // from the scheduled send time (open loop) or the send
  std::vector<double> service_us;    // from the moment the request was actually written
  std::size_t errors = 0;
  double seconds = 0;
};

Result measure(const Options& options, int port, const std::string& target,
               const std::vector<Review>& reviews, bool open_loop) {
  ssl::context tls = client_tls(options.certs + "/ca.crt");
  LoadPlan plan;
  plan.port = port;
  plan.target = target;
  plan.reviews = &reviews;
  plan.connections = options.connections;
  plan.rate = open_loop ? options.rate : 0;
  plan.start = Clock::now() + std::chrono::milliseconds(100);  // after the handshakes
  plan.end = plan.start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(options.seconds));
  Result result;
  webhook_load::run_load(tls, plan, [&result](const Answer& answer) {
    if (!answer.failure.empty()) {
      ++result.errors;
      return;
    }
    result.latencies_us.push_back(microseconds(answer.answered - answer.scheduled));
    result.service_us.push_back(microseconds(answer.answered - answer.sent));
  });
  result.seconds = std::chrono::duration<double>(Clock::now() - plan.start).count();
  return result;
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

constexpr const char* kUsage =
    R"(Usage: bench_webhook --server BIN --certs DIR [--connections N] [--rate R] [--seconds S]
                     [--threads T] [--server-arg ARG]...
       bench_webhook --print-reviews
Run it through bench/run-webhook, which makes the certificates. See bench/README.md.
)";

int main(int argc, char** argv) {
  Options options;
  for (emguard::bench::Args args(argc, argv, die); args.next();) {
    if (args.is("-h") || args.is("--help")) {
      std::cout << kUsage;
      return 0;
    }
    if (args.is("--server"))
      options.server = args.value();
    else if (args.is("--certs"))
      options.certs = args.value();
    else if (args.is("--connections"))
      options.connections = static_cast<int>(args.whole(1, 10000));
    else if (args.is("--rate"))
      options.rate = args.number(1, 1e6);
    else if (args.is("--seconds"))
      options.seconds = args.number(0.1, 3600);
    else if (args.is("--threads"))
      options.threads = static_cast<int>(args.whole(1, 1024));
    else if (args.is("--server-arg"))
      options.server_args.push_back(args.value());
    else if (args.is("--print-reviews")) {
      for (const Review& review : realistic_reviews()) std::printf("%s\n", review.body.c_str());
      return 0;
    } else
      die("unknown argument " + args.arg());
  }
  if (options.server.empty() || options.certs.empty())
    die("--server BIN and --certs DIR are required");
  std::signal(SIGPIPE, SIG_IGN);

  const int port = free_port();
  const pid_t server = start_server(options, port);
  if (!wait_until_listening(port, std::chrono::seconds(10))) {
    stop_process(server, std::chrono::seconds(5));
    die("the server did not start listening");
  }
  const long rss_start = proc_status_kb(server, "VmRSS:");
  const std::vector<Review> reviews = realistic_reviews();
  std::printf(
      "em-guard-webhook serve, %d server threads; client: %d TLS keep-alive connections, "
      "one thread; reviews: 3-container Deployment, Pod, HTTPRoute (%zu-%zu bytes)\n",
      options.threads, options.connections, reviews[2].body.size(), reviews[0].body.size());

  // Warm-up (TLS session set-up, allocator, caches), not reported.
  Options warm_up = options;
  warm_up.seconds = 0.5;
  measure(warm_up, port, "/validate", reviews, false);

  std::printf("open loop at %.0f reviews/s for %.0f s (latency from the scheduled send time):\n",
              options.rate, options.seconds);
  const Result open_real = measure(options, port, "/validate", reviews, true);
  report("/validate (policy evaluated)", open_real, true);
  const Result open_base = measure(options, port, "/baseline", reviews, true);
  report("/baseline (decode, no evaluation)", open_base, true);

  std::printf("closed loop (as fast as it answers) for %.0f s:\n", options.seconds);
  const Result closed_real = measure(options, port, "/validate", reviews, false);
  report("/validate (policy evaluated)", closed_real, false);
  const Result closed_base = measure(options, port, "/baseline", reviews, false);
  report("/baseline (decode, no evaluation)", closed_base, false);

  const double real_rps = closed_real.latencies_us.size() / closed_real.seconds;
  const double base_rps = closed_base.latencies_us.size() / closed_base.seconds;
  const long rss_end = proc_status_kb(server, "VmRSS:");
  const long rss_peak = proc_status_kb(server, "VmHWM:");
  std::printf("throughput /validate vs /baseline: %.2f (target >= 0.80)\n", real_rps / base_rps);
  std::printf(
      "p99 at %.0f reviews/s: %.0f us from the schedule, %.0f us from the send "
      "(target < 1000 us)\n",
      options.rate, percentile(open_real.latencies_us, 99), percentile(open_real.service_us, 99));
  std::printf("server RSS: %ld KB after start, %ld KB at the end, %ld KB peak\n", rss_start,
              rss_end, rss_peak);

  const int status = stop_process(server, std::chrono::seconds(30));
  const bool clean = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf("server exit after SIGTERM: %s\n", clean ? "0 (drained)" : "NOT CLEAN");
  const bool errors =
      open_real.errors + open_base.errors + closed_real.errors + closed_base.errors > 0;
  return clean && !errors ? 0 : 1;
}
