// Request bodies that are no AdmissionReview, each with the error the webhook answers (HTTP 400,
// no review: there is no uid to answer). The router tests send them in process, the server
// tests over TLS; one list, so the two cannot drift apart.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace emguard::test {

inline const std::vector<std::pair<std::string, std::string>>& bodies_that_are_no_review() {
  static const std::string not_a_review =
      "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview (the webhook "
      "configuration must list admissionReviewVersions: [v1])";
  static const std::string not_an_object = "expected an AdmissionReview object";
  static const std::vector<std::pair<std::string, std::string>> bodies = {
      {R"({"apiVersion": "admission.k8s.io/v1", "kind": )", "malformed JSON at byte 47"},
      {"{]", "malformed JSON at byte 2"},
      {"", "malformed JSON at byte 1"},
      {R"({"hello": "world"})", not_a_review},
      {"[1, 2, 3]", not_an_object},
      {R"("AdmissionReview")", not_an_object},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})",
       "AdmissionReview has no request object"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":42}})",
       "request.uid is missing or not a string"},
      {std::string(200, '[') + std::string(200, ']'), not_an_object}};
  return bodies;
}

}  // namespace emguard::test
