// The admission handler: an AdmissionReview (admission.k8s.io/v1) request body in, the response
// body out, with no HTTP in sight. Shaped like controller-runtime's admission.Handler; the
// webhook server (webhook/) does transport, this does meaning, so it can be tested and fuzzed
// without sockets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "emguard/engine.hpp"

namespace emguard {

struct AdmissionOutcome {
  int http_status =
      200;           // 200 with an AdmissionReview; 400 (bad review), 404 (unknown environment)
  std::string body;  // AdmissionReview JSON, or {"error": "..."} for 4xx
  // For the decision log line and metrics; never object bodies or Secret data.
  std::string uid;
  std::string kind;  // request.kind.kind
  std::string namespace_;
  std::string name;
  std::string operation;
  std::string environment;         // "" when none applied
  std::string decision;            // "allow", "warn", "deny", or "error" for 4xx
  std::string reason;              // why it was allowed without evaluation, or the 4xx error
  std::vector<std::string> rules;  // rules with violations (denied or warned), sorted, unique
  bool dry_run = false;
};

// `environment`: the environment named by the request path (/validate/<environment>), or "" to
// let the request's namespace decide through the policy. CREATE and UPDATE of the object itself
// are evaluated; DELETE, CONNECT and subresources (status, scale, ...) are allowed unevaluated.
// dryRun requests are evaluated the same way: the webhook has no side effects to skip.
AdmissionOutcome review_admission(const Engine& engine, std::string_view body,
                                  std::string_view environment, const Date& today);

// The floor any admission webhook pays: decode the review and answer "allowed" with its uid,
// evaluating nothing. bench/ runs it beside review_admission to show what the rules cost.
AdmissionOutcome allow_without_evaluating(std::string_view body);

}  // namespace emguard
