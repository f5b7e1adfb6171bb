#include "webhook/metrics.hpp"

#include <cstdio>

namespace emguard::webhook {
namespace {

// Label values here come from a fixed set (paths, decisions, rule names), but escape anyway as
// the format requires.
std::string label(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

}  // namespace

std::string_view decision_label(std::optional<Decision> decision) {
  return decision ? to_string(*decision) : "none";
}

void Metrics::count_request(const std::string& path, int code, std::optional<Decision> decision,
                            std::chrono::nanoseconds latency) {
  {
    const std::lock_guard lock(mutex_);
    ++requests_[{path, code, std::string(decision_label(decision))}];
  }
  const double seconds = std::chrono::duration<double>(latency).count();
  std::size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<std::uint64_t>(latency.count()), std::memory_order_relaxed);
}

void Metrics::count_rejected(const std::string& path, int code) {
  const std::lock_guard lock(mutex_);
  ++requests_[{path, code, std::string(decision_label(std::nullopt))}];
}

void Metrics::count_denial(const std::string& rule) {
  const std::lock_guard lock(mutex_);
  ++denials_[rule];
}

void Metrics::count_reload(const std::string& what, bool ok) {
  const std::lock_guard lock(mutex_);
  ++reloads_[{what, ok}];
}

std::string Metrics::render() const {
  std::string out;
  out +=
      "# HELP em_guard_requests_total HTTP requests by path, status code and admission decision.\n";
  out += "# TYPE em_guard_requests_total counter\n";
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [key, count] : requests_) {
      const auto& [path, code, decision] = key;
      out += "em_guard_requests_total{path=\"" + label(path) + "\",code=\"" + std::to_string(code) +
             "\",decision=\"" + label(decision) + "\"} " + std::to_string(count) + "\n";
    }
    out += "# HELP em_guard_denials_total Denied admission requests by violated rule.\n";
    out += "# TYPE em_guard_denials_total counter\n";
    for (const auto& [rule, count] : denials_) {
      out += "em_guard_denials_total{rule=\"" + label(rule) + "\"} " + std::to_string(count) + "\n";
    }
    out +=
        "# HELP em_guard_reloads_total Reloads of the certificate and the policy after their files "
        "changed.\n";
    out += "# TYPE em_guard_reloads_total counter\n";
    for (const auto& [key, count] : reloads_) {
      out += "em_guard_reloads_total{file=\"" + label(key.first) + "\",result=\"" +
             (key.second ? "success" : "failure") + "\"} " + std::to_string(count) + "\n";
    }
  }
  out += "# HELP em_guard_request_duration_seconds Time from a complete request to its response.\n";
  out += "# TYPE em_guard_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += "em_guard_request_duration_seconds_bucket{le=\"" + number(kLatencyBuckets[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  cumulative += buckets_[kLatencyBuckets.size()].load(std::memory_order_relaxed);
  out +=
      "em_guard_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += "em_guard_request_duration_seconds_sum " +
         number(static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9) + "\n";
  out += "em_guard_request_duration_seconds_count " +
         std::to_string(latency_count_.load(std::memory_order_relaxed)) + "\n";
  out += "# HELP em_guard_in_flight_requests Requests being handled now.\n";
  out += "# TYPE em_guard_in_flight_requests gauge\n";
  out += "em_guard_in_flight_requests " + std::to_string(in_flight_.load()) + "\n";
  out += "# HELP em_guard_open_connections Open client connections.\n";
  out += "# TYPE em_guard_open_connections gauge\n";
  out += "em_guard_open_connections " + std::to_string(open_connections_.load()) + "\n";
  out +=
      "# HELP em_guard_rejected_connections_total Connections closed at once because "
      "--max-connections were open and none was idle.\n";
  out += "# TYPE em_guard_rejected_connections_total counter\n";
  out +=
      "em_guard_rejected_connections_total " + std::to_string(rejected_connections_.load()) + "\n";
  out +=
      "# HELP em_guard_evicted_connections_total Idle connections closed to make room for new "
      "ones at --max-connections.\n";
  out += "# TYPE em_guard_evicted_connections_total counter\n";
  out += "em_guard_evicted_connections_total " + std::to_string(evicted_connections_.load()) + "\n";
  out +=
      "# HELP em_guard_request_body_bytes_in_flight Bytes of the request body budget held by "
      "requests in flight (--max-body-budget-bytes).\n";
  out += "# TYPE em_guard_request_body_bytes_in_flight gauge\n";
  out += "em_guard_request_body_bytes_in_flight " + std::to_string(body_bytes_in_flight_.load()) +
         "\n";
  out += "# HELP em_guard_tls_handshake_failures_total TLS handshakes that failed or timed out.\n";
  out += "# TYPE em_guard_tls_handshake_failures_total counter\n";
  out +=
      "em_guard_tls_handshake_failures_total " + std::to_string(handshake_failures_.load()) + "\n";
  out +=
      "# HELP em_guard_certificate_expiry_timestamp_seconds notAfter of the serving certificate, "
      "as a Unix time.\n";
  out += "# TYPE em_guard_certificate_expiry_timestamp_seconds gauge\n";
  out += "em_guard_certificate_expiry_timestamp_seconds " +
         std::to_string(certificate_expiry_.load()) + "\n";
  return out;
}

}  // namespace emguard::webhook
