// gateway-consistency, Gateways: the listeners that the declared environment and the batch's
// HTTPRoutes use exist and serve the release as declared (protocol, TLS termination and
// certificate, hostname).
#include <algorithm>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/common/join.hpp"
#include "policies/common/quoting.hpp"
#include "policies/manifests/json_access.hpp"
#include "policies/references/hostname.hpp"
#include "policies/rules/gateway_checker.hpp"
#include "policies/rules/gateway_views.hpp"
#include "policies/rules/rule.hpp"

namespace emguard::rules::gateway_consistency {
namespace {

// Advice for a route that serves content on a listener that is not HTTPS under scheme https:
// move the route, keep the listener (port 80) for a redirect, rather than turn it into HTTPS.
std::string move_route_advice(const GatewayView& gateway, const ListenerNeed& need) {
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

// "environment "production" and HTTPRoutes "a" and "b" need": the subjects of a sentence,
// named once per kind, with the verb agreeing.
std::string subjects_needing(const std::vector<ListenerNeed>& needs) {
  std::vector<std::string> environments;
  std::vector<std::string> routes;
  for (const ListenerNeed& need : needs) {
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

}  // namespace

void Checker::check_gateway() {
  const GatewayView gateway = view_gateway(object_);
  check_gateway_shapes();

  std::vector<ListenerNeed> needs;
  const GatewayListener& declared = environment_.gateway;
  const bool is_declared = declared.declared() && gateway.name == declared.name &&
                           (declared.namespace_.empty() || gateway.namespace_.empty() ||
                            gateway.namespace_ == declared.namespace_);
  if (is_declared) {
    needs.push_back(ListenerNeed{declared.listener, "environment " + environment_name(),
                                 environment_name(), false, false});
  }
  for (const json* other : input_.batch) {
    if (other == nullptr || !is_gateway_api(*other, "HTTPRoute")) continue;
    const RouteView route = view_route(*other);
    for (const ParentRef& parent : route.parents) {
      if (!refers_to(parent.name, route.namespace_of(parent), gateway)) continue;
      const std::string route_name = gateway_display(route.namespace_, route.name);
      needs.push_back(ListenerNeed{parent.has_section ? parent.section : std::string(),
                                   "HTTPRoute " + route_name, route_name, true,
                                   route.redirect_only});
    }
  }
  if (needs.empty()) return;

  // Listener names no listener has, each with who uses it, in order of first use.
  std::vector<std::pair<std::string, std::vector<std::string>>> missing;
  bool missing_only_for_redirects = true;
  std::vector<ListenerNeed> any_listener;       // who attaches without naming a listener
  std::vector<ListenerNeed> any_http_listener;  // the same, for routes that only redirect
  // A listener is checked once for content and once for a redirect: each asks different things.
  std::set<std::pair<std::size_t, bool>> checked;
  for (const ListenerNeed& need : needs) {
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

void Checker::check_gateway_shapes() {
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

// The listener `need` attaches to (declared, or named by a route's sectionName).
void Checker::check_listener(const GatewayView& gateway, const Listener& listener,
                             const ListenerNeed& need) {
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

void Checker::check_tls(const Listener& listener, const std::string& who) {
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
void Checker::check_some_listener_fits(const GatewayView& gateway,
                                       const std::vector<ListenerNeed>& who, bool redirect_only) {
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

}  // namespace emguard::rules::gateway_consistency
