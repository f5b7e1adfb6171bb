// `em-guard-webhook serve`: the HTTPS admission server (Boost.Beast over OpenSSL, C++20
// coroutines on a thread pool). Transport only: server.cpp listens, reloads and drains,
// connection.cpp carries each connection, router.cpp decides every answer, and the meaning of a
// review is review_admission().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "webhook/log.hpp"

namespace emguard::webhook {

// Bodies up to this size are the API server's everyday reviews (see max_body_budget_bytes).
constexpr std::size_t kSmallBodyBytes = 64 * 1024;

// The share of the body budget that only small bodies may use: 1 / kSmallBodyReserveShare.
constexpr std::size_t kSmallBodyReserveShare = 8;

struct ServerOptions {
  std::string address = "0.0.0.0";
  std::uint16_t port = 8443;
  std::string certificate;
  std::string private_key;
  std::string client_ca;  // "" = no client certificates
  std::string policy;     // "" = the built-in default policy
  int threads = 2;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  // What the bodies of all requests in flight may hold together (a request past it waits up to a
  // second, then gets 503). Sized for the chart's 256Mi memory limit: the budget, plus the
  // parsed reviews of one request per thread, plus TLS state of max_connections connections.
  // Bodies of up to kSmallBodyBytes keep an eighth of it to themselves, so large ones cannot
  // crowd out the API server's everyday reviews.
  std::size_t max_body_budget_bytes = 64 * 1024 * 1024;
  // At the cap a new connection evicts an idle one (waiting for a request, or still in its TLS
  // handshake or headers), from the client address with the most connections, longest idle
  // first; only when every connection is busy with a request is the new one closed at once.
  std::size_t max_connections = 512;
  std::chrono::seconds handshake_timeout{5};
  std::chrono::seconds header_timeout{5};  // from a request's first byte to its last header
  std::chrono::seconds body_timeout{10};   // for the whole body
  std::chrono::seconds idle_timeout{60};   // keep-alive: between requests
  std::chrono::seconds shutdown_grace{20};
  std::chrono::milliseconds reload_interval{5000};
  LogLevel log_level = LogLevel::Info;
  // Serves POST /baseline, which decodes the review and answers "allowed" with its uid without
  // evaluating anything (allow_without_evaluating): the floor bench/ compares the real handler
  // with. Off in production.
  bool baseline_endpoint = false;
};

// Runs until SIGTERM or SIGINT, then drains: /readyz turns 503, the listener closes, requests in
// flight finish (up to shutdown_grace), idle connections close. Returns the process exit code:
// 0 after a clean drain, 1 when the server could not start (the reason is logged).
int serve(const ServerOptions& options);

}  // namespace emguard::webhook
