// gateway-consistency through the public engine, Gateways: the listeners the environment and
// the routes use, their protocol, TLS and hostname.
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

// --- Gateway against the batch's routes ---------------------------------------------------

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

}  // namespace
}  // namespace emguard
