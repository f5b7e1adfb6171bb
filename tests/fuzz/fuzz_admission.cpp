// libFuzzer target: AdmissionReview decoding plus evaluation, as the webhook runs it. Never
// throws; the answer is always JSON with a status the server knows how to send, and fails
// closed: a body whose request.uid can be read is answered 200 with a review of that uid, and
// one the webhook could not judge (decision "error") never allows.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "policies/admission/admission.hpp"

namespace {

const emguard::Engine& engine() {
  // The built-in policy plus declared gateway values, so every rule has something to compare.
  static const emguard::Engine loaded(emguard::Policy::load(R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
defaultEnvironment: production
rules:
  pinned-images: {mutableTags: [main, stable]}
  gateway-consistency:
    settings: {urls: ["*URL*"], origins: ["*ORIGIN*"], hostnames: ["*HOST*"]}
environments:
  - name: production
    hostname: em.example.com
    scheme: https
    gateway: {namespace: gateway, name: em-runtime-gateway, listener: https}
  - name: staging
    mode: warn
exceptions:
  - {name: e, match: {images: ["vendor/*"]}, reason: r, expires: 2026-12-31}
)",
                                                            "fuzz policy"));
  return loaded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const std::string_view environment : {"", "production", "staging", "qa"}) {
    const emguard::AdmissionOutcome outcome =
        emguard::review_admission(engine(), body, environment, emguard::Date{2026, 11, 24});
    // Malformed (the router's bare 400) only without a uid, and with nothing to answer.
    if (outcome.verdict == emguard::AdmissionVerdict::Malformed) {
      if (!outcome.uid.empty() || !outcome.body.empty() || outcome.reason.empty() ||
          outcome.decision != emguard::Decision::Error) {
        std::fprintf(stderr, "a review with a uid, or an answer, got a bare error\n");
        std::abort();
      }
      continue;
    }
    const nlohmann::json answer = nlohmann::json::parse(outcome.body, nullptr, false);
    if (answer.is_discarded()) {
      std::fprintf(stderr, "bad answer: not JSON\n");
      std::abort();
    }
    const nlohmann::json& response = answer.at("response");
    const bool refused = outcome.verdict == emguard::AdmissionVerdict::Denied ||
                         outcome.verdict == emguard::AdmissionVerdict::Errored;
    if (response.at("uid") != outcome.uid || response.at("allowed") == refused ||
        (outcome.decision == emguard::Decision::Error) !=
            (outcome.verdict == emguard::AdmissionVerdict::Errored)) {
      std::fprintf(stderr, "a review not answered for its uid, or an error that allows\n");
      std::abort();
    }
  }
  return 0;
}
