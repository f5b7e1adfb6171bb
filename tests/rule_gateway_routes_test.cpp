// gateway-consistency through the public engine, HTTPRoutes: hostnames, parentRefs and the
// listeners a route attaches to, against the declared values and the batch's Gateway.
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

// --- HTTPRoute against the batch's Gateway -------------------------------------------------

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

}  // namespace
}  // namespace emguard
