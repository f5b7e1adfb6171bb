// Pure building blocks for the `gateway-consistency` rule: Gateway API hostname validation,
// listener/route hostname matching and intersection, and URL / CORS origin checks against the
// declared `scheme` and `hostname` of a release. No I/O, no exceptions, no std::regex.
//
// Gateway API text followed (kubernetes-sigs/gateway-api):
// - apis/v1/shared_types.go, type `Hostname`: RFC 1123 hostname with two exceptions, "IPs are
//   not allowed" and an optional wildcard label `*.` that "must appear by itself as the first
//   label"; precise hostnames are written "without the terminating dot"; labels are lower case
//   alphanumerics or '-', starting and ending alphanumeric; MinLength 1, MaxLength 253.
// - apis/v1/gateway_types.go, `Listener.Hostname`: "When unspecified, all hostnames are
//   matched"; "a match for `*.example.com` would match both `test.example.com`, and
//   `foo.test.example.com`, but not `example.com`".
// - apis/v1/httproute_types.go, `HTTPRouteSpec.Hostnames`: a route attaches only when listener
//   and route hostnames intersect; route hostnames that do not match the listener hostname
//   "MUST be ignored".
// - site-src/concepts/hostnames.md, "Hostname Intersection": the rules and the example table
//   (e.g. listener `*.com` and route `*.example.com` intersect as `*.example.com`); the wildcard
//   matches "one or more" DNS labels; no hostname is equivalent to the special value `*`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace emguard::gateway {

// Result of validating a Gateway API `Hostname` (listener `hostname`, route `hostnames[]`).
struct HostnameCheck {
  bool valid = false;
  // Empty when valid; otherwise names the part at fault without repeating the whole input, e.g.
  // `uppercase letter 'E' is not allowed: Gateway API hostnames are lower case`.
  std::string error;
  // True when valid and of the form "*.<hostname>".
  bool wildcard = false;
};

// Validates `text` as a Gateway API `Hostname`: lower-case RFC 1123 labels (a-z, 0-9, '-', not
// starting or ending with '-', at most 63 characters each), at most 253 characters in all, no
// terminating dot, optionally one leading wildcard label "*.". IP addresses are rejected, and so
// is any name whose last label is numeric (RFC 1123 section 2.1: the highest-level label of a
// host name is alphabetic; browsers parse such names as IPv4 addresses). Stricter than the CRD
// pattern in two ways the API documents but does not enforce: the 63-character label limit of
// RFC 1123 and the ban on IPs.
HostnameCheck check_hostname(std::string_view text);

// Whether a concrete request host (e.g. the declared `hostname` em.example.com) is served by a
// listener with `listener_hostname`. An empty listener hostname (or the special value "*")
// matches every host; "*.example.com" matches "a.example.com" and "a.b.example.com" (one or more
// labels) but not "example.com"; a precise listener hostname matches only itself. Comparison
// ignores ASCII case (DNS names are case-insensitive). Returns false when `host` is empty, is a
// wildcard, or is not a valid hostname, and when a non-empty listener hostname is invalid.
bool listener_accepts(std::string_view listener_hostname, std::string_view host);

// The hostnames a route serves through one listener.
//   all == true:                 every host (neither side restricts hostnames); `hostnames` is
//                                empty.
//   all == false, non-empty:     exactly these hostnames (precise or wildcard), in route order,
//                                without duplicates, spelled as written in the manifest.
//   all == false, empty:         no intersection: the route does not attach to this listener
//                                (status reason NoMatchingListenerHostname).
struct Intersection {
  bool all = false;
  std::vector<std::string> hostnames;
};

// Intersects a listener hostname with a route's `hostnames` per "Hostname Intersection":
// for each route hostname, the more specific of the two when one matches the other, e.g.
//   listener "*.example.com",  route ["em.example.com", "other.org"] -> ["em.example.com"]
//   listener "em.example.com", route ["*.example.com"]               -> ["em.example.com"]
//   listener "*.com",          route ["*.example.com"]               -> ["*.example.com"]
// An empty route list yields the listener hostname (or `all` when the listener has none). An
// empty listener hostname or "*" matches everything. Invalid hostnames (see check_hostname)
// never intersect; validate them separately to report why.
Intersection intersect(std::string_view listener_hostname,
                       const std::vector<std::string>& route_hostnames);

// Result of comparing one URL or origin with the declared scheme and hostname.
struct OriginCheck {
  bool matches = false;
  // Empty when `matches`; otherwise what differs or why the value was rejected, e.g.
  // "host em.example.org differs from hostname em.example.com". Reasons quote only the parsed
  // scheme, host and port, never userinfo, path, query or the raw input, so they cannot leak
  // credentials or tokens into logs.
  std::string reason;
};

// Checks an absolute URL `scheme://host[:port][/path][?query][#fragment]` (a public URL a
// service is configured with). It matches when its scheme equals `scheme` (ASCII
// case-insensitive), its host equals `hostname` (ASCII case-insensitive) and its port is absent
// or the scheme's default (80 for http, 443 for https); any path, query or fragment is allowed.
// The URL is split by url::split (url.hpp) and judged strictly, saying why it rejects: userinfo
// ("user@"), whitespace or control characters, missing "scheme://", missing or malformed host,
// IP-literal hosts, empty, non-numeric or out-of-range (1-65535) ports. The value "*" (allow any
// origin) never matches.
OriginCheck check_url_against(std::string_view url, std::string_view scheme,
                              std::string_view hostname);

// The origins of a CORS allowed-origins setting: separated by commas and/or whitespace, or a
// JSON array of strings (`["https://a.example", ...]`, as pydantic-settings reads list-valued
// environment variables). Each is trimmed; empty ones are dropped. A value that looks like an
// array but is not one of strings is split like a plain list, so its pieces show as malformed.
std::vector<std::string> split_origin_list(std::string_view list);

// Checks a CORS allowed-origins setting holding one or more origins separated by commas and/or
// whitespace; a JSON array of strings (`["https://a.example", ...]`, as pydantic-settings reads
// list-valued environment variables) is accepted too. Returns one entry per origin, in order
// (none for an empty or blank list). Browsers send the Origin header in its serialized form
// (RFC 6454 section 6.2: lower-case scheme and host, no default port, no path) and CORS
// middleware usually compares origins as exact strings, so an origin matches only when it is
// byte for byte `scheme://hostname` (lower case): on top of check_url_against's checks, a path
// (even a lone "/"), a query, a fragment, an explicit default port or upper-case letters make it
// a mismatch, with a reason naming the exact string to use. "*" is reported as allowing every
// origin.
std::vector<OriginCheck> check_origin_list(std::string_view list, std::string_view scheme,
                                           std::string_view hostname);

}  // namespace emguard::gateway
