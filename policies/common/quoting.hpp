// Quoting user input inside messages: bounded and printable, so a hostile value can neither
// flood a log line nor smuggle control characters into a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace emguard {

inline constexpr std::size_t kMaxQuotedLength = 80;

// "text" with `"` and `\` escaped, non-printable bytes as \xNN, cut at kMaxQuotedLength with "...".
std::string quoted(std::string_view text);
// For std::string and literals: exact-match non-templates, so that the call is not ambiguous with
// (or silently resolved to) std::quoted, which argument-dependent lookup also finds.
inline std::string quoted(const std::string& text) { return quoted(std::string_view(text)); }
inline std::string quoted(const char* text) { return quoted(std::string_view(text)); }

// 'c', or '\xNN' for a non-printable byte.
std::string quoted_char(char c);

}  // namespace emguard
