// Taking a URL apart: the one place em-guard splits "scheme://authority/path" into scheme,
// authority, host, port and path. Two readers sit on this one splitter:
// - strict validation (check_url_against and check_origin_list in hostname.hpp): split with
//   PortColon::Last, then every part judged, with a reason for each rejection;
// - loose reading of the values operators write in settings (scheme_of, host_of, path_of, used by
//   the gateway-consistency rule): a setting may be a connection string, carry userinfo or be
//   malformed, and the rule only needs to know where it points to pick the check and the
//   suggestion. They never fail.
// A small hand splitter because no URL library is in the dependency set (Boost.URL is not in
// Debian 12's Boost 1.74). It judges nothing: validation is the callers' job.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace emguard::url {

// Which ':' of "host:port" starts the port. A registered name holds no ':' (RFC 3986 section
// 3.2.2), so the two differ only for a malformed authority such as "a.example:1:2".
enum class PortColon {
  // host "a.example", port "1:2": the host the writer most likely meant (loose reading).
  First,
  // host "a.example:1", port "2": validation then blames the host, where the stray ':' stands
  // ("has an invalid host: character ':'"), not the port.
  Last,
};

// "scheme://[userinfo@]host[:port][/path][?query][#fragment]", each part as written.
struct Parts {
  std::string_view scheme;     // before the first "://", not checked (is_scheme does that)
  std::string_view authority;  // after "://", up to the first '/', '?' or '#' (userinfo included)
  bool has_userinfo = false;   // the authority holds an '@' (then the host starts after the last)
  // Without userinfo and port. An IP literal keeps its brackets ("[::1]"), and the port colon is
  // looked for only after its ']': the colons inside are the address's own.
  std::string_view host;
  bool has_port = false;  // a ':' follows the host; the port may still be empty ("a.example:")
  std::string_view port;  // the digits (or whatever stands there) after that ':'
  std::string_view rest;  // path, query and fragment: from the first '/', '?' or '#' on
  std::string_view path;  // `rest` up to '?' or '#' when it starts with '/', else empty
};

// The parts of `text`, or nullopt when it has no "://" (a bare hostname, "mailto:...").
std::optional<Parts> split(std::string_view text, PortColon port_colon);

// RFC 3986 section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool is_scheme(std::string_view scheme);

// The port a scheme uses when the URL names none: 443 for https, 80 for http (ASCII
// case-insensitive), 0 for every other scheme.
unsigned default_port(std::string_view scheme);

// Loose readings of a value an operator wrote, split with PortColon::First; "" where the value
// has no "://" or no such part.
// The scheme, lower case ("jdbc:postgresql" for "jdbc:postgresql://db/x": not validated).
std::string scheme_of(std::string_view value);
// The host, lower case, without userinfo and port.
std::string host_of(std::string_view value);
// The path ("/keycloak"), without query or fragment, which may hold tokens.
std::string path_of(std::string_view value);

}  // namespace emguard::url
