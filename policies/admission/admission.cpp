#include "policies/admission/admission.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "policies/common/error.hpp"
#include "policies/common/quoting.hpp"
#include "policies/engine/environment.hpp"
#include "policies/manifests/json_access.hpp"

namespace emguard {
namespace {

using nlohmann::json;

// The API server keeps warnings whole while together they stay under 4 KiB, and otherwise cuts
// each to 256 characters (k8s.io/apiserver, endpoints/filters/warning.go). Doing the same here
// keeps the fix at the end of each message whenever it can reach the user. Denials and warnings
// each spell out at most kMaxListedViolations violations and then say how many more there are:
// an object with 120,000 unpinned images must not become a response of 120,000 warnings (tens of
// MB the server holds and the API server then cuts anyway).
constexpr std::size_t kWarningsTotalLimit = 4 * 1024;
constexpr std::size_t kWarningItemLimit = 256;
constexpr std::size_t kMaxListedViolations = 20;

// A request that cannot be answered as a review (no uid to answer): Malformed.
struct BadReview {
  std::string message;
};

// A review whose uid is known but that cannot be evaluated: answered as an AdmissionReview that
// refuses the object, like controller-runtime's Errored (pkg/webhook/admission/response.go).
// A bare 4xx would be a failed call, which `failurePolicy: Ignore` turns into an admission.
struct FailedReview {
  int code;
  std::string message;
};

void reject(AdmissionOutcome& outcome, const BadReview& bad) {
  outcome.verdict = AdmissionVerdict::Malformed;
  outcome.decision = Decision::Error;
  outcome.reason = bad.message;
  outcome.body.clear();
}

// nlohmann parses without recursion and frees deep documents iteratively, and the rules only
// read fixed paths, so nesting depth is no stack risk; the body size cap bounds the rest. (A
// depth-checking parser callback cost a quarter of the review time.)
json parse_review(std::string_view body) {
  try {
    return json::parse(body);
  } catch (const json::parse_error& error) {
    // Only the position: nlohmann's message quotes the bytes it last read, which may be part of
    // a Secret, and this text reaches the log.
    throw BadReview{"malformed JSON at byte " + std::to_string(error.byte)};
  }
}

constexpr std::string_view kNotAV1Review =
    "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview (the webhook "
    "configuration must list admissionReviewVersions: [v1])";

bool is_v1_review(const json& review) {
  return string_member(review, "kind") == "AdmissionReview" &&
         string_member(review, "apiVersion") == "admission.k8s.io/v1";
}

// The AdmissionReview operations (admission.k8s.io/v1 Operation); the API server sends them
// in capitals, so anything else is not a review the API server made.
bool is_operation(const std::string& operation) {
  return operation == "CREATE" || operation == "UPDATE" || operation == "DELETE" ||
         operation == "CONNECT";
}

// Pod subresources whose object is not the Pod, or that cannot change what a Pod runs. Every
// other pod subresource (ephemeralcontainers: `kubectl debug`; resize) carries the Pod and is
// evaluated, so a subresource added by a newer API server fails closed. The set is Pod
// Security admission's ignoredPodSubresources (kubernetes staging/src/k8s.io/
// pod-security-admission/admission/admission.go).
bool is_ignored_pod_subresource(const std::string& subresource) {
  static const std::set<std::string, std::less<>> kIgnored = {
      "exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"};
  return kIgnored.count(subresource) > 0;
}

std::string truncated(std::string text, std::size_t limit) {
  if (text.size() <= limit) return text;
  text.resize(limit - 3);
  // Do not cut a UTF-8 sequence in half.
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && (static_cast<unsigned char>(text.back()) & 0x80) != 0) text.pop_back();
  return text + "...";
}

std::string denial_message(const ObjectRef& ref, const Environment& environment,
                           const std::vector<const Violation*>& enforced) {
  std::string message =
      ref.display() + " violates em-guard policy (environment " + environment.name + "):";
  for (std::size_t i = 0; i < enforced.size() && i < kMaxListedViolations; ++i) {
    message += "\n- [" + enforced[i]->rule + "] " + enforced[i]->path + ": " + enforced[i]->message;
  }
  if (enforced.size() > kMaxListedViolations) {
    message += "\n- and " + std::to_string(enforced.size() - kMaxListedViolations) +
               " more (run em-guard-webhook check on the manifest for all of them)";
  }
  return message;
}

std::string warning_text(const Violation& violation) {
  return "em-guard [" + violation.rule + "] " + violation.path + ": " + violation.message;
}

// The warnings of `warned`, capped like a denial's list. While at most kMaxListedViolations fit
// in kWarningsTotalLimit whole, they go whole. Otherwise each is cut to kWarningItemLimit, and
// only as many are listed as leave room under kWarningsTotalLimit for a last entry that counts
// the rest: the API server stops adding warnings once the total passes that limit (warning.go
// above), and the count must reach the user.
std::vector<std::string> warning_list(const std::vector<const Violation*>& warned) {
  std::vector<std::string> texts;
  std::size_t whole_size = 0;
  for (std::size_t i = 0; i < warned.size() && i < kMaxListedViolations; ++i) {
    texts.push_back(warning_text(*warned[i]));
    whole_size += texts.back().size();
  }
  if (warned.size() <= kMaxListedViolations && whole_size <= kWarningsTotalLimit) return texts;
  std::vector<std::string> warnings;
  std::size_t listed_size = 0;
  for (std::string& text : texts) {
    std::string cut = truncated(std::move(text), kWarningItemLimit);
    // Room for this one and for the count, which is shorter than an item.
    if (listed_size + cut.size() + kWarningItemLimit > kWarningsTotalLimit) break;
    listed_size += cut.size();
    warnings.push_back(std::move(cut));
  }
  const std::size_t left = warned.size() - warnings.size();
  if (left > 0) {
    warnings.push_back("em-guard: ... and " + std::to_string(left) +
                       " more warnings (run em-guard-webhook check on the manifest for all of "
                       "them)");
  }
  return warnings;
}

// The version the API server asked in, which the contract requires the answer to be in.
std::string asked_version(const json& review) {
  return review.value("apiVersion", "admission.k8s.io/v1");
}

// The version to refuse a review in: the API server rejects an answer in another version than
// it asked in, so a refusal of a v1beta1 review must be v1beta1 to be read as a refusal.
std::string answer_version(const json& review) {
  const std::string version = string_member(review, "apiVersion");
  return version == "admission.k8s.io/v1beta1" ? version : "admission.k8s.io/v1";
}

void refuse(AdmissionOutcome& outcome, const json& review, const FailedReview& failed) {
  outcome.verdict = AdmissionVerdict::Errored;
  outcome.decision = Decision::Error;
  outcome.reason = failed.message;
  outcome.body = admission::answer(admission::errored(outcome.uid, failed.code, failed.message),
                                   answer_version(review));
}

// Why `operation` is not one the API server sends; the value only when it is short enough to
// be worth showing.
std::string operation_error(const std::string& operation) {
  constexpr std::string_view kOperations =
      "one of CREATE, UPDATE, DELETE, CONNECT (as the API server sends them)";
  if (operation.empty())
    return "request.operation is missing: expected " + std::string(kOperations);
  if (operation.size() > 16) return "request.operation is not " + std::string(kOperations);
  return "request.operation " + quoted(operation) + " is not " + std::string(kOperations);
}

// Evaluates one review whose uid is known; throws FailedReview for anything it cannot judge.
void evaluate_review(const Engine& engine, const json& review, const json& request,
                     std::string_view environment_name, const Date& today,
                     AdmissionOutcome& outcome) {
  if (!is_v1_review(review)) throw FailedReview{400, std::string(kNotAV1Review)};
  if (const json* kind = member(request, "kind")) outcome.kind = string_member(*kind, "kind");
  outcome.namespace_ = string_member(request, "namespace");
  outcome.name = string_member(request, "name");
  outcome.operation = string_member(request, "operation");
  if (const json* dry_run = member(request, "dryRun");
      dry_run != nullptr && dry_run->is_boolean()) {
    outcome.dry_run = dry_run->get<bool>();
  }
  if (!is_operation(outcome.operation)) {
    throw FailedReview{400, operation_error(outcome.operation)};
  }

  Placement placement;
  placement.named = environment_name;
  // The API server names the namespace in the request; a new object's metadata may not.
  placement.known_namespace = outcome.namespace_;
  if (!environment_name.empty()) {
    try {
      outcome.environment = named_environment(engine.policy(), environment_name, "").name;
    } catch (const UnknownEnvironment& error) {
      throw FailedReview{404, std::string(error.what()) +
                                  ": the webhook configuration's path /validate/" +
                                  std::string(environment_name) + " and the policy disagree"};
    }
  }

  const std::string api_version = asked_version(review);
  AdmissionResponse response = admission::allowed(outcome.uid);
  outcome.verdict = AdmissionVerdict::Allowed;
  outcome.decision = Decision::Allow;
  const std::string subresource = string_member(request, "subResource");
  const json* resource = member(request, "resource");
  const bool pod_subresource =
      !subresource.empty() && resource != nullptr && string_member(*resource, "group").empty() &&
      string_member(*resource, "resource") == "pods" && !is_ignored_pod_subresource(subresource);
  if (outcome.operation != "CREATE" && outcome.operation != "UPDATE") {
    outcome.reason = "operation " + outcome.operation + " is not evaluated";
  } else if (!subresource.empty() && !pod_subresource) {
    outcome.reason = "subresource " + subresource + " is not evaluated";
  } else {
    const json* object = member(request, "object");
    if (object == nullptr || !object->is_object()) {
      throw FailedReview{400,
                         "request.object is missing or not an object for " + outcome.operation};
    }
    const ObjectRef ref = ObjectRef::of(*object);
    if (pod_subresource && (ref.kind != "Pod" || ref.api_version != "v1")) {
      throw FailedReview{400, "request.object of pods/" + subresource +
                                  " is not a v1 Pod; em-guard cannot see what it changes"};
    }
    const Environment* environment = environment_of(engine.policy(), *object, placement);
    if (environment == nullptr) {
      outcome.reason = "no environment of the policy claims namespace " +
                       (outcome.namespace_.empty() ? "(none)" : outcome.namespace_);
    } else {
      outcome.environment = environment->name;
      EvaluationContext context;
      context.environment = environment;
      context.today = today;
      Evaluation evaluation;
      try {
        evaluation = engine.evaluate(*object, context);
      } catch (const InputError& error) {
        throw FailedReview{400, error.what()};
      }
      std::vector<const Violation*> enforced;
      std::vector<const Violation*> warned;
      std::set<std::string> rules;
      for (const Violation& violation : evaluation.violations) {
        rules.insert(violation.rule);
        (violation.mode == Mode::Enforce ? enforced : warned).push_back(&violation);
      }
      std::vector<std::string> warnings = warning_list(warned);
      outcome.rules.assign(rules.begin(), rules.end());
      if (!enforced.empty()) {
        outcome.verdict = AdmissionVerdict::Denied;
        outcome.decision = Decision::Deny;
        response = admission::denied(outcome.uid, denial_message(ref, *environment, enforced));
      } else if (!warnings.empty()) {
        outcome.decision = Decision::Warn;
      }
      response.warnings = std::move(warnings);
    }
  }
  outcome.body = admission::answer(response, api_version);
}

}  // namespace

