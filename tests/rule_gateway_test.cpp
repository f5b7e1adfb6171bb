// gateway-consistency through the public engine: policy YAML in, violations (path, message) out.
// This file: the sample em-runtime release as a whole, messages that list names, and malformed
// shapes; the rule's parts have their own files (rule_gateway_{routes,listeners,redirects,
// settings}_test.cpp), and tests/support/gateway_rule.hpp holds what they share.
#include <gtest/gtest.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policies/engine/engine.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "tests/support/files.hpp"
#include "tests/support/gateway_rule.hpp"
#include "tests/support/policy_eval.hpp"

namespace emguard {
namespace {

using nlohmann::json;
using test::object;
// check(), expect_one(), the em-runtime example's objects: what the gateway suites share.
using namespace test::gateway_rule;

// --- the sample release ------------------------------------------------------------------------

TEST(GatewayConsistency, SampleReleaseIsConsistent) {
  std::vector<json> objects = sample_objects();
  ASSERT_NE(find_kind(objects, "HTTPRoute", "em-runtime"), nullptr);
  ASSERT_NE(find_kind(objects, "ConfigMap", "em-runtime-config"), nullptr);
  ASSERT_NE(find_kind(objects, "Deployment", "keycloak"), nullptr);
  // The sample as rendered (its Gateway lives elsewhere), then with the Gateway of the em-runtime
  // example (docs/architecture.md, The em-runtime example).
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
