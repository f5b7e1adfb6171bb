#pragma once

// What the gateway-consistency suites (tests/rule_gateway*_test.cpp) share: the policy with the
// environment "production" and what it declares, checking one object through the public engine,
// expectations on the violations, and the objects of the em-runtime example (docs/architecture.md,
// The em-runtime example) written as YAML and read the way every front end reads manifests.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policies/engine/engine.hpp"

namespace emguard::test::gateway_rule {

// What environment "production" declares, spliced into the policy.
inline const std::string kDeclared =
    "    hostname: em.example.com\n"
    "    scheme: https\n"
    "    gateway: {namespace: gateway, name: em-runtime-gateway, listener: https}\n";
inline const std::string kNothingDeclared;
inline const std::string kSchemeOnly = "    scheme: https\n";
inline const std::string kHostnameOnly = "    hostname: em.example.com\n";

// The gateway-consistency violations of `obj` in "production"; `batch` empty = admission.
std::vector<Violation> check(const nlohmann::json& obj,
                             const std::vector<const nlohmann::json*>& batch = {},
                             const std::string& declared = kDeclared);

// The violations one per line, for failure messages.
std::string describe(const std::vector<Violation>& violations);

// Expects exactly one violation, at `path`, whose message holds every part.
void expect_one(const std::vector<Violation>& violations, const std::string& path,
                const std::vector<std::string>& parts);

void expect_none(const std::vector<Violation>& violations);

// --- objects ---------------------------------------------------------------------------------

// The em-runtime example's Gateway: em-runtime-gateway in namespace gateway, listeners https
// (443, TLS Terminate, certificateRef platform-tls) and http (80), both for em.example.com.
nlohmann::json gateway();

// The chart's HTTPRoute em-runtime (namespace production) with these hostnames and parentRef.
nlohmann::json route(const std::string& hostnames = "[em.example.com]",
                     const std::string& parent =
                         "{name: em-runtime-gateway, namespace: gateway, sectionName: https}");

// A route attached to the HTTP listener of the em-runtime example's Gateway (gateway()), with
// these rules.
nlohmann::json http_route(
    const std::string& rules,
    const std::string& parent = "{name: em-runtime-gateway, namespace: gateway, sectionName: http}",
    const std::string& name = "em-runtime-http");

// The rules of a route that only redirects to https.
inline const std::string kRedirectRule =
    "[{filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]}]";

// The ConfigMap em-runtime-config with one key.
nlohmann::json config_map(const std::string& key, const std::string& value);

// The objects of a multi-document YAML text.
std::vector<nlohmann::json> objects_in(const std::string& text);

// The objects of charts/em-runtime-sample/rendered.yaml.
std::vector<nlohmann::json> sample_objects();

// The object of `kind` called `name`, or nullptr.
nlohmann::json* find_kind(std::vector<nlohmann::json>& objects, const std::string& kind,
                          const std::string& name);

// The batch of these objects.
std::vector<const nlohmann::json*> pointers(const std::vector<nlohmann::json>& objects);

}  // namespace emguard::test::gateway_rule
