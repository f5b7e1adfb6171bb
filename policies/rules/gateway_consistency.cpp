// gateway-consistency (DESIGN.md sections 3 "Gateway API" and 4): the declared `hostname`,
// `scheme` and Gateway listener of an environment, the HTTPRoute hostnames and parentRefs, the
// Gateway listeners and the public URL / CORS / hostname settings of the services must agree,
// or users get HTTPS and CORS errors, routes that never attach, or logins that fail.
//
// Two sources of truth, in this order:
// - the environment's declared values (the only ones available at admission, where each object
//   is checked on its own);
// - in batch mode (render, CI), the other objects of the same input: an HTTPRoute is checked
//   against the Gateway it names when that Gateway is in the batch, a Gateway against the routes
//   that attach to it, and settings against the hostnames the batch's routes serve when the
//   environment does not declare them.
// The hostname, URL and origin logic lives in hostname.hpp and url.hpp; this file finds the fields
// and explains. Every field is read defensively: a wrong JSON type is skipped or reported, never
// thrown on.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/common/ascii.hpp"
#include "policies/common/join.hpp"
#include "policies/common/quoting.hpp"
#include "policies/manifests/json_access.hpp"
#include "policies/manifests/pod_spec.hpp"
#include "policies/references/hostname.hpp"
#include "policies/references/url.hpp"
#include "policies/rules/rule.hpp"

namespace emguard::rules {
namespace {

using nlohmann::json;

constexpr std::string_view kGatewayGroup = "gateway.networking.k8s.io";

// Setting names are shown bare when they are plain identifiers (PUBLIC_URL, hostname), quoted
// otherwise, so a hostile key cannot smuggle anything into a message.
std::string setting_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxQuotedLength) return emguard::quoted(name);
  for (const char c : name) {
    const bool plain = ascii::is_alnum(c) || c == '_' || c == '-' || c == '.';
    if (!plain) return emguard::quoted(name);
  }
  return std::string(name);
}

// --- JSON access: json_access.hpp; a port is at most 65535, which also keeps it in range.

std::optional<long long> port_member(const json& value, std::string_view key) {
  const auto port = integer_member(value, key);
  return port && *port >= 0 && *port <= 65535 ? port : std::nullopt;
}

// The API group of an object: the part of apiVersion before '/', "" for the core group.
std::string api_group(const json& object) {
  const std::string api_version = string_member(object, "apiVersion");
  const std::size_t slash = api_version.find('/');
  return slash == std::string::npos ? std::string() : api_version.substr(0, slash);
}

bool is_gateway_api(const json& object, std::string_view kind) {
  return string_member(object, "kind") == kind && api_group(object) == kGatewayGroup;
}

// --- Gateway API views -----------------------------------------------------------------------

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

// The listeners a parentRef selects: the one named by sectionName (every one without it),
// narrowed to `port` when the ref gives one.
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

// Whether a parentRef (name, namespace it points into) refers to this Gateway. An unknown
// namespace on either side (rendered manifests usually leave namespaces to Helm) compares by
// name alone.
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

// --- settings values --------------------------------------------------------------------------

// Hosts that only resolve inside the cluster or the machine: a service name ("keycloak"),
// cluster DNS ("x.ns.svc", "*.cluster.local"), localhost and private-use suffixes. A URL
// pointing there is how services reach each other, not the public address of the release.
bool is_internal_host(std::string_view host) {
  if (host.empty() || host.front() == '[') return false;
  if (host.find('.') == std::string_view::npos) return true;
  for (const std::string_view suffix :
       {".svc", ".cluster.local", ".localhost", ".local", ".internal"}) {
    if (host.ends_with(suffix)) return true;
  }
  return false;
}

// A URL shown in a message. Userinfo and query strings can carry credentials and tokens, so such
// values are not echoed.
std::string value_display(std::string_view value) {
  if (value.find('@') != std::string_view::npos || value.find('?') != std::string_view::npos) {
    return "a URL with userinfo or a query (not shown)";
  }
  return emguard::quoted(value);
}

// --- the rule --------------------------------------------------------------------------------

enum class SettingKind { None, Url, Origins, Hostname };

// Where the release is served: scheme ("" = undetermined: only the host is checked) and host.
struct Endpoint {
  std::string scheme;
  std::string host;

  std::string display() const { return scheme.empty() ? host : scheme + "://" + host; }
};

class Checker {
 public:
  explicit Checker(const RuleInput& input)
      : input_(input),
        object_(input.object),
        environment_(input.environment),
        settings_(input.policy.gateway_consistency().settings),
        hostname_(ascii::lowered(input.environment.hostname)),
        scheme_(ascii::lowered(input.environment.scheme)) {}

