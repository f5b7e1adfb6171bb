#include "policies/references/hostname.hpp"

#include <nlohmann/json.hpp>

#include "policies/common/ascii.hpp"
#include "policies/common/join.hpp"
#include "policies/common/quoting.hpp"
#include "policies/references/url.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emguard::gateway {
namespace {

// Gateway API `Hostname` (apis/v1/shared_types.go): +kubebuilder:validation:MaxLength=253.
constexpr std::size_t kMaxHostnameLength = 253;
// RFC 1123 section 2.1 / RFC 1035 section 2.3.4: a label is at most 63 octets. The CRD pattern
// does not check it, but the `Hostname` type is documented as the RFC 1123 definition.
constexpr std::size_t kMaxLabelLength = 63;
// A port has at most five digits (65535); longer digit runs are out of range without parsing.
constexpr std::size_t kMaxPortDigits = 5;
constexpr unsigned kMaxPort = 65535;

// Space, tab, LF, CR and form feed (the WHATWG "ASCII whitespace" set): what a CORS origin list
// is trimmed and split on. Wider than ascii::is_blank_or_line_break (no form feed there), and kept
// apart so that lists with a form feed keep splitting where they always have.
bool is_origin_list_space(char c) { return ascii::is_blank_or_line_break(c) || c == '\f'; }
bool is_control_or_space(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte == 0x7f;
}

// True when the label would be read as a number by an IPv4 parser: all decimal digits, or "0x"
// followed by hex digits (the WHATWG URL host parser's "ends in a number" test, which browsers
// apply to the last label).
bool is_numeric_label(std::string_view label) {
  if (label.empty()) return false;
  if (label.size() >= 2 && label[0] == '0' && label[1] == 'x') {
    return std::all_of(label.begin() + 2, label.end(), ascii::is_lower_hex);
  }
  return std::all_of(label.begin(), label.end(), ascii::is_digit);
}

// Validates a Gateway API `Hostname`. `allow_upper` accepts upper-case letters (for hosts taken
// from URLs and request hosts, where DNS case does not matter); the API type itself is lower case
// only. Follows apis/v1/shared_types.go `Hostname`: pattern
// ^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$, MaxLength 253,
// "IPs are not allowed", "The wildcard label must appear by itself as the first label".
HostnameCheck validate(std::string_view text, bool allow_upper) {
  HostnameCheck result;
  if (text.empty()) {
    result.error = "hostname is empty";
    return result;
  }
  if (text.size() > kMaxHostnameLength) {
    result.error = "hostname is " + std::to_string(text.size()) +
                   " characters long; the limit is " + std::to_string(kMaxHostnameLength);
    return result;
  }
  if (text == "*") {
    result.error =
        "\"*\" alone is not a valid hostname: leave the hostname out to match every host, or use "
        "a wildcard such as \"*.example.com\"";
    return result;
  }
  const bool wildcard = text.size() >= 2 && text[0] == '*' && text[1] == '.';
  const std::string_view body = wildcard ? text.substr(2) : text;
  if (body.empty()) {
    result.error = "wildcard \"*.\" must be followed by a domain, as in \"*.example.com\"";
    return result;
  }
  if (body.back() == '.') {
    result.error =
        "hostname ends with '.': Gateway API hostnames are written without the terminating dot";
    return result;
  }

  std::string_view last_label;
  std::size_t label_count = 0;
  bool all_numeric = true;
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('.', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view label = body.substr(start, end - start);
    ++label_count;
    if (label.empty()) {
      result.error = "hostname has an empty label (a leading '.' or \"..\")";
      return result;
    }
    for (const char c : label) {
      if (ascii::is_lower(c) || ascii::is_digit(c) || c == '-') continue;
      if (ascii::is_upper(c)) {
        if (allow_upper) continue;
        result.error = "uppercase letter " + quoted_char(c) +
                       " is not allowed: Gateway API hostnames are lower case";
        return result;
      }
      if (c == '*') {
        result.error =
            "wildcard '*' is only allowed as the whole first label, followed by '.' (\"*.\")";
        return result;
      }
      if (c == ':') {
        result.error =
            "character ':' is not allowed: a hostname carries no port, and IP addresses (such as "
            "IPv6 addresses) are not allowed";
        return result;
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        result.error = "character " + quoted_char(c) +
                       " is not allowed: write internationalized names in their ASCII (\"xn--\") "
                       "form";
        return result;
      }
      result.error =
          "character " + quoted_char(c) + " is not allowed: labels hold only a-z, 0-9 and '-'";
      return result;
    }
    if (label.size() > kMaxLabelLength) {
      result.error = "label " + std::to_string(label_count) + " is " +
                     std::to_string(label.size()) + " characters long; the limit is " +
                     std::to_string(kMaxLabelLength);
      return result;
    }
    if (label.front() == '-') {
      result.error = "label " + quoted(label) + " starts with '-'";
      return result;
    }
    if (label.back() == '-') {
      result.error = "label " + quoted(label) + " ends with '-'";
      return result;
    }
    if (!std::all_of(label.begin(), label.end(), ascii::is_digit)) all_numeric = false;
    last_label = label;
    start = end + 1;
  }

  if (!wildcard && all_numeric && label_count == 4) {
    result.error = "hostname is an IPv4 address: Gateway API does not allow IP addresses";
    return result;
  }
  if (is_numeric_label(ascii::lowered(last_label))) {
    result.error = "last label " + quoted(last_label) +
                   " is numeric, so clients read the name as an IP address: Gateway API does "
                   "not allow IP addresses, and RFC 1123 requires an alphabetic top-level label";
    return result;
  }
  result.valid = true;
  result.wildcard = wildcard;
  return result;
}

// Whether a name falls under the wildcard "*.<suffix>": it ends with "." + suffix and has at
// least one label before it. "*.example.com" covers "a.example.com" and "a.b.example.com" (the
// wildcard matches one or more labels, site-src/concepts/hostnames.md) but not "example.com".
// Both arguments are valid names.
bool under_wildcard(std::string_view suffix, std::string_view name) {
  if (name.size() <= suffix.size() + 1) return false;
  const std::size_t dot = name.size() - suffix.size() - 1;
  return name[dot] == '.' && ascii::equals_ignoring_case(name.substr(dot + 1), suffix);
}

bool matches_everything(std::string_view hostname) { return hostname.empty() || hostname == "*"; }

void add_unique(std::vector<std::string>& out, std::string_view hostname) {
  const bool seen = std::any_of(out.begin(), out.end(), [&](const std::string& existing) {
    return ascii::equals_ignoring_case(existing, hostname);
  });
  if (!seen) out.emplace_back(hostname);
}

// --- URL / origin checks ---------------------------------------------------------------------

struct ParseResult {
  bool ok = false;
  std::string error;  // never quotes userinfo, path, query or the raw input
  url::Parts parts;   // when ok: no userinfo, a valid host, the port (if any) from 1 to 65535
  unsigned port_value = 0;
};

// Splits scheme://host[:port][/path][?query][#fragment] (url.hpp) and judges every part, with
// the checks listed in hostname.hpp (check_url_against).
ParseResult parse_url(std::string_view text) {
  ParseResult result;
  if (text.empty()) {
    result.error = "is empty";
    return result;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_control_or_space(text[i])) {
      result.error =
          "contains whitespace or a control character (at offset " + std::to_string(i) + ")";
      return result;
    }
  }

