// Gateway API objects as the gateway-consistency rule sees them: the fields of a Gateway (its
// listeners) and of an HTTPRoute (hostnames, parentRefs, redirect-only rules), read from JSON
// defensively (a wrong type is skipped, never thrown on), and how routes select listeners.
// Private to the rule's files (policies/rules/gateway_*.cpp).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emguard::rules::gateway_consistency {

using json = nlohmann::json;

inline constexpr std::string_view kGatewayGroup = "gateway.networking.k8s.io";

// The integer at `key` when it is a port number (0 to 65535, which also keeps it in range).
std::optional<long long> port_member(const json& value, std::string_view key);

// The API group of an object: the part of apiVersion before '/', "" for the core group.
std::string api_group(const json& object);

// Whether `object` is a Gateway API object (group gateway.networking.k8s.io) of `kind`.
bool is_gateway_api(const json& object, std::string_view kind);

// --- Gateway ----------------------------------------------------------------------------------

struct Listener {
  std::size_t index = 0;
  std::string name;
  std::string hostname;  // "" when unset: every hostname
  std::string protocol;  // as written: Gateway API protocols are case-sensitive
  std::optional<long long> port;
  const json* object = nullptr;
};

struct GatewayView {
  std::string namespace_;
  std::string name;
  std::vector<Listener> listeners;  // the entries that are objects, with their index
};

GatewayView view_gateway(const json& object);

// The listener called `name`, or nullptr.
const Listener* find_listener(const GatewayView& gateway, std::string_view name);

// The listeners' names, quoted, for messages.
std::vector<std::string> listener_names(const GatewayView& gateway);

// The Gateway of the batch called `name` in `namespace_`; one whose namespace is unknown (on
// either side) when no exact match is there; nullptr when the batch has none.
const json* find_batch_gateway(const std::vector<const json*>& batch, std::string_view name,
                               std::string_view namespace_);

// --- HTTPRoute --------------------------------------------------------------------------------

// A parentRef that names a Gateway.
struct ParentRef {
  std::size_t index = 0;
  std::string name;
  bool has_name = false;
  std::string namespace_;  // as written
  bool has_namespace = false;
  std::string section;
  bool has_section = false;
  std::optional<long long> port;
};

// A rule of spec.rules that answers every request it matches with a redirect to https.
struct HttpsRedirect {
  std::size_t rule = 0;
  std::size_t filter = 0;
  // The redirect keeps host, path and port (443): only the scheme changes. On an HTTPS listener
  // such a rule sends https:// requests to themselves.
  bool same_address = false;
};

struct RouteView {
  std::string namespace_;
  std::string name;
  std::vector<HttpsRedirect> https_redirects;
  // spec.rules is non-empty and every rule is an HttpsRedirect: over plain HTTP the route serves
  // nothing but the way to https (the Gateway API's http-redirect examples). A route without
  // rules gets the default rule (PathPrefix /, no backend), which is not a redirect.
  bool redirect_only = false;
  bool redirects_to_same_address = false;  // redirect_only, and every redirect keeps the address
  // String entries of spec.hostnames as written; intersect() ignores the invalid ones.
  std::vector<std::string> hostnames;
  bool restricted = false;         // spec.hostnames has at least one entry
  bool parents_listed = false;     // spec.parentRefs is a non-empty list
  std::vector<ParentRef> parents;  // the parentRefs that name a Gateway

  // The namespace a parentRef points into: its own, else the route's (Gateway API default);
  // "" when neither says (a rendered chart before Helm applies the release namespace).
  std::string namespace_of(const ParentRef& parent) const {
    return parent.has_namespace ? parent.namespace_ : namespace_;
  }
};

RouteView view_route(const json& object);

// --- routes and listeners ---------------------------------------------------------------------

// The listeners a parentRef selects: the one named by sectionName (every one without it),
// narrowed to `port` when the ref gives one.
std::vector<const Listener*> selected_listeners(const GatewayView& gateway,
                                                const ParentRef& parent);

// Whether a parentRef (name, namespace it points into) refers to this Gateway. An unknown
// namespace on either side (rendered manifests usually leave namespaces to Helm) compares by
// name alone.
bool refers_to(std::string_view name, std::string_view ref_namespace, const GatewayView& gateway);

// --- in messages ------------------------------------------------------------------------------

// "namespace/name" (or the name alone when the namespace is unknown), quoted.
std::string gateway_display(std::string_view namespace_, std::string_view name);

// The listener's hostname, quoted, or "(any hostname)".
std::string listener_hostname_display(const Listener& listener);

}  // namespace emguard::rules::gateway_consistency