namespace admission {

AdmissionResponse allowed(std::string uid) {
  AdmissionResponse response;
  response.uid = std::move(uid);
  response.allowed = true;
  return response;
}

AdmissionResponse denied(std::string uid, std::string message) {
  AdmissionResponse response;
  response.uid = std::move(uid);
  response.status = AdmissionStatus{403, "Forbidden", std::move(message)};
  return response;
}

AdmissionResponse errored(std::string uid, int code, std::string message) {
  AdmissionResponse response;
  response.uid = std::move(uid);
  response.status = AdmissionStatus{code, "", std::move(message)};
  return response;
}

std::string answer(const AdmissionResponse& response, std::string_view api_version) {
  json body = {{"uid", response.uid}, {"allowed", response.allowed}};
  if (response.status) {
    json status = {{"code", response.status->code}, {"message", response.status->message}};
    if (!response.status->reason.empty()) status["reason"] = response.status->reason;
    body["status"] = std::move(status);
  }
  if (!response.warnings.empty()) body["warnings"] = response.warnings;
  // Invalid UTF-8 (from object content quoted in a message) is replaced, never thrown on.
  return json{{"apiVersion", std::string(api_version)},
              {"kind", "AdmissionReview"},
              {"response", std::move(body)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace admission

AdmissionOutcome review_admission(const Engine& engine, std::string_view body,
                                  std::string_view environment_name, const Date& today) {
  AdmissionOutcome outcome;
  json review;
  const json* request = nullptr;
  try {
    review = parse_review(body);
    if (!review.is_object()) throw BadReview{"expected an AdmissionReview object"};
    request = object_member(review, "request");
    if (request != nullptr) outcome.uid = string_member(*request, "uid");
    if (outcome.uid.empty()) {
      if (!is_v1_review(review)) throw BadReview{std::string(kNotAV1Review)};
      if (request == nullptr) throw BadReview{"AdmissionReview has no request object"};
      throw BadReview{"request.uid is missing or not a string"};
    }
  } catch (const BadReview& bad) {
    reject(outcome, bad);
    return outcome;
  }
  // From here on the uid is known: every outcome is an AdmissionReview answer.
  try {
    evaluate_review(engine, review, *request, environment_name, today, outcome);
  } catch (const FailedReview& failed) {
    refuse(outcome, review, failed);
  } catch (const std::exception&) {
    // Out of memory or a bug: refuse (never admit unjudged) without quoting what failed.
    refuse(outcome, review, {500, "internal error while evaluating the review"});
  }
  return outcome;
}
AdmissionOutcome refuse_admission(std::string_view body, int code, const std::string& message) {
  AdmissionOutcome outcome;
  try {
    const json review = parse_review(body);
    const json* request = object_member(review, "request");
    if (request != nullptr) outcome.uid = string_member(*request, "uid");
    if (outcome.uid.empty()) throw BadReview{message};
    refuse(outcome, review, {code, message});
  } catch (const BadReview& bad) {
    reject(outcome, bad);
  }
  return outcome;
}

AdmissionOutcome allow_without_evaluating(std::string_view body) {
  AdmissionOutcome outcome;
  try {
    const json review = parse_review(body);
    const json* request = member(review, "request");
    outcome.uid = request != nullptr ? string_member(*request, "uid") : std::string();
    if (outcome.uid.empty()) throw BadReview{"request.uid is missing or not a string"};
    outcome.verdict = AdmissionVerdict::Allowed;
    outcome.decision = Decision::Allow;
    outcome.body = admission::answer(admission::allowed(outcome.uid), asked_version(review));
  } catch (const BadReview& bad) {
    reject(outcome, bad);
  }
  return outcome;
}

}  // namespace emguard
