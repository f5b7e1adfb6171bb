#include "tests/support/gateway_rule.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "tests/support/files.hpp"
#include "tests/support/policy_eval.hpp"

namespace emguard::test::gateway_rule {

using nlohmann::json;

namespace {

// The environment "production" with what it declares spliced in.
std::string policy_text(const std::string& declared) {
  return R"(apiVersion: em-guard.io/v1alpha1
kind: Policy
rules:
  gateway-consistency:
    settings:
      urls: ["PUBLIC_URL", "*_PUBLIC_URL", "KEYCLOAK_URL", "EXTERNAL_URL", "*_EXTERNAL_URL"]
      origins: ["*CORS*ORIGINS*", "*ALLOWED_ORIGINS*"]
      hostnames: ["KC_HOSTNAME", "hostname"]
environments:
  - name: production
    namespaces: [production]
)" + declared +
         "    mode: enforce\n";
}

}  // namespace

std::vector<Violation> check(const json& obj, const std::vector<const json*>& batch,
                             const std::string& declared) {
  return rule_violations(kGatewayConsistency, obj, policy_text(declared), batch);
}

std::string describe(const std::vector<Violation>& violations) {
  std::string out;
  for (const Violation& v : violations) out += "\n  " + v.path + ": " + v.message;
  return out.empty() ? "\n  (none)" : out;
}

void expect_one(const std::vector<Violation>& violations, const std::string& path,
                const std::vector<std::string>& parts) {
  ASSERT_EQ(violations.size(), 1u) << describe(violations);
  const Violation& v = violations.front();
  EXPECT_EQ(v.rule, "gateway-consistency");
  EXPECT_EQ(v.mode, Mode::Enforce);
  EXPECT_EQ(v.path, path) << v.message;
  for (const std::string& part : parts) {
    EXPECT_NE(v.message.find(part), std::string::npos)
        << "missing: " << part << "\nin: " << v.message;
  }
}

void expect_none(const std::vector<Violation>& violations) {
  EXPECT_TRUE(violations.empty()) << describe(violations);
}

namespace {

const char* const kGatewayYaml = R"(apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: em-runtime-gateway, namespace: gateway}
spec:
  gatewayClassName: example
  listeners:
    - name: https
      port: 443
      protocol: HTTPS
      hostname: em.example.com
      tls:
        mode: Terminate
        certificateRefs: [{kind: Secret, name: platform-tls}]
    - name: http
      port: 80
      protocol: HTTP
      hostname: em.example.com
)";

}  // namespace

json gateway() { return object(kGatewayYaml); }

json route(const std::string& hostnames, const std::string& parent) {
  return object(
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
      "metadata: {name: em-runtime, namespace: production}\n"
      "spec:\n  parentRefs: [" +
      parent + "]\n  hostnames: " + hostnames +
      "\n  rules: [{backendRefs: [{name: em-runtime-governance, port: 8000}]}]\n");
}

json config_map(const std::string& key, const std::string& value) {
  json obj = object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: em-runtime-config}\n");
  obj["data"][key] = value;
  return obj;
}

json http_route(const std::string& rules, const std::string& parent, const std::string& name) {
  return object(
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
      "metadata: {name: " +
      name +
      ", namespace: production}\n"
      "spec:\n  parentRefs: [" +
      parent + "]\n  hostnames: [em.example.com]\n  rules: " + rules + "\n");
}

std::vector<json> objects_in(const std::string& text) {
  std::vector<json> out;
  std::vector<Document> documents = split_documents(text);
  for (const Document& document : documents) {
    if (!document.has_content) continue;
    json value = to_json(parse_document(document));
    if (value.is_object()) out.push_back(std::move(value));
  }
  return out;
}

std::vector<json> sample_objects() { return objects_in(sample_release()); }

json* find_kind(std::vector<json>& objects, const std::string& kind, const std::string& name) {
  for (json& obj : objects) {
    if (obj.value("kind", "") == kind && obj["metadata"].value("name", "") == name) return &obj;
  }
  return nullptr;
}

std::vector<const json*> pointers(const std::vector<json>& objects) {
  std::vector<const json*> out;
  for (const json& obj : objects) out.push_back(&obj);
  return out;
}

}  // namespace emguard::test::gateway_rule
