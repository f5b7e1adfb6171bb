// gateway-consistency (docs/architecture.md, Rules): the declared `hostname`, `scheme` and
// Gateway listener of an environment, the HTTPRoute hostnames and parentRefs, the Gateway
// listeners and the public URL / CORS / hostname settings of the services must agree, or users
// get HTTPS and CORS errors, routes that never attach, or logins that fail.
//
// Two sources of truth, in this order:
// - the environment's declared values (the only ones available at admission, where each object
//   is checked on its own);
// - in batch mode (render, CI), the other objects of the same input: an HTTPRoute is checked
//   against the Gateway it names when that Gateway is in the batch, a Gateway against the routes
//   that attach to it, and settings against the hostnames the batch's routes serve when the
//   environment does not declare them.
// The hostname, URL and origin logic lives in policies/references/ (hostname.hpp, url.hpp); the
// rule finds the fields and explains. Every field is read defensively: a wrong JSON type is
// skipped or reported, never thrown on.
//
// This file is the entry point: which check an object gets, and the findings. The checks, by
// subject: gateway_routes.cpp (HTTPRoutes), gateway_listeners.cpp (Gateways), gateway_settings.cpp
// (URL, origin and hostname settings); gateway_views.hpp reads the Gateway API objects.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/common/ascii.hpp"
#include "policies/common/quoting.hpp"
#include "policies/manifests/json_access.hpp"
#include "policies/manifests/pod_spec.hpp"
#include "policies/rules/gateway_checker.hpp"
#include "policies/rules/gateway_views.hpp"
#include "policies/rules/rule.hpp"

namespace emguard::rules {
namespace gateway_consistency {

Checker::Checker(const RuleInput& input)
    : input_(input),
      object_(input.object),
      environment_(input.environment),
      settings_(input.policy.gateway_consistency().settings),
      hostname_(ascii::lowered(input.environment.hostname)),
      scheme_(ascii::lowered(input.environment.scheme)) {}

std::vector<Finding> Checker::run() {
  const std::string kind = string_member(object_, "kind");
  if (is_gateway_api(object_, "HTTPRoute")) {
    check_route();
  } else if (is_gateway_api(object_, "Gateway")) {
    check_gateway();
  } else if (kind == "ConfigMap" && api_group(object_).empty()) {
    check_config_map();
  } else if (!pod_spec_path(kind).empty()) {
    check_pod_settings(kind);
  }
  return std::move(findings_);
}

void Checker::add(const std::string& path, std::string message) {
  if (!paths_.insert(path).second) return;
  findings_.push_back(Finding{path, std::move(message), {}});
}

void Checker::add_distinct(const std::string& path, std::string message) {
  if (!messages_.insert(path + '\n' + message).second) return;
  paths_.insert(path);
  findings_.push_back(Finding{path, std::move(message), {}});
}

std::string Checker::environment_name() const { return emguard::quoted(environment_.name); }

std::string Checker::declared_gateway() const {
  const GatewayListener& gateway = environment_.gateway;
  return gateway.namespace_.empty() ? gateway.name : gateway.namespace_ + "/" + gateway.name;
}

}  // namespace gateway_consistency

bool gateway_consistency_reads(std::string_view /*api_version*/, std::string_view kind) {
  return kind == "HTTPRoute" || kind == "Gateway" || kind == "ConfigMap" ||
         is_pod_bearing_kind(kind);
}

std::vector<Finding> check_gateway_consistency(const RuleInput& input) {
  if (!input.object.is_object()) return {};
  return gateway_consistency::Checker(input).run();
}

}  // namespace emguard::rules
