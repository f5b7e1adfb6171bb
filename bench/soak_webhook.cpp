// soak_webhook: `em-guard-webhook serve` under sustained load for minutes, with a certificate
// rotation at 1/3 of the run and a policy reload at 2/3, on 127.0.0.1 only. It passes when no
// request failed, the server's RSS stayed flat, its file descriptors did not grow, and both
// changes reached new connections. See bench/README.md, "The soak test".
//
//   soak_webhook --server BIN --certs DIR --make-certs SCRIPT --policy FILE --work DIR
//                [--seconds S] [--rate R] [--connections N] [--threads T] [--warm-up S]
//                [--sample-every S] [--max-rss-growth X] [--fd-slack N]
//
// --certs holds ca.crt and ca.key from certs-dev/make-certs.sh plus the first serving pair; the
// rotation runs make-certs.sh on it again (same CA, new pair). --policy is copied into --work and
// served from there; --work also holds the certificates as a mounted Secret lays them out.
//
// The load is an open loop (fixed schedule, latency from the scheduled send) over keep-alive
// connections, every answer checked: HTTP 200, an AdmissionReview response, the request's uid
// and the expected decision. Once a second a probe opens a fresh TLS connection, verifies the
// server's certificate against the CA, notes its serial and sends one review whose decision the
// policy reload flips. Exit codes: 0 every check passed, 1 a check failed, 2 wrong usage or a
// failed set-up.
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/args.hpp"
#include "bench/webhook_load.hpp"

namespace {

using namespace webhook_load;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Seconds = std::chrono::duration<double>;

struct Options {
  std::string server;
  std::string certs;
  std::string make_certs;
  std::string policy;
  std::string work;
  double seconds = 300;
  double rate = 1000;
  int connections = 8;
  int threads = 2;
  double warm_up = 5;
  double sample_every = 10;
  // RSS at the end over RSS after the warm-up. Generous for allocator noise (glibc arenas,
  // fragmentation), tight for a leak: see bench/README.md.
  double max_rss_growth = 1.5;
  // Descriptors the end sample may show above the start sample: the probe's connection may still
  // be closing on the server's side when the sample is taken.
  long fd_slack = 2;
};

constexpr auto kReloadInterval = milliseconds(200);  // how often the server stats its files
constexpr auto kRequestTimeout = std::chrono::seconds(5);
constexpr auto kPickUpLimit = std::chrono::seconds(10);  // a change must reach new connections
constexpr const char* kProbeImage = "ghcr.io/emergenceai/em-utils:soak-probe";
constexpr const char* kProbeTag = "soak-probe";

// Ends the run at once, from any thread: no unwinding into the threads still running (the server
// goes too, by PR_SET_PDEATHSIG; bench/run-soak removes the work directory).
[[noreturn]] void die(const std::string& message) {
  std::fflush(stdout);
  std::cerr << "soak_webhook: " << message << "\n";
  std::_Exit(2);
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return Seconds(to - from).count();
}

// --- certificates ------------------------------------------------------------------------------

// The serial number in hex, as the server logs it.
std::string serial_of(const X509* certificate) {
  std::string hex;
  if (BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr)) {
    if (char* text = BN_bn2hex(serial)) {
      hex = text;
      OPENSSL_free(text);
    }
    BN_free(serial);
  }
  return hex;
}

std::string serial_of_file(const fs::path& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) die("cannot read " + path.string());
  X509* certificate = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  if (certificate == nullptr) die(path.string() + " is not a PEM certificate");
  std::string serial = serial_of(certificate);
  X509_free(certificate);
  return serial;
}

// The layout of a Secret mounted as a volume: tls.crt and tls.key are symlinks through ..data to
// a versioned directory, and an update swaps ..data in one rename, the way kubelet does it (and
// the case the server's reloader must handle: the files it watches never change in place).
class SecretVolume {
 public:
  explicit SecretVolume(fs::path dir) : dir_(std::move(dir)) { fs::create_directories(dir_); }

