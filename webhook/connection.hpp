// One client connection's life: the TLS handshake, then requests read under the header, body
// and idle timeouts and the body budget, each answered by the router (webhook/router.hpp) and
// written back, kept alive until the client, a timeout, a drain or an eviction ends it. The
// server (webhook/server.cpp) accepts connections, keeps them in its registry and evicts or
// drains them through the methods here.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string_view>

#include "policies/engine/engine.hpp"
#include "webhook/asio.hpp"
#include "webhook/body_budget.hpp"
#include "webhook/log.hpp"
#include "webhook/metrics.hpp"
#include "webhook/router.hpp"
#include "webhook/server.hpp"
#include "webhook/swappable.hpp"

namespace emguard::webhook {

// A completion token that stores the error instead of throwing. Made fresh for every operation:
// Boost 1.74's composed operations (Beast) cannot take the token as a const lvalue.
inline auto into(boost::system::error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

// What every connection shares with the server that accepted it; the server outlives them all.
struct ConnectionShared {
  const ServerOptions& options;
  const Logger& log;
  Metrics& metrics;
  BodyBudget& body_budget;
  const Swappable<Engine>& engine;  // the current policy, one snapshot taken per request
  const std::atomic<bool>& draining;
};

// Where a connection is, for choosing one to evict at the connection cap: Handshake, Idle and
// Headers are clients that hold a slot without a request the server is working on.
enum class Phase { Handshake, Idle, Headers, Busy, Evicted };

// Shared, so that a drain can reach idle connections through weak pointers.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Stream = beast::ssl_stream<beast::tcp_stream>;
  using Clock = std::chrono::steady_clock;

  // `context` must outlive the connection (the server's completion handler holds it), so a
  // reload, which swaps in a new one for new connections, never pulls it from under a handshake.
  Connection(asio::ip::tcp::socket socket, ssl::context& context, asio::ip::address peer,
             const ConnectionShared& shared);

  // The handshake, then requests until the connection ends; closes it politely unless evicted.
  // The caller holds the connection until the coroutine completes.
  asio::awaitable<void> run();

  const asio::ip::address& peer() const { return peer_; }
  Phase phase() const { return phase_.load(); }
  Clock::rep since() const { return since_.load(); }  // when it entered its phase
  bool evicted() const { return phase_.load() == Phase::Evicted; }

  // Claims the connection for eviction, from the acceptor; false when it is busy or gone. Once
  // claimed, close() ends it and it never starts another request.
  bool claim_for_eviction(Phase seen);
  // Shuts the socket down and closes it, on the connection's strand (from any thread).
  void close();
  // Cancels the wait for the next request if the connection is idle then (a drain), on its
  // strand (from any thread).
  void cancel_if_idle();

  auto executor() { return stream_.get_executor(); }

 private:
  static Clock::rep now() { return Clock::now().time_since_epoch().count(); }
  // Moves to `next`, on the connection's strand; false once the acceptor has evicted it.
  bool advance(Phase next);
  // What the router reads of this server for one request, with `engine` its policy snapshot.
  RouterContext router_context(const Engine& engine) const;

  // Waits for the next request (the first: up to the header timeout; later ones: the idle
  // timeout), reads it, answers it and writes the answer. False when the connection is to end.
  asio::awaitable<bool> serve_request(beast::flat_buffer& buffer, bool first);

  // How a request's body read ended.
  enum class BodyRead { Complete, OverBudget, OverLimit, Malformed, Gone };
  asio::awaitable<BodyRead> read_body(beast::flat_buffer& buffer,
                                      http::request_parser<http::string_body>& parser,
                                      BodyBudget::Lease& lease);
  asio::awaitable<bool> lease_body_bytes(BodyBudget::Lease& lease, std::size_t bytes);
  // Answers a request that cannot be read whole (counted by path and code), before closing.
  asio::awaitable<void> reject(Unreadable why, std::string_view target);

  Stream stream_;
  const asio::ip::address peer_;
  const ConnectionShared& shared_;
  std::atomic<Phase> phase_{Phase::Handshake};
  std::atomic<Clock::rep> since_{0};
  bool idle_ = false;  // waiting for the next request; touched only on the connection's strand
};

}  // namespace emguard::webhook
