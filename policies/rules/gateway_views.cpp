#include "policies/rules/gateway_views.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/common/quoting.hpp"
#include "policies/manifests/json_access.hpp"

namespace emguard::rules::gateway_consistency {
namespace {

// Gateway API defaults: kind Gateway, group gateway.networking.k8s.io. An explicit other kind
// or group (a Service for mesh routing, say) is not a Gateway and is left alone.
bool names_gateway(const json& ref) {
  const json* kind = member(ref, "kind");
  const json* group = member(ref, "group");
  const bool kind_ok = kind == nullptr || (kind->is_string() && *kind == "Gateway");
  const bool group_ok =
      group == nullptr || (group->is_string() && group->get<std::string>() == kGatewayGroup);
  return kind_ok && group_ok;
}

// Whether `rule` redirects to https and serves nothing itself. Gateway API (apis/v1
// httproute_types.go): a RequestRedirect must not be combined with backendRefs or URLRewrite.
// Header modifiers only shape the redirect response; every other filter (URLRewrite,
// RequestMirror, ExtensionRef, CORS, ...) passes the request on, so such a rule serves content.
// Scheme values are an enum of the CRD ("http", "https"): anything else is not https.
std::optional<HttpsRedirect> https_redirect(const json& rule, std::size_t index) {
  if (!rule.is_object()) return std::nullopt;
  const json* backends = member(rule, "backendRefs");
  if (backends != nullptr && !(backends->is_array() && backends->empty())) return std::nullopt;
  const json* filters = member(rule, "filters");
  if (filters == nullptr || !filters->is_array()) return std::nullopt;
  std::optional<HttpsRedirect> found;
  for (std::size_t i = 0; i < filters->size(); ++i) {
    const json& filter = (*filters)[i];
    const std::string type = string_member(filter, "type");
    if (type == "RequestHeaderModifier" || type == "ResponseHeaderModifier") continue;
    if (type != "RequestRedirect") return std::nullopt;
    const json* redirect = object_member(filter, "requestRedirect");
    if (redirect == nullptr || string_member(*redirect, "scheme") != "https") return std::nullopt;
    const json* port = member(*redirect, "port");
    const bool same_port = port == nullptr || port_member(*redirect, "port") == 443;
    const bool same_address = member(*redirect, "hostname") == nullptr &&
                              member(*redirect, "path") == nullptr && same_port;
    if (!found) found = HttpsRedirect{index, i, same_address};
  }
  return found;
}

}  // namespace

std::optional<long long> port_member(const json& value, std::string_view key) {
  const auto port = integer_member(value, key);
  return port && *port >= 0 && *port <= 65535 ? port : std::nullopt;
}

std::string api_group(const json& object) {
  const std::string api_version = string_member(object, "apiVersion");
  const std::size_t slash = api_version.find('/');
  return slash == std::string::npos ? std::string() : api_version.substr(0, slash);
}

bool is_gateway_api(const json& object, std::string_view kind) {
  return string_member(object, "kind") == kind && api_group(object) == kGatewayGroup;
}

GatewayView view_gateway(const json& object) {
  GatewayView view{metadata_field(object, "namespace"), metadata_field(object, "name"), {}};
  const json* listeners = walk(object, "spec.listeners");
  if (listeners == nullptr || !listeners->is_array()) return view;
  for (std::size_t i = 0; i < listeners->size(); ++i) {
    const json& item = (*listeners)[i];
    if (!item.is_object()) continue;
    view.listeners.push_back(
        Listener{i, string_member(item, "name"), string_member(item, "hostname"),
                 string_member(item, "protocol"), port_member(item, "port"), &item});
  }
  return view;
}

const Listener* find_listener(const GatewayView& gateway, std::string_view name) {
  for (const Listener& listener : gateway.listeners) {
    if (listener.name == name) return &listener;
  }
  return nullptr;
}

std::vector<std::string> listener_names(const GatewayView& gateway) {
  std::vector<std::string> names;
  for (const Listener& listener : gateway.listeners)
    names.push_back(emguard::quoted(listener.name));
  return names;
}

const json* find_batch_gateway(const std::vector<const json*>& batch, std::string_view name,
                               std::string_view namespace_) {
  const json* loose = nullptr;
  for (const json* candidate : batch) {
    if (candidate == nullptr || !is_gateway_api(*candidate, "Gateway")) continue;
    if (metadata_field(*candidate, "name") != name) continue;
    const std::string candidate_namespace = metadata_field(*candidate, "namespace");
    if (candidate_namespace == namespace_) return candidate;
    if (loose == nullptr && (candidate_namespace.empty() || namespace_.empty())) {
      loose = candidate;
    }
  }
  return loose;
}

RouteView view_route(const json& object) {
  RouteView view;
  if (const json* rules = walk(object, "spec.rules");
      rules != nullptr && rules->is_array() && !rules->empty()) {
    bool all = true;
    bool same_address = true;
    for (std::size_t i = 0; i < rules->size(); ++i) {
      const std::optional<HttpsRedirect> redirect = https_redirect((*rules)[i], i);
      if (!redirect) {
        all = false;
        continue;
      }
      same_address = same_address && redirect->same_address;
      view.https_redirects.push_back(*redirect);
    }
    view.redirect_only = all;
    view.redirects_to_same_address = all && same_address;
  }
  view.namespace_ = metadata_field(object, "namespace");
  view.name = metadata_field(object, "name");
  if (const json* hostnames = walk(object, "spec.hostnames");
      hostnames != nullptr && hostnames->is_array()) {
    view.restricted = !hostnames->empty();
    for (const json& item : *hostnames) {
      if (item.is_string()) view.hostnames.push_back(item.get<std::string>());
    }
  }
  const json* parents = walk(object, "spec.parentRefs");
  if (parents == nullptr || !parents->is_array()) return view;
  view.parents_listed = !parents->empty();
  for (std::size_t i = 0; i < parents->size(); ++i) {
    const json& ref = (*parents)[i];
    if (!ref.is_object() || !names_gateway(ref)) continue;
    ParentRef parent;
    parent.index = i;
    parent.has_name = member(ref, "name") != nullptr;
    parent.name = string_member(ref, "name");
    parent.has_namespace = member(ref, "namespace") != nullptr;
    parent.namespace_ = string_member(ref, "namespace");
    parent.has_section = member(ref, "sectionName") != nullptr;
    parent.section = string_member(ref, "sectionName");
    parent.port = port_member(ref, "port");
    view.parents.push_back(std::move(parent));
  }
  return view;
}

std::vector<const Listener*> selected_listeners(const GatewayView& gateway,
                                                const ParentRef& parent) {
  std::vector<const Listener*> out;
  for (const Listener& listener : gateway.listeners) {
    if (parent.has_section && listener.name != parent.section) continue;
    if (parent.port && listener.port != parent.port) continue;
    out.push_back(&listener);
  }
  return out;
}

bool refers_to(std::string_view name, std::string_view ref_namespace, const GatewayView& gateway) {
  return name == gateway.name && (ref_namespace.empty() || gateway.namespace_.empty() ||
                                  ref_namespace == gateway.namespace_);
}

std::string gateway_display(std::string_view namespace_, std::string_view name) {
  return emguard::quoted(namespace_.empty() ? std::string(name)
                                            : std::string(namespace_) + "/" + std::string(name));
}

std::string listener_hostname_display(const Listener& listener) {
  return listener.hostname.empty() ? std::string("(any hostname)")
                                   : emguard::quoted(listener.hostname);
}

}  // namespace emguard::rules::gateway_consistency