  fs::path certificate() const { return dir_ / "tls.crt"; }
  fs::path private_key() const { return dir_ / "tls.key"; }

  void publish(const fs::path& certificate, const fs::path& private_key) {
    const std::string version = "..v" + std::to_string(++versions_);
    fs::create_directory(dir_ / version);
    fs::copy_file(certificate, dir_ / version / "tls.crt");
    fs::copy_file(private_key, dir_ / version / "tls.key");
    fs::create_symlink(version, dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    if (versions_ == 1) {
      fs::create_symlink("..data/tls.crt", dir_ / "tls.crt");
      fs::create_symlink("..data/tls.key", dir_ / "tls.key");
    } else {
      fs::remove_all(dir_ / current_);
    }
    current_ = version;
  }

 private:
  fs::path dir_;
  int versions_ = 0;
  std::string current_;
};

// Runs make-certs.sh on the CA directory again: same CA, a new serving pair (new serial). What
// it says goes to a file in the work directory, shown only when it fails.
void make_new_serving_pair(const Options& options) {
  const fs::path said = fs::path(options.work) / "make-certs.log";
  const int out = ::open(said.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) die("cannot write " + said.string());
  const pid_t pid = start_process({options.make_certs, "--out", options.certs}, out);
  ::close(out);
  const int status = wait_process(pid, std::chrono::seconds(60));
  if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream text(said);
    std::cerr << text.rdbuf();
    die(options.make_certs + " failed");
  }
}

// --- the policy --------------------------------------------------------------------------------

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Replaces the file in one rename, as a ConfigMap volume update does: the server must never read
// half a policy.
void write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary);
    out << text;
    if (!out.flush()) die("cannot write " + temporary.string());
  }
  fs::rename(temporary, path);
}

// The policy with kProbeTag among the mutable tags: the probe's image then counts as unpinned,
// so the probe review flips from allowed to denied while the load's reviews stay allowed.
std::string policy_denying_probe(const std::string& policy) {
  const std::string list = "mutableTags: [";
  const std::size_t at = policy.find(list);
  if (at == std::string::npos || policy.find(list, at + 1) != std::string::npos) {
    die("--policy must have one flow-style `mutableTags: [...]` line to add the probe's tag to");
  }
  std::string changed = policy;
  changed.insert(at + list.size(), std::string(kProbeTag) + ", ");
  return changed;
}

// --- the server's log --------------------------------------------------------------------------

// Reads the server's JSON log lines from a pipe on its own thread (so the server never blocks on
// a full pipe), counts the admission decisions and keeps every other line.
class ServerLog {
 public:
  explicit ServerLog(int fd) : thread_([this, fd] { read(fd); }) {}
  ~ServerLog() {
    if (thread_.joinable()) thread_.join();
  }

