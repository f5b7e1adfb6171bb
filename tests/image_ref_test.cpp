#include "policies/references/image_ref.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace emguard {

// Lets gtest print "MutableTag" instead of a raw number. It has to live in PinState's namespace
// for argument-dependent lookup to find it; static keeps it out of other test files' way.
static void PrintTo(PinState state, std::ostream* out) { *out << pin_state_name(state); }

namespace {

// Digests with the exact lengths the parser insists on; the values themselves do not matter.
const std::string kSha256Hex = "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";
const std::string kSha384Hex = kSha256Hex.substr(0, 32) + kSha256Hex;
const std::string kSha512Hex =
    kSha256Hex + "0e5c5a3e1f4a9b7c6d8e2f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c";

// Mutable tag names a typical policy adds on top of the built-in "latest".
const std::vector<std::string> kMutableTags = {"main", "stable", "edge"};

std::string repeat(char c, std::size_t count) { return std::string(count, c); }

std::string to_upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

struct ValidCase {
  std::string input;
  std::string domain;
  std::string path;
  std::string tag;
  std::string digest;
  PinState pin;
};

void PrintTo(const ValidCase& valid_case, std::ostream* out) {
  *out << '"' << valid_case.input << '"';
}

std::vector<ValidCase> valid_cases() {
  return {
      // Docker Hub short names, tags and the mutable ones.
      {"nginx", "", "nginx", "", "", PinState::NoTag},
      {"nginx:1.25", "", "nginx", "1.25", "", PinState::ExactTag},
      {"nginx:latest", "", "nginx", "latest", "", PinState::MutableTag},
      {"nginx:LATEST", "", "nginx", "LATEST", "", PinState::MutableTag},
      {"nginx:Latest", "", "nginx", "Latest", "", PinState::MutableTag},
      {"nginx:main", "", "nginx", "main", "", PinState::MutableTag},
      {"nginx:Stable", "", "nginx", "Stable", "", PinState::MutableTag},
      {"nginx:edge", "", "nginx", "edge", "", PinState::MutableTag},
      {"nginx:latest-alpine", "", "nginx", "latest-alpine", "", PinState::ExactTag},
      {"redis:7.0.15-alpine", "", "redis", "7.0.15-alpine", "", PinState::ExactTag},
      {"team/app", "", "team/app", "", "", PinState::NoTag},
      {"a/b/c/d/e/f:1", "", "a/b/c/d/e/f", "1", "", PinState::ExactTag},
      // Registries: dotted names, ports, localhost, IP addresses.
      {"docker.io/library/nginx:1.25.3", "docker.io", "library/nginx", "1.25.3", "",
       PinState::ExactTag},
      {"ghcr.io/org/sub/img:v1.2.3-rc.1", "ghcr.io", "org/sub/img", "v1.2.3-rc.1", "",
       PinState::ExactTag},
      {"ghcr.io/dexidp/dex:v2.41.1", "ghcr.io", "dexidp/dex", "v2.41.1", "", PinState::ExactTag},
      {"quay.io/argoproj/argocd:v2.13.1", "quay.io", "argoproj/argocd", "v2.13.1", "",
       PinState::ExactTag},
      {"registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", "", PinState::ExactTag},
      {"localhost/img", "localhost", "img", "", "", PinState::NoTag},
      {"localhost:5000/img", "localhost:5000", "img", "", "", PinState::NoTag},
      {"localhost", "", "localhost", "", "", PinState::NoTag},
      {"registry.example.com:5000/team/app", "registry.example.com:5000", "team/app", "", "",
       PinState::NoTag},
      {"registry.example.com:5000/team/app:2.0", "registry.example.com:5000", "team/app", "2.0", "",
       PinState::ExactTag},
      {"host:5000/repo", "host:5000", "repo", "", "", PinState::NoTag},
      // Without a '/', "host:5000" can only be repository "host" with tag "5000", as upstream.
      {"host:5000", "", "host", "5000", "", PinState::ExactTag},
      {"example.com", "", "example.com", "", "", PinState::NoTag},
      {"Registry.Example.COM/app:1", "Registry.Example.COM", "app", "1", "", PinState::ExactTag},
      {"my-registry.local/a.b/c_d:_tag", "my-registry.local", "a.b/c_d", "_tag", "",
       PinState::ExactTag},
      {"10.0.0.1:5000/app:1", "10.0.0.1:5000", "app", "1", "", PinState::ExactTag},
      {"[::1]:5000/img:tag", "[::1]:5000", "img", "tag", "", PinState::ExactTag},
      {"[2001:DB8::1]/img", "[2001:DB8::1]", "img", "", "", PinState::NoTag},
      // Path component separators.
      {"a__b/c--d", "", "a__b/c--d", "", "", PinState::NoTag},
      {"a-----b", "", "a-----b", "", "", PinState::NoTag},
      {"x/a.b.c/d_e", "", "x/a.b.c/d_e", "", "", PinState::NoTag},
      // A dotted first component is a registry even when it could also be a path component.
      {"a.b.c/d_e", "a.b.c", "d_e", "", "", PinState::NoTag},
      {"0/1:2", "", "0/1", "2", "", PinState::ExactTag},
      {"repo:Tag_With.Case-1", "", "repo", "Tag_With.Case-1", "", PinState::ExactTag},
      // Digests: alone, with a tag (the digest wins, even over "latest"), other algorithms.
      {"repo@sha256:" + kSha256Hex, "", "repo", "", "sha256:" + kSha256Hex, PinState::Digest},
      {"repo:1.0@sha256:" + kSha256Hex, "", "repo", "1.0", "sha256:" + kSha256Hex,
       PinState::Digest},
      {"repo:latest@sha256:" + kSha256Hex, "", "repo", "latest", "sha256:" + kSha256Hex,
       PinState::Digest},
      {"repo@sha384:" + kSha384Hex, "", "repo", "", "sha384:" + kSha384Hex, PinState::Digest},
      {"repo@sha512:" + kSha512Hex, "", "repo", "", "sha512:" + kSha512Hex, PinState::Digest},
      {"repo@blake3:" + kSha256Hex, "", "repo", "", "blake3:" + kSha256Hex, PinState::Digest},
      {"repo@vendor+x.y:" + to_upper(kSha256Hex.substr(0, 32)), "", "repo", "",
       "vendor+x.y:" + to_upper(kSha256Hex.substr(0, 32)), PinState::Digest},
      {"registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:" + kSha256Hex, "registry.k8s.io",
       "ingress-nginx/controller", "v1.15.1", "sha256:" + kSha256Hex, PinState::Digest},
      {"localhost:5000/img@sha256:" + kSha256Hex, "localhost:5000", "img", "",
       "sha256:" + kSha256Hex, PinState::Digest},
      // Length limits: 128-character tag; 255-character path, which excludes the domain.
      {"repo:" + repeat('t', 128), "", "repo", repeat('t', 128), "", PinState::ExactTag},
      {repeat('a', 255), "", repeat('a', 255), "", "", PinState::NoTag},
      {"registry.example.com/" + repeat('a', 255), "registry.example.com", repeat('a', 255), "", "",
       PinState::NoTag},
      // A 64-hex name is only refused when it stands alone (it would read as an image ID).
      {kSha256Hex + ":1", "", kSha256Hex, "1", "", PinState::ExactTag},
  };
}

class ValidImageRefTest : public testing::TestWithParam<ValidCase> {};

TEST_P(ValidImageRefTest, ParsesEveryPart) {
  const ValidCase& expected = GetParam();
  const ImageParseResult result = parse_image_reference(expected.input);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.error, "");
  const ImageRef& ref = *result.ref;
  EXPECT_EQ(ref.domain, expected.domain);
  EXPECT_EQ(ref.path, expected.path);
  EXPECT_EQ(ref.tag, expected.tag);
  EXPECT_EQ(ref.digest, expected.digest);
  EXPECT_EQ(ref.has_tag(), !expected.tag.empty());
  EXPECT_EQ(ref.has_digest(), !expected.digest.empty());
  EXPECT_EQ(pin_state(ref, kMutableTags), expected.pin);
  EXPECT_EQ(pin_state(result, kMutableTags), expected.pin);
}

