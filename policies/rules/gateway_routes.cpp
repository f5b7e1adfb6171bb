// gateway-consistency, HTTPRoutes: the hostnames a route serves, the Gateway and listener it
// attaches to (the declared ones, and in a batch the Gateway's listeners it really reaches), and
// whether a route that only redirects to https sits on the plain-HTTP listener.
#include <cstddef>
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

// A route that only redirects to https and attaches to the HTTPS listener answers https://
// requests with a redirect to themselves.
std::string redirect_loop(std::string_view https_listener) {
  return "the route only redirects to https (every rule is a RequestRedirect with scheme "
         "https and no backendRefs), so on HTTPS listener " +
         std::string(https_listener) +
         " it answers https:// requests with a redirect to the same https:// address: a "
         "redirect loop wherever it takes precedence over the route that serves the content";
}

// Appended where a content route is moved off a listener: a redirect-only route is not moved.
std::string redirect_advice() {
  return "A route that only redirects to https (every rule a RequestRedirect filter with "
         "scheme: https and no backendRefs, as in the Gateway API's http-redirect example) "
         "may stay on the plain-HTTP listener.";
}

// "plain-HTTP listener "http"", "HTTPS listeners "a" and "b"".
std::string listeners_phrase(std::string_view protocol, const std::vector<std::string>& names) {
  std::string out(protocol);
  if (!out.empty()) out += ' ';
  return out + std::string(agreeing(names.size(), "listener ", "listeners ")) + listed(names);
}

// Whether `redirect` (a redirect-only route) answers plain-HTTP requests on `gateway` for the
// hosts `content` serves.
bool redirect_covers(const RouteView& redirect, const RouteView& content,
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

// Each item quoted: route hostnames are user input.
std::vector<std::string> quoted_all(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) out.push_back(emguard::quoted(item));
  return out;
}

}  // namespace

void Checker::check_route() {
  const RouteView route = view_route(object_);
  check_route_shapes();
  if (!hostname_.empty()) check_route_serves_declared_hostname();
  if (scheme_ == "http") check_route_redirects_under_http(route);
  if (environment_.gateway.declared()) check_route_parents_declared(route);
  if (!input_.batch.empty()) check_route_against_batch(route);
}

void Checker::check_route_shapes() {
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
void Checker::check_route_serves_declared_hostname() {
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
void Checker::check_route_redirects_under_http(const RouteView& route) {
  for (const HttpsRedirect& redirect : route.https_redirects) {
    const std::string filter =
        field_path(field_path(field_path("spec.rules", redirect.rule), "filters"), redirect.filter);
    add(field_path(field_path(filter, "requestRedirect"), "scheme"),
        "the rule redirects requests to https, but environment " + environment_name() +
            " declares scheme http: the services' http:// public URLs and CORS origins end in "
            "a redirect to https:// (CORS preflights do not follow redirects, so they fail, "
            "and the origin browsers send no longer matches). Route the rule to the services "
            "with backendRefs, or declare scheme https.");
  }
}

void Checker::check_route_parents_declared(const RouteView& route) {
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
                      declared_gateway() + ", HTTPS listener " + declared.listener + " included; " +
                      redirect_loop(declared.listener) +
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

void Checker::check_route_against_batch(const RouteView& route) {
  // Whether any route hostname is valid: if none is, the API server rejects the route and the
  // hostname findings above already say why.
  bool any_valid = false;
  for (const std::string& host : route.hostnames) {
    any_valid = any_valid || gateway::check_hostname(host).valid;
  }
  for (const ParentRef& parent : route.parents) {
    const std::string ref_namespace = route.namespace_of(parent);
    const json* found = find_batch_gateway(input_.batch, parent.name, ref_namespace);
    if (found == nullptr) continue;
    const GatewayView gateway = view_gateway(*found);
    const std::string gateway_name = gateway_display(gateway.namespace_, gateway.name);
    const std::string base = field_path("spec.parentRefs", parent.index);
    if (parent.has_section && find_listener(gateway, parent.section) == nullptr) {
      add(field_path(base, "sectionName"),
          "parentRef names listener " + emguard::quoted(parent.section) + ", but Gateway " +
              gateway_name + " has no such listener (it has " +
              (gateway.listeners.empty() ? std::string("none") : listed(listener_names(gateway))) +
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
                      listed(hosts) + std::string(agreeing(hosts.size(), " does not", " do not")) +
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

// What becomes of port 80 once a content route leaves the plain-HTTP listener.
std::string Checker::port_80_advice(const RouteView& content, const GatewayView& gateway,
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
void Checker::check_redirect_route_protocols(const RouteView& route, const ParentRef& parent,
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

void Checker::check_route_protocols(const RouteView& route, const ParentRef& parent,
                                    const std::string& base,
                                    const std::vector<const Listener*>& attached,
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

}  // namespace emguard::rules::gateway_consistency
