// Prometheus metrics of the admission server, rendered in the text exposition format 0.0.4.
// Lock-free on the request path except for label maps, which take a short mutex (their label
// sets are small and bounded: paths are /validate plus one per environment, rules are three).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "policies/engine/engine.hpp"

namespace emguard::webhook {

// The decision label of em_guard_requests_total: to_string(decision), or "none".
std::string_view decision_label(std::optional<Decision> decision);

class Metrics {
 public:
  // Upper bounds of the latency histogram, in seconds: the targets are well under 1 ms.
  static constexpr std::array<double, 12> kLatencyBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0};

  // `decision`: the admission decision, nullopt for a request that is no review (label "none").
  void count_request(const std::string& path, int code, std::optional<Decision> decision,
                     std::chrono::nanoseconds latency);
  // A request answered with an error before it was complete (413, 431, 400): counted by path and
  // code, not timed.
  void count_rejected(const std::string& path, int code);
  void count_denial(const std::string& rule);
  void count_handshake_failure() { handshake_failures_.fetch_add(1, std::memory_order_relaxed); }
  void count_rejected_connection() {
    rejected_connections_.fetch_add(1, std::memory_order_relaxed);
  }
  // An idle connection closed to make room for a new one at --max-connections.
  void count_evicted_connection() { evicted_connections_.fetch_add(1, std::memory_order_relaxed); }
  void count_reload(const std::string& what, bool ok);
  void set_certificate_expiry(std::int64_t unix_seconds) {
    certificate_expiry_.store(unix_seconds, std::memory_order_relaxed);
  }
  std::atomic<std::int64_t>& in_flight() { return in_flight_; }
  std::atomic<std::int64_t>& open_connections() { return open_connections_; }
  // Bytes of the body budget held by requests in flight (set by the server as it changes).
  std::atomic<std::int64_t>& body_bytes_in_flight() { return body_bytes_in_flight_; }

  std::string render() const;

 private:
  mutable std::mutex mutex_;
  // Keyed by the decision's label, not the enum: the series render in label order.
  std::map<std::tuple<std::string, int, std::string>, std::uint64_t> requests_;
  std::map<std::string, std::uint64_t> denials_;
  std::map<std::pair<std::string, bool>, std::uint64_t> reloads_;
  std::array<std::atomic<std::uint64_t>, kLatencyBuckets.size() + 1> buckets_{};  // + "+Inf"
  std::atomic<std::uint64_t> latency_count_{0};
  std::atomic<std::uint64_t> latency_sum_ns_{0};
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> open_connections_{0};
  std::atomic<std::uint64_t> handshake_failures_{0};
  std::atomic<std::uint64_t> rejected_connections_{0};
  std::atomic<std::uint64_t> evicted_connections_{0};
  std::atomic<std::int64_t> body_bytes_in_flight_{0};
  std::atomic<std::int64_t> certificate_expiry_{0};
};

}  // namespace emguard::webhook
