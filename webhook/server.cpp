#include "webhook/server.hpp"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "policies/admission/admission.hpp"
#include "policies/common/ascii.hpp"
#include "policies/common/error.hpp"
#include "policies/common/exit_code.hpp"
#include "policies/engine/engine.hpp"
#include "policies/engine/policy.hpp"
#include "webhook/asio.hpp"
#include "webhook/body_budget.hpp"
#include "webhook/metrics.hpp"
#include "webhook/tls.hpp"

namespace emguard::webhook {
namespace {

using tcp = asio::ip::tcp;
using asio::awaitable;
using Stream = beast::ssl_stream<beast::tcp_stream>;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A completion token that stores the error instead of throwing. Made fresh for every operation:
// Boost 1.74's composed operations (Beast) cannot take the token as a const lvalue.
auto into(boost::system::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

constexpr std::size_t kHeaderLimit = 16 * 1024;
// The most one read of a body adds (Beast's read_size for a flat_buffer).
constexpr std::size_t kReadAhead = 64 * 1024;
// How long a request waits for room in the body budget before it gets 503: long enough to ride
// out a burst of large reviews, short against the API server's 10 s webhook timeout.
constexpr std::chrono::milliseconds kBudgetWait{1000};
// Bodies from this size on are followed by malloc_trim (TrimAfterLargeRequest).
constexpr std::size_t kTrimAfterBodyBytes = 1024 * 1024;
constexpr const char* kJson = "application/json";

// A value swapped whole by the reloader while request threads read it.
template <class T>
class Swappable {
 public:
  explicit Swappable(std::shared_ptr<const T> value) : value_(std::move(value)) {}
  std::shared_ptr<const T> get() const {
    const std::lock_guard lock(mutex_);
    return value_;
  }
  void set(std::shared_ptr<const T> value) {
    const std::lock_guard lock(mutex_);
    value_ = std::move(value);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

std::shared_ptr<const Engine> load_engine(const std::string& path) {
  return std::make_shared<const Engine>(Policy::load_file_or_builtin(path));
}

// Where a connection is, for choosing one to evict at the connection cap: Handshake, Idle and
// Headers are clients that hold a slot without a request the server is working on.
enum class Phase { Handshake, Idle, Headers, Busy, Evicted };

// One client connection; shared so that a drain can reach idle ones through weak pointers.
struct Connection {
  Connection(tcp::socket socket, ssl::context& context, asio::ip::address peer_in)
      : stream(std::move(socket), context), peer(std::move(peer_in)) {
    since.store(now());
  }
  static std::chrono::steady_clock::rep now() {
    return std::chrono::steady_clock::now().time_since_epoch().count();
  }
  // Moves to `next`, on the connection's strand; false once the acceptor has evicted it.
  bool advance(Phase next) {
    Phase current = phase.load();
    do {
      if (current == Phase::Evicted) return false;
    } while (!phase.compare_exchange_weak(current, next));
    since.store(now());
    return true;
  }
  // Claims the connection for eviction, from the acceptor; false when it is busy or gone.
  bool claim_for_eviction(Phase seen) {
    return seen != Phase::Busy && seen != Phase::Evicted &&
           phase.compare_exchange_strong(seen, Phase::Evicted);
  }
  bool evicted() const { return phase.load() == Phase::Evicted; }

  Stream stream;
  const asio::ip::address peer;
  std::atomic<Phase> phase{Phase::Handshake};
  std::atomic<std::chrono::steady_clock::rep> since{0};  // when it entered its phase
  bool idle = false;  // waiting for the next request; touched only on the connection's strand
};

// Returns the heap that a large review (its body, parsed document and evaluation: ~170 MB for
// 120,000 containers) freed to the system. Without it each worker thread's malloc arena keeps
// its own high-water mark, so two large reviews in a row on two threads hold twice the peak.
struct TrimAfterLargeRequest {
  bool large = false;
  TrimAfterLargeRequest() = default;
  TrimAfterLargeRequest(const TrimAfterLargeRequest&) = delete;
  TrimAfterLargeRequest& operator=(const TrimAfterLargeRequest&) = delete;
  ~TrimAfterLargeRequest() {
    if (large) ::malloc_trim(0);
  }
};

// How a request's body read ended.
enum class BodyRead { Complete, OverBudget, OverLimit, Malformed, Gone };

// Why the headers of a request cannot be answered, or "" when they can. Beast 1.74 accepts all
// of these (RFC 9112 section 3.2, 6.1 and 6.3 say 400): a Transfer-Encoding whose last coding is
// not chunked (Beast then reads no body and parses the body as the next request: request
// smuggling), and an HTTP/1.1 request with no Host or several.
std::string framing_error(const http::request_parser<http::string_body>& parser) {
  const auto& header = parser.get();
  if (header.version() == 11 && header.count(http::field::host) != 1) {
    return header.count(http::field::host) == 0 ? "an HTTP/1.1 request needs a Host header"
                                                : "a request must have one Host header";
  }
  if (header.count(http::field::transfer_encoding) > 0 && !parser.chunked()) {
    return "Transfer-Encoding must end in chunked (RFC 9112 section 6.3)";
  }
  return "";
}

struct Server {
  explicit Server(const ServerOptions& options_in)
      : options(options_in),
        log(options_in.log_level),
        engine(load_engine(options_in.policy)),
        tls(nullptr),
        acceptor(asio::make_strand(io)),
        signals(io, SIGTERM, SIGINT),
        reload_timer(io) {}

  const ServerOptions& options;
  Logger log;
  Metrics metrics;
  Swappable<Engine> engine;
  Swappable<ssl::context> tls;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer reload_timer;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> evicting{0};  // connections chosen to make room, not yet closed
  BodyBudget body_budget{options.max_body_budget_bytes,
                         options.max_body_budget_bytes / kSmallBodyReserveShare, kSmallBodyBytes};
  std::mutex registry_mutex;
  std::set<std::shared_ptr<Connection>> registry;

  // --- set-up -----------------------------------------------------------------------------

  void install_tls() {
    const TlsContext loaded =
        load_tls({options.certificate, options.private_key, options.client_ca});
    tls.set(loaded.context);
    metrics.set_certificate_expiry(loaded.not_after);
    log.info("serving certificate loaded", {{"certificate", options.certificate},
                                            {"serial", loaded.serial},
                                            {"notAfter", loaded.not_after}});
  }

  // --- responses --------------------------------------------------------------------------

  static Response respond(const Request& request, http::status status, std::string body,
                          const char* content_type = kJson) {
    Response response{status, request.version()};
    response.set(http::field::server, "em-guard-webhook");
    response.set(http::field::content_type, content_type);
    response.body() = std::move(body);
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    return response;
  }

  static Response error(const Request& request, http::status status, const std::string& message) {
    return respond(request, status,
                   nlohmann::json{{"error", message}}.dump(
                       -1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

  // application/json in any case, with or without parameters ("; charset=utf-8").
  static bool is_json(const Request& request) {
    const auto found = request.find(http::field::content_type);
    if (found == request.end()) return false;
    std::string_view value(found->value().data(), found->value().size());
    value = ascii::trim_right_spaces(value.substr(0, value.find(';')));
    return ascii::equals_ignoring_case(value, kJson);
  }

  // The environment a /validate path names: "" for /validate, nullopt when the path is not a
  // review path. Every name is passed on: one the policy lacks is answered as a refused review,
  // since a bare 404 is a failed call, which `failurePolicy: Ignore` turns into an admission.
  static std::optional<std::string> validate_environment(std::string_view path) {
    if (path == "/validate" || path == "/validate/") return std::string();
    constexpr std::string_view prefix = "/validate/";
    if (!path.starts_with(prefix)) return std::nullopt;
    return std::string(path.substr(prefix.size()));
  }

  // The label a path gets in metrics: known routes as they are, anything else "other", so that
  // scanners cannot grow the label set.
  std::string metric_path(std::string_view path) const {
    if (path == "/healthz" || path == "/readyz" || path == "/metrics") return std::string(path);
    if (options.baseline_endpoint && path == "/baseline") return std::string(path);
    // /validate, and /validate/<name> only for the policy's environments: the label set stays
    // "/validate plus one per environment" however many names scanners try.
    if (const auto environment = validate_environment(path)) {
      if (environment->empty() ||
          engine.get()->policy().find_environment(*environment) != nullptr) {
        return std::string(path);
      }
    }
    return "other";
  }

  static std::string_view path_of(const Request& request) {
    const std::string_view target(request.target().data(), request.target().size());
    return target.substr(0, target.find('?'));
  }

  // The HTTP answer to what the core made of a review: a review answer whenever there is one
  // (allowed, denied or errored alike: the API server reads the refusal in the review), and a
  // bare 400 only when there is no review to answer.
  static Response answer_review(const Request& request, const AdmissionOutcome& outcome) {
    if (outcome.verdict == AdmissionVerdict::Malformed) {
      return error(request, http::status::bad_request, outcome.reason);
    }
    return respond(request, http::status::ok, outcome.body);
  }

  struct Handled {
    Response response;
    std::optional<Decision> decision;            // for metrics; nullopt (label "none"): no review
    std::optional<nlohmann::json> decision_log;  // fields of the admission log line
  };

  // Routes one complete request.
  Handled handle(const Request& request) {
    const std::string_view path = path_of(request);
    Handled handled;
    handled.response = route(request, path, handled);
    return handled;
  }

  Response route(const Request& request, std::string_view path, Handled& handled) {
    const auto only = [&](http::verb verb, const char* allow) -> std::optional<Response> {
      if (request.method() == verb) return std::nullopt;
      Response response = error(request, http::status::method_not_allowed,
                                "method " + std::string(request.method_string()) +
                                    " is not allowed on " + std::string(path) + "; use " + allow);
      response.set(http::field::allow, allow);
      return response;
    };
    if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
      if (auto refused = only(http::verb::get, "GET")) return std::move(*refused);
      if (path == "/healthz") return respond(request, http::status::ok, "ok\n", "text/plain");
      if (path == "/readyz") {
        if (draining)
          return respond(request, http::status::service_unavailable, "draining\n", "text/plain");
        return respond(request, http::status::ok, "ok\n", "text/plain");
      }
      metrics.body_bytes_in_flight().store(static_cast<std::int64_t>(body_budget.in_use()));
      return respond(request, http::status::ok, metrics.render(),
                     "text/plain; version=0.0.4; charset=utf-8");
    }
    const bool baseline = options.baseline_endpoint && path == "/baseline";
    const std::optional<std::string> environment = validate_environment(path);
    if (!environment && !baseline) {
      return error(
          request, http::status::not_found,
          "no such path; admission reviews go to POST /validate or /validate/<environment>");
    }
    if (auto refused = only(http::verb::post, "POST")) return std::move(*refused);
    if (!is_json(request)) {
      // A review (its uid readable) is refused as a review; anything else gets a bare 415.
      const AdmissionOutcome outcome =
          refuse_admission(request.body(), 415, "Content-Type must be application/json");
      handled.decision = outcome.decision;
      if (outcome.verdict == AdmissionVerdict::Malformed) {
        return error(request, http::status::unsupported_media_type,
                     "Content-Type must be application/json (an AdmissionReview)");
      }
      return respond(request, http::status::ok, outcome.body);
    }
    if (baseline) {
      const AdmissionOutcome outcome = allow_without_evaluating(request.body());
      handled.decision = outcome.decision;
      return answer_review(request, outcome);
    }

    const auto current = engine.get();
    const AdmissionOutcome outcome =
        review_admission(*current, request.body(), *environment, Date::today_utc());
    handled.decision = outcome.decision;
    if (outcome.decision == Decision::Deny) {
      for (const std::string& rule : outcome.rules) metrics.count_denial(rule);
    }
    nlohmann::json fields = {{"uid", outcome.uid},
                             {"kind", outcome.kind},
                             {"namespace", outcome.namespace_},
                             {"name", outcome.name},
                             {"operation", outcome.operation},
                             {"environment", outcome.environment},
                             {"decision", to_string(outcome.decision)},
                             {"rules", outcome.rules},
                             {"dryRun", outcome.dry_run},
                             {"path", std::string(path)}};
    if (!outcome.reason.empty()) fields["reason"] = outcome.reason;
    handled.decision_log = std::move(fields);
    return answer_review(request, outcome);
  }

  // --- connections ------------------------------------------------------------------------

  awaitable<void> run_connection(std::shared_ptr<Connection> connection) {
    Stream& stream = connection->stream;
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    beast::error_code ec;

    lowest.expires_after(options.handshake_timeout);
    co_await stream.async_handshake(ssl::stream_base::server, into(ec));
    if (ec) {
      if (!connection->evicted()) metrics.count_handshake_failure();
      log.log(LogLevel::Debug, "TLS handshake failed", {{"error", ec.message()}});
      co_return;
    }

    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      // Idle: wait for the first byte of the next request (a drain closes idle connections).
      if (buffer.size() == 0) {
        if (draining && !first) break;
        if (!connection->advance(Phase::Idle)) break;
        connection->idle = true;
        lowest.expires_after(first ? options.header_timeout : options.idle_timeout);
        const std::size_t got = co_await stream.async_read_some(buffer.prepare(4096), into(ec));
        connection->idle = false;
        if (ec) break;
        buffer.commit(got);
      }
      if (!connection->advance(Phase::Headers)) break;
      // Declared first, so that it runs once the request and its body are freed.
      TrimAfterLargeRequest trim;
      // Declared before the parser, so that the body is freed before its bytes are given back.
      BodyBudget::Lease lease = body_budget.lease();
      http::request_parser<http::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(options.max_body_bytes);
      lowest.expires_after(options.header_timeout);
      co_await http::async_read_header(stream, buffer, parser, into(ec));
      if (connection->evicted()) break;
      if (ec) {
        // Beast checks a Content-Length against body_limit with the headers: that is a 413.
        if (ec == http::error::body_limit) {
          co_await reject_too_large(stream, metric_path(path_of(parser.get())));
        } else if (ec == http::error::header_limit) {
          metrics.count_rejected("other", 431);
          co_await reject(stream, http::status::request_header_fields_too_large,
                          "request headers exceed " + std::to_string(kHeaderLimit) + " bytes");
        } else if (ec != beast::error::timeout && ec != asio::error::operation_aborted &&
                   ec != http::error::end_of_stream && ec != asio::ssl::error::stream_truncated &&
                   ec != asio::error::eof) {
          metrics.count_rejected("other", 400);
          co_await reject(stream, http::status::bad_request, "malformed HTTP request");
        }
        break;
      }
      if (const std::string framing = framing_error(parser); !framing.empty()) {
        metrics.count_rejected(metric_path(path_of(parser.get())), 400);
        co_await reject(stream, http::status::bad_request, framing);
        break;
      }
      if (!connection->advance(Phase::Busy)) break;
      metrics.in_flight().fetch_add(1);
      const BodyRead body = co_await read_body(stream, buffer, parser, lease);
      if (body != BodyRead::Complete) {
        metrics.in_flight().fetch_sub(1);
        const std::string path = metric_path(path_of(parser.get()));
        if (body == BodyRead::OverLimit) {  // a chunked body that grew past the limit
          co_await reject_too_large(stream, path);
        } else if (body == BodyRead::OverBudget) {
          metrics.count_rejected(path, 503);
          co_await reject(stream, http::status::service_unavailable,
                          "the server is busy: the request bodies in flight hold its memory "
                          "budget; retry",
                          "1");
        } else if (body == BodyRead::Malformed) {
          metrics.count_rejected(path, 400);
          co_await reject(stream, http::status::bad_request, "malformed chunked body");
        }
        break;  // timeouts, resets: nothing more to say on this connection
      }

      const Request& request = parser.get();
      trim.large = request.body().size() >= kTrimAfterBodyBytes;
      const auto started = std::chrono::steady_clock::now();
      Handled handled = handle(request);
      Response& response = handled.response;
      const auto latency = std::chrono::steady_clock::now() - started;
      const bool keep_alive = request.keep_alive() && !draining;
      response.keep_alive(keep_alive);
      metrics.count_request(metric_path(path_of(request)), static_cast<int>(response.result_int()),
                            handled.decision, latency);
      if (handled.decision_log) {
        nlohmann::json& fields = *handled.decision_log;
        fields["latencyMs"] = std::chrono::duration<double, std::milli>(latency).count();
        fields["code"] = response.result_int();
        log.log(handled.decision == Decision::Error ? LogLevel::Warn : LogLevel::Info,
                "admission review", std::move(fields));
      }

      lowest.expires_after(options.body_timeout);
      co_await http::async_write(stream, response, into(ec));
      metrics.in_flight().fetch_sub(1);
      if (ec || !keep_alive) break;
      first = false;
    }
    if (connection->evicted()) co_return;  // the acceptor closes it
    // Close politely (close_notify), but never wait long for a client that does not answer.
    lowest.expires_after(std::chrono::seconds(1));
    co_await stream.async_shutdown(into(ec));
  }

  // Holds `bytes` of the body budget in `lease`, waiting up to kBudgetWait for room.
  awaitable<bool> lease_body_bytes(BodyBudget::Lease& lease, std::size_t bytes) {
    if (lease.resize(bytes)) co_return true;
    asio::steady_timer pause(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + kBudgetWait;
    while (std::chrono::steady_clock::now() < deadline) {
      beast::error_code ec;
      pause.expires_after(std::chrono::milliseconds(10));
      co_await pause.async_wait(into(ec));
      if (lease.resize(bytes)) co_return true;
    }
    co_return false;
  }

  // Reads the body, with the memory it takes held in `lease` before it is taken: a declared
  // Content-Length up front (Beast reserves it at once), a chunked body one read ahead of what
  // it holds (the string is grown here, so Beast never has to grow it).
  awaitable<BodyRead> read_body(Stream& stream, beast::flat_buffer& buffer,
                                http::request_parser<http::string_body>& parser,
                                BodyBudget::Lease& lease) {
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    if (const auto length = parser.content_length(); length && *length > 0) {
      if (!co_await lease_body_bytes(lease, static_cast<std::size_t>(*length))) {
        co_return BodyRead::OverBudget;
      }
    }
    lowest.expires_after(options.body_timeout);
    while (!parser.is_done()) {
      if (parser.chunked()) {
        std::string& body = parser.get().body();
        // One read appends at most what is buffered plus one read of kReadAhead bytes.
        const std::size_t needed = body.size() + buffer.size() + kReadAhead;
        if (body.capacity() < needed) {
          const std::size_t grown =
              std::min(std::max(needed, 2 * body.capacity()), options.max_body_bytes + kReadAhead);
          if (!co_await lease_body_bytes(lease, grown)) co_return BodyRead::OverBudget;
          body.reserve(grown);
        }
      }
      beast::error_code ec;
      co_await http::async_read_some(stream, buffer, parser, into(ec));
      if (ec == http::error::body_limit) co_return BodyRead::OverLimit;
      if (ec == http::error::partial_message || ec == http::error::end_of_stream) {
        co_return BodyRead::Gone;
      }
      if (ec && ec.category() == http::make_error_code(http::error::bad_chunk).category()) {
        co_return BodyRead::Malformed;
      }
      if (ec) co_return BodyRead::Gone;
    }
    co_return BodyRead::Complete;
  }

  awaitable<void> reject_too_large(Stream& stream, const std::string& path) {
    metrics.count_rejected(path, 413);
    co_await reject(stream, http::status::payload_too_large,
                    "request body exceeds " + std::to_string(options.max_body_bytes) + " bytes");
  }

  awaitable<void> reject(Stream& stream, http::status status, const std::string& message,
                         const char* retry_after = nullptr) {
    Request placeholder;
    placeholder.version(11);
    placeholder.keep_alive(false);
    Response response = error(placeholder, status, message);
    response.keep_alive(false);
    if (retry_after != nullptr) response.set(http::field::retry_after, retry_after);
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, response, into(ec));
  }

  void start_connection(tcp::socket socket) {
    const std::shared_ptr<const ssl::context> context = tls.get();
    // ssl::stream wants a non-const context; the connection keeps it alive, so a reload (which
    // swaps in a new one for new connections) never pulls it from under a handshake.
    beast::error_code ec;
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    auto connection = std::make_shared<Connection>(
        std::move(socket), const_cast<ssl::context&>(*context), peer.address());
    {
      const std::lock_guard lock(registry_mutex);
      registry.insert(connection);
    }
    connections.fetch_add(1);
    metrics.open_connections().fetch_add(1);
    const auto executor = connection->stream.get_executor();
    asio::co_spawn(executor, run_connection(connection),
                   [this, connection, context](std::exception_ptr failure) {
                     if (failure) {
                       try {
                         std::rethrow_exception(failure);
                       } catch (const std::exception& e) {
                         log.error("connection failed", {{"error", e.what()}});
                       }
                     }
                     {
                       const std::lock_guard lock(registry_mutex);
                       registry.erase(connection);
                     }
                     if (connection->evicted()) evicting.fetch_sub(1);
                     metrics.open_connections().fetch_sub(1);
                     connections.fetch_sub(1);
                   });
  }

  // Makes room for a new connection at the cap: closes the connection that holds a slot without
  // a request in progress (in its handshake, idle, or sending headers), from the client address
  // with the most connections, the longest in that phase first. So one client's idle
  // connections, however many, cost that client its own connections, and a client that
  // connects and sends its request at once (the API server) is always let in. False when every
  // connection is busy with a request.
  bool evict_one() {
    std::shared_ptr<Connection> victim;
    {
      const std::lock_guard lock(registry_mutex);
      std::map<asio::ip::address, std::size_t> per_peer;
      for (const auto& connection : registry) {
        if (!connection->evicted()) ++per_peer[connection->peer];
      }
      // Candidates from the busiest address first, then the oldest; claimed atomically, so a
      // connection that starts a request meanwhile is passed over.
      std::vector<std::tuple<std::size_t, std::chrono::steady_clock::rep, Connection*>> ranked;
      for (const auto& connection : registry) {
        const Phase phase = connection->phase.load();
        if (phase == Phase::Busy || phase == Phase::Evicted) continue;
        ranked.emplace_back(per_peer[connection->peer], -connection->since.load(),
                            connection.get());
      }
      std::sort(ranked.begin(), ranked.end(), std::greater<>());
      for (const auto& [count, age, candidate] : ranked) {
        Phase seen = candidate->phase.load();
        if (candidate->claim_for_eviction(seen)) {
          for (const auto& connection : registry) {
            if (connection.get() == candidate) victim = connection;
          }
          break;
        }
      }
    }
    if (!victim) return false;
    evicting.fetch_add(1);
    metrics.count_evicted_connection();
    asio::post(victim->stream.get_executor(), [victim] {
      beast::error_code ignored;
      beast::get_lowest_layer(victim->stream)
          .socket()
          .shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(victim->stream).close();
    });
    return true;
  }

  awaitable<void> accept_loop() {
    beast::error_code ec;
    for (;;) {
      tcp::socket socket = co_await acceptor.async_accept(asio::make_strand(io), into(ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        // Out of descriptors and the like: log, back off a little, keep serving.
        log.warn("accept failed", {{"error", ec.message()}});
        asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
        co_await pause.async_wait(into(ec));
        continue;
      }
      if (connections.load() - evicting.load() >= options.max_connections && !evict_one()) {
        metrics.count_rejected_connection();
        socket.close(ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      start_connection(std::move(socket));
    }
  }

  // --- reload and shutdown ----------------------------------------------------------------

  void start_reloads() {
    std::vector<std::string> tls_files = {options.certificate, options.private_key};
    if (!options.client_ca.empty()) tls_files.push_back(options.client_ca);
    auto tls_signature = std::make_shared<FileSignature>(tls_files);
    auto policy_signature = std::make_shared<FileSignature>(
        options.policy.empty() ? std::vector<std::string>{}
                               : std::vector<std::string>{options.policy});
    schedule_reload(tls_signature, policy_signature);
  }

  void schedule_reload(std::shared_ptr<FileSignature> tls_signature,
                       std::shared_ptr<FileSignature> policy_signature) {
    reload_timer.expires_after(options.reload_interval);
    reload_timer.async_wait([this, tls_signature, policy_signature](beast::error_code ec) {
      if (ec || draining) return;
      if (tls_signature->changed()) {
        try {
          install_tls();
          metrics.count_reload("certificate", true);
        } catch (const std::exception& e) {
          metrics.count_reload("certificate", false);
          log.error("new certificate rejected; still serving the previous one",
                    {{"error", e.what()}});
        }
      }
      if (policy_signature->changed()) {
        try {
          engine.set(load_engine(options.policy));
          metrics.count_reload("policy", true);
          log.info("policy reloaded", {{"policy", options.policy}});
        } catch (const std::exception& e) {
          metrics.count_reload("policy", false);
          log.error("new policy rejected; still enforcing the previous one", {{"error", e.what()}});
        }
      }
      schedule_reload(tls_signature, policy_signature);
    });
  }

  void begin_drain(int signal_number) {
    if (draining.exchange(true)) return;
    log.info("draining", {{"signal", signal_number},
                          {"graceSeconds", options.shutdown_grace.count()},
                          {"openConnections", connections.load()}});
    reload_timer.cancel();
    asio::post(acceptor.get_executor(), [this] {
      beast::error_code ignored;
      acceptor.close(ignored);
    });
    close_idle_connections();
    const auto deadline = std::chrono::steady_clock::now() + options.shutdown_grace;
    auto timer = std::make_shared<asio::steady_timer>(io);
    wait_for_drain(timer, deadline);
  }

  void close_idle_connections() {
    std::vector<std::weak_ptr<Connection>> all;
    {
      const std::lock_guard lock(registry_mutex);
      all.assign(registry.begin(), registry.end());
    }
    for (const auto& weak : all) {
      const auto connection = weak.lock();
      if (!connection) continue;
      asio::post(connection->stream.get_executor(), [weak] {
        if (const auto c = weak.lock(); c && c->idle) beast::get_lowest_layer(c->stream).cancel();
      });
    }
  }

  void wait_for_drain(std::shared_ptr<asio::steady_timer> timer,
                      std::chrono::steady_clock::time_point deadline) {
    if (connections.load() == 0 || std::chrono::steady_clock::now() >= deadline) {
      if (connections.load() != 0) {
        log.warn("grace period over; closing remaining connections",
                 {{"openConnections", connections.load()}});
      }
      log.info("stopped");
      io.stop();
      return;
    }
    // Connections that were mid-request when the drain began are idle now: close them too.
    close_idle_connections();
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait(
        [this, timer, deadline](beast::error_code) { wait_for_drain(timer, deadline); });
  }

  int run() {
    try {
      install_tls();
    } catch (const std::exception& e) {
      // An unreadable certificate or key, or a pair that does not match: input, not system.
      log.error("cannot start", {{"error", e.what()}});
      return exit_status(ExitCode::InputError);
    }
    try {
      const tcp::endpoint endpoint(asio::ip::make_address(options.address), options.port);
      acceptor.open(endpoint.protocol());
      acceptor.set_option(asio::socket_base::reuse_address(true));
      acceptor.bind(endpoint);
      acceptor.listen(asio::socket_base::max_listen_connections);
      log.info("listening",
               {{"address", options.address},
                {"port", acceptor.local_endpoint().port()},
                {"threads", options.threads},
                {"policy", options.policy.empty() ? "built-in default" : options.policy},
                {"clientCertificates", !options.client_ca.empty()}});
    } catch (const std::exception& e) {
      log.error("cannot start", {{"error", e.what()}});
      return exit_status(ExitCode::SystemError);  // the address is taken or not ours
    }
    signals.async_wait([this](beast::error_code ec, int signal_number) {
      if (!ec) begin_drain(signal_number);
    });
    start_reloads();
    asio::co_spawn(acceptor.get_executor(), accept_loop(), [this](std::exception_ptr failure) {
      if (!failure) return;
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        log.error("listener failed", {{"error", e.what()}});
      }
    });
    std::vector<std::thread> pool;
    for (int i = 1; i < options.threads; ++i) pool.emplace_back([this] { io.run(); });
    io.run();
    for (std::thread& thread : pool) thread.join();
    return 0;
  }
};

}  // namespace

int serve(const ServerOptions& options) {
  // A client that vanishes mid-write is an error code on its connection, not a SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    Server server(options);
    return server.run();
  } catch (const InputError& e) {
    Logger(options.log_level).error("cannot start", {{"error", e.what()}});
    return exit_status(ExitCode::InputError);
  }
}

}  // namespace emguard::webhook
