// attack_webhook: the server's peak memory and the API server's service under each resource
// attack of issue 11, beside the same load without the attack. See bench/README.md, "Under
// attack".
//
//   attack_webhook --server BIN --certs DIR [--seconds S] [--rate R] [--only NAME]
//                  [--server-arg ARG]...
//
// For every attack a fresh `em-guard-webhook serve` (default flags) first takes the normal load
// (bench_webhook's three reviews, open loop at --rate over 8 keep-alive connections, every
// answer checked) for --seconds: its peak RSS (VmHWM) is the baseline. Then the attack starts
// from another loopback address (127.0.0.2, so that it is another client to the server), the
// same load goes on for --seconds, and the peak RSS, the load's failures and its p99 are read
// again. The attacks:
//   bodies      30 connections, each declaring an 8 MiB - 1 body and holding back its last byte
//   keep-alive  600 TLS keep-alive connections, one request each, then idle
//   handshakes  2,000 TCP connections that never start their TLS handshake
//   warnings    a staging review with 120,000 `:stable` images, sent back to back
//   framing     bad chunk sizes, `Transfer-Encoding: chunked, identity`, HTTP/1.1 without Host
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/args.hpp"
#include "bench/webhook_load.hpp"

namespace {

using namespace webhook_load;
using tcp = asio::ip::tcp;

constexpr const char* kAttacker = "127.0.0.2";

struct Options {
  std::string server;
  std::string certs;
  double seconds = 5;
  double rate = 500;
  std::string only;
  std::vector<std::string> server_args;
};

[[noreturn]] void die(const std::string& message) {
  std::cerr << "attack_webhook: " << message << "\n";
  std::exit(2);
}

// --- attackers: blocking clients on threads of their own, bound to kAttacker ---------------

struct SyncClient {
  asio::io_context io;
  ssl::context& tls;
  Stream stream;
  explicit SyncClient(ssl::context& context) : tls(context), stream(io, context) {}

