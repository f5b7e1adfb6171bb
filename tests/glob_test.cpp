// policies/common/glob.hpp: the one glob behind policy namespaces, the gateway rule's internal
// hosts and the renderer's workload names.
#include "policies/common/glob.hpp"

#include <gtest/gtest.h>

#include <string>

namespace emguard {
namespace {

TEST(Glob, StarMatchesAnyRunAlsoNone) {
  EXPECT_TRUE(glob_match("*-prod", "em-prod"));
  EXPECT_TRUE(glob_match("*-prod", "-prod"));
  EXPECT_TRUE(glob_match("em-*", "em-"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a*b*c", "a-b-b-c"));
  EXPECT_FALSE(glob_match("*-prod", "em-production"));
  EXPECT_FALSE(glob_match("a*b*c", "a-b-b-"));
}

TEST(Glob, QuestionMarkMatchesExactlyOne) {
  EXPECT_TRUE(glob_match("em-runtime-?", "em-runtime-1"));
  EXPECT_FALSE(glob_match("em-runtime-?", "em-runtime-"));
  EXPECT_FALSE(glob_match("em-runtime-?", "em-runtime-12"));
  EXPECT_FALSE(glob_match("?", ""));
}

// fnmatch(3) would read these as a class and an escape; here they are bytes like any other (the
// renderer's configuration refuses them in workload names: ConfigErrors.RangesAndPatterns).
TEST(Glob, BracketsAndBackslashesAreLiteral) {
  EXPECT_TRUE(glob_match("gov[1]", "gov[1]"));
  EXPECT_FALSE(glob_match("gov[0-9]", "gov1"));
  EXPECT_TRUE(glob_match("a\\*", "a\\xyz"));
  EXPECT_FALSE(glob_match("a\\*", "a*"));
}

TEST(Glob, CaseFoldingIsAsciiAndOptIn) {
  EXPECT_FALSE(glob_match("*.Example.com", "api.example.com"));
  EXPECT_TRUE(glob_match("*.Example.com", "api.EXAMPLE.com", /*ignore_case=*/true));
  EXPECT_FALSE(glob_match("\xC3\x89", "\xC3\xA9", /*ignore_case=*/true));  // É is not é here
}

// One backtrack point, no recursion: a pattern of many stars against a long miss ends (a
// recursive matcher would be exponential or overflow the stack).
TEST(Glob, HostilePatternsEnd) {
  const std::string pattern = std::string(2000, '*') + "b";
  const std::string text(100000, 'a');
  EXPECT_FALSE(glob_match(pattern, text));
  EXPECT_TRUE(glob_match(pattern, text + "b"));
}

}  // namespace
}  // namespace emguard