  // The port from the "listening" line; 0 when the server ended or `limit` passed first.
  int wait_for_port(milliseconds limit) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, limit, [this] { return port_ != 0 || ended_; });
    return port_;
  }

  struct Summary {
    std::map<std::string, std::size_t> decisions;  // admission review lines by decision
    std::vector<std::string> serials_loaded;       // "serving certificate loaded", in order
    std::size_t policy_reloads = 0;
    std::vector<std::string> problems;  // warn and error lines, and anything that is not JSON
    std::vector<std::string> other;     // every other line that is not a decision
  };

  // After the server has exited: the whole log.
  Summary finish() {
    thread_.join();
    return summary_;
  }

  std::size_t serial_count() {
    const std::lock_guard lock(mutex_);
    return summary_.serials_loaded.size();
  }

 private:
  void read(int fd) {
    FILE* in = fdopen(fd, "r");
    char* line = nullptr;
    std::size_t capacity = 0;
    ssize_t length = 0;
    while ((length = getline(&line, &capacity, in)) > 0) {
      std::string text(line, static_cast<std::size_t>(length));
      if (text.back() == '\n') text.pop_back();
      take(text);
    }
    std::free(line);
    std::fclose(in);
    const std::lock_guard lock(mutex_);
    ended_ = true;
    changed_.notify_all();
  }

  void take(const std::string& text) {
    const nlohmann::json entry = nlohmann::json::parse(text, nullptr, false);
    const std::lock_guard lock(mutex_);
    if (entry.is_discarded() || !entry.is_object()) {
      summary_.problems.push_back(text);
      return;
    }
    const std::string message = entry.value("msg", "");
    const std::string level = entry.value("level", "");
    if (level == "warn" || level == "error") summary_.problems.push_back(text);
    if (message == "admission review") {
      ++summary_.decisions[entry.value("decision", "(none)")];
      return;
    }
    summary_.other.push_back(text);
    if (message == "listening") {
      port_ = entry.value("port", 0);
      changed_.notify_all();
    } else if (message == "serving certificate loaded") {
      summary_.serials_loaded.push_back(entry.value("serial", ""));
    } else if (message == "policy reloaded") {
      ++summary_.policy_reloads;
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  int port_ = 0;
  bool ended_ = false;
  Summary summary_;
  std::thread thread_;  // last: starts after the members it uses
};

// --- probes on fresh connections -----------------------------------------------------------------

struct Probe {
  std::string failure;  // "" when the connection and the answer were well-formed
  std::string serial;   // of the certificate the server presented
  bool allowed = false;
};

asio::awaitable<void> probe_once(ssl::context& tls, int port, const std::string& uid,
                                 const std::string& body, Probe& probe) {
  Stream stream(co_await asio::this_coro::executor, tls);
  beast::error_code ec = co_await connect(stream, port, kRequestTimeout);
  if (ec) {
    probe.failure = "connect: " + ec.message();
    co_return;
  }
  if (X509* presented = SSL_get1_peer_certificate(stream.native_handle())) {
    probe.serial = serial_of(presented);
    X509_free(presented);
  }
  beast::flat_buffer buffer;
  Response response;
  ec = co_await exchange(stream, buffer, "/validate", body, false, response, kRequestTimeout);
  if (ec) {
    probe.failure = ec.message();
    co_return;
  }
  const Verdict verdict = read_answer(uid, response);
  probe.failure = verdict.failure;
  probe.allowed = verdict.allowed;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
}

// A value new connections must show while a change propagates: the old one until the server has
// noticed the change (for at most kPickUpLimit), the new one from its first appearance on.
template <class T>
class Expected {
 public:
  explicit Expected(T value) : current_(std::move(value)) {}

  void change_to(T value) {
    next_ = std::move(value);
    changed_at_ = Clock::now();
  }
  bool settled() const { return !next_; }
  std::optional<double> picked_up_ms() const { return picked_up_ms_; }

  // "" when `seen` is acceptable now.
  std::string check(const T& seen) {
    const Clock::time_point now = Clock::now();
    if (next_ && seen == *next_) {
      picked_up_ms_ = seconds_between(changed_at_, now) * 1000;
      current_ = std::move(*next_);
      next_.reset();
      return {};
    }
    if (seen == current_ && (!next_ || now - changed_at_ < kPickUpLimit)) return {};
    std::ostringstream what;
    what << "saw " << seen << ", expected " << (next_ ? *next_ : current_);
    if (next_) what << " (still not picked up after " << seconds_between(changed_at_, now) << " s)";
    return what.str();
  }

 private:
  T current_;
  std::optional<T> next_;
  Clock::time_point changed_at_;
  std::optional<double> picked_up_ms_;
};

std::string picked_up(std::optional<double> after_ms) {
  return after_ms ? "after " + std::to_string(std::lround(*after_ms)) + " ms" : "never";
}

// --- the soak ----------------------------------------------------------------------------------

struct Sample {
  double t = 0;  // seconds since the load started
  long rss_kb = 0;
  long fds = 0;
};

// Every answer of the load, in the order they came (the load runs on one thread).
struct LoadLog {
  struct Timed {
    float answered_s;  // seconds since the load started
    float latency_us;  // from the scheduled send
    float service_us;  // from the actual send: without the client's own lateness
  };
  std::mutex mutex;
  std::vector<Timed> answers;
  std::size_t failures = 0;
  std::vector<std::string> first_failures;

  void record(Clock::time_point start, const Answer& answer) {
    const std::lock_guard lock(mutex);
    const double answered_s = seconds_between(start, answer.answered);
    if (!answer.failure.empty()) {
      ++failures;
      if (first_failures.size() < 10) {
        char at[32];
        std::snprintf(at, sizeof at, "%.3f s: ", answered_s);
        first_failures.push_back(at + answer.failure);
      }
      return;
    }
    answers.push_back({static_cast<float>(answered_s),
                       static_cast<float>(microseconds(answer.answered - answer.scheduled)),
                       static_cast<float>(microseconds(answer.answered - answer.sent))});
  }

  struct Window {
    std::size_t answers = 0;
    double p50 = 0, p99 = 0, max = 0;
  };
  // Latency of the answers that came in (from, to].
  Window window(double from, double to) {
    const std::lock_guard lock(mutex);
    Window result;
    // One thread records the answers as they come, so they are in time order.
    const auto after = [](const Timed& answer, double t) { return answer.answered_s <= t; };
    const auto begin = std::lower_bound(answers.begin(), answers.end(), from, after);
    const auto end = std::lower_bound(begin, answers.end(), to, after);
    std::vector<double> latencies;
    for (auto answer = begin; answer != end; ++answer) latencies.push_back(answer->latency_us);
    result.answers = latencies.size();
    result.p50 = percentile(latencies, 50);
    result.p99 = percentile(latencies, 99);
    result.max = percentile(latencies, 100);
    return result;
  }
};

struct Soak {
  const Options& options;
  fs::path work;
  SecretVolume volume;
  fs::path policy;
  ssl::context probe_tls;
  pid_t server = -1;
  int port = 0;
  std::unique_ptr<ServerLog> log;
  Clock::time_point start;

  std::vector<std::string> failures;  // every check that failed, in words
  std::size_t probes = 0;
  std::size_t probe_failures = 0;
  std::size_t probes_denied = 0;

  explicit Soak(const Options& options_in)
      : options(options_in),
        work(options_in.work),
        volume(work / "secret"),
        policy(work / "policy.yaml"),
        probe_tls(client_tls(options_in.certs + "/ca.crt")) {}

  void fail(const std::string& what) {
    std::printf("  FAILED: %s\n", what.c_str());
    std::fflush(stdout);
    failures.push_back(what);
  }

  void start_server() {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) die("pipe failed");
    server =
        start_process({options.server, "serve", "--listen", "127.0.0.1:0", "--tls-cert",
                       volume.certificate().string(), "--tls-key", volume.private_key().string(),
                       "--policy", policy.string(), "--threads", std::to_string(options.threads),
                       "--reload-interval-ms", std::to_string(kReloadInterval.count())},
                      pipe_fds[1]);
    ::close(pipe_fds[1]);
    log = std::make_unique<ServerLog>(pipe_fds[0]);
    // The server logs "listening" after listen(2): no test connection needed (one would also
    // leave a descriptor closing on the server's side when the at-rest count is taken).
    port = log->wait_for_port(std::chrono::seconds(10));
    if (port == 0) {
      stop_process(server, std::chrono::seconds(5));
      die("the server did not start (its log is above, if it wrote one)");
    }
  }

  Probe probe() {
    const std::string uid = "soak-probe-" + std::to_string(++probes);
    const std::string body = pod_review(uid, kProbeImage).dump();
    Probe result;
    asio::io_context io;
    asio::co_spawn(io, probe_once(probe_tls, port, uid, body, result),
                   [](std::exception_ptr failure) {
                     if (failure) std::rethrow_exception(failure);
                   });
    io.run();
    if (result.failure.empty() && !result.allowed) ++probes_denied;
    return result;
  }

  // One probe checked against what new connections must show; false when it failed.
  bool checked_probe(Expected<std::string>& serial, Expected<bool>& allowed, double t) {
    const Probe result = probe();
    std::string problem = result.failure;
    if (problem.empty()) {
      // Both, so that a missed rotation does not hide what the policy reload did.
      const std::string wrong_serial = serial.check(result.serial);
      const std::string wrong_decision = allowed.check(result.allowed);
      if (!wrong_serial.empty()) problem = "certificate serial: " + wrong_serial;
      if (!wrong_decision.empty()) {
        problem += (problem.empty() ? "" : "; ") + std::string("decision (1 = allowed): ") +
                   wrong_decision;
      }
    }
    if (problem.empty()) return true;
    ++probe_failures;
    fail("probe at " + std::to_string(static_cast<int>(t)) + " s: " + problem);
    return false;
  }

  Sample sample() {
    return {seconds_between(start, Clock::now()), proc_status_kb(server, "VmRSS:"),
            open_fds(server)};
  }
};

