#include "policies/common/quoting.hpp"

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
