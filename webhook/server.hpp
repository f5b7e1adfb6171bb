// `em-guard-webhook serve`: the HTTPS admission server (Boost.Beast over OpenSSL, C++20
// coroutines on a thread pool). Transport only; the meaning of a review is review_admission().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "log.hpp"

namespace emguard::webhook {

struct ServerOptions {
  std::string address = "0.0.0.0";
  std::uint16_t port = 8443;
  std::string certificate;
  std::string private_key;
  std::string client_ca;  // "" = no client certificates
  std::string policy;     // "" = the built-in default policy
  int threads = 2;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
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
