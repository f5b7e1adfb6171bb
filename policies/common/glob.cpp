#include "policies/common/glob.hpp"

#include <cstddef>

#include "policies/common/ascii.hpp"

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
