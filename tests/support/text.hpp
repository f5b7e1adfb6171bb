#pragma once

// Text checks the suites share.

#include <cstddef>
#include <string>
#include <string_view>

namespace emguard::test {

// Whether `part` occurs in `text`.
inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// How many times `part` occurs in `text`, overlapping occurrences included.
inline std::size_t occurrences(std::string_view text, std::string_view part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string_view::npos;
       at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

// "Billion laughs": `levels` mapping lines, `<indent><key>0: &l0 [lol, ...]` then each level
// nine aliases of the one before (9^levels strings from a few hundred bytes). The keys are
// `key_prefix` plus the level, so the lines fit under any mapping the test needs.
inline std::string alias_bomb_lines(std::string_view indent, std::string_view key_prefix,
                                    int levels) {
  const auto key = [&](int level) {
    return std::string(indent) + std::string(key_prefix) + std::to_string(level);
  };
  std::string text = key(0) + ": &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level < levels; ++level) {
    const std::string previous = "*l" + std::to_string(level - 1);
    text += key(level) + ": &l" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) text += (i == 0 ? "" : ", ") + previous;
    text += "]\n";
  }
  return text;
}

}  // namespace emguard::test
