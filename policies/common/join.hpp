// Lists in messages and annotations ("a, b and c" is the reports' business; this is the plain
// separator join the summaries, RBAC notes and hostname differences share).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace emguard {

// The items with `separator` between each two (nothing before the first, nothing after the last).
inline std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) text += separator;
    text += items[i];
  }
  return text;
}

}  // namespace emguard
