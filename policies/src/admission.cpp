#include "emguard/admission.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "emguard/error.hpp"
#include "emguard/text.hpp"
#include "json_access.hpp"

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

struct BadReview {
  int status;
  std::string message;
};

std::string error_body(const std::string& message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

void reject(AdmissionOutcome& outcome, const BadReview& bad) {
  outcome.http_status = bad.status;
  outcome.decision = "error";
  outcome.reason = bad.message;
  outcome.body = error_body(bad.message);
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
    throw BadReview{400, "malformed JSON at byte " + std::to_string(error.byte)};
  }
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
json warning_list(const std::vector<const Violation*>& warned) {
  std::vector<std::string> texts;
  std::size_t whole_size = 0;
  for (std::size_t i = 0; i < warned.size() && i < kMaxListedViolations; ++i) {
    texts.push_back(warning_text(*warned[i]));
    whole_size += texts.back().size();
  }
  json warnings = json::array();
  if (warned.size() <= kMaxListedViolations && whole_size <= kWarningsTotalLimit) {
    for (std::string& text : texts) warnings.push_back(std::move(text));
    return warnings;
  }
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

json response_review(const json& request_review, const std::string& uid, bool allowed) {
  json response = {{"uid", uid}, {"allowed", allowed}};
  // Answer in the version the API server asked in (the contract requires the same apiVersion).
  return json{{"apiVersion", request_review.value("apiVersion", "admission.k8s.io/v1")},
              {"kind", "AdmissionReview"},
              {"response", std::move(response)}};
}

}  // namespace

AdmissionOutcome review_admission(const Engine& engine, std::string_view body,
                                  std::string_view environment_name, const Date& today) {
  AdmissionOutcome outcome;
  try {
    const json review = parse_review(body);
    if (!review.is_object()) throw BadReview{400, "expected an AdmissionReview object"};
    if (string_member(review, "kind") != "AdmissionReview" ||
        string_member(review, "apiVersion") != "admission.k8s.io/v1") {
      throw BadReview{400,
                      "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview (the "
                      "webhook configuration must list admissionReviewVersions: [v1])"};
    }
    const json* request = member(review, "request");
    if (request == nullptr || !request->is_object()) {
      throw BadReview{400, "AdmissionReview has no request object"};
    }
    outcome.uid = string_member(*request, "uid");
    if (outcome.uid.empty()) throw BadReview{400, "request.uid is missing or not a string"};
    if (const json* kind = member(*request, "kind")) outcome.kind = string_member(*kind, "kind");
    outcome.namespace_ = string_member(*request, "namespace");
    outcome.name = string_member(*request, "name");
    outcome.operation = string_member(*request, "operation");
    if (const json* dry_run = member(*request, "dryRun");
        dry_run != nullptr && dry_run->is_boolean()) {
      outcome.dry_run = dry_run->get<bool>();
    }

    const Environment* environment = nullptr;
    if (!environment_name.empty()) {
      environment = engine.policy().find_environment(environment_name);
      if (environment == nullptr) {
        throw BadReview{404, "environment " + quoted(environment_name) +
                                 " is not in the policy: the webhook configuration's path and "
                                 "the policy disagree"};
      }
    }

    json response = response_review(review, outcome.uid, true);
    outcome.decision = "allow";
    const std::string subresource = string_member(*request, "subResource");
    if (outcome.operation != "CREATE" && outcome.operation != "UPDATE") {
      outcome.reason = "operation " + (outcome.operation.empty() ? "(none)" : outcome.operation) +
                       " is not evaluated";
    } else if (!subresource.empty()) {
      outcome.reason = "subresource " + subresource + " is not evaluated";
    } else {
      const json* object = member(*request, "object");
      if (object == nullptr || !object->is_object()) {
        throw BadReview{400, "request.object is missing or not an object for " + outcome.operation};
      }
      if (environment == nullptr) {
        // A Namespace carries the labels that place it; any other object goes by its namespace.
        const ObjectRef ref = ObjectRef::of(*object);
        if (ref.is_namespace()) {
          const std::map<std::string, std::string> labels = string_labels(*object);
          environment = engine.policy().environment_for_namespace(ref.name, &labels);
        } else {
          environment = engine.policy().environment_for_namespace(outcome.namespace_);
        }
      }
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
          throw BadReview{400, error.what()};
        }
        std::vector<const Violation*> enforced;
        std::vector<const Violation*> warned;
        std::set<std::string> rules;
        for (const Violation& violation : evaluation.violations) {
          rules.insert(violation.rule);
          (violation.mode == Mode::Enforce ? enforced : warned).push_back(&violation);
        }
        json warnings = warning_list(warned);
        outcome.rules.assign(rules.begin(), rules.end());
        if (!enforced.empty()) {
          outcome.decision = "deny";
          response["response"]["allowed"] = false;
          response["response"]["status"] = {
              {"code", 403},
              {"reason", "Forbidden"},
              {"message", denial_message(ObjectRef::of(*object), *environment, enforced)}};
        } else if (!warnings.empty()) {
          outcome.decision = "warn";
        }
        if (!warnings.empty()) response["response"]["warnings"] = std::move(warnings);
      }
    }
    outcome.body = response.dump(-1, ' ', false, json::error_handler_t::replace);
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
    if (outcome.uid.empty()) throw BadReview{400, "request.uid is missing or not a string"};
    outcome.decision = "allow";
    outcome.body = response_review(review, outcome.uid, true).dump();
  } catch (const BadReview& bad) {
    reject(outcome, bad);
  }
  return outcome;
}

}  // namespace emguard
