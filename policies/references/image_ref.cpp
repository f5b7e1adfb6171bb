#include "policies/references/image_ref.hpp"

#include "policies/common/ascii.hpp"
#include "policies/common/quoting.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace emguard {
namespace {

// distribution/reference caps the repository path (domain excluded) at 255 characters.
constexpr std::size_t kMaxPathLength = 255;
constexpr std::size_t kMaxTagLength = 128;
// Unregistered digest algorithms still need at least a 128-bit value, as in the upstream grammar.
constexpr std::size_t kMinDigestHexLength = 32;

struct KnownDigestAlgorithm {
  std::string_view name;
  std::size_t hex_length;
};

// The algorithms container runtimes actually verify (go-digest registers these); for them the
// hex length is exact and only lowercase is accepted, so a typo cannot pass as a pin.
constexpr std::array<KnownDigestAlgorithm, 3> kKnownDigestAlgorithms = {{
    {"sha256", 64},
    {"sha384", 96},
    {"sha512", 128},
}};

bool is_lower_alnum(char c) { return ascii::is_lower(c) || ascii::is_digit(c); }
bool is_word_char(char c) { return ascii::is_alnum(c) || c == '_'; }
// A-F only, without the digits (unlike ascii::is_lower_hex): the letters that make a digest's hex
// non-canonical.
bool is_upper_hex_letter(char c) { return c >= 'A' && c <= 'F'; }
bool is_path_separator_char(char c) { return c == '.' || c == '_' || c == '-'; }

// Each check_* returns what is wrong, or an empty string when the part is valid.

// domain-name := domain-component ('.' domain-component)*, where a component is alphanumeric
// with hyphens allowed only inside. Upper case is allowed: hostnames are case-insensitive.
std::string check_host_name(std::string_view host, std::string_view domain) {
  if (host.empty()) return "registry domain " + quoted(domain) + " has no host name before ':'";
  std::size_t component_start = 0;
  while (true) {
    const std::size_t dot = host.find('.', component_start);
    const std::string_view component = host.substr(
        component_start, dot == std::string_view::npos ? host.npos : dot - component_start);
    if (component.empty()) return "registry domain " + quoted(domain) + " has an empty component";
    for (const char c : component) {
      if (!ascii::is_alnum(c) && c != '-') {
        return "registry domain " + quoted(domain) + " has an invalid character " + quoted_char(c);
      }
    }
    if (component.front() == '-' || component.back() == '-') {
      return "registry domain component " + quoted(component) + " must not start or end with '-'";
    }
    if (dot == std::string_view::npos) return {};
    component_start = dot + 1;
  }
}

// domain := (domain-name | '[' IPv6 ']') [':' port]
std::string check_domain(std::string_view domain) {
  std::string_view after_host;
  if (domain.front() == '[') {
    const std::size_t close = domain.find(']');
    if (close == std::string_view::npos) {
      return "registry domain " + quoted(domain) + " has an unclosed '['";
    }
    const std::string_view address = domain.substr(1, close - 1);
    if (address.empty()) return "registry domain " + quoted(domain) + " has an empty IPv6 address";
    for (const char c : address) {
      if (!ascii::is_hex(c) && c != ':') {
        return "IPv6 address in registry domain " + quoted(domain) + " has an invalid character " +
               quoted_char(c);
      }
    }
    after_host = domain.substr(close + 1);
    if (!after_host.empty() && after_host.front() != ':') {
      return "registry domain " + quoted(domain) + " has " + quoted_char(after_host.front()) +
             " after the IPv6 address where only ':port' may follow";
    }
  } else {
    const std::size_t colon = domain.find(':');
    std::string error = check_host_name(domain.substr(0, colon), domain);
    if (!error.empty()) return error;
    if (colon != std::string_view::npos) after_host = domain.substr(colon);
  }
  if (after_host.empty()) return {};
  const std::string_view port = after_host.substr(1);  // drop the ':'
  if (port.empty()) return "registry domain " + quoted(domain) + " has an empty port after ':'";
  if (!std::all_of(port.begin(), port.end(), ascii::is_digit)) {
    return "registry port " + quoted(port) + " in " + quoted(domain) + " must be digits only";
  }
  return {};
}

// Separators between alphanumeric runs: one '.', one or two '_', or any run of '-'.
bool is_valid_path_separator(std::string_view separator) {
  if (separator == "." || separator == "_" || separator == "__") return true;
  return std::all_of(separator.begin(), separator.end(), [](char c) { return c == '-'; });
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*
std::string check_path_component(std::string_view component, std::string_view path) {
  for (std::size_t i = 0; i < component.size(); ++i) {
    const char c = component[i];
    if (is_lower_alnum(c)) continue;
    if (is_path_separator_char(c)) {
      const std::size_t separator_start = i;
      while (i + 1 < component.size() && is_path_separator_char(component[i + 1])) ++i;
      if (separator_start == 0) {
        return "path component " + quoted(component) +
               " must start with a lowercase letter or digit";
      }
      if (i + 1 == component.size()) {
        return "path component " + quoted(component) + " must end with a lowercase letter or digit";
      }
      const std::string_view separator = component.substr(separator_start, i - separator_start + 1);
      if (!is_valid_path_separator(separator)) {
        return "path component " + quoted(component) + " has an invalid separator " +
               quoted(separator) + " (allowed: '.', '_', '__' or a run of '-')";
      }
      continue;
    }
    if (ascii::is_upper(c)) {
      return "repository path " + quoted(path) + " has an uppercase character " + quoted_char(c) +
             "; repository names must be lowercase";
    }
    return "repository path " + quoted(path) + " has an invalid character " + quoted_char(c);
  }
  return {};
}

// path := path-component ('/' path-component)*
std::string check_path(std::string_view path) {
  if (path.empty()) return "repository path is empty";
  if (path.size() > kMaxPathLength) {
    return "repository path is " + std::to_string(path.size()) +
           " characters long; the maximum is " + std::to_string(kMaxPathLength);
  }
  std::size_t component_start = 0;
  while (true) {
    const std::size_t slash = path.find('/', component_start);
    const std::string_view component = path.substr(
        component_start, slash == std::string_view::npos ? path.npos : slash - component_start);
    if (component.empty()) return "repository path " + quoted(path) + " has an empty component";
    std::string error = check_path_component(component, path);
    if (!error.empty()) return error;
    if (slash == std::string_view::npos) return {};
    component_start = slash + 1;
  }
}

// tag := [\w][\w.-]{0,127}
std::string check_tag(std::string_view tag) {
  if (tag.empty()) return "tag is empty after ':'";
  if (tag.size() > kMaxTagLength) {
    return "tag is " + std::to_string(tag.size()) + " characters long; the maximum is " +
           std::to_string(kMaxTagLength);
  }
  for (std::size_t i = 0; i < tag.size(); ++i) {
    const char c = tag[i];
    if (is_word_char(c)) continue;
    if (c == '.' || c == '-') {
      if (i == 0) return "tag " + quoted(tag) + " must start with a letter, digit or '_'";
      continue;
    }
    return "tag " + quoted(tag) + " has an invalid character " + quoted_char(c);
  }
  return {};
}

// digest-algorithm := component ([+._-] component)*, component := [A-Za-z][A-Za-z0-9]*
bool is_well_formed_digest_algorithm(std::string_view algorithm) {
  bool at_component_start = true;
  for (const char c : algorithm) {
    if (at_component_start) {
      if (!ascii::is_letter(c)) return false;
      at_component_start = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      at_component_start = true;
    } else if (!ascii::is_alnum(c)) {
      return false;
    }
  }
  return !at_component_start;  // also rejects "" and a trailing separator
}

const KnownDigestAlgorithm* find_known_digest_algorithm(std::string_view algorithm) {
  for (const KnownDigestAlgorithm& known : kKnownDigestAlgorithms) {
    if (known.name == algorithm) return &known;
  }
  return nullptr;
}

// Upstream treats the first component as a registry only when it looks like a host: it has a
// '.' (example.com, 10.0.0.1) or a ':' (host:5000, [::1]) or is "localhost". Everything else
// ("team/app") is part of the repository path on the default registry.
bool looks_like_domain(std::string_view first_component) {
  return first_component.find_first_of(".:") != std::string_view::npos ||
         first_component == "localhost";
}

// Docker refuses a bare 64-hex name because it would be read as an image ID, not a repository.
bool is_image_identifier(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), ascii::is_lower_hex);
}