int run(const Options& options) {
  // A fresh directory: the Secret volume's layout and the policy file start from nothing.
  if (fs::exists(options.work) && !fs::is_empty(options.work))
    die("--work " + options.work + " must be empty or not exist yet");
  fs::create_directories(options.work);
  Soak soak(options);
  const std::string policy_text = read_file(options.policy);
  const std::string flipped_policy = policy_denying_probe(policy_text);
  write_file_atomically(soak.policy, policy_text);
  const fs::path certs(options.certs);
  soak.volume.publish(certs / "tls.crt", certs / "tls.key");
  const std::string first_serial = serial_of_file(soak.volume.certificate());

  soak.start_server();
  const long idle_fds_before = open_fds(soak.server);
  const double rotate_at = options.seconds / 3;
  const double reload_at = options.seconds * 2 / 3;
  std::printf(
      "soak: em-guard-webhook serve on 127.0.0.1:%d, %d threads, checking its files every %lld "
      "ms\n"
      "load: %.0f reviews/s open loop over %d TLS keep-alive connections for %.0f s (Deployment, "
      "Pod, HTTPRoute; every answer checked); a probe on a fresh verified TLS connection every "
      "second\n"
      "events: certificate rotation at %.0f s, policy reload at %.0f s; samples every %.0f s "
      "after a %.0f s warm-up\n",
      soak.port, options.threads, static_cast<long long>(kReloadInterval.count()), options.rate,
      options.connections, options.seconds, rotate_at, reload_at, options.sample_every,
      options.warm_up);
  std::printf("server at rest: %ld KB RSS, %ld fds\n", proc_status_kb(soak.server, "VmRSS:"),
              idle_fds_before);

  Expected<std::string> serial(first_serial);
  Expected<bool> probe_allowed(true);
  if (!soak.checked_probe(serial, probe_allowed, 0)) die("the first probe failed; nothing to soak");

  // The load, on its own thread.
  const std::vector<Review> reviews = realistic_reviews();
  ssl::context load_tls = client_tls(options.certs + "/ca.crt");
  LoadPlan plan;
  plan.port = soak.port;
  plan.reviews = &reviews;
  plan.connections = options.connections;
  plan.rate = options.rate;
  plan.timeout = kRequestTimeout;
  plan.check_answers = true;
  plan.start = Clock::now() + milliseconds(200);  // after the handshakes
  plan.end = plan.start + std::chrono::duration_cast<Clock::duration>(Seconds(options.seconds));
  soak.start = plan.start;
  LoadLog load;
  std::thread load_thread([&] {
    run_load(load_tls, plan, [&](const Answer& answer) { load.record(plan.start, answer); });
  });

  std::printf("%8s %9s %7s %8s %8s %9s %9s %5s\n", "t s", "answers", "failed", "p50 us", "p99 us",
              "max us", "RSS KB", "fds");
  std::vector<Sample> samples;
  std::size_t failures_reported = 0;
  const auto take_sample = [&](const char* note) {
    const Sample now = soak.sample();
    if (samples.empty()) {
      std::printf("%8.0f %9s %7s %8s %8s %9s %9ld %5ld  %s\n", now.t, "", "", "", "", "",
                  now.rss_kb, now.fds, note);
    } else {
      const LoadLog::Window window = load.window(samples.back().t, now.t);
      std::size_t failed = 0;
      {
        const std::lock_guard lock(load.mutex);
        failed = load.failures - failures_reported;
        failures_reported = load.failures;
      }
      std::printf("%8.0f %9zu %7zu %8.0f %8.0f %9.0f %9ld %5ld  %s\n", now.t, window.answers,
                  failed, window.p50, window.p99, window.max, now.rss_kb, now.fds, note);
    }
    std::fflush(stdout);
    samples.push_back(now);
  };

  bool rotated = false;
  bool reloaded = false;
  double next_sample = options.warm_up;
  const auto last_tick = static_cast<int>(std::ceil(options.seconds)) - 1;
  for (int tick = 1; tick <= last_tick; ++tick) {
    std::this_thread::sleep_until(plan.start + std::chrono::seconds(tick));
    if (Clock::now() >= plan.end) break;
    const double t = seconds_between(plan.start, Clock::now());
    if (!rotated && t >= rotate_at) {
      rotated = true;
      const std::string old_serial = serial_of_file(soak.volume.certificate());
      make_new_serving_pair(options);
      const std::string new_serial = serial_of_file(certs / "tls.crt");
      if (new_serial == old_serial) die("make-certs.sh made a certificate with the old serial");
      soak.volume.publish(certs / "tls.crt", certs / "tls.key");
      serial.change_to(new_serial);
      std::printf("%8.0f  certificate rotated (..data swapped): serial %s -> %s\n", t,
                  old_serial.c_str(), new_serial.c_str());
    }
    if (!reloaded && t >= reload_at) {
      reloaded = true;
      write_file_atomically(soak.policy, flipped_policy);
      probe_allowed.change_to(false);
      std::printf("%8.0f  policy rewritten: tag %s is now mutable, so the probe must be denied\n",
                  t, kProbeTag);
    }
    // Right after a change, probe every 50 ms to see how soon new connections get it.
    const bool changing = !serial.settled() || !probe_allowed.settled();
    while (soak.checked_probe(serial, probe_allowed, t) &&
           (!serial.settled() || !probe_allowed.settled())) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    if (changing && serial.settled() && probe_allowed.settled()) {
      std::printf("%8.0f  new connections got it after %.0f ms\n", t,
                  reloaded ? *probe_allowed.picked_up_ms() : *serial.picked_up_ms());
    }
    // A tick that took long (a change not picked up) skips the ticks it overran.
    const double now = seconds_between(plan.start, Clock::now());
    tick = std::max(tick, static_cast<int>(now));
    const bool last = tick >= last_tick;
    if (now >= next_sample || last) {
      take_sample(samples.empty() ? "start (after the warm-up)" : last ? "end" : "");
      while (next_sample <= now) next_sample += options.sample_every;
    }
  }
  if (samples.size() < 2) take_sample("end");
  load_thread.join();
  const double load_seconds = seconds_between(plan.start, Clock::now());

  // Once every client has gone, the server must hold exactly the descriptors it held at rest.
  long idle_fds_after = open_fds(soak.server);
  for (int wait = 0; wait < 100 && idle_fds_after != idle_fds_before; ++wait) {
    std::this_thread::sleep_for(milliseconds(50));
    idle_fds_after = open_fds(soak.server);
  }
  const long rss_peak = proc_status_kb(soak.server, "VmHWM:");
  const int status = stop_process(soak.server, std::chrono::seconds(30));
  const ServerLog::Summary server_log = soak.log->finish();

  // --- the verdict --------------------------------------------------------------------------
  const Sample& first = samples.front();
  const Sample& last = samples.back();
  std::vector<double> all;
  std::vector<double> all_service;
  std::size_t answers = 0;
  {
    const std::lock_guard lock(load.mutex);
    answers = load.answers.size();
    for (const LoadLog::Timed& answer : load.answers) {
      all.push_back(answer.latency_us);
      all_service.push_back(answer.service_us);
    }
  }
  // The first and last minute after the warm-up; thirds of it for runs shorter than 3 minutes.
  const double span = std::min(60.0, (last.t - first.t) / 3);
  const LoadLog::Window first_minute = load.window(first.t, first.t + span);
  const LoadLog::Window last_minute = load.window(last.t - span, last.t);
  const double rss_ratio = static_cast<double>(last.rss_kb) / first.rss_kb;
  std::size_t logged_reviews = 0;
  for (const auto& [decision, count] : server_log.decisions) logged_reviews += count;

  std::printf("summary:\n");
  std::printf(
      "  load: %zu answers in %.0f s (%.0f/s), %zu failed; probes on fresh connections: %zu, "
      "%zu failed\n",
      answers, load_seconds, answers / load_seconds, load.failures, soak.probes,
      soak.probe_failures);
  for (const std::string& failure : load.first_failures) std::printf("    %s\n", failure.c_str());
  std::printf(
      "  latency from the scheduled send: p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us\n",
      percentile(all, 50), percentile(all, 99), percentile(all, 99.9), percentile(all, 100));
  std::printf(
      "  latency from the actual send:    p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us\n",
      percentile(all_service, 50), percentile(all_service, 99), percentile(all_service, 99.9),
      percentile(all_service, 100));
  std::printf(
      "  p99 of the last %.0f s / the first %.0f s after the warm-up: %.0f / %.0f us = %.2f\n",
      span, span, last_minute.p99, first_minute.p99, last_minute.p99 / first_minute.p99);
  std::printf(
      "  RSS: %ld KB at %.0f s, %ld KB at %.0f s: end/start %.2f (bound %.2f), %+.1f bytes per "
      "answer in between; peak (VmHWM) %ld KB\n",
      first.rss_kb, first.t, last.rss_kb, last.t, rss_ratio, options.max_rss_growth,
      1024.0 * (last.rss_kb - first.rss_kb) /
          std::max<std::size_t>(1, load.window(first.t, last.t).answers),
      rss_peak);
  std::printf(
      "  fds: %ld at %.0f s, %ld at %.0f s: end/start %.2f (bound start + %ld); at rest "
      "%ld before the load, %ld after it\n",
      first.fds, first.t, last.fds, last.t, static_cast<double>(last.fds) / first.fds,
      options.fd_slack, idle_fds_before, idle_fds_after);
  std::printf(
      "  new connections: the new certificate %s, the probe denied %s (%zu probes denied)\n",
      picked_up(serial.picked_up_ms()).c_str(), picked_up(probe_allowed.picked_up_ms()).c_str(),
      soak.probes_denied);
  std::string decisions;
  for (const auto& [decision, count] : server_log.decisions) {
    decisions += (decisions.empty() ? "" : ", ") + decision + " " + std::to_string(count);
  }
  std::string serials;
  for (const std::string& loaded : server_log.serials_loaded) {
    serials += (serials.empty() ? "" : " then ") + loaded;
  }
  std::printf(
      "  server log: %zu decisions (%s); certificates loaded: %s; policy reloads: %zu; "
      "warnings and errors: %zu\n",
      logged_reviews, decisions.c_str(), serials.c_str(), server_log.policy_reloads,
      server_log.problems.size());
  for (const std::string& line : server_log.other) std::printf("    %s\n", line.c_str());
  for (const std::string& line : server_log.problems) std::printf("    %s\n", line.c_str());
  const bool clean_exit = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf("  server exit after SIGTERM: %s\n", clean_exit ? "0 (drained)" : "NOT CLEAN");

  if (load.failures > 0) soak.fail(std::to_string(load.failures) + " load requests failed");
  if (rss_ratio > options.max_rss_growth) soak.fail("RSS grew beyond the bound");
  if (last.fds > first.fds + options.fd_slack) soak.fail("file descriptors grew");
  if (idle_fds_after != idle_fds_before)
    soak.fail("the server holds other descriptors at rest after the load than before it");
  if (!serial.picked_up_ms()) soak.fail("no new handshake presented the rotated certificate");
  if (!probe_allowed.picked_up_ms()) soak.fail("the reloaded policy never decided the probe");
  if (server_log.serials_loaded !=
      std::vector<std::string>{first_serial, serial_of_file(soak.volume.certificate())})
    soak.fail("the server log does not show the two certificates loaded in order");
  if (server_log.policy_reloads != 1) soak.fail("the server log does not show one policy reload");
  if (!server_log.problems.empty()) soak.fail("the server logged warnings or errors");
  if (load.failures == 0 && soak.probe_failures == 0 && logged_reviews != answers + soak.probes)
    soak.fail("the server logged " + std::to_string(logged_reviews) + " decisions for " +
              std::to_string(answers + soak.probes) + " answers");
  if (!clean_exit) soak.fail("the server did not exit 0 after SIGTERM");
  if (soak.failures.empty()) {
    std::printf("PASS\n");
    return 0;
  }
  std::printf("FAIL: %zu checks failed\n", soak.failures.size());
  return 1;
}

}  // namespace

