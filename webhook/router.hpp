// One request in, one response out: the route a path and method pick, what a wrong method,
// Content-Type, framing or body size is answered with, the probes and /metrics, and the HTTP
// status of every AdmissionReview answer. No sockets and no TLS: the connection
// (webhook/connection.cpp) reads a request, hands it here and writes what comes back, so every
// answer can be tested in the process (tests/router_test.cpp). Shaped like handle_request of
// Boost.Beast's async SSL server example, a free function from request to response.
#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/engine.hpp"
#include "webhook/asio.hpp"
#include "webhook/body_budget.hpp"
#include "webhook/log.hpp"
#include "webhook/metrics.hpp"

namespace emguard::webhook {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// The most a request's headers may hold; past it the answer is 431.
constexpr std::size_t kHeaderLimit = 16 * 1024;

// What an answer depends on besides the request, gathered by the connection for each request.
struct RouterContext {
  // The policy of this request, one snapshot: a review and its metric label see the same policy
  // even when a reload lands meanwhile.
  const Engine& engine;
  Metrics& metrics;                // what /metrics renders
  const BodyBudget& body_budget;   // /metrics reports the bytes bodies in flight hold of it
  bool draining = false;           // /readyz answers 503 from the start of a drain
  bool baseline_endpoint = false;  // serve POST /baseline (ServerOptions::baseline_endpoint)
  std::size_t max_body_bytes = 0;  // the body limit, which the 413 answer names
  std::optional<Date> today;       // the day exceptions expire against; nullopt: today (UTC)
};

// An answer and what the server records of it (record() below).
struct Routed {
  Response response;
  // The path label of em_guard_requests_total: a known route as it is, anything else "other",
  // so that scanners cannot grow the label set.
  std::string metric_path;
  std::optional<Decision> decision;          // a review's decision; nullopt ("none") otherwise
  std::vector<std::string> denied_rules;     // a denial's rules (em_guard_denials_total)
  std::optional<nlohmann::json> review_log;  // a review's "admission review" log line fields
};

// Answers one complete request.
Routed route(const Request& request, const RouterContext& context);

// Why a request cannot be read whole. Each is answered (refuse()), then the connection closes.
enum class Unreadable {
  NotHttp,          // 400: the bytes are no HTTP request head
  HeadersTooLarge,  // 431: the headers pass kHeaderLimit
  // 400, framing Beast 1.74 accepts but RFC 9112 (sections 3.2, 6.1, 6.3) refuses: an HTTP/1.1
  // request with no Host or several, and a Transfer-Encoding whose last coding is not chunked
  // (Beast then reads no body and parses the body as the next request: request smuggling).
  NoHost,
  SeveralHosts,
  NotChunked,
  BodyTooLarge,     // 413: past max_body_bytes, by its Content-Length or as its chunks came
  BodyOverBudget,   // 503 with Retry-After: the bodies in flight hold the whole body budget
  MalformedChunks,  // 400: a chunked body that breaks the chunk syntax
};

// What is wrong with the framing of a request whose headers were read; nullopt when nothing is.
// `chunked`: whether the parser reads the body as chunked.
std::optional<Unreadable> framing_problem(const http::request_header<>& header, bool chunked);

// The answer to a request that cannot be read whole (Connection: close). `target`: the request
// target when its headers were read, for the path label ("other" for NotHttp and
// HeadersTooLarge, whose path is unknown).
Routed refuse(Unreadable why, std::string_view target, const RouterContext& context);

// Records an answered request: its denials and the request (path, status, decision, `latency`)
// in `metrics`, and for a review the "admission review" log line with the latency and status
// (a warning when the review could not be judged).
void record(Routed& routed, std::chrono::nanoseconds latency, Metrics& metrics, const Logger& log);

}  // namespace emguard::webhook
