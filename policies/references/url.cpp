#include "policies/references/url.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "policies/common/ascii.hpp"

namespace emguard::url {
namespace {

constexpr std::string_view kSchemeEnd = "://";

bool is_scheme_char(char c) {
  return ascii::is_letter(c) || ascii::is_digit(c) || c == '+' || c == '-' || c == '.';
}

// Where the port colon of `host_port` stands, or npos. The search starts after an IP literal's
// ']' (an unclosed '[' has no port at all).
std::size_t port_colon_of(std::string_view host_port, PortColon port_colon) {
  std::size_t from = 0;
  if (!host_port.empty() && host_port.front() == '[') {
    const std::size_t closing = host_port.find(']');
    if (closing == std::string_view::npos) return std::string_view::npos;
    from = closing + 1;
  }
  if (port_colon == PortColon::First) return host_port.find(':', from);
  const std::size_t last = host_port.rfind(':');
  return last != std::string_view::npos && last >= from ? last : std::string_view::npos;
}

}  // namespace

std::optional<Parts> split(std::string_view text, PortColon port_colon) {
  const std::size_t marker = text.find(kSchemeEnd);
  if (marker == std::string_view::npos) return std::nullopt;
  Parts parts;
  parts.scheme = text.substr(0, marker);
  const std::size_t start = marker + kSchemeEnd.size();
  const std::size_t end = std::min(text.find_first_of("/?#", start), text.size());
  parts.authority = text.substr(start, end - start);
  parts.rest = text.substr(end);
  if (!parts.rest.empty() && parts.rest.front() == '/') {
    parts.path = parts.rest.substr(0, parts.rest.find_first_of("?#"));
  }

  std::string_view host_port = parts.authority;
  if (const std::size_t at = host_port.rfind('@'); at != std::string_view::npos) {
    parts.has_userinfo = true;
    host_port.remove_prefix(at + 1);
  }
  const std::size_t colon = port_colon_of(host_port, port_colon);
  parts.host = host_port.substr(0, colon);
  if (colon != std::string_view::npos) {
    parts.has_port = true;
    parts.port = host_port.substr(colon + 1);
  }
  return parts;
}

bool is_scheme(std::string_view scheme) {
  return !scheme.empty() && ascii::is_letter(scheme.front()) &&
         std::all_of(scheme.begin(), scheme.end(), is_scheme_char);
}

unsigned default_port(std::string_view scheme) {
  if (ascii::equals_ignoring_case(scheme, "https")) return 443;
  if (ascii::equals_ignoring_case(scheme, "http")) return 80;
  return 0;
}

std::string scheme_of(std::string_view value) {
  const std::optional<Parts> parts = split(value, PortColon::First);
  return parts ? ascii::lowered(parts->scheme) : std::string();
}

std::string host_of(std::string_view value) {
  const std::optional<Parts> parts = split(value, PortColon::First);
  return parts ? ascii::lowered(parts->host) : std::string();
}

std::string path_of(std::string_view value) {
  const std::optional<Parts> parts = split(value, PortColon::First);
  return parts ? std::string(parts->path) : std::string();
}

}  // namespace emguard::url