constexpr const char* kUsage =
    R"(Usage: soak_webhook --server BIN --certs DIR --make-certs SCRIPT --policy FILE --work DIR
                    [--seconds S] [--rate R] [--connections N] [--threads T] [--warm-up S]
                    [--sample-every S] [--max-rss-growth X] [--fd-slack N]
Run it through bench/run-soak, which prepares --certs, --policy and --work. Exit codes: 0 every
check passed, 1 a check failed, 2 wrong usage or a failed set-up. See bench/README.md.
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
    else if (args.is("--make-certs"))
      options.make_certs = args.value();
    else if (args.is("--policy"))
      options.policy = args.value();
    else if (args.is("--work"))
      options.work = args.value();
    else if (args.is("--seconds"))
      options.seconds = args.number(10, 86400);
    else if (args.is("--rate"))
      options.rate = args.number(1, 1e6);
    else if (args.is("--connections"))
      options.connections = static_cast<int>(args.whole(1, 10000));
    else if (args.is("--threads"))
      options.threads = static_cast<int>(args.whole(1, 1024));
    else if (args.is("--warm-up"))
      options.warm_up = args.number(0, 86400);
    else if (args.is("--sample-every"))
      options.sample_every = args.number(1, 86400);
    else if (args.is("--max-rss-growth"))
      options.max_rss_growth = args.number(1, 1000);
    else if (args.is("--fd-slack"))
      options.fd_slack = args.whole(0, 100000);
    else
      die("unknown argument " + args.arg());
  }
  if (options.server.empty() || options.certs.empty() || options.make_certs.empty() ||
      options.policy.empty() || options.work.empty()) {
    die("--server, --certs, --make-certs, --policy and --work are required");
  }
  if (options.warm_up >= options.seconds / 3) {
    die("the warm-up (--warm-up " + std::to_string(static_cast<int>(options.warm_up)) +
        " s) must end before the rotation at a third of --seconds; give more seconds");
  }
  std::signal(SIGPIPE, SIG_IGN);
  // An exception nothing catches (a filesystem error while rotating, say) is a failed set-up.
  std::set_terminate([] {
    std::string what = "unexpected failure";
    try {
      if (const std::exception_ptr failure = std::current_exception())
        std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    die(what);
  });
  return run(options);
}