// The parts are the input cut at its separators: nothing is normalized, added or dropped.
TEST_P(ValidImageRefTest, PartsReassembleToTheInput) {
  const ImageParseResult result = parse_image_reference(GetParam().input);
  ASSERT_TRUE(result.ok()) << result.error;
  const ImageRef& ref = *result.ref;
  std::string reassembled = ref.familiar_name();
  if (ref.has_tag()) reassembled += ":" + ref.tag;
  if (ref.has_digest()) reassembled += "@" + ref.digest;
  EXPECT_EQ(reassembled, GetParam().input);
}

INSTANTIATE_TEST_SUITE_P(Table, ValidImageRefTest, testing::ValuesIn(valid_cases()));

struct InvalidCase {
  std::string input;
  std::string error_fragment;  // a part of the message that names what is wrong
};

void PrintTo(const InvalidCase& invalid_case, std::ostream* out) {
  *out << '"' << invalid_case.input << '"';
}

std::vector<InvalidCase> invalid_cases() {
  return {
      {"", "image reference is empty"},
      // Repository path.
      {"UPPER/case", "repository path \"UPPER/case\" has an uppercase character 'U'"},
      {"LOCALHOST/img", "uppercase character 'L'"},
      {"team/App", "uppercase character 'A'"},
      {":tag", "repository name is empty"},
      {"@sha256:" + kSha256Hex, "repository name is empty"},
      {"repo::tag", "repository path \"repo:\" has an invalid character ':'"},
      {"-repo", "path component \"-repo\" must start with a lowercase letter or digit"},
      {"repo-", "path component \"repo-\" must end with a lowercase letter or digit"},
      {"team/.app", "path component \".app\" must start"},
      {"repo/", "repository path \"repo/\" has an empty component"},
      {"//x", "repository path \"//x\" has an empty component"},
      {"/x", "has an empty component"},
      {"a//b", "has an empty component"},
      {"a..b", "invalid separator \"..\""},
      {"a._b", "invalid separator \"._\""},
      {"a___b", "invalid separator \"___\""},
      {"a-_b", "invalid separator \"-_\""},
      {"repo$", "invalid character '$'"},
      {" nginx", "invalid character ' '"},
      {"nginx ", "invalid character ' '"},
      {"ngi\x01nx", "invalid character '\\x01'"},
      {"ngi\xc3\xa9nx", "invalid character '\\xc3'"},
      {repeat('a', 256), "repository path is 256 characters long; the maximum is 255"},
      {"registry.example.com/" + repeat('a', 256), "repository path is 256 characters long"},
      {kSha256Hex, "is a 64-character hex image ID"},
      // Registry domain.
      {"example.com/", "repository path is empty"},
      {"host:/repo", "registry domain \"host:\" has an empty port after ':'"},
      {"host:abc/repo", "registry port \"abc\" in \"host:abc\" must be digits only"},
      {"host:50:00/repo", "registry port \"50:00\""},
      {":5000/img", "registry domain \":5000\" has no host name before ':'"},
      {"-bad.example.com/repo",
       "registry domain component \"-bad\" must not start or end with '-'"},
      {"bad-.example.com/repo", "must not start or end with '-'"},
      {"bad..example.com/repo", "registry domain \"bad..example.com\" has an empty component"},
      {".example.com/repo", "has an empty component"},
      {"bad_host.com/repo", "registry domain \"bad_host.com\" has an invalid character '_'"},
      {"[::1/img", "registry domain \"[::1\" has an unclosed '['"},
      {"[::g]/img", "IPv6 address in registry domain \"[::g]\" has an invalid character 'g'"},
      {"[]:5000/img", "has an empty IPv6 address"},
      {"[::1]x:5000/img", "'x' after the IPv6 address"},
      {"[::1]:/img", "has an empty port after ':'"},
      // Tag.
      {"repo:", "tag is empty after ':'"},
      {"repo:tag with space", "tag \"tag with space\" has an invalid character ' '"},
      {"repo:v1$", "tag \"v1$\" has an invalid character '$'"},
      {"repo:v1/x", "registry port \"v1\" in \"repo:v1\" must be digits only"},
      {"repo:.hidden", "tag \".hidden\" must start with a letter, digit or '_'"},
      {"repo:-rc1", "tag \"-rc1\" must start with a letter, digit or '_'"},
      {"repo:" + repeat('t', 129), "tag is 129 characters long; the maximum is 128"},
      // Digest.
      {"repo@", "digest is empty after '@'"},
      {"repo:1.0@", "digest is empty after '@'"},
      {"repo@sha256", "digest \"sha256\" has no ':' between algorithm and hex value"},
      {"repo@:" + kSha256Hex, "has no algorithm before ':'"},
      {"repo@sha256:short", "sha256 digest has an invalid hex character 's'"},
      {"repo@sha256:", "sha256 digest must have 64 hex characters, got 0"},
      {"repo@sha256:" + kSha256Hex.substr(0, 63),
       "sha256 digest must have 64 hex characters, got 63"},
      {"repo@sha256:" + kSha256Hex + "0", "sha256 digest must have 64 hex characters, got 65"},
      {"repo@sha256:" + to_upper(kSha256Hex), "sha256 digest has an uppercase hex character 'F'"},
      {"repo@sha512:" + kSha256Hex, "sha512 digest must have 128 hex characters, got 64"},
      {"repo@sha384:" + kSha512Hex, "sha384 digest must have 96 hex characters, got 128"},
      {"repo@SHA256:" + kSha256Hex, "digest algorithm \"SHA256\" must be written in lowercase"},
      {"repo@md5:d41d8cd98f00b204e980", "md5 digest must have at least 32 hex characters, got 20"},
      {"repo@blake3:" + kSha256Hex.substr(0, 31), "at least 32 hex characters, got 31"},
      // Upstream algorithm components start with a letter, so "sha3-256" is not well-formed.
      {"repo@sha3-256:" + kSha256Hex, "digest algorithm \"sha3-256\" is malformed"},
      {"repo@sha256+:" + kSha256Hex, "digest algorithm \"sha256+\" is malformed"},
      {"repo@1sha:" + kSha256Hex, "digest algorithm \"1sha\" is malformed"},
      {"repo@sha256:" + kSha256Hex + "@sha256:" + kSha256Hex, "invalid hex character '@'"},
      {"repo@sha256:" + kSha256Hex + ":x", "invalid hex character ':'"},
  };
}

class InvalidImageRefTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidImageRefTest, ReportsWhatIsWrong) {
  const InvalidCase& expected = GetParam();
  const ImageParseResult result = parse_image_reference(expected.input);
  ASSERT_FALSE(result.ok()) << "parsed as domain=\"" << result.ref->domain << "\" path=\""
                            << result.ref->path << "\" tag=\"" << result.ref->tag << "\" digest=\""
                            << result.ref->digest << '"';
  EXPECT_NE(result.error.find(expected.error_fragment), std::string::npos)
      << "error: " << result.error;
  EXPECT_EQ(pin_state(result, kMutableTags), PinState::Invalid);
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidImageRefTest, testing::ValuesIn(invalid_cases()));

TEST(ImageRefTest, FamiliarNameJoinsDomainAndPathAsWritten) {
  EXPECT_EQ(parse_image_reference("nginx:1.25").ref->familiar_name(), "nginx");
  EXPECT_EQ(parse_image_reference("docker.io/library/nginx").ref->familiar_name(),
            "docker.io/library/nginx");
  EXPECT_EQ(parse_image_reference("[::1]:5000/img:tag").ref->familiar_name(), "[::1]:5000/img");
  EXPECT_EQ(ImageRef{}.familiar_name(), "");
}

TEST(PinStateTest, OnlyLatestIsMutableWithoutAList) {
  EXPECT_EQ(pin_state(*parse_image_reference("nginx:latest").ref), PinState::MutableTag);
  EXPECT_EQ(pin_state(*parse_image_reference("nginx:main").ref), PinState::ExactTag);
  EXPECT_EQ(pin_state(*parse_image_reference("nginx:MAIN").ref, {"main"}), PinState::MutableTag);
}

TEST(PinStateTest, ReferenceWithoutPathIsInvalid) {
  EXPECT_EQ(pin_state(ImageRef{}), PinState::Invalid);
  ImageRef tag_only;
  tag_only.tag = "1.0";
  EXPECT_EQ(pin_state(tag_only), PinState::Invalid);
}

TEST(PinStateTest, NamesEveryState) {
  EXPECT_EQ(pin_state_name(PinState::Digest), "Digest");
  EXPECT_EQ(pin_state_name(PinState::ExactTag), "ExactTag");
  EXPECT_EQ(pin_state_name(PinState::MutableTag), "MutableTag");
  EXPECT_EQ(pin_state_name(PinState::NoTag), "NoTag");
  EXPECT_EQ(pin_state_name(PinState::Invalid), "Invalid");
}

}  // namespace
}  // namespace emguard
