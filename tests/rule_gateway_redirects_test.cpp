// gateway-consistency through the public engine, routes that only redirect to https: where they
// belong (the plain-HTTP listener), and the content routes that must not stay there.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "policies/engine/engine.hpp"
#include "tests/support/files.hpp"
#include "tests/support/gateway_rule.hpp"
#include "tests/support/policy_eval.hpp"

namespace emguard {
namespace {

using nlohmann::json;
// check(), expect_one(), the em-runtime example's objects: what the gateway suites share.
using namespace test::gateway_rule;

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

}  // namespace
}  // namespace emguard
