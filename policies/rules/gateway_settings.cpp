// gateway-consistency, settings: the public URLs, CORS origins and hostnames a release configures
// (ConfigMap data, container env values and --flag arguments, found by the policy's setting
// name patterns) point where the release is served: the environment's declared scheme and
// hostname, or what the batch's HTTPRoutes and Gateways serve.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "policies/common/ascii.hpp"
#include "policies/common/glob.hpp"
#include "policies/common/join.hpp"
#include "policies/common/quoting.hpp"
#include "policies/manifests/json_access.hpp"
#include "policies/manifests/pod_spec.hpp"
#include "policies/references/hostname.hpp"
#include "policies/references/url.hpp"
#include "policies/rules/gateway_checker.hpp"
#include "policies/rules/gateway_views.hpp"
#include "policies/rules/rule.hpp"

namespace emguard::rules::gateway_consistency {
namespace {

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

// Whether a setting name matches one of the policy's patterns (globs, ASCII case ignored).
bool any_match(const std::vector<std::string>& patterns, std::string_view name) {
  for (const std::string& pattern : patterns) {
    if (glob_match(pattern, name, /*ignore_case=*/true)) return true;
  }
  return false;
}

// A precise host the batch's HTTPRoutes serve, and over which listener protocols.
struct DerivedHost {
  std::string host;
  bool https = false;
  bool http = false;
};

// Where the release is served according to the batch: the precise hostnames of its HTTPRoutes,
// with the protocols of the batch's Gateway listeners that serve them content.
std::vector<DerivedHost> derive_hosts(const std::vector<const json*>& batch) {
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
  for (const json* object : batch) {
    if (object == nullptr || !is_gateway_api(*object, "HTTPRoute")) continue;
    const RouteView route = view_route(*object);
    for (const std::string& host : route.hostnames) note(host, "");
    // A route that only redirects serves nothing over the listeners it attaches to.
    if (route.redirect_only) continue;
    for (const ParentRef& parent : route.parents) {
      const json* found = find_batch_gateway(batch, parent.name, route.namespace_of(parent));
      if (found == nullptr) continue;
      const GatewayView gateway = view_gateway(*found);
      for (const Listener* listener : selected_listeners(gateway, parent)) {
        // A route without hostnames under a listener with a precise one serves that host.
        const gateway::Intersection both = gateway::intersect(listener->hostname, route.hostnames);
        for (const std::string& host : both.hostnames) note(host, listener->protocol);
      }
    }
  }
  return out;
}

// An endpoint with undetermined scheme is checked with the value's own scheme (only its host
// matters then).
std::string scheme_for(const Endpoint& endpoint, std::string_view value_scheme) {
  if (!endpoint.scheme.empty()) return endpoint.scheme;
  return value_scheme == "http" ? "http" : "https";
}

}  // namespace

// Origins first: a CORS list needs the strictest comparison, and its names are the most
// specific.
SettingKind Checker::classify(std::string_view name) const {
  if (any_match(settings_.origins, name)) return SettingKind::Origins;
  if (any_match(settings_.urls, name)) return SettingKind::Url;
  if (any_match(settings_.hostnames, name)) return SettingKind::Hostname;
  return SettingKind::None;
}

bool Checker::has_patterns() const {
  return !settings_.urls.empty() || !settings_.origins.empty() || !settings_.hostnames.empty();
}

void Checker::check_config_map() {
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

void Checker::check_pod_settings(std::string_view kind) {
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

void Checker::check_env(const json& container, const std::string& path, const std::string& owner) {
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
void Checker::check_flags(const json& container, const std::string& path, const std::string& owner,
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
const std::vector<Endpoint>& Checker::endpoints() {
  if (endpoints_ready_) return endpoints_;
  endpoints_ready_ = true;
  if (!hostname_.empty() && !scheme_.empty()) {
    endpoints_.push_back(Endpoint{scheme_, hostname_});
    source_ = "declared for environment " + environment_name();
    return endpoints_;
  }
  const std::vector<DerivedHost> derived =
      input_.batch.empty() ? std::vector<DerivedHost>{} : derive_hosts(input_.batch);
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

std::string Checker::served_at() const {
  std::vector<std::string> shown;
  for (const Endpoint& endpoint : endpoints_) shown.push_back(endpoint.display());
  return listed(shown, "or");
}

// The endpoint a mismatch is explained against: the one with the value's host, else the first.
const Endpoint& Checker::closest(std::string_view host) const {
  for (const Endpoint& endpoint : endpoints_) {
    if (endpoint.host == host) return endpoint;
  }
  return endpoints_.front();
}

bool Checker::is_endpoint_host(std::string_view host) const {
  for (const Endpoint& endpoint : endpoints_) {
    if (endpoint.host == host) return true;
  }
  return false;
}

void Checker::check_setting(const std::string& path, const std::string& where, SettingKind kind,
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

void Checker::check_url_setting(const std::string& path, const std::string& where,
                                std::string_view value, bool hostname_setting) {
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
                served_at() + " (" + source_ + "): " + check.reason + ". " + why + ". Set it to " +
                emguard::quoted(suggestion) + ".");
}

void Checker::check_origins_setting(const std::string& path, const std::string& where,
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
        path, where + " allows origin " + shown + ", but the release is served at " + served_at() +
                  " (" + source_ + "): browsers send Origin " + emguard::quoted(expected) +
                  ", so every cross-origin request will fail CORS (" + reason + "). " +
                  (tokens.size() == 1 ? "Set it to " + emguard::quoted(expected)
                                      : "Replace " + shown + " with " + emguard::quoted(expected)) +
                  ".");
  }
}

void Checker::check_bare_hostname(const std::string& path, const std::string& where,
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

}  // namespace emguard::rules::gateway_consistency