  // The port is taken after the last ':' so that a stray ':' is reported for the host.
  const std::optional<url::Parts> split = url::split(text, url::PortColon::Last);
  if (!split || !url::is_scheme(split->scheme)) {
    result.error = "is not an absolute URL of the form scheme://host[:port][/path]";
    return result;
  }
  result.parts = *split;
  const url::Parts& parts = result.parts;

  if (parts.has_userinfo) {
    result.error =
        "has userinfo (a user name or password before '@'), which em-guard rejects: "
        "credentials do not belong in a public URL or origin";
    return result;
  }
  if (parts.authority.empty()) {
    result.error = "has no host";
    return result;
  }
  if (parts.authority.front() == '[') {
    result.error = "has an IP address literal as its host: the release is served at a hostname";
    return result;
  }

  // The host is checked before the port so that a value like "a.example;https://b.example"
  // is reported for its host, not for the empty "port" after its last ':'.
  const std::string_view host = parts.host;
  if (host.empty()) {
    result.error = "has no host";
    return result;
  }
  if (host.back() == '.') {
    result.error =
        "has a host ending with '.', which browsers treat as a different origin from the name "
        "without it";
    return result;
  }
  const HostnameCheck check = validate(host, /*allow_upper=*/true);
  if (!check.valid) {
    result.error = "has an invalid host: " + check.error;
    return result;
  }
  if (check.wildcard) {
    result.error = "has a wildcard host: '*' is not allowed in a URL or origin";
    return result;
  }
  if (parts.has_port) {
    const std::string_view port = parts.port;
    if (port.empty()) {
      result.error = "has an empty port after ':'";
      return result;
    }
    if (!std::all_of(port.begin(), port.end(), ascii::is_digit)) {
      result.error = "has a port that is not a number";
      return result;
    }
    unsigned value = 0;
    if (port.size() <= kMaxPortDigits) {
      for (const char c : port) value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (port.size() > kMaxPortDigits || value == 0 || value > kMaxPort) {
      result.error = "has port " + std::string(port) + ", outside the range 1-65535";
      return result;
    }
    result.port_value = value;
  }

  result.ok = true;
  return result;
}

OriginCheck check_one(std::string_view text, std::string_view scheme, std::string_view hostname,
                      bool origin) {
  const std::string_view kind = origin ? "origin" : "URL";
  const std::string expected = ascii::lowered(scheme) + "://" + ascii::lowered(hostname);
  if (text == "*") {
    return {false, "\"*\" allows every origin instead of exactly " + expected +
                       ": any web site could call the services, and browsers refuse credentialed "
                       "CORS requests when the allowed origin is \"*\""};
  }
  const ParseResult parsed = parse_url(text);
  if (!parsed.ok) {
    return {false, std::string(kind) + " " + parsed.error + "; expected " + expected};
  }
  const url::Parts& parts = parsed.parts;
  // Only the scanned scheme, host and port are quoted: no userinfo, path or query reaches a
  // message.
  std::string written = std::string(parts.scheme) + "://" + std::string(parts.host);
  if (parts.has_port) written += ":" + std::string(parts.port);

  std::vector<std::string> differences;
  if (!ascii::equals_ignoring_case(parts.scheme, scheme)) {
    std::string part = std::string(kind) + " " + written + " uses scheme " +
                       std::string(parts.scheme) + ", but the release is served over " +
                       std::string(scheme);
    if (ascii::equals_ignoring_case(scheme, "https") &&
        ascii::equals_ignoring_case(parts.scheme, "http")) {
      part += ": browsers will reject CORS requests and cookies marked Secure";
    }
    differences.push_back(std::move(part));
  }
  if (!ascii::equals_ignoring_case(parts.host, hostname)) {
    differences.push_back("host " + std::string(parts.host) + " differs from hostname " +
                          std::string(hostname));
  }
  if (parts.has_port && parsed.port_value != url::default_port(parts.scheme)) {
    differences.push_back("port " + std::string(parts.port) + " is not the default port of " +
                          std::string(parts.scheme) + ": the release is served at " + expected +
                          " without a port");
  }
  if (!differences.empty()) return {false, join(differences, "; ")};
  if (!origin) return {true, ""};

  // Origins: browsers send the serialized origin (RFC 6454 section 6.2) and CORS middleware
  // usually compares strings exactly, so anything but the exact serialization never matches.
  if (!parts.rest.empty()) {
    if (parts.rest == "/") {
      differences.push_back("origin " + written +
                            "/ ends with '/': browsers send the Origin header without a path, so "
                            "it never matches; use " +
                            expected);
    } else {
      differences.push_back("origin " + written +
                            " has a path, query or fragment: an origin is only "
                            "scheme://host[:port], so it never matches; use " +
                            expected);
    }
  }
  if (written != expected) {
    differences.push_back("origin " + written +
                          " is not written the way browsers send it (lower case, no default "
                          "port) and CORS middleware compares origins as exact strings; use " +
                          expected);
  }
  if (!differences.empty()) return {false, join(differences, "; ")};
  return {true, ""};
}

}  // namespace