  std::vector<Finding> run() {
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

 private:
  // One finding per path: the first (most specific) explanation wins.
  void add(const std::string& path, std::string message) {
    if (!paths_.insert(path).second) return;
    findings_.push_back(Finding{path, std::move(message), {}});
  }

  // Several findings may share a path when they name different values (one per origin of a
  // CORS list); the same message twice is still reported once.
  void add_distinct(const std::string& path, std::string message) {
    if (!messages_.insert(path + '\n' + message).second) return;
    paths_.insert(path);
    findings_.push_back(Finding{path, std::move(message), {}});
  }

  std::string environment_name() const { return emguard::quoted(environment_.name); }

  std::string declared_gateway() const {
    const GatewayListener& gateway = environment_.gateway;
    return gateway.namespace_.empty() ? gateway.name : gateway.namespace_ + "/" + gateway.name;
  }

  const json* find_batch_gateway(std::string_view name, std::string_view namespace_) const {
    const json* loose = nullptr;
    for (const json* candidate : input_.batch) {
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

  // ---- HTTPRoute ----------------------------------------------------------------------------

  void check_route() {
    const RouteView route = view_route(object_);
    check_route_shapes();
    if (!hostname_.empty()) check_route_serves_declared_hostname();
    if (scheme_ == "http") check_route_redirects_under_http(route);
    if (environment_.gateway.declared()) check_route_parents_declared(route);
    if (!input_.batch.empty()) check_route_against_batch(route);
  }

  void check_route_shapes() {
    const json* spec = member(object_, "spec");
    if (spec != nullptr && !spec->is_object()) {
      add("spec", "HTTPRoute spec is " + a_type_name(*spec) +
                      ", not an object: the API server rejects the route. Give spec as a map "
                      "with parentRefs, hostnames and rules.");
      return;
    }
    if (const json* parents = walk(object_, "spec.parentRefs");
        parents != nullptr && !parents->is_array()) {
      add("spec.parentRefs", "spec.parentRefs is " + a_type_name(*parents) +
                                 ", not a list: the API server rejects the route, so nothing is "
                                 "routed. Write it as a list of {name, namespace, sectionName}.");
    }
    const json* hostnames = walk(object_, "spec.hostnames");
    if (hostnames == nullptr) return;
    if (!hostnames->is_array()) {
      add("spec.hostnames", "spec.hostnames is " + a_type_name(*hostnames) +
                                ", not a list: the API server rejects the route. Write it as a "
                                "list of hostnames, e.g. [em.example.com].");
      return;
    }
    for (std::size_t i = 0; i < hostnames->size(); ++i) {
      const json& item = (*hostnames)[i];
      const std::string path = field_path("spec.hostnames", i);
      if (!item.is_string()) {
        add(path, "HTTPRoute hostname is " + a_type_name(item) +
                      ", not a string: the API server rejects the route. Write the hostname as "
                      "text, e.g. em.example.com.");
        continue;
      }
      const gateway::HostnameCheck check = gateway::check_hostname(item.get<std::string>());
      if (!check.valid) {
        add(path, "HTTPRoute hostname " + emguard::quoted(item.get<std::string>()) +
                      " is not a valid Gateway API hostname: " + check.error +
                      ". The API server rejects the route (or it never matches a listener), so "
                      "nothing is routed. Write a lower-case DNS name such as em.example.com, "
                      "or a wildcard such as *.example.com.");
      }
    }
  }

  // With a declared hostname the route must serve it, and should not serve others.
  void check_route_serves_declared_hostname() {
    const json* hostnames = walk(object_, "spec.hostnames");
    if (hostnames == nullptr || !hostnames->is_array()) return;  // no hostnames: any host
    std::vector<std::pair<std::size_t, std::string>> valid;
    for (std::size_t i = 0; i < hostnames->size(); ++i) {
      const json& item = (*hostnames)[i];
      if (item.is_string() && gateway::check_hostname(item.get<std::string>()).valid) {
        valid.emplace_back(i, item.get<std::string>());
      }
    }
    bool covered = false;
    for (const auto& entry : valid) {
      covered = covered || gateway::listener_accepts(entry.second, hostname_);
    }
    for (const auto& [index, host] : valid) {
      if (gateway::listener_accepts(host, hostname_)) continue;
      std::string message = "HTTPRoute hostname " + emguard::quoted(host) +
                            " is neither the hostname " + hostname_ + " declared for environment " +
                            environment_name() + " nor a wildcard covering it";
      if (covered) {
        message +=
            ": the route also answers for a host the release is not published at (DNS and the "
            "TLS certificate are for " +
            hostname_ +
            "), so clients using it get certificate errors and the services' public URLs and "
            "CORS origins do not match it. Remove it from spec.hostnames, or declare it in the "
            "policy if it is really served.";
      } else {
        message += ", and no other hostname of the route covers " + hostname_ + ": requests to " +
                   hostname_ +
                   " are not routed to the services (404 from the Gateway), while public URLs "
                   "and CORS origins point there. Set it to " +
                   hostname_ + " (or correct the hostname declared for the environment).";
      }
      add(field_path("spec.hostnames", index), std::move(message));
    }
  }

  // Under a declared scheme http, a redirect to https sends every http:// URL the services
  // publish elsewhere; CORS preflights do not follow redirects, so they fail.
  void check_route_redirects_under_http(const RouteView& route) {
    for (const HttpsRedirect& redirect : route.https_redirects) {
      const std::string filter = field_path(
          field_path(field_path("spec.rules", redirect.rule), "filters"), redirect.filter);
      add(field_path(field_path(filter, "requestRedirect"), "scheme"),
          "the rule redirects requests to https, but environment " + environment_name() +
              " declares scheme http: the services' http:// public URLs and CORS origins end in "
              "a redirect to https:// (CORS preflights do not follow redirects, so they fail, "
              "and the origin browsers send no longer matches). Route the rule to the services "
              "with backendRefs, or declare scheme https.");
    }
  }

  // A route that only redirects to https and attaches to the HTTPS listener answers https://
  // requests with a redirect to themselves.
  std::string redirect_loop(std::string_view https_listener) const {
    return "the route only redirects to https (every rule is a RequestRedirect with scheme "
           "https and no backendRefs), so on HTTPS listener " +
           std::string(https_listener) +
           " it answers https:// requests with a redirect to the same https:// address: a "
           "redirect loop wherever it takes precedence over the route that serves the content";
  }

  static std::string redirect_advice() {
    return "A route that only redirects to https (every rule a RequestRedirect filter with "
           "scheme: https and no backendRefs, as in the Gateway API's http-redirect example) "
           "may stay on the plain-HTTP listener.";
  }

  void check_route_parents_declared(const RouteView& route) {
    const GatewayListener& declared = environment_.gateway;
    const std::string suggestion =
        "{name: " + declared.name +
        (declared.namespace_.empty() ? std::string() : ", namespace: " + declared.namespace_) +
        (declared.listener.empty() ? std::string() : ", sectionName: " + declared.listener) + "}";
    const json* parents = walk(object_, "spec.parentRefs");
    if (!route.parents_listed && (parents == nullptr || parents->is_array())) {
      add("spec.parentRefs",
          "HTTPRoute has no parentRefs, so it attaches to no Gateway and the services are "
          "unreachable from outside the cluster; environment " +
              environment_name() + " serves its routes through Gateway " + declared_gateway() +
              ". Add parentRefs: [" + suggestion + "].");
      return;
    }
    for (const ParentRef& parent : route.parents) {
      const std::string base = field_path("spec.parentRefs", parent.index);
      const std::string ref_namespace = route.namespace_of(parent);
      const bool name_ok = parent.name == declared.name;
      // Without a namespace on the ref or the route, where the ref points is decided by the
      // release namespace at install time: compare what is known.
      const bool namespace_ok = declared.namespace_.empty() || ref_namespace.empty() ||
                                ref_namespace == declared.namespace_;
      if (!name_ok || !namespace_ok) {
        std::string where = name_ok ? (parent.has_namespace ? field_path(base, "namespace") : base)
                                    : (parent.has_name ? field_path(base, "name") : base);
        std::string target = gateway_display(ref_namespace, parent.name);
        if (!parent.has_namespace && !ref_namespace.empty()) {
          target += " (a parentRef without namespace points into the route's own namespace)";
        }
        add(where, "parentRef points to Gateway " + target + ", but environment " +
                       environment_name() + " serves its routes through Gateway " +
                       declared_gateway() +
                       ": the route attaches to a Gateway that DNS and the TLS certificate for " +
                       (hostname_.empty() ? std::string("the release") : hostname_) +
                       " do not point at (or to none at all), so the services are not reachable "
                       "where their public URLs say. Set the parentRef to " +
                       suggestion + ".");
        continue;
      }
      if (declared.listener.empty()) continue;
      if (route.redirect_only) {
        // Its place is the plain-HTTP listener, whose name only the Gateway knows; it must not
        // attach to the declared (HTTPS) listener as well.
        if (!route.redirects_to_same_address) continue;
        // A port other than 443 (the Gateway API examples put HTTP on 80) narrows the ref to
        // the listeners on that port; in a batch the Gateway shows which those are.
        if (parent.port && *parent.port != 443) continue;
        if (!parent.has_section) {
          add(base, "parentRef has no sectionName, so it attaches to every listener of Gateway " +
                        declared_gateway() + ", HTTPS listener " + declared.listener +
                        " included; " + redirect_loop(declared.listener) +
                        ". Add a sectionName naming the Gateway's plain-HTTP listener (the "
                        "Gateway API's http-redirect example sets sectionName: http), so the "
                        "redirect answers only http:// requests.");
        } else if (parent.section == declared.listener) {
          add(field_path(base, "sectionName"),
              "parentRef attaches to listener " + declared.listener + " of Gateway " +
                  declared_gateway() + ", which serves environment " + environment_name() +
                  " over HTTPS; " + redirect_loop(declared.listener) +
                  ". Set sectionName to the Gateway's plain-HTTP listener, so the redirect "
                  "answers only http:// requests.");
        }
        continue;
      }
      if (!parent.has_section) {
        add(base,
            "parentRef has no sectionName, so the route attaches to every listener of "
            "Gateway " +
                declared_gateway() +
                ", including a plain-HTTP one: the services are then also served over "
                "http://, where browsers send a different Origin (CORS errors) and "
                "cookies and tokens travel unencrypted. Add sectionName: " +
                declared.listener + " to attach only to listener " + declared.listener + ".");
      } else if (parent.section != declared.listener) {
        add(field_path(base, "sectionName"),
            "parentRef attaches to listener " + emguard::quoted(parent.section) + " of Gateway " +
                declared_gateway() + ", but environment " + environment_name() +
                " serves its routes through listener " + declared.listener +
                ": that listener's protocol, hostname or certificate is not the one the release "
                "is published with (HTTPS or CORS errors, or no route at all). Set sectionName: " +
                declared.listener + ". " + redirect_advice());
      }
    }
  }

  void check_route_against_batch(const RouteView& route) {
    // Whether any route hostname is valid: if none is, the API server rejects the route and the
    // hostname findings above already say why.
    bool any_valid = false;
    for (const std::string& host : route.hostnames) {
      any_valid = any_valid || gateway::check_hostname(host).valid;
    }
    for (const ParentRef& parent : route.parents) {
      const std::string ref_namespace = route.namespace_of(parent);
      const json* found = find_batch_gateway(parent.name, ref_namespace);
      if (found == nullptr) continue;
      const GatewayView gateway = view_gateway(*found);
      const std::string gateway_name = gateway_display(gateway.namespace_, gateway.name);
      const std::string base = field_path("spec.parentRefs", parent.index);
      if (parent.has_section && find_listener(gateway, parent.section) == nullptr) {
        add(field_path(base, "sectionName"),
            "parentRef names listener " + emguard::quoted(parent.section) + ", but Gateway " +
                gateway_name + " has no such listener (it has " +
                (gateway.listeners.empty() ? std::string("none")
                                           : listed(listener_names(gateway))) +
                "): the route does not attach (status reason NoMatchingParent) and serves "
                "nothing. Set sectionName to one of the Gateway's listeners, or add the "
                "listener.");
        continue;
      }
      const std::vector<const Listener*> selected = selected_listeners(gateway, parent);
      if (selected.empty()) {
        if (!gateway.listeners.empty()) {
          add(base, "parentRef selects no listener of Gateway " + gateway_name +
                        " (no listener has the port it names): the route does not attach and "
                        "serves nothing. Fix the parentRef's port or sectionName.");
        }
        continue;
      }
      // The listeners the route really attaches to: those whose hostname intersects the route's.
      std::vector<const Listener*> attached;
      for (const Listener* listener : selected) {
        const gateway::Intersection both = gateway::intersect(listener->hostname, route.hostnames);
        if (both.all || !both.hostnames.empty()) attached.push_back(listener);
      }
      if (attached.empty()) {
        if (route.restricted && any_valid) {
          std::vector<std::string> hosts;
          for (const std::string& host : route.hostnames) hosts.push_back(emguard::quoted(host));
          std::vector<std::string> listeners;
          for (const Listener* listener : selected) {
            listeners.push_back(emguard::quoted(listener->name) + " (hostname " +
                                listener_hostname_display(*listener) + ")");
          }
          add(base, "HTTPRoute " + std::string(agreeing(hosts.size(), "hostname ", "hostnames ")) +
                        listed(hosts) +
                        std::string(agreeing(hosts.size(), " does not", " do not")) +
                        " intersect the hostname of " +
                        std::string(agreeing(selected.size(), "listener ", "listeners ")) +
                        listed(listeners) + " of Gateway " + gateway_name +
                        ": the route does not attach (status reason NoMatchingListenerHostname), "
                        "so none of its paths are served. Make spec.hostnames name a host the "
                        "listener accepts, or change the listener's hostname.");
        }
        continue;
      }
      if (route.redirect_only) {
        check_redirect_route_protocols(route, parent, base, attached, gateway);
      } else {
        check_route_protocols(route, parent, base, attached, gateway);
      }
    }
  }

  // "plain-HTTP listener "http"", "HTTPS listeners "a" and "b"".
  static std::string listeners_phrase(std::string_view protocol,
                                      const std::vector<std::string>& names) {
    std::string out(protocol);
    if (!out.empty()) out += ' ';
    return out + std::string(agreeing(names.size(), "listener ", "listeners ")) + listed(names);
  }

  // Whether `redirect` (a redirect-only route) answers plain-HTTP requests on `gateway` for the
  // hosts `content` serves.
  static bool redirect_covers(const RouteView& redirect, const RouteView& content,
                              const GatewayView& gateway) {
    for (const ParentRef& parent : redirect.parents) {
      if (!refers_to(parent.name, redirect.namespace_of(parent), gateway)) continue;
      for (const Listener* listener : selected_listeners(gateway, parent)) {
        if (listener->protocol != "HTTP") continue;
        const gateway::Intersection reached =
            gateway::intersect(listener->hostname, redirect.hostnames);
        if (reached.all || content.hostnames.empty()) return true;
        for (const std::string& host : content.hostnames) {
          for (const std::string& redirected : reached.hostnames) {
            if (gateway::listener_accepts(redirected, host)) return true;
          }
        }
      }
    }
    return false;
  }

  // What becomes of port 80 once a content route leaves the plain-HTTP listener.
  std::string port_80_advice(const RouteView& content, const GatewayView& gateway,
                             std::string_view http_listener) const {
    for (const json* other : input_.batch) {
      if (other == nullptr || other == &object_ || !is_gateway_api(*other, "HTTPRoute")) continue;
      const RouteView redirect = view_route(*other);
      if (redirect.redirect_only && redirect_covers(redirect, content, gateway)) {
        return " HTTPRoute " + gateway_display(redirect.namespace_, redirect.name) +
               " already redirects plain-HTTP requests to https, so http:// links keep working.";
      }
    }
    return " To keep http:// links working, attach a separate HTTPRoute to listener " +
           std::string(http_listener) +
           " whose only rule redirects: filters: [{type: RequestRedirect, requestRedirect: "
           "{scheme: https, statusCode: 301}}] and no backendRefs (the Gateway API's "
           "http-redirect example).";
  }

  // A route that only redirects to https belongs on a plain-HTTP listener, with an HTTPS listener
  // of the same Gateway to redirect to.
  void check_redirect_route_protocols(const RouteView& route, const ParentRef& parent,
                                      const std::string& base,
                                      const std::vector<const Listener*>& attached,
                                      const GatewayView& gateway) {
    const std::string gateway_name = gateway_display(gateway.namespace_, gateway.name);
    const std::string where = parent.has_section ? field_path(base, "sectionName") : base;
    std::vector<std::string> https;
    bool on_http = false;
    for (const Listener* listener : attached) {
      if (listener->protocol == "HTTPS") https.push_back(emguard::quoted(listener->name));
      on_http = on_http || listener->protocol == "HTTP";
    }
    std::string http_listener;
    for (const Listener& listener : gateway.listeners) {
      if (listener.protocol == "HTTP" && http_listener.empty()) http_listener = listener.name;
    }
    if (!https.empty() && route.redirects_to_same_address) {
      const std::string attaches =
          parent.has_section
              ? std::string()
              : "parentRef has no sectionName, so the route attaches to every listener of "
                "Gateway " +
                    gateway_name + " that accepts it, " + listeners_phrase("HTTPS", https) +
                    " included; ";
      add(where,
          attaches + redirect_loop(listed(https)) +
              (parent.has_section ? " (Gateway " + gateway_name + "). " : std::string(". ")) +
              (http_listener.empty() ? std::string("Attach it to a plain-HTTP listener only.")
                                     : "Set sectionName: " + http_listener +
                                           ", so the redirect answers only http:// requests."));
      return;
    }
    if (!on_http || !route.redirects_to_same_address) return;
    // The redirect keeps the host: some HTTPS listener of this Gateway must accept it.
    for (const Listener& listener : gateway.listeners) {
      if (listener.protocol != "HTTPS") continue;
      const gateway::Intersection both = gateway::intersect(listener.hostname, route.hostnames);
      if (both.all || !both.hostnames.empty()) return;
    }
    add(where, "the route redirects plain-HTTP requests to https, but Gateway " + gateway_name +
                   " has no HTTPS listener accepting " +
                   (route.hostnames.empty()
                        ? std::string("its hosts")
                        : std::string(agreeing(route.hostnames.size(), "hostname ", "hostnames ")) +
                              listed(quoted_all(route.hostnames))) +
                   ": browsers are sent to an https:// address nothing answers (connection "
                   "refused or a certificate error). Add an HTTPS listener (port 443, tls.mode "
                   "Terminate, a certificateRef) for those hosts, with an HTTPRoute serving the "
                   "content on it.");
  }

  static std::vector<std::string> quoted_all(const std::vector<std::string>& items) {
    std::vector<std::string> out;
    for (const std::string& item : items) out.push_back(emguard::quoted(item));
    return out;
  }

  void check_route_protocols(const RouteView& route, const ParentRef& parent,
                             const std::string& base, const std::vector<const Listener*>& attached,
                             const GatewayView& gateway) {
    const std::string gateway_name = gateway_display(gateway.namespace_, gateway.name);
    std::vector<std::string> https;
    std::vector<std::string> http;
    std::string http_listener;  // an attached plain-HTTP listener, for the port 80 advice
    for (const Listener* listener : attached) {
      if (listener->protocol == "HTTPS") https.push_back(emguard::quoted(listener->name));
      if (listener->protocol == "HTTP") {
        http.push_back(emguard::quoted(listener->name));
        if (http_listener.empty()) http_listener = listener->name;
      }
    }
    // An HTTPS listener of the same Gateway to suggest, attached or not.
    std::string https_listener;
    for (const Listener& listener : gateway.listeners) {
      if (listener.protocol == "HTTPS" && https_listener.empty()) https_listener = listener.name;
    }
    const std::string attach_https =
        https_listener.empty()
            ? std::string(
                  "Add an HTTPS listener (tls.mode Terminate, a certificateRef) to the "
                  "Gateway and set sectionName to it.")
            : "Set sectionName: " + https_listener + ".";
    const std::string where = parent.has_section ? field_path(base, "sectionName") : base;

    if (scheme_ == "https" && https.empty() && !http.empty()) {
      add(where, "the route attaches only to " + listeners_phrase("plain-HTTP", http) +
                     " of Gateway " + gateway_name + ", but environment " + environment_name() +
                     " declares scheme https: https:// requests find no route, and the "
                     "services' https public URLs and CORS origins do not match what browsers "
                     "load over http:// (HTTPS and CORS errors, unencrypted traffic). " +
                     attach_https + port_80_advice(route, gateway, http_listener));
    } else if (scheme_ == "https" && !http.empty()) {
      add(base, "parentRef has no sectionName, so the route attaches to " +
                    listeners_phrase("plain-HTTP", http) + " of Gateway " + gateway_name +
                    " as well as to " + listeners_phrase("HTTPS", https) + ": environment " +
                    environment_name() +
                    " declares scheme https, and pages loaded over http:// send an Origin the "
                    "services reject (CORS errors) with cookies and tokens unencrypted. " +
                    attach_https + port_80_advice(route, gateway, http_listener));
    } else if (scheme_ == "http" && http.empty() && !https.empty()) {
      add(where, "the route attaches only to " + listeners_phrase("HTTPS", https) + " of Gateway " +
                     gateway_name + ", but environment " + environment_name() +
                     " declares scheme http: the services' http:// public URLs and CORS origins "
                     "do not match what browsers load over https:// (CORS errors, redirects to "
                     "http). Attach to an HTTP listener, or declare scheme https.");
    } else if (scheme_.empty() && https.empty() && !http.empty()) {
      add(where, "the route is served only over plain HTTP (" + listeners_phrase("", http) +
                     " of Gateway " + gateway_name +
                     "): logins, cookies and tokens travel unencrypted and browsers mark the "
                     "site insecure. " +
                     attach_https + port_80_advice(route, gateway, http_listener));
    }
  }

  // ---- Gateway ------------------------------------------------------------------------------

  struct Need {
    std::string listener;  // "" when any fitting listener will do
    std::string who;
    std::string name;            // the route or environment alone, quoted
    bool from_route = false;     // an HTTPRoute's parentRef, not the environment's declaration
    bool redirect_only = false;  // that route only redirects to https: it needs plain HTTP
  };

  void check_gateway() {
    const GatewayView gateway = view_gateway(object_);
    check_gateway_shapes();

    std::vector<Need> needs;
    const GatewayListener& declared = environment_.gateway;
    const bool is_declared = declared.declared() && gateway.name == declared.name &&
                             (declared.namespace_.empty() || gateway.namespace_.empty() ||
                              gateway.namespace_ == declared.namespace_);
    if (is_declared) {
      needs.push_back(Need{declared.listener, "environment " + environment_name(),
                           environment_name(), false, false});
    }
    for (const json* other : input_.batch) {
      if (other == nullptr || !is_gateway_api(*other, "HTTPRoute")) continue;
      const RouteView route = view_route(*other);
      for (const ParentRef& parent : route.parents) {
        if (!refers_to(parent.name, route.namespace_of(parent), gateway)) continue;
        const std::string route_name = gateway_display(route.namespace_, route.name);
        needs.push_back(Need{parent.has_section ? parent.section : std::string(),
                             "HTTPRoute " + route_name, route_name, true, route.redirect_only});
      }
    }
    if (needs.empty()) return;

    // Listener names no listener has, each with who uses it, in order of first use.
    std::vector<std::pair<std::string, std::vector<std::string>>> missing;
    bool missing_only_for_redirects = true;
    std::vector<Need> any_listener;       // who attaches without naming a listener
    std::vector<Need> any_http_listener;  // the same, for routes that only redirect
    // A listener is checked once for content and once for a redirect: each asks different things.
    std::set<std::pair<std::size_t, bool>> checked;
    for (const Need& need : needs) {
      if (need.listener.empty()) {
        (need.redirect_only ? any_http_listener : any_listener).push_back(need);
        continue;
      }
      const Listener* listener = find_listener(gateway, need.listener);
      if (listener == nullptr) {
        auto entry = std::find_if(missing.begin(), missing.end(),
                                  [&](const auto& item) { return item.first == need.listener; });
        if (entry == missing.end()) entry = missing.insert(missing.end(), {need.listener, {}});
        entry->second.push_back(need.who);
        missing_only_for_redirects = missing_only_for_redirects && need.redirect_only;
      } else if (checked.insert({listener->index, need.redirect_only}).second) {
        check_listener(gateway, *listener, need);
      }
    }
    if (!missing.empty()) {
      const bool one = missing.size() == 1;
      std::vector<std::string> names;
      for (const auto& [name, users] : missing) {
        names.push_back(emguard::quoted(name) + " (used by " + listed(users) + ")");
      }
      const std::string protocol =
          missing_only_for_redirects ? " (protocol HTTP, port 80, for the redirect to https)"
          : scheme_ == "http"        ? " (protocol HTTP)"
                                     : " (protocol HTTPS, port 443, tls.mode Terminate, a "
                                       "certificateRef for the release's hostname)";
      add("spec.listeners",
          std::string(one ? "Gateway has no listener named " : "Gateway has no listeners named ") +
              listed(names) + (one ? ": routes naming it" : ": routes naming them") +
              " do not attach (status reason NoMatchingParent), so " +
              (missing_only_for_redirects ? "http:// requests are not redirected to https"
                                          : "the services are unreachable") +
              ". Add the " + (one ? "listener" : "listeners") + protocol +
              ", or fix the sectionName.");
    }
    if (!any_listener.empty()) check_some_listener_fits(gateway, any_listener, false);
    if (!any_http_listener.empty()) check_some_listener_fits(gateway, any_http_listener, true);
  }

  void check_gateway_shapes() {
    const json* listeners = walk(object_, "spec.listeners");
    if (listeners == nullptr) return;
    if (!listeners->is_array()) {
      add("spec.listeners", "spec.listeners is " + a_type_name(*listeners) +
                                ", not a list: the API server rejects the Gateway. Write it as a "
                                "list of {name, port, protocol, hostname, tls}.");
      return;
    }
    for (std::size_t i = 0; i < listeners->size(); ++i) {
      const json& item = (*listeners)[i];
      const std::string base = field_path("spec.listeners", i);
      if (!item.is_object()) {
        add(base, "listener is " + a_type_name(item) +
                      ", not an object: the API server rejects the Gateway. Give each listener "
                      "as a map with name, port, protocol and hostname.");
        continue;
      }
      const json* hostname = member(item, "hostname");
      if (hostname == nullptr) continue;
      const std::string path = field_path(base, "hostname");
      if (!hostname->is_string()) {
        add(path, "listener hostname is " + a_type_name(*hostname) +
                      ", not a string: the API server rejects the Gateway. Write a hostname such "
                      "as em.example.com, or leave it out to accept every host.");
        continue;
      }
      const gateway::HostnameCheck check = gateway::check_hostname(hostname->get<std::string>());
      if (!check.valid) {
        add(path, "listener hostname " + emguard::quoted(hostname->get<std::string>()) +
                      " is not a valid Gateway API hostname: " + check.error +
                      ". The API server rejects the Gateway (or no route ever matches the "
                      "listener). Write a lower-case DNS name such as em.example.com, or a "
                      "wildcard such as *.example.com.");
      }
    }
  }

  // Advice for a route that serves content on a listener that is not HTTPS under scheme https:
  // move the route, keep the listener (port 80) for a redirect, rather than turn it into HTTPS.
  static std::string move_route_advice(const GatewayView& gateway, const Need& need) {
    for (const Listener& other : gateway.listeners) {
      if (other.protocol != "HTTPS") continue;
      return "Attach " + need.who + " to HTTPS listener " + emguard::quoted(other.name) +
             " instead (sectionName: " + other.name +
             "), and leave this listener to an HTTPRoute that only redirects to https (a "
             "RequestRedirect filter with scheme: https and no backendRefs).";
    }
    return "Add an HTTPS listener (port 443, tls.mode: Terminate, a certificateRef) and attach " +
           need.who +
           " to it; this listener can stay for an HTTPRoute that only redirects to https (a "
           "RequestRedirect filter with scheme: https and no backendRefs).";
  }

  // The listener `need` attaches to (declared, or named by a route's sectionName).
  void check_listener(const GatewayView& gateway, const Listener& listener, const Need& need) {
    const std::string& who = need.who;
    const std::string base = field_path("spec.listeners", listener.index);
    const std::string name = emguard::quoted(listener.name);
    const std::string protocol = emguard::quoted(listener.protocol);
    if (need.redirect_only) {
      // Plain HTTP is its place (the route explains an HTTPS one); only a listener HTTPRoutes
      // cannot attach to at all is wrong.
      if (listener.protocol != "HTTP" && listener.protocol != "HTTPS") {
        add(field_path(base, "protocol"),
            "listener " + name + " (used by " + who + ", which redirects to https) has protocol " +
                protocol +
                ": HTTPRoutes attach only to HTTP and HTTPS listeners, so the redirect never "
                "answers. Set protocol: HTTP (port 80).");
      }
    } else if (scheme_ == "https" && listener.protocol == "HTTP" && need.from_route) {
      add(field_path(base, "protocol"),
          "listener " + name + " (used by " + who + ") has protocol " + protocol +
              ", but environment " + environment_name() +
              " declares scheme https: the route serves the release over plain HTTP, while its "
              "public URLs and CORS origins say https:// (HTTPS and CORS errors, unencrypted "
              "traffic). " +
              move_route_advice(gateway, need));
    } else if (scheme_ == "https" && listener.protocol != "HTTPS") {
      add(field_path(base, "protocol"),
          "listener " + name + " (used by " + who + ") has protocol " + protocol +
              ", but environment " + environment_name() +
              " declares scheme https: the release is not served over TLS by this listener, "
              "while its public URLs and CORS origins say https:// (HTTPS and CORS errors" +
              (listener.protocol == "TLS" ? std::string(", and HTTPRoutes cannot attach to TLS "
                                                        "listeners at all")
                                          : std::string()) +
              "). Set protocol: HTTPS (port 443) with tls.mode: Terminate and a certificateRef" +
              (hostname_.empty() ? std::string() : " for " + hostname_) + ".");
    } else if (scheme_ == "http" && listener.protocol != "HTTP") {
      add(field_path(base, "protocol"),
          "listener " + name + " (used by " + who + ") has protocol " + protocol +
              ", but environment " + environment_name() +
              " declares scheme http: the services' http:// public URLs and CORS origins do "
              "not match what browsers load through this listener (CORS errors). Set protocol: "
              "HTTP, or declare scheme https.");
    } else if (scheme_.empty() && listener.protocol != "HTTP" && listener.protocol != "HTTPS") {
      add(field_path(base, "protocol"),
          "listener " + name + " (used by " + who + ") has protocol " + protocol +
              ": HTTPRoutes attach only to HTTP and HTTPS listeners, so the route is not "
              "attached and serves nothing. Set protocol: HTTPS (with tls.mode Terminate and "
              "a certificateRef) or HTTP.");
    }
    if (listener.protocol == "HTTPS" && !need.redirect_only) check_tls(listener, who);
    if (!hostname_.empty() && !gateway::listener_accepts(listener.hostname, hostname_)) {
      add(field_path(base, "hostname"),
          "listener " + name + " (used by " + who + ") has hostname " +
              listener_hostname_display(listener) + ", which does not accept the hostname " +
              hostname_ + " declared for environment " + environment_name() +
              ": the Gateway does not route requests for " + hostname_ +
              " through it (404, or a TLS certificate that does not match). Set hostname: " +
              hostname_ + " (or a wildcard covering it), or leave it out.");
    }
  }

  void check_tls(const Listener& listener, const std::string& who) {
    const std::string base = field_path("spec.listeners", listener.index);
    const std::string name = emguard::quoted(listener.name);
    const std::string certificate =
        hostname_.empty() ? std::string("the release's hostname") : hostname_;
    const json* tls = member(*listener.object, "tls");
    if (tls == nullptr || !tls->is_object()) {
      add(tls == nullptr ? base : field_path(base, "tls"),
          "HTTPS listener " + name + " (used by " + who +
              ") has no tls settings: the Gateway has no certificate to present, so HTTPS "
              "handshakes fail. Add tls: {mode: Terminate, certificateRefs: [{name: <Secret "
              "with the certificate for " +
              certificate + ">}]}.");
      return;
    }
    const json* mode = member(*tls, "mode");
    if (mode != nullptr && !(mode->is_string() && *mode == "Terminate")) {
      add(field_path(field_path(base, "tls"), "mode"),
          "HTTPS listener " + name + " (used by " + who + ") has tls.mode " +
              (mode->is_string() ? emguard::quoted(mode->get<std::string>()) : a_type_name(*mode)) +
              ": only Terminate lets the Gateway decrypt requests and route them by path; with "
              "Passthrough the encrypted stream goes to the backend, HTTPRoutes cannot attach, "
              "and the services (plain HTTP on port 8000) cannot answer it. Set tls.mode: "
              "Terminate and reference the certificate for " +
              certificate + " in tls.certificateRefs.");
      return;
    }
    const json* refs = member(*tls, "certificateRefs");
    if (refs == nullptr || !refs->is_array() || refs->empty()) {
      add(field_path(field_path(base, "tls"), "certificateRefs"),
          "HTTPS listener " + name + " (used by " + who +
              ") terminates TLS but has no certificateRefs: the Gateway has no certificate to "
              "present, so HTTPS handshakes fail. Add certificateRefs: [{name: <Secret with "
              "the certificate for " +
              certificate + ">}].");
    }
  }

  // Routes without sectionName (or a declared Gateway without a declared listener) need at least
  // one listener that serves the release as declared.
  // Routes that only redirect to https need a plain-HTTP listener to answer on.
  // "environment "production" and HTTPRoutes "a" and "b" need": the subjects of a sentence,
  // named once per kind, with the verb agreeing.
  static std::string subjects_needing(const std::vector<Need>& needs) {
    std::vector<std::string> environments;
    std::vector<std::string> routes;
    for (const Need& need : needs) {
      (need.from_route ? routes : environments).push_back(need.name);
    }
    std::string out;
    if (!environments.empty()) out = "environment " + listed(environments);
    if (!routes.empty()) {
      if (!out.empty()) out += " and ";
      out += std::string(agreeing(routes.size(), "HTTPRoute ", "HTTPRoutes ")) + listed(routes);
    }
    return out + (needs.size() == 1 ? " needs" : " need");
  }

  void check_some_listener_fits(const GatewayView& gateway, const std::vector<Need>& who,
                                bool redirect_only) {
    const std::string wanted = redirect_only        ? "HTTP"
                               : scheme_ == "https" ? "HTTPS"
                               : scheme_ == "http"  ? "HTTP"
                                                    : "";
    for (const Listener& listener : gateway.listeners) {
      const bool http_kind = listener.protocol == "HTTP" || listener.protocol == "HTTPS";
      const bool protocol_ok = wanted.empty() ? http_kind : listener.protocol == wanted;
      const bool host_ok =
          hostname_.empty() || gateway::listener_accepts(listener.hostname, hostname_);
      if (protocol_ok && host_ok) return;
    }
    std::string served = (wanted.empty() ? std::string("HTTP or HTTPS") : wanted) + " listener";
    if (!hostname_.empty()) served += " accepting " + hostname_;
    if (redirect_only) {
      add_distinct("spec.listeners",
                   "Gateway has no " + served + ", which " + subjects_needing(who) +
                       " to redirect http:// requests to https: plain-HTTP links and bookmarks "
                       "get no answer. Add a listener with protocol HTTP (port 80).");
      return;
    }
    add("spec.listeners",
        "Gateway has no " + served + ", which " + subjects_needing(who) +
            ": the release cannot be served as declared (HTTPS errors or no route at "
            "all). Add such a listener" +
            (wanted == "HTTP" ? std::string()
                              : std::string(" (HTTPS: tls.mode Terminate and a certificateRef)")) +
            ".");
  }

  // ---- settings -----------------------------------------------------------------------------

  static bool any_match(const std::vector<std::string>& patterns, std::string_view name) {
    for (const std::string& pattern : patterns) {
      if (glob_match(pattern, name, /*ignore_case=*/true)) return true;
    }
    return false;
  }

  // Origins first: a CORS list needs the strictest comparison, and its names are the most
  // specific.
  SettingKind classify(std::string_view name) const {
    if (any_match(settings_.origins, name)) return SettingKind::Origins;
    if (any_match(settings_.urls, name)) return SettingKind::Url;
    if (any_match(settings_.hostnames, name)) return SettingKind::Hostname;
    return SettingKind::None;
  }

  bool has_patterns() const {
    return !settings_.urls.empty() || !settings_.origins.empty() || !settings_.hostnames.empty();
  }

  void check_config_map() {
    if (!has_patterns()) return;
    const json* data = member(object_, "data");
    if (data == nullptr || !data->is_object()) return;
    for (const auto& [key, value] : data->items()) {
      const SettingKind kind = classify(key);
      if (kind == SettingKind::None || !value.is_string()) continue;
      check_setting(field_path("data", key), "ConfigMap key " + setting_name(key), kind,
                    value.get<std::string>());
    }
  }

  void check_pod_settings(std::string_view kind) {
    if (!has_patterns()) return;
    const std::string pod_path(pod_spec_path(kind));
    const json* pod = walk(object_, pod_path);
    if (pod == nullptr || !pod->is_object()) return;
    for (const std::string_view list :
         {std::string_view("containers"), std::string_view("initContainers")}) {
      const json* containers = member(*pod, list);
      if (containers == nullptr || !containers->is_array()) continue;
      const std::string label = list == "containers" ? "container " : "init container ";
      for (std::size_t i = 0; i < containers->size(); ++i) {
        const json& container = (*containers)[i];
        if (!container.is_object()) continue;
        const std::string path = field_path(field_path(pod_path, list), i);
        const std::string name = string_member(container, "name");
        const std::string owner =
            label + (name.empty() ? "#" + std::to_string(i) : emguard::quoted(name));
        check_env(container, path, owner);
        check_flags(container, path, owner, "args");
        check_flags(container, path, owner, "command");
      }
    }
  }

  void check_env(const json& container, const std::string& path, const std::string& owner) {
    const json* env = member(container, "env");
    if (env == nullptr || !env->is_array()) return;
    for (std::size_t j = 0; j < env->size(); ++j) {
      const json& entry = (*env)[j];
      const std::string name = string_member(entry, "name");
      if (name.empty()) continue;
      const SettingKind kind = classify(name);
      // valueFrom (Secret, ConfigMap, field) is not a literal: nothing to compare.
      const json* value = member(entry, "value");
      if (kind == SettingKind::None || value == nullptr || !value->is_string()) continue;
      check_setting(field_path(field_path(field_path(path, "env"), j), "value"),
                    "Env var " + setting_name(name) + " of " + owner, kind,
                    value->get<std::string>());
    }
  }

  // `--flag=value` items, and `--flag value` pairs whose flag is a known setting (Keycloak
  // accepts both forms).
  void check_flags(const json& container, const std::string& path, const std::string& owner,
                   std::string_view list) {
    const json* items = member(container, list);
    if (items == nullptr || !items->is_array()) return;
    const std::string list_path = field_path(path, list);
    for (std::size_t k = 0; k < items->size(); ++k) {
      const json& item = (*items)[k];
      if (!item.is_string()) continue;
      const std::string_view text = item.get_ref<const std::string&>();
      if (text.size() < 2 || text.front() != '-') continue;
      std::string_view flag = text.substr(text[1] == '-' ? 2 : 1);
      const std::size_t equals = flag.find('=');
      std::string value;
      std::size_t value_index = k;
      if (equals != std::string_view::npos) {
        value = std::string(flag.substr(equals + 1));
        flag = flag.substr(0, equals);
      } else if (k + 1 < items->size() && (*items)[k + 1].is_string() &&
                 !(*items)[k + 1].get_ref<const std::string&>().empty() &&
                 (*items)[k + 1].get_ref<const std::string&>().front() != '-') {
        if (classify(flag) == SettingKind::None) continue;
        value = (*items)[k + 1].get<std::string>();
        value_index = k + 1;
      } else {
        continue;
      }
      if (flag.empty()) continue;
      const SettingKind kind = classify(flag);
      if (kind == SettingKind::None) continue;
      check_setting(field_path(list_path, value_index),
                    "Argument --" + setting_name(flag) + " of " + owner, kind, value);
      if (value_index != k) ++k;  // the value was consumed
    }
  }

  // Where the settings should point. Declared values first; what the environment leaves out is
  // derived from the batch's HTTPRoutes (and the Gateways they attach to, for the scheme).
  const std::vector<Endpoint>& endpoints() {
    if (endpoints_ready_) return endpoints_;
    endpoints_ready_ = true;
    if (!hostname_.empty() && !scheme_.empty()) {
      endpoints_.push_back(Endpoint{scheme_, hostname_});
      source_ = "declared for environment " + environment_name();
      return endpoints_;
    }
    const std::vector<DerivedHost> derived =
        input_.batch.empty() ? std::vector<DerivedHost>{} : derive_hosts();
    const auto derived_scheme = [](const DerivedHost& host) {
      return host.https ? std::string("https") : host.http ? std::string("http") : std::string();
    };
    if (!hostname_.empty()) {
      std::string scheme;
      for (const DerivedHost& host : derived) {
        if (host.host == hostname_) scheme = derived_scheme(host);
      }
      endpoints_.push_back(Endpoint{scheme, hostname_});
    } else {
      for (const DerivedHost& host : derived) {
        endpoints_.push_back(Endpoint{scheme_.empty() ? derived_scheme(host) : scheme_, host.host});
      }
    }
    if (hostname_.empty() && scheme_.empty()) {
      source_ = "as the HTTPRoutes of this input serve it";
    } else {
      source_ = "from environment " + environment_name() + " and the HTTPRoutes of this input";
    }
    return endpoints_;
  }

  struct DerivedHost {
    std::string host;
    bool https = false;
    bool http = false;
  };

  std::vector<DerivedHost> derive_hosts() const {
    std::vector<DerivedHost> out;
    const auto note = [&out](std::string_view host, std::string_view protocol) {
      const gateway::HostnameCheck check = gateway::check_hostname(host);
      if (!check.valid || check.wildcard) return;  // only precise hosts are addresses
      DerivedHost* entry = nullptr;
      for (DerivedHost& existing : out) {
        if (existing.host == host) entry = &existing;
      }
      if (entry == nullptr) entry = &out.emplace_back(DerivedHost{std::string(host)});
      entry->https = entry->https || protocol == "HTTPS";
      entry->http = entry->http || protocol == "HTTP";
    };
    for (const json* object : input_.batch) {
      if (object == nullptr || !is_gateway_api(*object, "HTTPRoute")) continue;
      const RouteView route = view_route(*object);
      for (const std::string& host : route.hostnames) note(host, "");
      // A route that only redirects serves nothing over the listeners it attaches to.
      if (route.redirect_only) continue;
      for (const ParentRef& parent : route.parents) {
        const json* found = find_batch_gateway(parent.name, route.namespace_of(parent));
        if (found == nullptr) continue;
        const GatewayView gateway = view_gateway(*found);
        for (const Listener* listener : selected_listeners(gateway, parent)) {
          // A route without hostnames under a listener with a precise one serves that host.
          const gateway::Intersection both =
              gateway::intersect(listener->hostname, route.hostnames);
          for (const std::string& host : both.hostnames) note(host, listener->protocol);
        }
      }
    }
    return out;
  }

  std::string served_at() const {
    std::vector<std::string> shown;
    for (const Endpoint& endpoint : endpoints_) shown.push_back(endpoint.display());
    return listed(shown, "or");
  }

  // The endpoint a mismatch is explained against: the one with the value's host, else the first.
  const Endpoint& closest(std::string_view host) const {
    for (const Endpoint& endpoint : endpoints_) {
      if (endpoint.host == host) return endpoint;
    }
    return endpoints_.front();
  }

  // An endpoint with undetermined scheme is checked with the value's own scheme (only its host
  // matters then).
  static std::string scheme_for(const Endpoint& endpoint, std::string_view value_scheme) {
    if (!endpoint.scheme.empty()) return endpoint.scheme;
    return value_scheme == "http" ? "http" : "https";
  }

  bool is_endpoint_host(std::string_view host) const {
    for (const Endpoint& endpoint : endpoints_) {
      if (endpoint.host == host) return true;
    }
    return false;
  }

  void check_setting(const std::string& path, const std::string& where, SettingKind kind,
                     const std::string& raw) {
    const std::string_view value = ascii::trim(raw);
    if (value.empty()) return;  // unset: the service's own default applies
    // Kubernetes expands $(VAR) in env values and args when the container starts: not literal.
    if (value.find("$(") != std::string_view::npos) return;
    if (endpoints().empty()) return;
    switch (kind) {
      case SettingKind::Url:
        check_url_setting(path, where, value, /*hostname_setting=*/false);
        break;
      case SettingKind::Origins:
        check_origins_setting(path, where, value);
        break;
      case SettingKind::Hostname:
        if (value.find("://") != std::string_view::npos) {
          check_url_setting(path, where, value, /*hostname_setting=*/true);
        } else {
          check_bare_hostname(path, where, value);
        }
        break;
      case SettingKind::None:
        break;
    }
  }

  void check_url_setting(const std::string& path, const std::string& where, std::string_view value,
                         bool hostname_setting) {
    const std::string scheme = url::scheme_of(value);
    const std::string host = url::host_of(value);
    // redis://, postgresql://, jdbc:...: connection strings, not public web addresses.
    if (!hostname_setting && !scheme.empty() && scheme != "http" && scheme != "https") return;
    if (is_internal_host(host) && !is_endpoint_host(host)) return;
    for (const Endpoint& endpoint : endpoints_) {
      if (gateway::check_url_against(value, scheme_for(endpoint, scheme), endpoint.host).matches) {
        return;
      }
    }
    const Endpoint& target = closest(host);
    const std::string expected_scheme = scheme_for(target, scheme);
    const gateway::OriginCheck check =
        gateway::check_url_against(value, expected_scheme, target.host);
    std::string suggestion = expected_scheme + "://" + target.host;
    if (value.find('@') == std::string_view::npos) suggestion += url::path_of(value);
    const std::string why =
        hostname_setting
            ? "The service builds its public URLs, token issuer and redirects from it, so logins "
              "fail with issuer or redirect mismatch errors"
            : "Links, redirects and OAuth callbacks built from it point to the wrong place "
              "(HTTPS and CORS errors, failed logins)";
    add(path, where + " is " + value_display(value) + ", but the release is served at " +
                  served_at() + " (" + source_ + "): " + check.reason + ". " + why +
                  ". Set it to " + emguard::quoted(suggestion) + ".");
  }

  void check_origins_setting(const std::string& path, const std::string& where,
                             std::string_view value) {
    const std::vector<std::string> tokens = gateway::split_origin_list(value);
    for (const std::string& token : tokens) {
      const std::string scheme = url::scheme_of(token);
      bool matches = false;
      for (const Endpoint& endpoint : endpoints_) {
        const std::vector<gateway::OriginCheck> checks =
            gateway::check_origin_list(token, scheme_for(endpoint, scheme), endpoint.host);
        bool all = !checks.empty();
        for (const gateway::OriginCheck& check : checks) all = all && check.matches;
        if (all) {
          matches = true;
          break;
        }
      }
      if (matches) continue;
      const Endpoint& target = closest(url::host_of(token));
      const std::string expected = scheme_for(target, scheme) + "://" + target.host;
      const std::vector<gateway::OriginCheck> checks =
          gateway::check_origin_list(token, scheme_for(target, scheme), target.host);
      std::string reason;
      for (const gateway::OriginCheck& check : checks) {
        if (!check.matches) {
          reason = check.reason;
          break;
        }
      }
      const std::string shown = token.find('@') == std::string::npos
                                    ? emguard::quoted(token)
                                    : std::string("with userinfo (not shown)");
      add_distinct(
          path,
          where + " allows origin " + shown + ", but the release is served at " + served_at() +
              " (" + source_ + "): browsers send Origin " + emguard::quoted(expected) +
              ", so every cross-origin request will fail CORS (" + reason + "). " +
              (tokens.size() == 1 ? "Set it to " + emguard::quoted(expected)
                                  : "Replace " + shown + " with " + emguard::quoted(expected)) +
              ".");
    }
  }

  void check_bare_hostname(const std::string& path, const std::string& where,
                           std::string_view value) {
    const std::string host = ascii::lowered(value);
    if (is_internal_host(host) && !is_endpoint_host(host)) return;
    for (const Endpoint& endpoint : endpoints_) {
      if (ascii::equals_ignoring_case(value, endpoint.host)) return;
    }
    const Endpoint& target = endpoints_.front();
    add(path, where + " is " + emguard::quoted(value) + ", but the release is served at " +
                  served_at() + " (" + source_ +
                  "): the service builds its public URLs, token issuer and "
                  "redirects from it, so logins fail with issuer or redirect mismatch errors. "
                  "Set it to " +
                  emguard::quoted(target.host) + ".");
  }

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

}  // namespace

bool gateway_consistency_reads(std::string_view kind) {
  return kind == "HTTPRoute" || kind == "Gateway" || kind == "ConfigMap" ||
         is_pod_bearing_kind(kind);
}

std::vector<Finding> check_gateway_consistency(const RuleInput& input) {
  if (!input.object.is_object()) return {};
  return Checker(input).run();
}

}  // namespace emguard::rules
