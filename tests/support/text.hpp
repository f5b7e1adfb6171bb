#pragma once

// Text checks the suites share.

#include <string_view>

namespace emguard::test {

// Whether `part` occurs in `text`.
inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace emguard::test
