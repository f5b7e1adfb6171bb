// libFuzzer target: the policy-file loader. Bad policies are InputErrors with a message; a
// policy that loads can evaluate objects in every environment it declares.
#include <cstddef>
#include <cstdint>
#include <string>

#include "policies/common/error.hpp"
#include "policies/engine/engine.hpp"
#include "policies/engine/policy.hpp"

namespace {

const nlohmann::json& sample_objects() {
  static const nlohmann::json objects = nlohmann::json::parse(R"([
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "production"},
     "spec": {"containers": [{"name": "a", "image": "nginx:latest"}]}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
     "data": {"PUBLIC_URL": "http://em.example.org", "CORS_ALLOWED_ORIGINS": "http://x"}},
    {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
     "metadata": {"name": "r"}, "spec": {"hostnames": ["em.example.org"],
     "parentRefs": [{"name": "g"}]}},
    {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "a"},
     "spec": {"source": {"repoURL": "https://example.com/x.git", "targetRevision": "HEAD"}}}
  ])");
  return objects;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const emguard::Engine engine(emguard::Policy::load(text, "fuzz.yaml"));
    std::vector<const nlohmann::json*> batch;
    for (const nlohmann::json& object : sample_objects()) batch.push_back(&object);
    for (const emguard::Environment& environment : engine.policy().environments()) {
      emguard::EvaluationContext context;
      context.environment = &environment;
      context.batch = batch;
      context.today = emguard::Date{2026, 11, 24};
      for (const nlohmann::json& object : sample_objects()) engine.evaluate(object, context);
    }
  } catch (const emguard::InputError&) {
    // A clear rejection is the expected outcome for most inputs.
  }
  return 0;
}