ImageParseResult failure(std::string message) { return {std::nullopt, std::move(message)}; }

}  // namespace

// digest := algorithm ':' hex
std::string digest_error(std::string_view digest) {
  if (digest.empty()) return "digest is empty after '@'";
  const std::size_t colon = digest.find(':');
  if (colon == std::string_view::npos) {
    return "digest " + quoted(digest) + " has no ':' between algorithm and hex value";
  }
  const std::string_view algorithm = digest.substr(0, colon);
  const std::string_view hex = digest.substr(colon + 1);
  if (algorithm.empty()) return "digest " + quoted(digest) + " has no algorithm before ':'";
  if (!is_well_formed_digest_algorithm(algorithm)) {
    return "digest algorithm " + quoted(algorithm) +
           " is malformed (expected letters and digits joined by '+', '.', '_' or '-')";
  }

  const KnownDigestAlgorithm* known = find_known_digest_algorithm(algorithm);
  if (known == nullptr) {
    // "SHA256" would otherwise slip through as an unknown algorithm with relaxed rules, while
    // runtimes reject it.
    for (const KnownDigestAlgorithm& candidate : kKnownDigestAlgorithms) {
      if (ascii::equals_ignoring_case(candidate.name, algorithm)) {
        return "digest algorithm " + quoted(algorithm) + " must be written in lowercase " +
               quoted(candidate.name);
      }
    }
  }

  for (const char c : hex) {
    if (known != nullptr && is_upper_hex_letter(c)) {
      return std::string(algorithm) + " digest has an uppercase hex character " + quoted_char(c) +
             "; it must be lowercase";
    }
    if (!ascii::is_hex(c)) {
      return std::string(algorithm) + " digest has an invalid hex character " + quoted_char(c);
    }
  }
  if (known != nullptr && hex.size() != known->hex_length) {
    return std::string(algorithm) + " digest must have " + std::to_string(known->hex_length) +
           " hex characters, got " + std::to_string(hex.size());
  }
  if (known == nullptr && hex.size() < kMinDigestHexLength) {
    return std::string(algorithm) + " digest must have at least " +
           std::to_string(kMinDigestHexLength) + " hex characters, got " +
           std::to_string(hex.size());
  }
  return {};
}

