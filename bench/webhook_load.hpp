// What bench_webhook and soak_webhook share: the realistic AdmissionReviews they send, starting
// and watching `em-guard-webhook serve`, and the TLS keep-alive client that drives it at a fixed
// rate (open loop) or as fast as it answers (closed loop). Everything talks to 127.0.0.1 only.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <sys/types.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace webhook_load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using Clock = std::chrono::steady_clock;
using Stream = beast::ssl_stream<beast::tcp_stream>;
using Response = http::response<http::string_body>;

// --- reviews ---------------------------------------------------------------------------------

// An AdmissionReview request for `object` as the API server sends it: with managedFields,
// userInfo and options, in namespace em-runtime.
nlohmann::json admission_review(const std::string& uid, const nlohmann::json& kind,
                                const nlohmann::json& resource, const nlohmann::json& object);
// A container with ports, env (one from a Secret), resources and a readiness probe.
nlohmann::json container(const std::string& name, const std::string& image);
// The Pod of realistic_reviews() with one container running `image`.
nlohmann::json pod_review(const std::string& uid, const std::string& image);

struct Review {
  std::string uid;
  std::string body;
  bool allowed = true;  // the answer the policy in force must give
};

// A 3-container Deployment with an init container, a Pod and an HTTPRoute (1.7-3.4 KB each).
// Every image is pinned and the URLs agree, so the default policy allows all three.
std::vector<Review> realistic_reviews();

struct Verdict {
  std::string failure;  // "" for HTTP 200 with an AdmissionReview response for the uid
  bool allowed = false;
};
// What `response` answers to the review with `uid`.
Verdict read_answer(const std::string& uid, const Response& response);
// "" when `response` is a well-formed answer to the review with the expected decision;
// otherwise what is wrong with it.
std::string check_answer(const Review& review, const Response& response);

// --- the server ------------------------------------------------------------------------------

// A port that was free a moment ago on 127.0.0.1.
int free_port();
// Runs `argv` (argv[0] is the binary) with stdout to /dev/null and stderr to `stderr_fd` (-1:
// /dev/null), no other descriptors. The child gets SIGTERM when the calling thread ends
// (PR_SET_PDEATHSIG), so a crashed client leaves no server behind: call it from a thread that
// lives as long as the child should.
pid_t start_process(const std::vector<std::string>& argv, int stderr_fd = -1);
// True once a TCP connection to 127.0.0.1:port succeeds, false after `limit`.
bool wait_until_listening(int port, std::chrono::milliseconds limit);
// A "kB" field of /proc/PID/status such as "VmRSS:" or "VmHWM:"; -1 when it cannot be read.
long proc_status_kb(pid_t pid, const char* field);
// The number of open file descriptors of PID (/proc/PID/fd); -1 when it cannot be read.
long open_fds(pid_t pid);
// Waits up to `limit` for the process to exit, then kills it (SIGKILL). The wait status, or -1
// when it had to be killed.
int wait_process(pid_t pid, std::chrono::milliseconds limit);
// SIGTERM, then wait_process().
int stop_process(pid_t pid, std::chrono::milliseconds limit);

// --- the TLS client --------------------------------------------------------------------------

// A client context that trusts only the CA in `ca_file`.
ssl::context client_tls(const std::string& ca_file);
// TCP connect to 127.0.0.1:port and TLS handshake, the certificate verified for "localhost",
// all within `timeout`.
asio::awaitable<beast::error_code> connect(Stream& stream, int port, Clock::duration timeout);
// One POST of `body` (application/json) and its response, within `timeout`.
asio::awaitable<beast::error_code> exchange(Stream& stream, beast::flat_buffer& buffer,
                                            const std::string& target, const std::string& body,
                                            bool keep_alive, Response& response,
                                            Clock::duration timeout);

// --- the load --------------------------------------------------------------------------------

struct LoadPlan {
  int port = 0;
  std::string target = "/validate";
  const std::vector<Review>* reviews = nullptr;  // sent in rotation
  int connections = 8;
  double rate = 0;  // reviews/s over all connections; 0: closed loop (each sends back to back)
  Clock::time_point start;
  Clock::time_point end;
  Clock::duration timeout = std::chrono::seconds(10);  // per request, connecting included
  bool check_answers = false;  // check_answer() on every response, else only the HTTP status
};

struct Answer {
  Clock::time_point scheduled;  // open loop: the slot in the schedule; closed: the send
  Clock::time_point sent;
  Clock::time_point answered;
  std::string failure;  // "" when the answer was right
};

// Runs the plan on the calling thread until `end` and calls `on_answer` (on this thread) once for
// every request. A connection that fails is opened again for its next request, so one failure
// is counted once and the load goes on.
void run_load(ssl::context& tls, const LoadPlan& plan,
              const std::function<void(const Answer&)>& on_answer);

// The p-th percentile (nearest rank) of `values`; 0 for none.
double percentile(std::vector<double> values, double p);
double microseconds(Clock::duration duration);

}  // namespace webhook_load