HostnameCheck check_hostname(std::string_view text) { return validate(text, false); }

bool listener_accepts(std::string_view listener_hostname, std::string_view host) {
  const HostnameCheck host_check = validate(host, /*allow_upper=*/true);
  if (!host_check.valid || host_check.wildcard) return false;
  if (matches_everything(listener_hostname)) return true;
  const HostnameCheck listener_check = validate(listener_hostname, /*allow_upper=*/false);
  if (!listener_check.valid) return false;
  if (listener_check.wildcard) return under_wildcard(listener_hostname.substr(2), host);
  return ascii::equals_ignoring_case(listener_hostname, host);
}

Intersection intersect(std::string_view listener_hostname,
                       const std::vector<std::string>& route_hostnames) {
  Intersection result;
  const bool listener_all = matches_everything(listener_hostname);
  bool listener_wildcard = false;
  if (!listener_all) {
    const HostnameCheck check = validate(listener_hostname, /*allow_upper=*/false);
    if (!check.valid) return result;
    listener_wildcard = check.wildcard;
  }
  // "Having no hostname set is equivalent to having a hostname field set to `*`."
  if (route_hostnames.empty()) {
    if (listener_all) {
      result.all = true;
    } else {
      result.hostnames.emplace_back(listener_hostname);
    }
    return result;
  }

  for (const std::string& route : route_hostnames) {
    if (route == "*") {  // the special value `*` matches any other hostname
      if (listener_all) {
        result.all = true;
        result.hostnames.clear();
        return result;
      }
      add_unique(result.hostnames, listener_hostname);
      continue;
    }
    const HostnameCheck check = validate(route, /*allow_upper=*/false);
    if (!check.valid) continue;  // the API server rejects it; it never intersects
    if (listener_all) {
      add_unique(result.hostnames, route);
      continue;
    }
    const std::string_view route_view = route;
    if (!listener_wildcard && !check.wildcard) {
      // "if both hostnames are precise ... then the hostnames must match exactly"
      if (ascii::equals_ignoring_case(listener_hostname, route_view))
        add_unique(result.hostnames, route);
    } else if (listener_wildcard && !check.wildcard) {
      // listener *.example.com, route www.example.com -> www.example.com
      if (under_wildcard(listener_hostname.substr(2), route_view)) {
        add_unique(result.hostnames, route);
      }
    } else if (!listener_wildcard && check.wildcard) {
      // listener www.example.com, route *.example.com -> www.example.com
      if (under_wildcard(route_view.substr(2), listener_hostname)) {
        add_unique(result.hostnames, listener_hostname);
      }
    } else {
      // Both wildcards overlap when one domain lies within the other; the more specific one is
      // the intersection (listener *.com, route *.example.com -> *.example.com).
      const std::string_view listener_domain = listener_hostname.substr(2);
      const std::string_view route_domain = route_view.substr(2);
      if (ascii::equals_ignoring_case(listener_domain, route_domain) ||
          under_wildcard(listener_domain, route_domain)) {
        add_unique(result.hostnames, route);
      } else if (under_wildcard(route_domain, listener_domain)) {
        add_unique(result.hostnames, listener_hostname);
      }
    }
  }
  return result;
}