std::string ImageRef::familiar_name() const {
  if (domain.empty()) return path;
  return domain + "/" + path;
}

ImageParseResult parse_image_reference(std::string_view text) {
  if (text.empty()) return failure("image reference is empty");

  // No part before the digest may contain '@', so the first '@' starts the digest.
  std::string_view name_and_tag = text;
  std::string_view digest;
  const std::size_t at = text.find('@');
  const bool has_digest = at != std::string_view::npos;
  if (has_digest) {
    name_and_tag = text.substr(0, at);
    digest = text.substr(at + 1);
  }

  // Colons in the name only occur in the domain (port, IPv6), which a '/' always follows; a
  // last ':' with no '/' after it therefore starts the tag.
  std::string_view name = name_and_tag;
  std::string_view tag;
  const std::size_t colon = name_and_tag.rfind(':');
  const bool has_tag =
      colon != std::string_view::npos && name_and_tag.find('/', colon) == std::string_view::npos;
  if (has_tag) {
    name = name_and_tag.substr(0, colon);
    tag = name_and_tag.substr(colon + 1);
  }
  if (name.empty()) return failure("repository name is empty");

  std::string_view domain;
  std::string_view path = name;
  const std::size_t slash = name.find('/');
  if (slash != std::string_view::npos && looks_like_domain(name.substr(0, slash))) {
    domain = name.substr(0, slash);
    path = name.substr(slash + 1);
  }

  // Report problems left to right, the order in which a reader scans the reference.
  if (!domain.empty()) {
    std::string error = check_domain(domain);
    if (!error.empty()) return failure(std::move(error));
  }
  if (std::string error = check_path(path); !error.empty()) return failure(std::move(error));
  if (has_tag) {
    if (std::string error = check_tag(tag); !error.empty()) return failure(std::move(error));
  }
  if (has_digest) {
    if (std::string error = digest_error(digest); !error.empty()) return failure(std::move(error));
  }
  if (is_image_identifier(text)) {
    return failure("repository name " + quoted(text) +
                   " is a 64-character hex image ID, not a repository name");
  }

  ImageRef ref;
  ref.domain = domain;
  ref.path = path;
  ref.tag = tag;
  ref.digest = digest;
  return {std::move(ref), {}};
}

PinState pin_state(const ImageRef& ref, const std::vector<std::string>& mutable_tags) {
  if (ref.path.empty()) return PinState::Invalid;
  // A digest wins over any tag: the runtime pulls by digest and ignores the tag.
  if (ref.has_digest()) return PinState::Digest;
  if (!ref.has_tag()) return PinState::NoTag;
  if (ascii::equals_ignoring_case(ref.tag, "latest")) return PinState::MutableTag;
  for (const std::string& mutable_tag : mutable_tags) {
    if (ascii::equals_ignoring_case(ref.tag, mutable_tag)) return PinState::MutableTag;
  }
  return PinState::ExactTag;
}

PinState pin_state(const ImageParseResult& result, const std::vector<std::string>& mutable_tags) {
  if (!result.ok()) return PinState::Invalid;
  return pin_state(*result.ref, mutable_tags);
}

std::string_view pin_state_name(PinState state) {
  switch (state) {
    case PinState::Digest:
      return "Digest";
    case PinState::ExactTag:
      return "ExactTag";
    case PinState::MutableTag:
      return "MutableTag";
    case PinState::NoTag:
      return "NoTag";
    case PinState::Invalid:
      return "Invalid";
  }
  return "Invalid";
}

}  // namespace emguard
