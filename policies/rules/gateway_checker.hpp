// The gateway-consistency rule's one pass over one object: a Checker holds the object, its
// environment's declared values and the findings so far, and its checks are defined by subject
// in policies/rules/gateway_*.cpp (each section below names its file). Private to those files;
// the rule's entry point is check_gateway_consistency (rule.hpp).
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/policy.hpp"
#include "policies/rules/gateway_views.hpp"
#include "policies/rules/rule.hpp"

namespace emguard::rules::gateway_consistency {

// What a setting holds, by its name (the policy's settings patterns).
enum class SettingKind { None, Url, Origins, Hostname };

// Where the release is served: scheme ("" = undetermined: only the host is checked) and host.
struct Endpoint {
  std::string scheme;
  std::string host;

  std::string display() const { return scheme.empty() ? host : scheme + "://" + host; }
};

// Who uses a listener of the Gateway being checked: the environment that declares the Gateway,
// or an HTTPRoute's parentRef.
struct ListenerNeed {
  std::string listener;        // "" when any fitting listener will do
  std::string who;             // with its kind: environment "production", HTTPRoute "ns/name"
  std::string name;            // the route or environment alone, quoted
  bool from_route = false;     // an HTTPRoute's parentRef, not the environment's declaration
  bool redirect_only = false;  // that route only redirects to https: it needs plain HTTP
};

class Checker {
 public:
  explicit Checker(const RuleInput& input);

  // The findings for the object, at most one per path (add_distinct aside).
  std::vector<Finding> run();

 private:
  // ---- findings and the environment (gateway_consistency.cpp) -----------------------------

  // One finding per path: the first (most specific) explanation wins.
  void add(const std::string& path, std::string message);
  // Several findings may share a path when they name different values (one per origin of a
  // CORS list); the same message twice is still reported once.
  void add_distinct(const std::string& path, std::string message);
  std::string environment_name() const;
  std::string declared_gateway() const;  // "namespace/name" of the environment's Gateway

  // ---- HTTPRoute (gateway_routes.cpp) -------------------------------------------------------

  void check_route();
  void check_route_shapes();
  void check_route_serves_declared_hostname();
  void check_route_redirects_under_http(const RouteView& route);
  void check_route_parents_declared(const RouteView& route);
  void check_route_against_batch(const RouteView& route);
  void check_redirect_route_protocols(const RouteView& route, const ParentRef& parent,
                                      const std::string& base,
                                      const std::vector<const Listener*>& attached,
                                      const GatewayView& gateway);
  void check_route_protocols(const RouteView& route, const ParentRef& parent,
                             const std::string& base, const std::vector<const Listener*>& attached,
                             const GatewayView& gateway);
  std::string port_80_advice(const RouteView& content, const GatewayView& gateway,
                             std::string_view http_listener) const;

  // ---- Gateway and its listeners (gateway_listeners.cpp) ------------------------------------

  void check_gateway();
  void check_gateway_shapes();
  void check_listener(const GatewayView& gateway, const Listener& listener,
                      const ListenerNeed& need);
  void check_tls(const Listener& listener, const std::string& who);
  void check_some_listener_fits(const GatewayView& gateway, const std::vector<ListenerNeed>& who,
                                bool redirect_only);

  // ---- URL, origin and hostname settings (gateway_settings.cpp) -----------------------------

  SettingKind classify(std::string_view name) const;
  bool has_patterns() const;
  void check_config_map();
  void check_pod_settings(std::string_view kind);
  void check_env(const json& container, const std::string& path, const std::string& owner);
  void check_flags(const json& container, const std::string& path, const std::string& owner,
                   std::string_view list);
  const std::vector<Endpoint>& endpoints();
  std::string served_at() const;
  const Endpoint& closest(std::string_view host) const;
  bool is_endpoint_host(std::string_view host) const;
  void check_setting(const std::string& path, const std::string& where, SettingKind kind,
                     const std::string& raw);
  void check_url_setting(const std::string& path, const std::string& where, std::string_view value,
                         bool hostname_setting);
  void check_origins_setting(const std::string& path, const std::string& where,
                             std::string_view value);
  void check_bare_hostname(const std::string& path, const std::string& where,
                           std::string_view value);

  const RuleInput& input_;
  const json& object_;
  const Environment& environment_;
  const SettingPatterns& settings_;
  const std::string hostname_;  // declared, lower case; "" when not declared
  const std::string scheme_;    // declared, lower case; "" when not declared
  std::vector<Finding> findings_;
  std::set<std::string> paths_;
  std::set<std::string> messages_;
  bool endpoints_ready_ = false;
  std::vector<Endpoint> endpoints_;
  std::string source_;  // where endpoints_ came from, for messages
};

}  // namespace emguard::rules::gateway_consistency
