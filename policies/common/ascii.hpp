// ASCII character classes, case folding and trimming, independent of the locale.
//
// The grammars em-guard checks -- DNS names and Gateway API hostnames, URL schemes, container
// image references and digests, semver constraints, Git revisions -- are defined over ASCII.
// <cctype> would answer according to the C locale (isalpha, isspace and tolower may accept or
// fold other bytes there) and is undefined for negative chars, which every byte >= 0x80 is where
// char is signed. So the classes are spelled out: a byte outside ASCII belongs to none of them,
// and case folding leaves it as it is.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace emguard::ascii {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_letter(char c) { return is_lower(c) || is_upper(c); }
constexpr bool is_alnum(char c) { return is_letter(c) || is_digit(c); }
// 0-9 and a-f: the canonical spelling of digests and commit SHAs.
constexpr bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
// 0-9, a-f and A-F.
constexpr bool is_hex(char c) { return is_lower_hex(c) || (c >= 'A' && c <= 'F'); }

// A-Z to a-z; every other byte unchanged.
constexpr char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = to_lower(c);
  return out;
}

// Equal after folding A-Z to a-z (hostnames, URL schemes, tags such as "latest").
constexpr bool equals_ignoring_case(std::string_view left, std::string_view right) {
  if (left.size() != right.size()) return false;
  for (std::size_t i = 0; i < left.size(); ++i) {
    if (to_lower(left[i]) != to_lower(right[i])) return false;
  }
  return true;
}

// Space, tab, CR and LF: the white space a YAML stream separates and ends lines with, and what is
// trimmed off setting values. Deliberately not the wider sets two grammars use on their own,
// which stay next to their grammar because merging them would change what those checks accept:
// references/hostname.cpp splits CORS origin lists on this set plus form feed, and
// version_pin_semver.cpp reads semver constraints with the C locale's isspace set (plus form
// feed and vertical tab).
constexpr bool is_blank_or_line_break(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// `text` without the leading / trailing / both is_blank_or_line_break characters.
constexpr std::string_view trim_left(std::string_view text) {
  while (!text.empty() && is_blank_or_line_break(text.front())) text.remove_prefix(1);
  return text;
}
constexpr std::string_view trim_right(std::string_view text) {
  while (!text.empty() && is_blank_or_line_break(text.back())) text.remove_suffix(1);
  return text;
}
constexpr std::string_view trim(std::string_view text) { return trim_right(trim_left(text)); }

// `text` without its trailing spaces (' ' only, not tabs or line breaks): the webhook's reading
// of a Content-Type before its first ';', which has only ever dropped spaces there.
constexpr std::string_view trim_right_spaces(std::string_view text) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

}  // namespace emguard::ascii
