// gateway-consistency through the public engine, settings: public URLs, CORS origins and
// hostnames in ConfigMaps, env values and arguments against where the release is served.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policies/engine/engine.hpp"
#include "tests/support/gateway_rule.hpp"
#include "tests/support/policy_eval.hpp"

namespace emguard {
namespace {

using nlohmann::json;
using test::object;
// check(), expect_one(), the em-runtime example's objects: what the gateway suites share.
using namespace test::gateway_rule;

// A Deployment with one container "app" and the given env list (YAML flow) and args.
json deployment(const std::string& env, const std::string& args = "[]") {
  return object(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: production}\n"
      "spec:\n  template:\n    spec:\n      containers:\n        - name: app\n"
      "          image: nginx:1.27.3\n          env: " +
      env + "\n          args: " + args + "\n");
}

// --- settings against the declared values -----------------------------------------------------

TEST(GatewayConsistency, ConfigMapWrongHost) {
  expect_one(check(config_map("PUBLIC_URL", "https://em.example.org")), "data.PUBLIC_URL",
             {"ConfigMap key PUBLIC_URL is \"https://em.example.org\"",
              "served at https://em.example.com", "declared for environment \"production\"",
              "host em.example.org differs from hostname em.example.com",
              "Set it to \"https://em.example.com\"."});
}

TEST(GatewayConsistency, ConfigMapWrongScheme) {
  expect_one(check(config_map("PUBLIC_URL", "http://em.example.com")), "data.PUBLIC_URL",
             {"uses scheme http, but the release is served over https",
              "Set it to \"https://em.example.com\"."});
}

TEST(GatewayConsistency, UrlKeepsItsPathInTheSuggestion) {
  expect_one(check(config_map("KEYCLOAK_URL", "http://em.example.com/keycloak")),
             "data.KEYCLOAK_URL", {"Set it to \"https://em.example.com/keycloak\"."});
  // A non-default port is a mismatch too.
  expect_one(check(config_map("PUBLIC_URL", "https://em.example.com:8443")), "data.PUBLIC_URL",
             {"port 8443"});
  // Case of scheme and host does not matter for a URL; the setting name is case-insensitive.
  expect_none(check(config_map("public_url", "HTTPS://Em.Example.com/app")));
}

TEST(GatewayConsistency, HttpOriginUnderHttps) {
  expect_one(check(config_map("CORS_ALLOWED_ORIGINS", "http://em.example.com")),
             "data.CORS_ALLOWED_ORIGINS",
             {"ConfigMap key CORS_ALLOWED_ORIGINS allows origin \"http://em.example.com\", but the "
              "release is served at https://em.example.com",
              "browsers send Origin \"https://em.example.com\", so every cross-origin request will "
              "fail CORS",
              "Set it to \"https://em.example.com\"."});
}

TEST(GatewayConsistency, TrailingSlashOrigin) {
  expect_one(check(config_map("CORS_ALLOWED_ORIGINS", "https://em.example.com/")),
             "data.CORS_ALLOWED_ORIGINS",
             {"allows origin \"https://em.example.com/\"", "ends with '/'",
              "Set it to \"https://em.example.com\"."});
}

TEST(GatewayConsistency, OneFindingPerMismatchingOrigin) {
  const std::vector<Violation> v =
      check(config_map("CORS_ALLOWED_ORIGINS",
                       "https://em.example.com, http://localhost:3000 https://EM.example.com"));
  ASSERT_EQ(v.size(), 2u) << describe(v);
  EXPECT_EQ(v[0].path, "data.CORS_ALLOWED_ORIGINS");
  EXPECT_EQ(v[1].path, "data.CORS_ALLOWED_ORIGINS");
  EXPECT_NE(v[0].message.find("allows origin \"http://localhost:3000\""), std::string::npos)
      << v[0].message;
  EXPECT_NE(v[0].message.find("Replace \"http://localhost:3000\" with \"https://em.example.com\""),
            std::string::npos)
      << v[0].message;
  EXPECT_NE(v[1].message.find("allows origin \"https://EM.example.com\""), std::string::npos)
      << v[1].message;
  EXPECT_NE(v[1].message.find("exact strings"), std::string::npos) << v[1].message;
  // A JSON array (pydantic-settings' list form) is read as JSON.
  expect_none(check(config_map("CORS_ALLOWED_ORIGINS", R"(["https://em.example.com"])")));
  expect_one(check(config_map("CORS_ALLOWED_ORIGINS", R"(["https://em.example.com", "*"])")),
             "data.CORS_ALLOWED_ORIGINS", {"allows origin \"*\"", "allows every origin"});
}

TEST(GatewayConsistency, EnvVarInDeployment) {
  expect_one(check(deployment("[{name: PUBLIC_URL, value: 'https://em.example.org'}]")),
             "spec.template.spec.containers[0].env[0].value",
             {"Env var PUBLIC_URL of container \"app\" is \"https://em.example.org\"",
              "Set it to \"https://em.example.com\"."});
  // Init containers, and CronJob's deeper pod spec.
  expect_one(check(object(R"(apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: production}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
            - name: setup
              env: [{name: APP_EXTERNAL_URL, value: "http://em.example.com"}]
          containers: [{name: main, image: "busybox:1.36"}]
)")),
             "spec.jobTemplate.spec.template.spec.initContainers[0].env[0].value",
             {"Env var APP_EXTERNAL_URL of init container \"setup\""});
}

TEST(GatewayConsistency, NonLiteralValuesAreSkipped) {
  expect_none(check(deployment(
      "[{name: PUBLIC_URL, valueFrom: {configMapKeyRef: {name: em-runtime-config, key: URL}}},"
      " {name: KEYCLOAK_URL, value: 'https://$(HOST)/keycloak'}, {name: EXTERNAL_URL, value: "
      "''}]")));
}

TEST(GatewayConsistency, InternalAndUnrelatedSettingsAreNotFlagged) {
  expect_none(check(deployment(
      "[{name: REDIS_URL, value: 'redis://em-runtime-redis-master:6379/0'},"
      " {name: DATABASE_URL, value: 'postgresql://u@em-runtime-postgresql:5432/db'},"
      " {name: REDIS_URL_2, value: 'https://elsewhere.example.org'},"
      " {name: KEYCLOAK_URL, value: 'http://keycloak:8080/keycloak'},"
      " {name: EXTERNAL_URL, value: 'http://em-runtime-governance.production.svc.cluster.local'},"
      " {name: PUBLIC_URL, value: 'redis://cache.example.org'}]")));
  expect_none(check(config_map("LOG_LEVEL", "http://em.example.org")));
}

TEST(GatewayConsistency, KeycloakHostnameArgument) {
  expect_one(check(deployment("[]", "[start, '--hostname=https://em.example.org/keycloak']")),
             "spec.template.spec.containers[0].args[1]",
             {"Argument --hostname of container \"app\" is \"https://em.example.org/keycloak\"",
              "issuer", "Set it to \"https://em.example.com/keycloak\"."});
  // "--hostname value" as two items: the value's own index is reported.
  expect_one(check(deployment("[]", "[start, --hostname, 'http://em.example.com/keycloak']")),
             "spec.template.spec.containers[0].args[2]", {"uses scheme http"});
  // A bare hostname is compared as a host.
  expect_one(check(deployment("[{name: KC_HOSTNAME, value: em.example.org}]")),
             "spec.template.spec.containers[0].env[0].value",
             {"Env var KC_HOSTNAME of container \"app\" is \"em.example.org\"",
              "Set it to \"em.example.com\"."});
  expect_none(check(deployment("[{name: KC_HOSTNAME, value: EM.example.com}]",
                               "[start, '--hostname=https://em.example.com/keycloak', "
                               "'--http-relative-path=/keycloak', --hostname-strict=false]")));
}

TEST(GatewayConsistency, HostnameOnlyDeclaredChecksTheHost) {
  expect_none(check(config_map("PUBLIC_URL", "http://em.example.com"), {}, kHostnameOnly));
  expect_one(check(config_map("PUBLIC_URL", "https://em.example.org"), {}, kHostnameOnly),
             "data.PUBLIC_URL",
             {"served at em.example.com", "Set it to \"https://em.example.com\""});
}

TEST(GatewayConsistency, NothingDeclaredNothingDerived) {
  expect_none(check(config_map("PUBLIC_URL", "http://anything.example.org"), {}, kNothingDeclared));
  // Scheme declared, no hostname and no batch (the default policy at admission): nothing to
  // compare with.
  expect_none(check(config_map("PUBLIC_URL", "http://anything.example.org"), {}, kSchemeOnly));
}

// --- settings against what the batch serves ------------------------------------------------

TEST(GatewayConsistency, BatchSettingsAgainstRouteHostname) {
  const json gw = gateway();
  json rt = route("[em.example.org]");
  json cm = config_map("PUBLIC_URL", "https://em.example.com");
  // The route's hostname on the Gateway's HTTPS listener is where the release is served.
  json wildcard = gateway();
  wildcard["spec"]["listeners"][0]["hostname"] = "*.example.org";
  wildcard["spec"]["listeners"][1]["hostname"] = "*.example.org";
  expect_one(check(cm, {&wildcard, &rt, &cm}, kNothingDeclared), "data.PUBLIC_URL",
             {"served at https://em.example.org", "as the HTTPRoutes of this input serve it",
              "Set it to \"https://em.example.org\"."});
  // Served over HTTPS: an http:// URL for the right host is wrong too.
  json http_cm = config_map("PUBLIC_URL", "http://em.example.org");
  expect_one(check(http_cm, {&wildcard, &rt, &http_cm}, kNothingDeclared), "data.PUBLIC_URL",
             {"uses scheme http"});
  // Without a Gateway in the batch the scheme is open and only the host is compared.
  expect_none(check(http_cm, {&rt, &http_cm}, kNothingDeclared));
  expect_one(check(cm, {&rt, &cm}, kNothingDeclared), "data.PUBLIC_URL",
             {"served at em.example.org",
              "host em.example.com differs from hostname "
              "em.example.org"});
  // Scheme declared, hostname derived.
  expect_one(check(http_cm, {&rt, &http_cm}, kSchemeOnly), "data.PUBLIC_URL",
             {"served at https://em.example.org", "from environment \"production\""});
  // Declared values take precedence over the batch.
  expect_one(check(http_cm, {&gw, &rt, &http_cm}), "data.PUBLIC_URL",
             {"served at https://em.example.com", "declared for environment"});
}

TEST(GatewayConsistency, BatchSettingsMatchAnyRouteHostname) {
  const json a = route("[em.example.com]");
  json b = route("[admin.example.com]");
  b["metadata"]["name"] = "admin";
  const json cm =
      config_map("CORS_ALLOWED_ORIGINS", "https://em.example.com,https://admin.example.com");
  expect_none(check(cm, {&a, &b, &cm}, kSchemeOnly));
  const json bad = config_map("CORS_ALLOWED_ORIGINS", "https://www.example.com");
  expect_one(check(bad, {&a, &b, &bad}, kSchemeOnly), "data.CORS_ALLOWED_ORIGINS",
             {"served at https://em.example.com or https://admin.example.com"});
}

TEST(GatewayConsistency, RedirectOnlyRouteDoesNotMakeTheHostHttp) {
  // The content route's Gateway is elsewhere; the redirect route alone is on a Gateway of the
  // batch. The host is then not known to be served over http.
  const json gw = gateway();
  const json content = route("[em.example.com]", "{name: elsewhere, sectionName: https}");
  const json redirect = http_route(kRedirectRule);
  const json cm = config_map("PUBLIC_URL", "https://em.example.com");
  expect_none(check(cm, {&gw, &content, &redirect, &cm}, kNothingDeclared));
  // A route that serves content over HTTP does make it http.
  const json served = http_route("[{backendRefs: [{name: governance, port: 8000}]}]");
  expect_one(check(cm, {&gw, &content, &served, &cm}, kNothingDeclared), "data.PUBLIC_URL",
             {"served at http://em.example.com"});
}

}  // namespace
}  // namespace emguard
