#include "webhook/server.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/common/exit_code.hpp"
#include "policies/engine/engine.hpp"
#include "policies/engine/policy.hpp"
#include "webhook/asio.hpp"
#include "webhook/body_budget.hpp"
#include "webhook/connection.hpp"
#include "webhook/metrics.hpp"
#include "webhook/swappable.hpp"
#include "webhook/tls.hpp"

namespace emguard::webhook {
namespace {

using tcp = asio::ip::tcp;
using asio::awaitable;

std::shared_ptr<const Engine> load_engine(const std::string& path) {
  return std::make_shared<const Engine>(Policy::load_file_or_builtin(path));
}

// Listening and accepting (with the connection cap), reloading the certificate and the policy
// when their files change, and the drain on SIGTERM. Each connection's life is webhook/
// connection.cpp; what a request is answered with is webhook/router.cpp.
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
  const ConnectionShared shared{options, log, metrics, body_budget, engine, draining};
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

  // --- connections ------------------------------------------------------------------------

  void start_connection(tcp::socket socket) {
    const std::shared_ptr<const ssl::context> context = tls.get();
    // ssl::stream wants a non-const context; the connection keeps it alive, so a reload (which
    // swaps in a new one for new connections) never pulls it from under a handshake.
    beast::error_code ec;
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    auto connection = std::make_shared<Connection>(
        std::move(socket), const_cast<ssl::context&>(*context), peer.address(), shared);
    {
      const std::lock_guard lock(registry_mutex);
      registry.insert(connection);
    }
    connections.fetch_add(1);
    metrics.open_connections().fetch_add(1);
    const auto executor = connection->executor();
    asio::co_spawn(executor, connection->run(),
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
        if (!connection->evicted()) ++per_peer[connection->peer()];
      }
      // Candidates from the busiest address first, then the oldest; claimed atomically, so a
      // connection that starts a request meanwhile is passed over.
      std::vector<std::tuple<std::size_t, std::chrono::steady_clock::rep, Connection*>> ranked;
      for (const auto& connection : registry) {
        const Phase phase = connection->phase();
        if (phase == Phase::Busy || phase == Phase::Evicted) continue;
        ranked.emplace_back(per_peer[connection->peer()], -connection->since(), connection.get());
      }
      std::sort(ranked.begin(), ranked.end(), std::greater<>());
      for (const auto& [count, age, candidate] : ranked) {
        const Phase seen = candidate->phase();
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
    victim->close();
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
      if (const auto connection = weak.lock()) connection->cancel_if_idle();
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
