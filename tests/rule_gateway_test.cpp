// gateway-consistency through the public engine: policy YAML in, violations (path, message) out.
// Objects are written as YAML and read the way every front end reads manifests.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "policies/engine/engine.hpp"
#include "policies/engine/policy.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "tests/support/files.hpp"
#include "tests/support/policy_eval.hpp"

namespace emguard {
namespace {

using nlohmann::json;

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

const std::string kDeclared =
    "    hostname: em.example.com\n"
    "    scheme: https\n"
    "    gateway: {namespace: gateway, name: em-runtime-gateway, listener: https}\n";
const std::string kNothingDeclared;
const std::string kSchemeOnly = "    scheme: https\n";
const std::string kHostnameOnly = "    hostname: em.example.com\n";

using test::object;

// The gateway-consistency violations of `obj` in "production"; `batch` empty = admission.
std::vector<Violation> check(const json& obj, const std::vector<const json*>& batch = {},
                             const std::string& declared = kDeclared) {
  return test::rule_violations(kGatewayConsistency, obj, policy_text(declared), batch);
}

std::string describe(const std::vector<Violation>& violations) {
  std::string out;
  for (const Violation& v : violations) out += "\n  " + v.path + ": " + v.message;
  return out.empty() ? "\n  (none)" : out;
}

// Expects exactly one violation, at `path`, whose message holds every part.
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

// --- objects -----------------------------------------------------------------------------------

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

json gateway() { return object(kGatewayYaml); }

json route(const std::string& hostnames = "[em.example.com]",
           const std::string& parent =
               "{name: em-runtime-gateway, namespace: gateway, sectionName: https}") {
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

// A Deployment with one container "app" and the given env list (YAML flow) and args.
json deployment(const std::string& env, const std::string& args = "[]") {
  return object(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: production}\n"
      "spec:\n  template:\n    spec:\n      containers:\n        - name: app\n"
      "          image: nginx:1.27.3\n          env: " +
      env + "\n          args: " + args + "\n");
}

// The objects of a multi-document YAML text.
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

std::vector<json> sample_objects() { return objects_in(test::sample_release()); }

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

// --- the sample release ------------------------------------------------------------------------

TEST(GatewayConsistency, SampleReleaseIsConsistent) {
  std::vector<json> objects = sample_objects();
  ASSERT_NE(find_kind(objects, "HTTPRoute", "em-runtime"), nullptr);
  ASSERT_NE(find_kind(objects, "ConfigMap", "em-runtime-config"), nullptr);
  ASSERT_NE(find_kind(objects, "Deployment", "keycloak"), nullptr);
  // The sample as rendered (its Gateway lives elsewhere), then with the Gateway of DESIGN.md.
  for (const json& obj : objects) {
    SCOPED_TRACE("without Gateway: " + obj.value("kind", "") + " " +
                 obj["metadata"].value("name", ""));
    expect_none(check(obj, pointers(objects)));
    expect_none(check(obj, pointers(objects), kNothingDeclared));
  }
  objects.push_back(gateway());
  const std::vector<const json*> batch = pointers(objects);
  for (const json& obj : objects) {
    SCOPED_TRACE(obj.value("kind", "") + " " + obj["metadata"].value("name", ""));
    expect_none(check(obj, batch));                    // render / CI
    expect_none(check(obj));                           // admission
    expect_none(check(obj, batch, kNothingDeclared));  // derived from the batch only
    expect_none(check(obj, batch, kSchemeOnly));
  }
}

TEST(GatewayConsistency, SampleReleaseWithWrongHostIsCaught) {
  // The same release rendered for em.example.org while production is em.example.com: the route,
  // the ConfigMap's three settings and Keycloak's --hostname all disagree.
  std::string text = test::sample_release();
  for (std::size_t at = text.find("em.example.com"); at != std::string::npos;
       at = text.find("em.example.com", at)) {
    text.replace(at, 14, "em.example.org");
  }
  std::vector<json> objects;
  std::vector<Document> documents = split_documents(text);
  for (const Document& document : documents) {
    if (document.has_content) objects.push_back(to_json(parse_document(document)));
  }
  const std::vector<const json*> batch = pointers(objects);
  std::vector<std::string> paths;
  for (const json& obj : objects) {
    for (const Violation& v : check(obj, batch)) paths.push_back(v.object.kind + " " + v.path);
  }
  // ConfigMap keys come in key order: JSON objects are sorted maps.
  EXPECT_EQ(paths,
            (std::vector<std::string>{"ConfigMap data.CORS_ALLOWED_ORIGINS",
                                      "ConfigMap data.KEYCLOAK_URL", "ConfigMap data.PUBLIC_URL",
                                      "Deployment spec.template.spec.containers[0].args[2]",
                                      "HTTPRoute spec.hostnames[0]"}));
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

// --- HTTPRoute against the declared values ----------------------------------------------------

TEST(GatewayConsistency, RouteServesTheDeclaredHostname) {
  expect_none(check(route()));
  expect_none(check(route("[\"*.example.com\"]")));  // a wildcard covering it
  expect_none(check(route("[]")));                   // whatever the listener serves
  expect_none(check(object(R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: production}
spec:
  parentRefs: [{name: em-runtime-gateway, namespace: gateway, sectionName: https}]
)")));
}

TEST(GatewayConsistency, RouteHostnameNotMatching) {
  expect_one(check(route("[em.example.org]")), "spec.hostnames[0]",
             {"HTTPRoute hostname \"em.example.org\" is neither the hostname em.example.com "
              "declared for environment \"production\" nor a wildcard covering it",
              "404", "Set it to em.example.com"});
  // Alongside the declared hostname, an extra one is reported on its own.
  expect_one(check(route("[em.example.com, old.example.com]")), "spec.hostnames[1]",
             {"\"old.example.com\"", "Remove it from spec.hostnames"});
  // A wildcard that does not cover the declared hostname (it matches one label or more below
  // example.org only).
  expect_one(check(route("[\"*.example.org\"]")), "spec.hostnames[0]", {"\"*.example.org\""});
}

TEST(GatewayConsistency, InvalidRouteHostnameIsReportedOnce) {
  // Invalid and not the declared hostname: one finding for the path, the validity one.
  expect_one(check(route("[EM.example.com]")), "spec.hostnames[0]",
             {"\"EM.example.com\" is not a valid Gateway API hostname", "uppercase letter 'E'"});
  expect_one(check(route("[\"em.example.com.\", em.example.com]")), "spec.hostnames[0]",
             {"terminating dot"});
}

TEST(GatewayConsistency, MissingSectionName) {
  expect_one(
      check(route("[em.example.com]", "{name: em-runtime-gateway, namespace: gateway}")),
      "spec.parentRefs[0]",
      {"parentRef has no sectionName", "every listener of Gateway gateway/em-runtime-gateway",
       "including a plain-HTTP one", "Add sectionName: https"});
}

TEST(GatewayConsistency, WrongSectionName) {
  expect_one(check(route("[em.example.com]",
                         "{name: em-runtime-gateway, namespace: gateway, sectionName: http}")),
             "spec.parentRefs[0].sectionName",
             {"listener \"http\"", "through listener https", "Set sectionName: https."});
}

TEST(GatewayConsistency, WrongGateway) {
  expect_one(check(route("[em.example.com]",
                         "{name: other-gateway, namespace: gateway, sectionName: https}")),
             "spec.parentRefs[0].name",
             {"parentRef points to Gateway \"gateway/other-gateway\"",
              "through Gateway gateway/em-runtime-gateway",
              "{name: em-runtime-gateway, namespace: gateway, sectionName: https}"});
  expect_one(check(route("[em.example.com]",
                         "{name: em-runtime-gateway, namespace: infra, sectionName: https}")),
             "spec.parentRefs[0].namespace", {"\"infra/em-runtime-gateway\""});
  // Without a namespace the ref points into the route's own namespace.
  expect_one(check(route("[em.example.com]", "{name: em-runtime-gateway, sectionName: https}")),
             "spec.parentRefs[0]",
             {"\"production/em-runtime-gateway\"", "the route's own namespace"});
  // Neither the ref nor the route names a namespace: only the name is compared.
  json no_namespace = route("[em.example.com]", "{name: em-runtime-gateway, sectionName: https}");
  no_namespace["metadata"].erase("namespace");
  expect_none(check(no_namespace));
  // Non-Gateway parents (mesh routing through a Service) are not Gateways.
  expect_none(check(route("[em.example.com]",
                          "{name: em-runtime-gateway, namespace: gateway, sectionName: https}, "
                          "{group: '', kind: Service, name: governance}")));
}

TEST(GatewayConsistency, RouteWithoutParents) {
  expect_one(check(route("[em.example.com]", "")), "spec.parentRefs",
             {"no parentRefs",
              "parentRefs: [{name: em-runtime-gateway, namespace: gateway, "
              "sectionName: https}]"});
}

// --- Gateway against the declared values ------------------------------------------------------

json gateway_with(const std::string& https_listener) {
  return object(
      "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
      "metadata: {name: em-runtime-gateway, namespace: gateway}\n"
      "spec:\n  listeners:\n    - " +
      https_listener +
      "\n    - {name: http, port: 80, protocol: HTTP, hostname: em.example.com}\n");
}

TEST(GatewayConsistency, DeclaredGatewayIsConsistent) {
  expect_none(check(gateway()));
  expect_none(check(gateway_with(
      "{name: https, port: 443, protocol: HTTPS, hostname: '*.example.com', tls: "
      "{certificateRefs: [{name: platform-tls}]}}")));  // wildcard, tls.mode defaults to Terminate
}

TEST(GatewayConsistency, ListenerProtocolHttpUnderHttps) {
  expect_one(
      check(gateway_with("{name: https, port: 80, protocol: HTTP, hostname: em.example.com}")),
      "spec.listeners[0].protocol",
      {"listener \"https\" (used by environment \"production\") has protocol \"HTTP\"",
       "declares scheme https", "Set protocol: HTTPS (port 443) with tls.mode: Terminate",
       "for em.example.com"});
}

TEST(GatewayConsistency, ListenerTlsPassthrough) {
  expect_one(
      check(gateway_with("{name: https, port: 443, protocol: HTTPS, hostname: em.example.com, tls: "
                         "{mode: Passthrough}}")),
      "spec.listeners[0].tls.mode",
      {"tls.mode \"Passthrough\"", "HTTPRoutes cannot attach", "Set tls.mode: Terminate"});
  expect_one(
      check(gateway_with("{name: https, port: 443, protocol: HTTPS, hostname: em.example.com, tls: "
                         "{mode: Terminate, certificateRefs: []}}")),
      "spec.listeners[0].tls.certificateRefs", {"no certificateRefs"});
  expect_one(
      check(gateway_with("{name: https, port: 443, protocol: HTTPS, hostname: em.example.com}")),
      "spec.listeners[0]", {"has no tls settings"});
}

TEST(GatewayConsistency, ListenerHostnameNotAccepting) {
  expect_one(check(gateway_with(
                 "{name: https, port: 443, protocol: HTTPS, hostname: '*.example.org', tls: "
                 "{certificateRefs: [{name: platform-tls}]}}")),
             "spec.listeners[0].hostname",
             {"hostname \"*.example.org\", which does not accept the hostname em.example.com",
              "Set hostname: em.example.com"});
}

TEST(GatewayConsistency, DeclaredListenerMissing) {
  json obj = gateway();
  obj["spec"]["listeners"][0]["name"] = "websecure";
  expect_one(check(obj), "spec.listeners",
             {"no listener named \"https\" (used by environment \"production\")"});
}

TEST(GatewayConsistency, OtherGatewaysOnlyGetHostnameValidation) {
  json obj = gateway_with("{name: https, port: 80, protocol: HTTP, hostname: 'a..example.com'}");
  obj["metadata"]["name"] = "unrelated";
  expect_one(check(obj), "spec.listeners[0].hostname", {"empty label"});
}

// --- batch cross-checks ------------------------------------------------------------------------

TEST(GatewayConsistency, BatchRouteHostnameDoesNotIntersectListener) {
  const json gw = gateway();
  const json rt = route("[em.example.org]");
  expect_one(check(rt, {&gw, &rt}, kNothingDeclared), "spec.parentRefs[0]",
             {"HTTPRoute hostname \"em.example.org\" does not intersect",
              "listener \"https\" (hostname \"em.example.com\")",
              "of Gateway \"gateway/em-runtime-gateway\"", "NoMatchingListenerHostname"});
  // Without the Gateway in the batch there is nothing to compare with.
  expect_none(check(rt, {&rt}, kNothingDeclared));
  // A wildcard listener accepts it.
  json wildcard = gateway();
  wildcard["spec"]["listeners"][0]["hostname"] = "*.example.org";
  expect_none(check(rt, {&wildcard, &rt}, kNothingDeclared));
}

TEST(GatewayConsistency, BatchRouteNamesMissingListener) {
  const json gw = gateway();
  const json rt =
      route("[em.example.com]", "{name: em-runtime-gateway, namespace: gateway, sectionName: web}");
  expect_one(check(rt, {&gw, &rt}, kNothingDeclared), "spec.parentRefs[0].sectionName",
             {"listener \"web\"", "it has \"https\" and \"http\"", "NoMatchingParent"});
  // The Gateway hears about it too.
  expect_one(check(gw, {&gw, &rt}, kNothingDeclared), "spec.listeners",
             {"no listener named \"web\" (used by HTTPRoute \"production/em-runtime\")"});
}

TEST(GatewayConsistency, BatchRouteOnHttpListener) {
  const json gw = gateway();
  const json rt = route("[em.example.com]",
                        "{name: em-runtime-gateway, namespace: gateway, sectionName: http}");
  // Scheme https declared, no Gateway declared: the batch shows the route is plain HTTP.
  expect_one(check(rt, {&gw, &rt}, kSchemeOnly), "spec.parentRefs[0].sectionName",
             {"attaches only to plain-HTTP listener \"http\"", "declares scheme https",
              "Set sectionName: https."});
  // Nothing declared: served only over HTTP is still worth saying.
  expect_one(check(rt, {&gw, &rt}, kNothingDeclared), "spec.parentRefs[0].sectionName",
             {"served only over plain HTTP"});
  // No sectionName under scheme https: attached to both listeners.
  const json both = route("[em.example.com]", "{name: em-runtime-gateway, namespace: gateway}");
  expect_one(check(both, {&gw, &both}, kSchemeOnly), "spec.parentRefs[0]",
             {"plain-HTTP listener \"http\"", "Set sectionName: https."});
  // With the Gateway declared, the declared check explains it once.
  expect_one(check(both, {&gw, &both}), "spec.parentRefs[0]", {"Add sectionName: https"});
}

TEST(GatewayConsistency, BatchGatewayCheckedForAttachedRoutes) {
  // Nothing declared; the route attaches to a listener whose TLS cannot work.
  json gw = gateway();
  gw["spec"]["listeners"][0]["tls"]["mode"] = "Passthrough";
  gw["metadata"]["name"] = "shared";
  const json rt =
      route("[em.example.com]", "{name: shared, namespace: gateway, sectionName: https}");
  expect_one(check(gw, {&gw, &rt}, kNothingDeclared), "spec.listeners[0].tls.mode",
             {"used by HTTPRoute \"production/em-runtime\"", "Passthrough"});
  // No route attaches (and it is not the declared one): nothing to say.
  expect_none(check(gw, {&gw}, kNothingDeclared));
}

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

// --- routes that only redirect to https
// -----------------------------------------------------------

// The Gateway API project's own examples of an HTTP listener that only redirects to https, kept
// in tests/policy-suites/manifests/gateway-api/ (kubernetes-sigs/gateway-api at commit
// 4564255ac2c35d582249b3cdf261bdf51c8bca32):
// - examples/standard/http-redirect.yaml
// - examples/standard/simple-http-https/{gateway,foo-route,bar-route,tls-redirect-route}.yaml
// - examples/standard/http-redirect-rewrite/gateway-redirect-http-https.yaml,
//   httproute-redirect-http.yaml and httproute-redirect-https.yaml
std::vector<json> gateway_api_example(const std::string& file) {
  return objects_in(test::read_file(std::filesystem::path(EMGUARD_SOURCE_DIR) /
                                    "tests/policy-suites/manifests/gateway-api" / file));
}

std::string name_of(const json& obj) {
  return obj.value("kind", "") + " " + obj["metadata"].value("name", "");
}

const json& named(const std::vector<json>& objects, const std::string& kind,
                  const std::string& name) {
  for (const json& obj : objects) {
    if (obj.value("kind", "") == kind && obj["metadata"].value("name", "") == name) return obj;
  }
  ADD_FAILURE() << "no " << kind << " " << name;
  static const json none;
  return none;
}

TEST(GatewayConsistency, GatewayApiRedirectExamplesAreConsistent) {
  // What each example serves, declared as an environment would declare it.
  const std::vector<std::pair<std::string, std::string>> examples = {
      {"http-redirect.yaml",
       "    hostname: my-filter.example.com\n    scheme: https\n    gateway: {namespace: "
       "gateway-api-example-ns1, name: my-filter-gateway, listener: https}\n"},
      {"simple-http-https.yaml", kSchemeOnly},
      {"http-redirect-rewrite.yaml",
       "    hostname: redirect.example\n    scheme: https\n"
       "    gateway: {namespace: default, name: redirect-gateway, listener: https}\n"},
  };
  for (const auto& [file, declared] : examples) {
    const std::vector<json> objects = gateway_api_example(file);
    ASSERT_GE(objects.size(), 3u) << file;
    const std::vector<const json*> batch = pointers(objects);
    for (const json& obj : objects) {
      SCOPED_TRACE(file + ": " + name_of(obj));
      expect_none(check(obj, batch, declared));          // render / CI
      expect_none(check(obj, {}, declared));             // admission
      expect_none(check(obj, batch, kSchemeOnly));       // only the scheme declared
      expect_none(check(obj, batch, kNothingDeclared));  // no scheme declared either
      expect_none(check(obj, {}, kNothingDeclared));
    }
  }
}

// The same examples with the redirect replaced by content: plain HTTP under https is caught, on
// the route and on the listener it uses, with advice that keeps port 80 for a redirect.
TEST(GatewayConsistency, GatewayApiExampleServingContentOverHttpIsCaught) {
  std::vector<json> objects = gateway_api_example("simple-http-https.yaml");
  json* found = find_kind(objects, "HTTPRoute", "tls-redirect");
  ASSERT_NE(found, nullptr);
  json& redirect = *found;
  redirect["spec"]["rules"] =
      json::parse(R"([{"backendRefs": [{"name": "foo-app", "port": 80}]}])");
  const std::vector<const json*> batch = pointers(objects);
  expect_one(check(redirect, batch, kSchemeOnly), "spec.parentRefs[0].sectionName",
             {"attaches only to plain-HTTP listener \"http\" of Gateway \"example-gateway\"",
              "declares scheme https", "Set sectionName: https.",
              "To keep http:// links working, attach a separate HTTPRoute to listener http",
              "{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}"});
  expect_one(check(named(objects, "Gateway", "example-gateway"), batch, kSchemeOnly),
             "spec.listeners[0].protocol",
             {"listener \"http\" (used by HTTPRoute \"tls-redirect\") has protocol \"HTTP\"",
              "Attach HTTPRoute \"tls-redirect\" to HTTPS listener \"https\" instead",
              "leave this listener to an HTTPRoute that only redirects to https"});
  // No scheme declared: served only over plain HTTP is still said.
  expect_one(check(redirect, batch, kNothingDeclared), "spec.parentRefs[0].sectionName",
             {"served only over plain HTTP (listener \"http\" of Gateway \"example-gateway\")"});
}

// A route attached to the HTTP listener and checked against the Gateway of DESIGN.md.
json http_route(
    const std::string& rules,
    const std::string& parent = "{name: em-runtime-gateway, namespace: gateway, sectionName: http}",
    const std::string& name = "em-runtime-http") {
  return object(
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
      "metadata: {name: " +
      name +
      ", namespace: production}\n"
      "spec:\n  parentRefs: [" +
      parent + "]\n  hostnames: [em.example.com]\n  rules: " + rules + "\n");
}

const std::string kRedirectRule =
    "[{filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]}]";

TEST(GatewayConsistency, RedirectOnlyRouteOnTheHttpListenerIsConsistent) {
  const json gw = gateway();
  const json content = route();
  const std::vector<std::string> parents = {
      "{name: em-runtime-gateway, namespace: gateway, sectionName: http}",  // by sectionName
      "{name: em-runtime-gateway, namespace: gateway, port: 80}",           // by port
  };
  const std::vector<std::string> redirects = {
      kRedirectRule,
      // Header modifiers only shape the redirect response; port 443 is https's own.
      "[{matches: [{path: {type: PathPrefix, value: /}}], filters: [{type: "
      "ResponseHeaderModifier, responseHeaderModifier: {set: [{name: x-a, value: b}]}}, {type: "
      "RequestRedirect, requestRedirect: {scheme: https, port: 443}}]}, {filters: [{type: "
      "RequestRedirect, requestRedirect: {scheme: https}}], backendRefs: []}]",
  };
  for (const std::string& parent : parents) {
    for (const std::string& rules : redirects) {
      const json rt = http_route(rules, parent);
      SCOPED_TRACE(parent + " " + rules);
      const std::vector<const json*> batch = {&gw, &content, &rt};
      for (const std::string& declared : {kDeclared, kSchemeOnly, kNothingDeclared}) {
        expect_none(check(rt, batch, declared));
        expect_none(check(rt, {}, declared));
        expect_none(check(gw, batch, declared));
      }
    }
  }
}

TEST(GatewayConsistency, RedirectOnlyRouteOnTheHttpsListenerLoops) {
  const json gw = gateway();
  // No sectionName: the ref attaches to every listener that accepts it, HTTPS included
  // (ParentReference.SectionName, apis/v1/shared_types.go); the guide sets sectionName: http
  // "so it only selects the listener named http" (guides/user-guides/http-redirect-rewrite.md).
  const json both = http_route(kRedirectRule, "{name: em-runtime-gateway, namespace: gateway}");
  for (const std::string& declared : {kSchemeOnly, kNothingDeclared}) {
    expect_one(check(both, {&gw, &both}, declared), "spec.parentRefs[0]",
               {"parentRef has no sectionName, so the route attaches to every listener of "
                "Gateway \"gateway/em-runtime-gateway\" that accepts it, HTTPS listener "
                "\"https\" included; the route only redirects to https",
                "on HTTPS listener \"https\"", "redirect loop", "Set sectionName: http,"});
  }
  expect_one(check(both), "spec.parentRefs[0]",
             {"attaches to every listener of Gateway gateway/em-runtime-gateway, HTTPS listener "
              "https included",
              "redirect loop", "plain-HTTP listener"});
  const json on_https = http_route(kRedirectRule);
  json https_ref = on_https;
  https_ref["spec"]["parentRefs"][0]["sectionName"] = "https";
  expect_one(check(https_ref, {&gw, &https_ref}, kSchemeOnly), "spec.parentRefs[0].sectionName",
             {"redirect loop", "Set sectionName: http,"});
  expect_one(check(https_ref), "spec.parentRefs[0].sectionName",
             {"attaches to listener https", "redirect loop"});
  // port 443 selects the HTTPS listener alone.
  const json by_port =
      http_route(kRedirectRule, "{name: em-runtime-gateway, namespace: gateway, port: 443}");
  expect_one(check(by_port, {&gw, &by_port}, kNothingDeclared), "spec.parentRefs[0]",
             {"redirect loop"});
  // A redirect to another host (www to the apex, say) is no loop on HTTPS.
  const json elsewhere = http_route(
      "[{filters: [{type: RequestRedirect, requestRedirect: {scheme: https, hostname: "
      "em.example.com}}]}]",
      "{name: em-runtime-gateway, namespace: gateway, sectionName: https}");
  expect_none(check(elsewhere, {&gw, &elsewhere}, kNothingDeclared));
}

TEST(GatewayConsistency, RoutesThatServeContentOverHttpAreStillCaught) {
  const json gw = gateway();
  // Each of these serves something over plain HTTP, or keeps the request on http://.
  const std::vector<std::string> serving = {
      // one redirect rule, one rule with backends
      "[{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]}, {matches: "
      "[{path: {type: PathPrefix, value: /api}}], backendRefs: [{name: governance, port: 8000}]}]",
      // a redirect that keeps http (upstream httproute-redirect-full.yaml's path redirect)
      "[{filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, "
      "replaceFullPath: /paprika}, statusCode: 302}}]}]",
      "[{filters: [{type: RequestRedirect, requestRedirect: {scheme: http}}]}]",
      "[{filters: [{type: RequestRedirect, requestRedirect: {scheme: HTTPS}}]}]",
      // a rewrite passes the request on
      "[{filters: [{type: URLRewrite, urlRewrite: {hostname: em.example.com}}], backendRefs: "
      "[{name: governance, port: 8000}]}]",
      "[{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}, {type: "
      "RequestMirror, requestMirror: {backendRef: {name: governance, port: 8000}}}]}]",
      "[{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}], backendRefs: "
      "[{name: governance, port: 8000}]}]",
      "[]",  // no rules: the default rule, which routes to nothing, is no redirect
  };
  for (const std::string& rules : serving) {
    SCOPED_TRACE(rules);
    const json rt = http_route(rules);
    expect_one(check(rt, {&gw, &rt}, kSchemeOnly), "spec.parentRefs[0].sectionName",
               {"attaches only to plain-HTTP listener \"http\"", "Set sectionName: https.",
                "To keep http:// links working"});
    expect_one(check(rt), "spec.parentRefs[0].sectionName",
               {"Set sectionName: https.",
                "A route that only redirects to https (every rule a RequestRedirect filter with "
                "scheme: https and no backendRefs"});
    expect_one(check(gw, {&gw, &rt}, kSchemeOnly), "spec.listeners[1].protocol",
               {"used by HTTPRoute \"production/em-runtime-http\"",
                "Attach HTTPRoute \"production/em-runtime-http\" to HTTPS listener \"https\""});
  }
}

TEST(GatewayConsistency, Port80AdviceDependsOnAnExistingRedirect) {
  const json gw = gateway();
  const json content = route("[em.example.com]", "{name: em-runtime-gateway, namespace: gateway}");
  const json redirect = http_route(kRedirectRule,
                                   "{name: em-runtime-gateway, namespace: gateway, "
                                   "sectionName: http}",
                                   "to-https");
  expect_one(check(content, {&gw, &content, &redirect}, kSchemeOnly), "spec.parentRefs[0]",
             {"attaches to plain-HTTP listener \"http\"", "as well as to HTTPS listener \"https\"",
              "Set sectionName: https.",
              "HTTPRoute \"production/to-https\" already redirects plain-HTTP requests to https"});
  const std::vector<Violation> alone = check(content, {&gw, &content}, kSchemeOnly);
  expect_one(alone, "spec.parentRefs[0]", {"To keep http:// links working"});
  EXPECT_EQ(alone.front().message.find("already redirects"), std::string::npos);
  // A redirect for another host does not cover this one.
  json other_host = redirect;
  other_host["spec"]["hostnames"] = json::array({"admin.example.com"});
  expect_one(check(content, {&gw, &content, &other_host}, kSchemeOnly), "spec.parentRefs[0]",
             {"To keep http:// links working"});
}

TEST(GatewayConsistency, RedirectNeedsAnHttpsListenerToGoTo) {
  json http_only = gateway();
  http_only["spec"]["listeners"].erase(0);
  const json rt = http_route(kRedirectRule);
  for (const std::string& declared : {kSchemeOnly, kNothingDeclared}) {
    expect_one(
        check(rt, {&http_only, &rt}, declared), "spec.parentRefs[0].sectionName",
        {"redirects plain-HTTP requests to https",
         "has no HTTPS listener accepting hostname \"em.example.com\"", "Add an HTTPS listener"});
  }
  // The other way round: no plain-HTTP listener for a redirect that names none.
  json https_only = gateway();
  https_only["spec"]["listeners"].erase(1);
  const json a = http_route(kRedirectRule, "{name: em-runtime-gateway, namespace: gateway}", "a");
  const json b = http_route(kRedirectRule, "{name: em-runtime-gateway, namespace: gateway}", "b");
  expect_one(check(https_only, {&https_only, &a, &b}, kNothingDeclared), "spec.listeners",
             {"Gateway has no HTTP listener, which HTTPRoutes \"production/a\" and "
              "\"production/b\" need to redirect http:// requests to https",
              "Add a listener with protocol HTTP (port 80)"});
}

TEST(GatewayConsistency, RedirectToHttpsUnderDeclaredHttp) {
  const json rt = http_route(
      "[{backendRefs: [{name: governance, port: 8000}]}, {filters: [{type: "
      "RequestHeaderModifier, requestHeaderModifier: {add: [{name: a, value: b}]}}, {type: "
      "RequestRedirect, requestRedirect: {scheme: https}}]}]");
  expect_one(check(rt, {}, "    scheme: http\n"), "spec.rules[1].filters[1].requestRedirect.scheme",
             {"redirects requests to https", "declares scheme http",
              "CORS preflights do not follow redirects"});
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

// --- lists in messages agree with their count ----------------------------------------------------

TEST(GatewayConsistency, ListsInMessagesAgreeWithTheirCount) {
  json https_less = gateway();
  https_less["spec"]["listeners"].erase(0);
  https_less["spec"]["listeners"].push_back(json::parse(R"({"name": "tls", "port": 8443,
      "protocol": "TLS", "hostname": "em.example.com"})"));
  const json a = route("[em.example.com]", "{name: em-runtime-gateway, namespace: gateway}");
  json b = a;
  b["metadata"]["name"] = "b";
  json c = a;
  c["metadata"]["name"] = "c";
  expect_one(check(https_less, {&https_less, &a}, kSchemeOnly), "spec.listeners",
             {"which HTTPRoute \"production/em-runtime\" needs:"});
  expect_one(check(https_less, {&https_less, &a, &b, &c}, kSchemeOnly), "spec.listeners",
             {"which HTTPRoutes \"production/em-runtime\", \"production/b\" and \"production/c\" "
              "need:"});
  // The declared Gateway without a declared listener, and a route.
  expect_one(check(https_less, {&https_less, &a},
                   "    scheme: https\n    gateway: {namespace: gateway, name: "
                   "em-runtime-gateway}\n"),
             "spec.listeners",
             {"which environment \"production\" and HTTPRoute \"production/em-runtime\" need:"});

  const json web =
      route("[em.example.com]", "{name: em-runtime-gateway, namespace: gateway, sectionName: web}");
  json web2 = route("[em.example.com]",
                    "{name: em-runtime-gateway, namespace: gateway, sectionName: web2}");
  web2["metadata"]["name"] = "second";
  const json gw = gateway();
  expect_one(check(gw, {&gw, &web}, kNothingDeclared), "spec.listeners",
             {"Gateway has no listener named \"web\" (used by", ": routes naming it do not",
              "Add the listener ("});
  // Two routes naming the same missing listener: it is named once.
  json web_again = web;
  web_again["metadata"]["name"] = "again";
  expect_one(check(gw, {&gw, &web, &web_again}, kNothingDeclared), "spec.listeners",
             {"Gateway has no listener named \"web\" (used by HTTPRoute \"production/em-runtime\" "
              "and HTTPRoute \"production/again\"): routes naming it"});
  // A redirect route naming a missing listener needs a plain-HTTP one.
  const json redirect_web =
      http_route(kRedirectRule, "{name: em-runtime-gateway, namespace: gateway, sectionName: web}");
  expect_one(check(gw, {&gw, &redirect_web}, kSchemeOnly), "spec.listeners",
             {"so http:// requests are not redirected to https",
              "Add the listener (protocol HTTP, port 80, for the redirect to https)"});
  expect_one(check(gw, {&gw, &web, &web2}, kNothingDeclared), "spec.listeners",
             {"Gateway has no listeners named \"web\" (used by HTTPRoute "
              "\"production/em-runtime\") and \"web2\" (used by HTTPRoute \"production/second\")",
              ": routes naming them do not", "Add the listeners ("});

  const json one_host = route("[em.example.org]");
  expect_one(check(one_host, {&gw, &one_host}, kNothingDeclared), "spec.parentRefs[0]",
             {"HTTPRoute hostname \"em.example.org\" does not intersect the hostname of listener "
              "\"https\""});
  const json two_hosts = route("[em.example.org, admin.example.org]",
                               "{name: em-runtime-gateway, namespace: gateway}");
  expect_one(check(two_hosts, {&gw, &two_hosts}, kNothingDeclared), "spec.parentRefs[0]",
             {"HTTPRoute hostnames \"em.example.org\" and \"admin.example.org\" do not intersect "
              "the hostname of listeners \"https\" (hostname \"em.example.com\") and \"http\""});

  json two_http = gateway();
  two_http["spec"]["listeners"][0] = json::parse(
      R"({"name": "http-alt", "port": 8080, "protocol": "HTTP", "hostname": "em.example.com"})");
  const json on_both = route("[em.example.com]", "{name: em-runtime-gateway, namespace: gateway}");
  expect_one(check(on_both, {&two_http, &on_both}, kSchemeOnly), "spec.parentRefs[0]",
             {"attaches only to plain-HTTP listeners \"http-alt\" and \"http\""});
}

// --- malformed shapes ---------------------------------------------------------------------------

TEST(GatewayConsistency, MalformedShapesNeverThrow) {
  const std::vector<std::string> yamls = {
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: x\nspec: 5\n",
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: [1]}\n"
      "spec: {hostnames: em.example.com, parentRefs: {name: x}}\n",
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n"
      "spec: {hostnames: [1, null, {a: b}], parentRefs: [1, x, {name: 5, namespace: [], "
      "sectionName: {}, port: -1, kind: 7}, {name: em-runtime-gateway, port: "
      "99999999999999999999}]}\n",
      "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: "
      "em-runtime-gateway,"
      " namespace: 5}\nspec: {listeners: x}\n",
      "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: "
      "em-runtime-gateway,"
      " namespace: gateway}\nspec: {listeners: [1, {name: https, hostname: 5, protocol: HTTPS, "
      "tls: x},"
      " {name: 7, tls: {mode: 5, certificateRefs: x}}]}\n",
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: [PUBLIC_URL]\n",
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {PUBLIC_URL: 5, "
      "CORS_ALLOWED_ORIGINS: '[1, 2]', KEYCLOAK_URL: '\\t', EXTERNAL_URL: 'https://a@b:c/'}\n",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: "
      "{containers: x, initContainers: [1, {env: x, args: y}, {name: 5, env: [1, {name: 5}, "
      "{name: PUBLIC_URL, value: 5}, {name: PUBLIC_URL}], args: [1, null, '--hostname', "
      "'--hostname=', '-', '--=x', '--hostname']}]}}}\n",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: 5}\n",
      "kind: 5\napiVersion: [1]\n",
      // rules, filters and redirects of every wrong shape
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n"
      "spec: {parentRefs: [{name: em-runtime-gateway}], rules: [1, {filters: x}, {filters: [1, "
      "{type: RequestRedirect, requestRedirect: 5}, {type: RequestRedirect, requestRedirect: "
      "{scheme: https, port: x, hostname: 5}}], backendRefs: x}]}\n",
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n"
      "spec: {parentRefs: [{name: em-runtime-gateway}], rules: [{filters: [{type: "
      "RequestRedirect, requestRedirect: {scheme: https, port: 99999999999999999999}}]}]}\n",
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n"
      "spec: {parentRefs: [{name: em-runtime-gateway}], rules: x}\n",
  };
  std::vector<json> objects;
  for (const std::string& yaml : yamls) objects.push_back(object(yaml));
  objects.push_back(json::array({1, 2}));
  objects.push_back(gateway());
  objects.push_back(route());
  const std::vector<const json*> batch = pointers(objects);
  for (const json& obj : objects) {
    SCOPED_TRACE(obj.dump());
    for (const std::string& declared :
         {kDeclared, kNothingDeclared, kSchemeOnly, std::string("    scheme: http\n")}) {
      EXPECT_NO_THROW(check(obj, batch, declared));
      EXPECT_NO_THROW(check(obj, {}, declared));
    }
  }
  // Shapes the API server would reject are reported, not skipped silently.
  const std::vector<Violation> route_shapes = check(objects[1]);
  ASSERT_EQ(route_shapes.size(), 2u) << describe(route_shapes);
  EXPECT_EQ(route_shapes[0].path, "spec.parentRefs");
  EXPECT_NE(route_shapes[0].message.find("not a list"), std::string::npos);
  EXPECT_EQ(route_shapes[1].path, "spec.hostnames");
  const std::vector<Violation> entries = check(objects[2], {}, kNothingDeclared);
  ASSERT_EQ(entries.size(), 3u) << describe(entries);
  EXPECT_EQ(entries[0].path, "spec.hostnames[0]");
  EXPECT_NE(entries[0].message.find("is a number, not a string"), std::string::npos)
      << entries[0].message;
  const std::vector<Violation> listeners = check(objects[4], {}, kNothingDeclared);
  ASSERT_EQ(listeners.size(), 2u) << describe(listeners);
  EXPECT_EQ(listeners[0].path, "spec.listeners[0]");
  EXPECT_EQ(listeners[1].path, "spec.listeners[1].hostname");
}

}  // namespace
}  // namespace emguard
