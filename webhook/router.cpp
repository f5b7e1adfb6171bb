#include "webhook/router.hpp"

#include <utility>

#include "policies/admission/admission.hpp"
#include "policies/common/ascii.hpp"

namespace emguard::webhook {
namespace {

constexpr const char* kJson = "application/json";

Response respond(const Request& request, http::status status, std::string body,
                 const char* content_type = kJson) {
  Response response{status, request.version()};
  response.set(http::field::server, "em-guard-webhook");
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

// Every error the webhook itself answers with: {"error": "..."}, what is wrong and what to do.
Response error(const Request& request, http::status status, const std::string& message) {
  return respond(request, status,
                 nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                         nlohmann::json::error_handler_t::replace));
}

// application/json in any case, with or without parameters ("; charset=utf-8").
bool is_json(const Request& request) {
  const auto found = request.find(http::field::content_type);
  if (found == request.end()) return false;
  std::string_view value(found->value().data(), found->value().size());
  value = ascii::trim_right_spaces(value.substr(0, value.find(';')));
  return ascii::equals_ignoring_case(value, kJson);
}

// The environment a /validate path names: "" for /validate, nullopt when the path is not a
// review path. Every name is passed on: one the policy lacks is answered as a refused review,
// since a bare 404 is a failed call, which `failurePolicy: Ignore` turns into an admission.
std::optional<std::string> validate_environment(std::string_view path) {
  if (path == "/validate" || path == "/validate/") return std::string();
  constexpr std::string_view prefix = "/validate/";
  if (!path.starts_with(prefix)) return std::nullopt;
  return std::string(path.substr(prefix.size()));
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view path_of(const Request& request) {
  return path_of(std::string_view(request.target().data(), request.target().size()));
}

std::string metric_path(std::string_view path, const RouterContext& context) {
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") return std::string(path);
  if (context.baseline_endpoint && path == "/baseline") return std::string(path);
  // /validate, and /validate/<name> only for the policy's environments: the label set stays
  // "/validate plus one per environment" however many names scanners try.
  if (const auto environment = validate_environment(path)) {
    if (environment->empty() || context.engine.policy().find_environment(*environment) != nullptr) {
      return std::string(path);
    }
  }
  return "other";
}

// The HTTP answer to what the core made of a review: a review answer whenever there is one
// (allowed, denied or errored alike: the API server reads the refusal in the review), and a bare
// 400 only when there is no review to answer.
Response answer_review(const Request& request, const AdmissionOutcome& outcome) {
  if (outcome.verdict == AdmissionVerdict::Malformed) {
    return error(request, http::status::bad_request, outcome.reason);
  }
  return respond(request, http::status::ok, outcome.body);
}

// The fields of the "admission review" log line; never an object body or Secret data.
nlohmann::json review_log(const AdmissionOutcome& outcome, std::string_view path) {
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
  return fields;
}

Response answer(const Request& request, std::string_view path, const RouterContext& context,
                Routed& routed) {
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
      if (context.draining)
        return respond(request, http::status::service_unavailable, "draining\n", "text/plain");
      return respond(request, http::status::ok, "ok\n", "text/plain");
    }
    context.metrics.body_bytes_in_flight().store(
        static_cast<std::int64_t>(context.body_budget.in_use()));
    return respond(request, http::status::ok, context.metrics.render(),
                   "text/plain; version=0.0.4; charset=utf-8");
  }
  const bool baseline = context.baseline_endpoint && path == "/baseline";
  const std::optional<std::string> environment = validate_environment(path);
  if (!environment && !baseline) {
    return error(request, http::status::not_found,
                 "no such path; admission reviews go to POST /validate or /validate/<environment>");
  }
  if (auto refused = only(http::verb::post, "POST")) return std::move(*refused);
  if (!is_json(request)) {
    // A review (its uid readable) is refused as a review; anything else gets a bare 415.
    const AdmissionOutcome outcome =
        refuse_admission(request.body(), 415, "Content-Type must be application/json");
    routed.decision = outcome.decision;
    if (outcome.verdict == AdmissionVerdict::Malformed) {
      return error(request, http::status::unsupported_media_type,
                   "Content-Type must be application/json (an AdmissionReview)");
    }
    return respond(request, http::status::ok, outcome.body);
  }
  if (baseline) {
    const AdmissionOutcome outcome = allow_without_evaluating(request.body());
    routed.decision = outcome.decision;
    return answer_review(request, outcome);
  }

