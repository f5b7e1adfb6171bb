// The admission handler: an AdmissionReview (admission.k8s.io/v1) request body in, what became
// of it out, with no HTTP in sight: the webhook's router (webhook/router.cpp) maps the outcome to
// a status code and does transport, this does meaning, so it can be tested and fuzzed without
// sockets. Shaped like controller-runtime's admission.Handler and admission.Response
// (pkg/webhook/admission/response.go).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/engine.hpp"

namespace emguard {

// The part of a metav1.Status an AdmissionResponse carries.
struct AdmissionStatus {
  int code = 0;         // the HTTP-like code the API server reports to the client (403, 400, ...)
  std::string reason;   // "Forbidden" for a denial; "" leaves the field out, as Errored does
  std::string message;  // what kubectl prints
};

// The `response` of an AdmissionReview, typed. Made by the helpers of namespace admission below,
// as controller-runtime's Allowed, Denied and Errored make its admission.Response.
struct AdmissionResponse {
  std::string uid;  // the request's uid: the API server matches the answer by it
  bool allowed = false;
  std::optional<AdmissionStatus> status;
  std::vector<std::string> warnings;  // what kubectl prints as warnings; empty leaves them out
};

namespace admission {

// Allowed, nothing to say (warnings may be added).
AdmissionResponse allowed(std::string uid);
// Refused for what the object is: code 403, reason Forbidden, the violations in `message`.
AdmissionResponse denied(std::string uid, std::string message);
// Refused because the review could not be judged (fail closed): `code` and `message`, no reason.
AdmissionResponse errored(std::string uid, int code, std::string message);

// The AdmissionReview that carries `response`, in `api_version` (the API server reads an answer
// in another version than it asked in as a failed call).
std::string answer(const AdmissionResponse& response, std::string_view api_version);

}  // namespace admission

// What became of a review: the router maps it to an HTTP status, the logs and metrics read it.
enum class AdmissionVerdict {
  Allowed,  // answered allowed: true: nothing enforced was violated, or it was not evaluated
  Denied,   // answered allowed: false, 403: enforced violations
  // The uid is known but the review cannot be judged (an environment the policy lacks, no
  // object, another review version...): answered allowed: false with status.code and `reason`
  // as its message, as controller-runtime's Errored does. A failed call instead would be turned
  // into an admission by `failurePolicy: Ignore`.
  Errored,
  // No review to answer (not JSON, not an AdmissionReview, no uid): `body` is empty and `reason`
  // says what is wrong; the transport answers with an error of its own.
  Malformed,
};

struct AdmissionOutcome {
  AdmissionVerdict verdict = AdmissionVerdict::Malformed;
  // Allow or Warn when Allowed, Deny when Denied, Error when Errored or Malformed.
  Decision decision = Decision::Error;
  std::string body;  // the AdmissionReview answer; "" when Malformed
  // For the decision log line and metrics; never object bodies or Secret data.
  std::string uid;
  std::string kind;  // request.kind.kind
  std::string namespace_;
  std::string name;
  std::string operation;
  std::string environment;  // "" when none applied
  // Allowed: why it was not evaluated ("" when it was); Errored: the status message;
  // Malformed: what is wrong with the body.
  std::string reason;
  std::vector<std::string> rules;  // rules with violations (denied or warned), sorted, unique
  bool dry_run = false;
};

// `environment`: the environment named by the request path (/validate/<environment>), or "" to
// let the object's namespace decide through the policy (environment_of). Fails closed: once the
// request's uid is known, anything that cannot be judged (an environment the policy lacks, an
// operation other than CREATE/UPDATE/DELETE/CONNECT, a missing object, another review version)
// is Errored: answered allowed: false with status.code and message, as controller-runtime's
// Errored does; a body with no uid is Malformed. CREATE and UPDATE are evaluated, of the object
// and of the pod subresources that carry the Pod (pods/ephemeralcontainers: `kubectl debug`);
// DELETE, CONNECT and the other subresources (status, scale, exec, eviction, ...) are allowed
// unevaluated. dryRun requests are evaluated the same way: the webhook has no side effects to
// skip.
AdmissionOutcome review_admission(const Engine& engine, std::string_view body,
                                  std::string_view environment, const Date& today);

// A request the transport refuses before judging it (wrong Content-Type): Errored, refusing the
// object with status `code` and `message`, when the body is a review whose uid can be read, so
// the API server reads a refusal; else Malformed (`message` its reason), as for any body that is
// no review.
AdmissionOutcome refuse_admission(std::string_view body, int code, const std::string& message);

// The floor any admission webhook pays: decode the review and answer "allowed" with its uid,
// evaluating nothing. bench/ runs it beside review_admission to show what the rules cost.
AdmissionOutcome allow_without_evaluating(std::string_view body);

}  // namespace emguard