OriginCheck check_url_against(std::string_view url, std::string_view scheme,
                              std::string_view hostname) {
  return check_one(url, scheme, hostname, /*origin=*/false);
}

std::vector<std::string> split_origin_list(std::string_view list) {
  std::size_t first = 0;
  std::size_t last = list.size();
  while (first < last && is_origin_list_space(list[first])) ++first;
  while (last > first && is_origin_list_space(list[last - 1])) --last;
  const std::string_view body = list.substr(first, last - first);
  std::vector<std::string> origins;
  // A JSON array of strings, as pydantic-settings parses list-valued environment variables.
  if (body.size() >= 2 && body.front() == '[' && body.back() == ']') {
    const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_array() &&
        std::all_of(parsed.begin(), parsed.end(),
                    [](const nlohmann::json& item) { return item.is_string(); })) {
      for (const nlohmann::json& item : parsed) {
        const std::string& origin = item.get_ref<const std::string&>();
        std::size_t begin = 0;
        std::size_t end = origin.size();
        while (begin < end && is_origin_list_space(origin[begin])) ++begin;
        while (end > begin && is_origin_list_space(origin[end - 1])) --end;
        if (end > begin) origins.push_back(origin.substr(begin, end - begin));
      }
      return origins;
    }
    // Not a JSON array of strings: the application cannot read it either; the pieces below are
    // then reported as malformed origins.
  }
  std::size_t pos = 0;
  while (pos < body.size()) {
    if (body[pos] == ',' || is_origin_list_space(body[pos])) {
      ++pos;
      continue;
    }
    std::size_t end = pos;
    while (end < body.size() && body[end] != ',' && !is_origin_list_space(body[end])) ++end;
    origins.emplace_back(body.substr(pos, end - pos));
    pos = end;
  }
  return origins;
}

std::vector<OriginCheck> check_origin_list(std::string_view list, std::string_view scheme,
                                           std::string_view hostname) {
  std::vector<OriginCheck> results;
  for (const std::string& origin : split_origin_list(list)) {
    results.push_back(check_one(origin, scheme, hostname, /*origin=*/true));
  }
  return results;
}

}  // namespace emguard::gateway
