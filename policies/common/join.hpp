// Joining lists into the text of messages: "a; b", "a, b and c", and the noun that agrees with a
// count. Messages name user input, so a listing is bounded (kMaxListed).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace emguard {

// The items with `separator` between each two: join({"a", "b"}, "; ") is "a; b".
inline std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

// Messages name at most this many items, so a route with hundreds of hostnames cannot flood a
// log line or an admission response.
inline constexpr std::size_t kMaxListed = 3;

// "a", "a and b", "a, b and c"; past kMaxListed items "a, b, c and 2 more". `conjunction` is
// the word before the last item ("or" for alternatives).
inline std::string listed(const std::vector<std::string>& items,
                          std::string_view conjunction = "and") {
  std::string out;
  const std::size_t shown = items.size() > kMaxListed ? kMaxListed : items.size();
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0)
      out +=
          (i + 1 == shown && items.size() == shown) ? " " + std::string(conjunction) + " " : ", ";
    out += items[i];
  }
  if (items.size() > shown) {
    out += " " + std::string(conjunction) + " " + std::to_string(items.size() - shown) + " more";
  }
  return out;
}

// The word that agrees with a count: agreeing(n, "listener", "listeners") is "listener" for
// one, "listeners" for any other number.
inline std::string_view agreeing(std::size_t count, std::string_view one, std::string_view many) {
  return count == 1 ? one : many;
}

}  // namespace emguard
