// The admission handler: an AdmissionReview (admission.k8s.io/v1) request body in, the response
// body out, with no HTTP in sight. Shaped like controller-runtime's admission.Handler; the
// webhook server (webhook/) does transport, this does meaning, so it can be tested and fuzzed
// without sockets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/engine.hpp"

namespace emguard {

struct AdmissionOutcome {
  // 200 with an AdmissionReview whenever the request's uid could be read, errors included;
  // 400 with {"error": "..."} only for bodies that are no review (no uid to answer).
  int http_status = 200;
  std::string body;
  // For the decision log line and metrics; never object bodies or Secret data.
  std::string uid;
  std::string kind;  // request.kind.kind
  std::string namespace_;
  std::string name;
  std::string operation;
  std::string environment;  // "" when none applied
  // Allow, Warn or Deny as evaluated, or Error: a review refused because it could not be judged
  // (allowed: false, status.code 400/404/500), or a bare 400 for a body that is no review.
  Decision decision = Decision::Error;
  std::string reason;              // why it was allowed without evaluation, or the error
  std::vector<std::string> rules;  // rules with violations (denied or warned), sorted, unique
  bool dry_run = false;
};

// `environment`: the environment named by the request path (/validate/<environment>), or "" to
// let the object's namespace decide through the policy (environment_of). Fails closed: once the
// request's uid is known, anything that cannot be judged (an environment the policy lacks, an
// operation other than CREATE/UPDATE/DELETE/CONNECT, a missing object, another review version)
// is answered allowed: false with status.code and message, as controller-runtime's Errored does.
// CREATE and UPDATE are evaluated, of the object and of the pod subresources that carry the
// Pod (pods/ephemeralcontainers: `kubectl debug`); DELETE, CONNECT and the other subresources
// (status, scale, exec, eviction, ...) are allowed unevaluated. dryRun requests are evaluated
// the same way: the webhook has no side effects to skip.
AdmissionOutcome review_admission(const Engine& engine, std::string_view body,
                                  std::string_view environment, const Date& today);

// A request the transport refuses before judging it (wrong Content-Type): an AdmissionReview
// refusing the object with status `code` and `message` when the body is a review whose uid can
// be read, so the API server reads a refusal; else a bare 400, as for any body that is no review.
AdmissionOutcome refuse_admission(std::string_view body, int code, const std::string& message);

// The floor any admission webhook pays: decode the review and answer "allowed" with its uid,
// evaluating nothing. bench/ runs it beside review_admission to show what the rules cost.
AdmissionOutcome allow_without_evaluating(std::string_view body);

}  // namespace emguard