  const AdmissionOutcome outcome =
      review_admission(context.engine, request.body(), *environment,
                       context.today ? *context.today : Date::today_utc());
  routed.decision = outcome.decision;
  if (outcome.decision == Decision::Deny) routed.denied_rules = outcome.rules;
  routed.review_log = review_log(outcome, path);
  return answer_review(request, outcome);
}

}  // namespace

Routed route(const Request& request, const RouterContext& context) {
  const std::string_view path = path_of(request);
  Routed routed;
  routed.response = answer(request, path, context, routed);
  routed.metric_path = metric_path(path, context);
  return routed;
}

std::optional<Unreadable> framing_problem(const http::request_header<>& header, bool chunked) {
  if (header.version() == 11 && header.count(http::field::host) != 1) {
    return header.count(http::field::host) == 0 ? Unreadable::NoHost : Unreadable::SeveralHosts;
  }
  if (header.count(http::field::transfer_encoding) > 0 && !chunked) return Unreadable::NotChunked;
  return std::nullopt;
}

Routed refuse(Unreadable why, std::string_view target, const RouterContext& context) {
  http::status status = http::status::bad_request;
  std::string message;
  const char* retry_after = nullptr;
  bool path_known = true;
  switch (why) {
    case Unreadable::NotHttp:
      message = "malformed HTTP request";
      path_known = false;
      break;
    case Unreadable::HeadersTooLarge:
      status = http::status::request_header_fields_too_large;
      message = "request headers exceed " + std::to_string(kHeaderLimit) + " bytes";
      path_known = false;
      break;
    case Unreadable::NoHost:
      message = "an HTTP/1.1 request needs a Host header";
      break;
    case Unreadable::SeveralHosts:
      message = "a request must have one Host header";
      break;
    case Unreadable::NotChunked:
      message = "Transfer-Encoding must end in chunked (RFC 9112 section 6.3)";
      break;
    case Unreadable::BodyTooLarge:
      status = http::status::payload_too_large;
      message = "request body exceeds " + std::to_string(context.max_body_bytes) + " bytes";
      break;
    case Unreadable::BodyOverBudget:
      status = http::status::service_unavailable;
      message = "the server is busy: the request bodies in flight hold its memory budget; retry";
      retry_after = "1";
      break;
    case Unreadable::MalformedChunks:
      message = "malformed chunked body";
      break;
  }
  // No request to answer in kind: HTTP/1.1, and the connection closes after the answer.
  Request placeholder;
  placeholder.version(11);
  placeholder.keep_alive(false);
  Routed routed;
  routed.response = error(placeholder, status, message);
  routed.response.keep_alive(false);
  if (retry_after != nullptr) routed.response.set(http::field::retry_after, retry_after);
  routed.metric_path = path_known ? metric_path(path_of(target), context) : "other";
  return routed;
}

void record(Routed& routed, std::chrono::nanoseconds latency, Metrics& metrics, const Logger& log) {
  for (const std::string& rule : routed.denied_rules) metrics.count_denial(rule);
  const int code = static_cast<int>(routed.response.result_int());
  metrics.count_request(routed.metric_path, code, routed.decision, latency);
  if (routed.review_log) {
    nlohmann::json& fields = *routed.review_log;
    fields["latencyMs"] = std::chrono::duration<double, std::milli>(latency).count();
    fields["code"] = routed.response.result_int();
    log.log(routed.decision == Decision::Error ? LogLevel::Warn : LogLevel::Info,
            "admission review", std::move(fields));
  }
}

}  // namespace emguard::webhook
