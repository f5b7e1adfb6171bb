#include "policies/common/quoting.hpp"

#include "policies/common/ascii.hpp"

namespace emguard {
namespace {

void append_escaped(std::string& out, char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte == '"' || byte == '\\') {
    out += '\\';
    out += c;
  } else if (byte >= 0x20 && byte < 0x7f) {
    out += c;
  } else {
    constexpr std::string_view kHexDigits = "0123456789abcdef";
    out += "\\x";
    out += kHexDigits[byte >> 4];
    out += kHexDigits[byte & 0xf];
  }
}

}  // namespace

std::string quoted(std::string_view text) {
  std::string out = "\"";
  const std::size_t shown = text.size() > kMaxQuotedLength ? kMaxQuotedLength : text.size();
  for (std::size_t i = 0; i < shown; ++i) append_escaped(out, text[i]);
  if (shown < text.size()) out += "...";
  out += '"';
  return out;
}

std::string quoted_char(char c) {
  std::string out = "'";
  if (c == '"') {
    out += c;  // no need to escape a double quote between single quotes
  } else {
    append_escaped(out, c);
  }
  out += '\'';
  return out;
}

}  // namespace emguard

namespace emguard {
namespace {

char fold(char c, bool ignore_case) { return ignore_case ? ascii::to_lower(c) : c; }

}  // namespace

// Iterative matching with one backtrack point (the last `*`): linear in practice, no recursion,
// so hostile patterns cannot blow the stack.
bool glob_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || fold(pattern[p], ignore_case) == fold(text[t], ignore_case))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace emguard