  bool connect_tcp(int port) {
    beast::error_code ec;
    tcp::socket& socket = beast::get_lowest_layer(stream).socket();
    socket.open(tcp::v4(), ec);
    if (!ec) socket.bind({asio::ip::make_address(kAttacker), 0}, ec);
    if (!ec)
      socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
    return !ec;
  }
  bool connect(int port) {
    if (!connect_tcp(port)) return false;
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    beast::error_code ec;
    stream.handshake(ssl::stream_base::client, ec);
    return !ec;
  }
  bool write(const std::string& bytes) {
    beast::error_code ec;
    asio::write(stream, asio::buffer(bytes), ec);
    return !ec;
  }
  // One response, or nothing when the server closed.
  std::optional<Response> read() {
    beast::flat_buffer buffer;
    Response response;
    beast::error_code ec;
    http::read(stream, buffer, response, ec);
    if (ec) return std::nullopt;
    return response;
  }
};

std::string raw_post(const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Runs until `stop`; holds what it opened until then.
class Attack {
 public:
  virtual ~Attack() = default;
  virtual void run(int port, ssl::context& tls, const std::atomic<bool>& stop) = 0;
  std::string note;  // what it achieved, for the report
};

void wait_for(const std::atomic<bool>& stop) {
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

class BodiesAttack : public Attack {
 public:
  void run(int port, ssl::context& tls, const std::atomic<bool>& stop) override {
    std::string request = raw_post("/validate", std::string(8 * 1024 * 1024 - 1, ' '));
    request.pop_back();
    std::atomic<int> held{0}, refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 30; ++i) {
      threads.emplace_back([&] {
        SyncClient client(tls);
        if (!client.connect(port)) return;
        if (client.write(request)) {
          ++held;
          wait_for(stop);
        } else {
          ++refused;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    note = std::to_string(held.load()) + " bodies held, " + std::to_string(refused.load()) +
           " refused";
  }
};

class KeepAliveAttack : public Attack {
 public:
  void run(int port, ssl::context& tls, const std::atomic<bool>& stop) override {
    std::vector<std::unique_ptr<SyncClient>> clients;
    int answered = 0;
    for (int i = 0; i < 600 && !stop; ++i) {
      auto client = std::make_unique<SyncClient>(tls);
      if (client->connect(port) &&
          client->write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n") && client->read()) {
        ++answered;
      }
      clients.push_back(std::move(client));
    }
    note = std::to_string(answered) + " of 600 connections answered, then idle";
    wait_for(stop);
  }
};

class HandshakesAttack : public Attack {
 public:
  void run(int port, ssl::context&, const std::atomic<bool>& stop) override {
    std::vector<int> fds;
    for (int i = 0; i < 2000; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in local{}, remote{};
      local.sin_family = remote.sin_family = AF_INET;
      local.sin_addr.s_addr = htonl(0x7F000002);  // 127.0.0.2
      remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      remote.sin_port = htons(static_cast<std::uint16_t>(port));
      if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0 &&
          ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0) {
        fds.push_back(fd);
      } else if (fd >= 0) {
        ::close(fd);
      }
    }
    note = std::to_string(fds.size()) + " silent TCP connections";
    wait_for(stop);
    for (const int fd : fds) ::close(fd);
  }
};

class WarningsAttack : public Attack {
 public:
  void run(int port, ssl::context& tls, const std::atomic<bool>& stop) override {
    nlohmann::json containers = nlohmann::json::array();
    for (int i = 0; i < 120'000; ++i) {
      containers.push_back({{"name", "c" + std::to_string(i)}, {"image", "nginx:stable"}});
    }
    const nlohmann::json pod = {{"apiVersion", "v1"},
                                {"kind", "Pod"},
                                {"metadata", {{"name", "huge"}, {"namespace", "staging"}}},
                                {"spec", {{"containers", std::move(containers)}}}};
    nlohmann::json review =
        admission_review("attack-1", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}},
                         {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}, pod);
    review["request"]["namespace"] = "staging";
    const std::string request = raw_post("/validate/staging", review.dump());
    std::size_t sent = 0, largest = 0;
    SyncClient client(tls);
    bool connected = client.connect(port);
    while (!stop && connected) {
      if (!client.write(request)) break;
      const auto response = client.read();
      if (!response) break;
      largest = std::max(largest, response->body().size());
      ++sent;
    }
    note = std::to_string(sent) + " reviews of " + std::to_string(request.size() / 1024) +
           " KiB; largest answer " + std::to_string(largest) + " bytes";
    wait_for(stop);
  }
};

class FramingAttack : public Attack {
 public:
  void run(int port, ssl::context& tls, const std::atomic<bool>& stop) override {
    const std::string start =
        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
    const std::vector<std::string> requests = {
        start + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        start +
            "Transfer-Encoding: chunked, identity\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /validate HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"};
    std::size_t sent = 0, answered_400 = 0;
    while (!stop) {
      for (const std::string& request : requests) {
        SyncClient client(tls);
        if (!client.connect(port) || !client.write(request)) continue;
        ++sent;
        if (const auto response = client.read(); response && response->result_int() == 400) {
          ++answered_400;
        }
      }
    }
    note = std::to_string(sent) + " malformed requests, " + std::to_string(answered_400) +
           " answered 400";
  }
};

std::unique_ptr<Attack> make_attack(const std::string& name) {
  if (name == "bodies") return std::make_unique<BodiesAttack>();
  if (name == "keep-alive") return std::make_unique<KeepAliveAttack>();
  if (name == "handshakes") return std::make_unique<HandshakesAttack>();
  if (name == "warnings") return std::make_unique<WarningsAttack>();
  if (name == "framing") return std::make_unique<FramingAttack>();
  return nullptr;
}

// --- the load the API server puts on the server ---------------------------------------------

struct LoadResult {
  std::size_t answers = 0;
  std::size_t failures = 0;
  std::vector<double> latencies_us;
};

LoadResult normal_load(const Options& options, int port, const std::vector<Review>& reviews) {
  ssl::context tls = client_tls(options.certs + "/ca.crt");
  LoadPlan plan;
  plan.port = port;
  plan.reviews = &reviews;
  plan.connections = 8;
  plan.rate = options.rate;
  plan.check_answers = true;
  plan.timeout = std::chrono::seconds(5);
  plan.start = Clock::now() + std::chrono::milliseconds(100);
  plan.end = plan.start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(options.seconds));
  LoadResult result;
  run_load(tls, plan, [&result](const Answer& answer) {
    if (!answer.failure.empty()) {
      ++result.failures;
      return;
    }
    ++result.answers;
    result.latencies_us.push_back(microseconds(answer.answered - answer.scheduled));
  });
  return result;
}

struct Row {
  std::string name;
  long baseline_kb = 0, attacked_kb = 0;
  LoadResult baseline, attacked;
  std::string note;
  bool clean_exit = false;
};

Row measure(const Options& options, const std::string& name, const std::vector<Review>& reviews) {
  Row row;
  row.name = name;
  const int port = free_port();
  std::vector<std::string> argv = {options.server, "serve",
                                   "--listen",     "127.0.0.1:" + std::to_string(port),
                                   "--tls-cert",   options.certs + "/tls.crt",
                                   "--tls-key",    options.certs + "/tls.key"};
  argv.insert(argv.end(), options.server_args.begin(), options.server_args.end());
  const pid_t server = start_process(argv);
  if (!wait_until_listening(port, std::chrono::seconds(10))) {
    stop_process(server, std::chrono::seconds(5));
    die("the server did not start listening");
  }
  row.baseline = normal_load(options, port, reviews);
  row.baseline_kb = proc_status_kb(server, "VmHWM:");

  std::unique_ptr<Attack> attack = make_attack(name);
  ssl::context tls = client_tls(options.certs + "/ca.crt");
  std::atomic<bool> stop{false};
  std::thread attacker([&] { attack->run(port, tls, stop); });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let it take hold
  row.attacked = normal_load(options, port, reviews);
  row.attacked_kb = proc_status_kb(server, "VmHWM:");
  stop = true;
  attacker.join();
  row.note = attack->note;
  const int status = stop_process(server, std::chrono::seconds(30));
  row.clean_exit = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return row;
}

}  // namespace

constexpr const char* kUsage =
    R"(Usage: attack_webhook --server BIN --certs DIR [--seconds S] [--rate R] [--only NAME]
                      [--server-arg ARG]...
Attacks: bodies, keep-alive, handshakes, warnings, framing. Run it through bench/run-attacks,
which makes the certificates. See bench/README.md.
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
    else if (args.is("--seconds"))
      options.seconds = args.number(1, 3600);
    else if (args.is("--rate"))
      options.rate = args.number(1, 1e6);
    else if (args.is("--only"))
      options.only = args.value();
    else if (args.is("--server-arg"))
      options.server_args.push_back(args.value());
    else
      die("unknown argument " + args.arg());
  }
  if (options.server.empty() || options.certs.empty())
    die("--server BIN and --certs DIR are required");
  if (!options.only.empty() && !make_attack(options.only)) die("no attack " + options.only);
  std::signal(SIGPIPE, SIG_IGN);

  const std::vector<Review> reviews = realistic_reviews();
  std::printf(
      "em-guard-webhook serve, default flags; the load: %.0f reviews/s open loop over 8 keep-alive "
      "connections for %.0f s, without and then with the attack (from %s)\n",
      options.rate, options.seconds, kAttacker);
  std::printf("%-11s %9s %9s %6s %9s %9s %9s %9s  %s\n", "attack", "base MB", "attack MB", "ratio",
              "answers", "failed", "p99 base", "p99 att", "what the attack did");
  bool ok = true;
  for (const char* name : {"bodies", "keep-alive", "handshakes", "warnings", "framing"}) {
    if (!options.only.empty() && options.only != name) continue;
    const Row row = measure(options, name, reviews);
    const double ratio = row.baseline_kb > 0 ? double(row.attacked_kb) / row.baseline_kb : 0;
    std::printf("%-11s %9.1f %9.1f %5.2fx %9zu %9zu %6.0f us %6.0f us  %s%s\n", name,
                row.baseline_kb / 1024.0, row.attacked_kb / 1024.0, ratio, row.attacked.answers,
                row.attacked.failures, percentile(row.baseline.latencies_us, 99),
                percentile(row.attacked.latencies_us, 99), row.note.c_str(),
                row.clean_exit ? "" : "; server exit NOT CLEAN");
    std::fflush(stdout);
    // The chart's limit is 256Mi: the peak under attack must stay inside 7/8 of it, and the
    // API server's load must not fail.
    ok = ok && row.attacked.failures == 0 && row.baseline.failures == 0 &&
         row.attacked_kb < 224L * 1024 && row.clean_exit;
  }
  std::printf(
      "%s (bounds: no failed load request; peak RSS under 224 MiB, 7/8 of the chart's "
      "256Mi limit)\n",
      ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
