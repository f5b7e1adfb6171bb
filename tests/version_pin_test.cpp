#include "policies/references/version_pin.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace emguard {

// gtest prints "Range" instead of a number; static keeps these out of other test files' way.
static void PrintTo(VersionPin pin, std::ostream* out) { *out << version_pin_name(pin); }

namespace {

using F = VersionField;
using P = VersionPin;

const std::string kSha = "8f2a9c1d0e4b7a6f3c5d2e1b0a9f8e7d6c5b4a39";
const std::string kSha256 = "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";

struct Case {
  VersionField field;
  std::string value;
  VersionPin pin;
  std::string reason;  // substring the reason must contain
};

void PrintTo(const Case& c, std::ostream* out) {
  *out << version_field_name(c.field) << " \"" << c.value << '"';
}

std::vector<Case> cases() {
  return {
      // Helm chart versions (Flux spec.chart.spec.version, Argo CD Helm targetRevision).
      {F::HelmChartVersion, "1.2.3", P::Exact, "\"1.2.3\" is an exact version"},
      {F::HelmChartVersion, "v1.2.3", P::Exact, "exact version"},
      {F::HelmChartVersion, "1.2.3-rc.1", P::Exact, "exact version"},
      {F::HelmChartVersion, "1.2.3+build.5", P::Exact, "exact version"},
      {F::HelmChartVersion, "1.2.3-rc.1+build.5", P::Exact, "exact version"},
      {F::HelmChartVersion, "=1.2.3", P::Exact, "exact version"},
      {F::HelmChartVersion, "= 1.2.3", P::Exact, "exact version"},
      {F::HelmChartVersion, "  1.2.3\t\n", P::Exact, "\"1.2.3\" is an exact version"},
      {F::HelmChartVersion, "0.0.0", P::Exact, "exact version"},
      {F::HelmChartVersion, "*", P::Wildcard, "\"*\" is a wildcard: it matches every release"},
      {F::HelmChartVersion, "x", P::Wildcard, "matches every release"},
      {F::HelmChartVersion, "1.x", P::Wildcard, "new minor and patch releases"},
      {F::HelmChartVersion, "1.X", P::Wildcard, "wildcard"},
      {F::HelmChartVersion, "1.2.*", P::Wildcard, "it follows new patch releases"},
      {F::HelmChartVersion, "1.2.x", P::Wildcard, "new patch releases"},
      {F::HelmChartVersion, "=1.x", P::Wildcard, "wildcard"},
      {F::HelmChartVersion, "*-0", P::Wildcard, "matches every release"},
      {F::HelmChartVersion, "1.2", P::Range, "partial version, read as the range 1.2.x"},
      {F::HelmChartVersion, "1", P::Range, "read as the range 1.x"},
      {F::HelmChartVersion, "v1.2", P::Range,
       "\"v1.2\" is a partial version, read as the range v1.2.x"},
      // The range is spelled from the numbers as written, not as parsed (2024.3.x).
      {F::HelmChartVersion, "2024.03", P::Range,
       "\"2024.03\" is a partial version, read as the range 2024.03.x"},
      {F::HelmChartVersion, "2024.03-LTS-RC19", P::Range,
       "\"2024.03-LTS-RC19\" is a partial version, read as the range 2024.03.x"},
      {F::HelmChartVersion, "=1.5", P::Range, "partial version"},
      {F::HelmChartVersion, "^1.2", P::Range,
       "\"^1.2\" is a semver range (caret): it follows new minor releases"},
      {F::HelmChartVersion, "^1.2.3", P::Range, "(caret): it follows new minor releases"},
      {F::HelmChartVersion, "^0.2.3", P::Range, "(caret): it follows new patch releases"},
      {F::HelmChartVersion, "^0.0.3", P::Range, "matches only 0.0.3"},
      {F::HelmChartVersion, "^0", P::Range, "new minor releases"},
      {F::HelmChartVersion, "~1.2", P::Range, "(tilde): it follows new patch releases"},
      {F::HelmChartVersion, "~1.2.3", P::Range, "(tilde): it follows new patch releases"},
      {F::HelmChartVersion, "~1", P::Range, "(tilde): it follows new minor releases"},
      {F::HelmChartVersion, "~>1.2", P::Range, "tilde"},
      {F::HelmChartVersion, "~0.0.0", P::Range, "matches every release"},
      {F::HelmChartVersion, ">=1.2", P::Range, "(>=): it has no upper bound"},
      {F::HelmChartVersion, "> 1.2.3", P::Range, "(>): it has no upper bound"},
      {F::HelmChartVersion, "=>1.2.3", P::Range, "(=>)"},
      {F::HelmChartVersion, "<2.0.0", P::Range, "(<): it follows new releases below its bound"},
      {F::HelmChartVersion, "<=2", P::Range, "(<=)"},
      {F::HelmChartVersion, "=<2", P::Range, "(=<)"},
      {F::HelmChartVersion, "!=1.2.3", P::Range, "(!=): it follows every other release"},
      {F::HelmChartVersion, ">=1.x", P::Range, "(>=)"},
      {F::HelmChartVersion, ">=1.2.3 <2.0.0", P::Range, "semver range (>=, <)"},
      {F::HelmChartVersion, ">=1.2.3, <2.0.0", P::Range, "(>=, <)"},
      {F::HelmChartVersion, ">= 1.1 , < 2 , != 1.2.3", P::Range, "(>=, <, !=)"},
      {F::HelmChartVersion, "1.2.3 ~1.2.3", P::Range, "(=, ~)"},
      {F::HelmChartVersion, "1.2 - 1.4", P::Range, "hyphen range"},
      {F::HelmChartVersion, "1.0.0 - 2.0.0, <=2.0.0", P::Range, "hyphen range"},
      {F::HelmChartVersion, "1.2.3 || 1.2.4", P::Range, "2 alternatives (||)"},
      {F::HelmChartVersion, ">= 1.2.3 < 2.0 || => 3.0 < 4", P::Range, "alternatives"},
      {F::HelmChartVersion, "1.1-3", P::Range, "partial version"},  // prerelease, not a range
      {F::HelmChartVersion, "", P::Empty, "latest chart version"},
      {F::HelmChartVersion, " \t ", P::Empty, "latest chart version"},
      {F::HelmChartVersion, "1.2.3.4.5", P::Invalid, "at most three numbers"},
      {F::HelmChartVersion, "12.3.4.1234", P::Invalid, "at most three numbers"},
      {F::HelmChartVersion, "abc", P::Invalid, "expected a version number at \"abc\""},
      {F::HelmChartVersion, "latest", P::Invalid, "not a valid chart version"},
      {F::HelmChartVersion, "V1.2.3", P::Invalid, "expected a version number"},
      {F::HelmChartVersion, ">=", P::Invalid, "operator \">=\" has no version after it"},
      {F::HelmChartVersion, ">= bar", P::Invalid, "expected a version number at \"bar\""},
      {F::HelmChartVersion, "BAR >= 1.2.3", P::Invalid, "expected a version number"},
      {F::HelmChartVersion, "12.3.34~ 1.2.3", P::Invalid, "unexpected '~'"},
      {F::HelmChartVersion, "1.2.3 ||", P::Invalid, "is empty"},
      {F::HelmChartVersion, "|| 1.2.3", P::Invalid, "is empty"},
      {F::HelmChartVersion, ">=1.0,", P::Invalid, "nothing follows the last ','"},
      {F::HelmChartVersion, "1.2.3-01", P::Invalid, "\"01\" has a leading zero"},
      {F::HelmChartVersion, "1.2.3-", P::Invalid, "prerelease has an empty identifier"},
      {F::HelmChartVersion, "1.2.3+a..b", P::Invalid, "build metadata has an empty identifier"},
      {F::HelmChartVersion, "1.2.3_4", P::Invalid, "unexpected '_'"},
      {F::HelmChartVersion, "1.2.3 - ", P::Invalid, "not a valid"},
      {F::HelmChartVersion, "99999999999999999999.0.0", P::Invalid, "too large"},
      {F::HelmChartVersion, "1xx", P::Invalid, "unexpected 'x'"},

      // Argo CD targetRevision of a git source.
      {F::GitRevision, "HEAD", P::Branch, "\"HEAD\" follows the latest commit"},
      {F::GitRevision, "main", P::Branch, "\"main\" is a branch name"},
      {F::GitRevision, "master", P::Branch, "branch name"},
      {F::GitRevision, "develop", P::Branch, "a branch follows new commits"},
      {F::GitRevision, "release/1.2", P::Branch, "branch name"},
      {F::GitRevision, "feature/add-x_y.z", P::Branch, "branch name"},
      {F::GitRevision, "refs/heads/main", P::Branch, "is a branch"},
      // A tag ref names a tag, whatever its name; Argo CD matches it against the full ref name.
      {F::GitRevision, "refs/tags/v1.2.3", P::Exact, "\"refs/tags/v1.2.3\" is a tag"},
      {F::GitRevision, "refs/tags/release-1.0", P::Exact, "\"refs/tags/release-1.0\" is a tag"},
      {F::GitRevision, "refs/tags/stable", P::Exact, "is a tag"},
      {F::GitRevision, "refs/tags/", P::Invalid, "ends with '/'"},
      {F::GitRevision, "refs/heads/release-1.0", P::Branch, "is a branch"},
      {F::GitRevision, "refs/pull/12/head", P::Branch, "neither a branch nor a tag"},
      // A short name is looked up among branches and tags alike.
      {F::GitRevision, "release-1.0", P::Branch,
       "\"release-1.0\" is a branch name, or a tag whose name is not a version"},
      {F::GitRevision, "", P::Empty, "means HEAD"},
      {F::GitRevision, "   ", P::Empty, "means HEAD"},
      {F::GitRevision, kSha, P::Exact, "is a commit SHA"},
      {F::GitRevision, "8F2A9C1D0E4B7A6F3C5D2E1B0A9F8E7D6C5B4A39", P::Exact, "commit SHA"},
      {F::GitRevision, "8f2a9c1", P::Exact, "short commit SHA"},
      {F::GitRevision, "1234567", P::Exact, "short commit SHA"},
      {F::GitRevision, "cafe", P::Branch, "branch name"},      // too short for a SHA
      {F::GitRevision, kSha + "0", P::Branch, "branch name"},  // 41 hex: not a SHA
      {F::GitRevision, "v1.2.3", P::Exact, "\"v1.2.3\" is an exact version tag"},
      {F::GitRevision, "1.2.3", P::Exact, "exact version tag"},
      {F::GitRevision, "v1.2.3-rc.1", P::Exact, "exact version tag"},
      // Argo CD util/versions/tags.go MaxVersion: a value NewVersion accepts is "just a pin".
      {F::GitRevision, "v1.2", P::Exact, "\"v1.2\" is an exact version tag"},
      {F::GitRevision, "1.0", P::Exact, "\"1.0\" is an exact version tag"},
      {F::GitRevision, "v1", P::Exact, "exact version tag"},
      {F::GitRevision, "2024.03", P::Exact, "\"2024.03\" is an exact version tag"},
      {F::GitRevision, "=1.2.3", P::Exact, "\"=1.2.3\" names one exact version tag"},
      {F::GitRevision, "=1.2", P::Range, "partial version, read as the range 1.2.x"},
      {F::GitRevision, "1.2.*", P::Wildcard, "new patch releases"},
      {F::GitRevision, "v1.*", P::Wildcard, "wildcard"},
      {F::GitRevision, "*", P::Wildcard, "matches every release"},
      {F::GitRevision, ">=1.0.0 <2.0.0", P::Range, "(>=, <)"},
      {F::GitRevision, "^1.2", P::Range, "caret"},
      {F::GitRevision, "my branch", P::Invalid,
       "\"my branch\" is neither a version, a semver constraint nor a valid git ref name: it "
       "contains ' '"},
      {F::GitRevision, "v1.2.3.4", P::Branch, "branch name"},  // no version, no constraint
      {F::GitRevision, "feature..x", P::Invalid, "contains \"..\""},
      {F::GitRevision, "main.lock", P::Invalid, "ends with \".lock\""},
      {F::GitRevision, "topic/", P::Invalid, "ends with '/'"},
      {F::GitRevision, "HEAD~1", P::Invalid, "contains '~'"},
      {F::GitRevision, "main@{1}", P::Invalid, "\"@{\""},

      // Argo CD targetRevision of an OCI source (repoURL oci://).
      {F::OciRevision, "1.8.2", P::Exact, "\"1.8.2\" is an exact version tag"},
      {F::OciRevision, "1.2", P::Exact, "\"1.2\" is an exact version tag"},
      {F::OciRevision, "v1", P::Exact, "exact version tag"},
      {F::OciRevision, "2024.03-LTS-RC19", P::Exact, "exact version tag"},
      {F::OciRevision, "=1.2.3", P::Exact, "names one exact version tag"},
      {F::OciRevision, "stable-2024", P::Exact, "\"stable-2024\" is a fixed tag"},
      {F::OciRevision, "latest", P::Branch, "\"latest\" is moved to every new push"},
      {F::OciRevision, "^1.2", P::Range, "(caret)"},
      {F::OciRevision, "1.2.*", P::Wildcard, "new patch releases"},
      {F::OciRevision, "*-0", P::Wildcard, "matches every release"},
      {F::OciRevision, ">=1.0.0 <2.0.0", P::Range, "(>=, <)"},
      {F::OciRevision, "sha256:" + kSha256, P::Digest, "content digest"},
      {F::OciRevision, "1.8.2@sha256:" + kSha256, P::Digest, "content digest"},
      {F::OciRevision, "1.8.2@sha256:abc", P::Invalid, "not a valid digest"},
      {F::OciRevision, "", P::Empty, "names no tag or digest"},
      {F::OciRevision, "a/b", P::Invalid,
       "\"a/b\" is neither a version, a semver constraint nor a valid tag: '/' is not allowed"},

      // Flux OCIRepository spec.ref.
      {F::OciTag, "v1.2.3", P::Exact, "fixed tag"},
      {F::OciTag, "6.5.0-debian-12-r0", P::Exact, "fixed tag"},
      {F::OciTag, "latest", P::Branch, "\"latest\" is moved to every new push"},
      {F::OciTag, "Latest", P::Branch, "moved"},
      {F::OciTag, "", P::Empty, "means \"latest\""},
      {F::OciTag, "-bad", P::Invalid, "'-' cannot start a tag"},
      {F::OciTag, "a/b", P::Invalid, "'/' is not allowed"},
      {F::OciTag, std::string(129, 'a'), P::Invalid, "longer than 128"},
      {F::OciSemver, "1.2.3", P::Exact, "exact version"},
      {F::OciSemver, "=v1.2.3", P::Exact, "exact version"},
      {F::OciSemver, ">=1.0.0", P::Range, "no upper bound"},
      {F::OciSemver, "1.x", P::Wildcard, "wildcard"},
      {F::OciSemver, "6.5", P::Range, "partial version"},
      {F::OciSemver, "", P::Empty, "selects nothing"},
      {F::OciSemver, "not-semver", P::Invalid, "not a valid semver constraint"},
      {F::OciDigest, "sha256:" + kSha256, P::Digest, "content digest"},
      {F::OciDigest, "  sha256:" + kSha256 + " ", P::Digest, "content digest"},
      {F::OciDigest, "sha256:abc", P::Invalid, "must have 64 hex characters, got 3"},
      {F::OciDigest, "sha256:" + std::string(64, 'A'), P::Invalid, "uppercase hex character 'A'"},
      {F::OciDigest, kSha256, P::Invalid, "no ':'"},
      {F::OciDigest, "SHA256:" + kSha256, P::Invalid, "must be written in lowercase \"sha256\""},
      {F::OciDigest, "blake3:" + kSha256, P::Digest, "content digest"},
      {F::OciDigest, "blake3:abcd", P::Invalid, "at least 32"},
      {F::OciDigest, "", P::Empty, "selects nothing"},
  };
}

class VersionPinTableTest : public testing::TestWithParam<Case> {};

TEST_P(VersionPinTableTest, ClassifiesAndExplains) {
  const Case& c = GetParam();
  const VersionPinResult result = classify_version(c.field, c.value);
  EXPECT_EQ(result.pin, c.pin) << result.reason;
  EXPECT_NE(result.reason.find(c.reason), std::string::npos)
      << "reason: " << result.reason << "\nwanted: " << c.reason;
}

INSTANTIATE_TEST_SUITE_P(Table, VersionPinTableTest, testing::ValuesIn(cases()));

// argoproj/argo-cd util/versions/tags_test.go (37ee009), TestTags_MaxVersion and
// TestTags_IsConstraint: which targetRevisions Argo CD returns as written (a pin of that exact
// tag, even when no such tag exists: "Exact missing") and which it resolves as a constraint over
// the tags. The same values are read by Argo CD's git client (lsRemote) and OCI client
// (resolveRevision), so both fields must agree with upstream.
TEST(VersionPinTest, ArgoCdTagsTestPinsAndConstraints) {
  // MaxVersion returns these unchanged, IsConstraint is false.
  for (const char* pin : {"0.5.3", "2024.03-LTS-RC19", "99.99", "v1.0.0", "v1.0", "1.0"}) {
    for (const VersionField field : {F::GitRevision, F::OciRevision}) {
      const VersionPinResult result = classify_version(field, pin);
      EXPECT_EQ(result.pin, P::Exact) << version_field_name(field) << " " << pin;
      EXPECT_EQ(result.reason, "\"" + std::string(pin) + "\" is an exact version tag");
    }
  }
  // IsConstraint is true: MaxVersion picks the highest matching tag, so these follow new tags.
  // (TestTags_MaxVersion "Constraint" and TestMaxVersion_WithTagPrefix.)
  for (const char* floating :
       {"> 0.5.3", "> 0.0.0", ">0.5.0,<0.7.0", "0.7.*", "*", "v1.0.*", "v1.*", "v1.x.x", "v1.0.x",
        "> v1.0.0", ">= v1.0.0 < v1.1.0", "*-0", "v3.*"}) {
    for (const VersionField field : {F::GitRevision, F::OciRevision}) {
      const VersionPinResult result = classify_version(field, floating);
      EXPECT_TRUE(result.pin == P::Range || result.pin == P::Wildcard)
          << version_field_name(field) << " " << floating << ": " << result.reason;
      EXPECT_EQ(result.reason.rfind("\"" + std::string(floating) + "\" is a ", 0), 0u)
          << result.reason;
    }
  }
  // "= 0.5.3" is a constraint too (TestTags_IsConstraint "EqualConstraint"), but one that only
  // a tag equal to 0.5.3 satisfies.
  EXPECT_EQ(classify_version(F::GitRevision, "= 0.5.3").pin, P::Exact);
  // Not a version and not a constraint: matched by name among the refs ("main" in
  // TestMaxVersion_WithTagPrefix), so a branch or a tag.
  EXPECT_EQ(classify_version(F::GitRevision, "main").pin, P::Branch);
}

// The same values in Helm's grammar: `helm pull --version` and Flux's chart lookup pass a value
// that names no existing chart version to semver.NewConstraint (helm/helm pkg/registry
// GetTagMatchingVersionOrConstraint, pkg/repo IndexFile.Get; fluxcd/source-controller
// internal/helm/repository getLastMatchingVersionOrConstraint), where a partial version is a
// range. Argo CD's own tracking_strategies.md: "Pin to a version ... 1.2.0" for Helm.
TEST(VersionPinTest, HelmReadsPartialVersionsAsRanges) {
  for (const char* partial : {"99.99", "v1.0", "1.0", "1", "2024.03-LTS-RC19"}) {
    EXPECT_EQ(classify_version(F::HelmChartVersion, partial).pin, P::Range) << partial;
    EXPECT_EQ(classify_version(F::OciSemver, partial).pin, P::Range) << partial;
  }
  for (const char* full : {"0.5.3", "v1.0.0", "1.2.0"}) {
    EXPECT_EQ(classify_version(F::HelmChartVersion, full).pin, P::Exact) << full;
  }
}

// fluxcd/source-controller internal/helm/repository chart_repository_test.go
// (TestChartRepository_GetChartVersion) and oci_chart_repository_test.go
// (TestOCIChartRepository_Get): the chart versions a HelmRelease or HelmChart names, and whether
// Flux resolves them to one version or to the newest of several.
TEST(VersionPinTest, FluxChartVersionTables) {
  struct FluxCase {
    const char* version;
    VersionPin pin;
  };
  const FluxCase cases[] = {
      {"0.0.1", P::Exact},     // "exact match"
      {"0.1.0", P::Exact},     // "should return a perfect match"
      {"", P::Empty},          // "stable version": the latest, 1.0.0
      {"*", P::Wildcard},      // "stable version (asterisk)"
      {"<1.0.0", P::Range},    // "semver range": 0.2.0
      {">2.0.0", P::Range},    // "unfulfilled range"
      {">=0.1.5", P::Range},   // "should return latest stable version (semver range)"
      {"0.2.x", P::Wildcard},  // "should return 0.2.0 (semver range)"
      {"0.*", P::Wildcard},    // "should return 0.10.0"
  };
  for (const FluxCase& c : cases) {
    EXPECT_EQ(classify_version(F::HelmChartVersion, c.version).pin, c.pin) << c.version;
  }
}

// Masterminds/semver v3.4.0 (the version argo-cd's go.mod names) version_test.go,
// TestNewVersion "With loose NewVersion": whether NewVersion accepts each string. Accepted means
// an exact tag for Argo CD git and OCI sources. The two cases with a leading "\n" are left out:
// em-guard trims whitespace off every value before it classifies it.
TEST(VersionPinTest, MastermindsNewVersionDecidesGitPins) {
  struct NewVersionCase {
    const char* version;
    bool error;
  };
  const NewVersionCase cases[] = {
      {"1.2.3", false},
      {"1.2.3-alpha.01", true},
      {"1.2.3+test.01", false},
      {"1.2.3-alpha.-1", false},
      {"v1.2.3", false},
      {"1.0", false},
      {"v1.0", false},
      {"1", false},
      {"v1", false},
      {"1.2.beta", true},
      {"v1.2.beta", true},
      {"foo", true},
      {"1.2-5", false},
      {"v1.2-5", false},
      {"1.2-beta.5", false},
      {"v1.2-beta.5", false},
      {"1.2.0-x.Y.0+metadata", false},
      {"v1.2.0-x.Y.0+metadata", false},
      {"1.2.0-x.Y.0+metadata-width-hypen", false},
      {"v1.2.0-x.Y.0+metadata-width-hypen", false},
      {"1.2.3-rc1-with-hypen", false},
      {"v1.2.3-rc1-with-hypen", false},
      {"1.2.3.4", true},
      {"v1.2.3.4", true},
      {"1.2.2147483648", false},
      {"1.2147483648.3", false},
      {"2147483648.3.0", false},
      {"12.3.4.1234", true},
      {"12.23.4.1234", true},
      {"12.3.34.1234", true},
      {"20221209-update-renovatejson-v4", false},
      {"1.1.2+.123", true},
      {"1.0.0-alpha_beta", true},
      {"1.0.0-alpha..", true},
      {"1.0.0-alpha..1", true},
      {"9.8.7+meta+meta", true},
      {"1.2.31----RC-SNAPSHOT.12.09.1--.12+788", true},
      {"01.1.1", false},
      {"1.01.1", false},
      {"1.1.01", false},
  };
  for (const NewVersionCase& c : cases) {
    for (const VersionField field : {F::GitRevision, F::OciRevision}) {
      const VersionPinResult result = classify_version(field, c.version);
      const bool version_tag = result.reason.find("is an exact version tag") != std::string::npos;
      EXPECT_EQ(version_tag, !c.error)
          << version_field_name(field) << " " << c.version << ": " << result.reason;
      if (c.error) {
        // No version, and none of these is a constraint either: a branch or tag name (or, for
        // OCI, a plain tag), or an invalid ref.
        EXPECT_NE(result.pin, P::Range) << c.version;
      }
    }
  }
  // Beyond 64 bits NewVersion fails (strconv.ParseUint); so does the constraint parser.
  EXPECT_EQ(classify_version(F::GitRevision, "v18446744073709551616.0.0").pin, P::Branch);
  EXPECT_EQ(classify_version(F::GitRevision, "v18446744073709551615.0.0").pin, P::Exact);
}

// Values as they appear in real Argo CD Applications and Flux HelmReleases.
TEST(VersionPinTest, RealWorldArgoCdTargetRevisions) {
  // A Helm source: `chart: argo-cd`, `targetRevision: 7.7.3`.
  EXPECT_EQ(classify_version(F::HelmChartVersion, "7.7.3").pin, P::Exact);
  EXPECT_EQ(classify_version(F::GitRevision, "HEAD").pin, P::Branch);
  EXPECT_EQ(classify_version(F::GitRevision, "main").pin, P::Branch);
  EXPECT_EQ(classify_version(F::GitRevision, "3f4e0b1c9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f").pin,
            P::Exact);
  EXPECT_EQ(classify_version(F::GitRevision, "v2.13.1").pin, P::Exact);
}

TEST(VersionPinTest, RealWorldFluxHelmReleaseVersions) {
  const VersionPinResult bounded = classify_version(F::HelmChartVersion, ">=4.0.0 <5.0.0");
  EXPECT_EQ(bounded.pin, P::Range);
  EXPECT_EQ(bounded.reason,
            "\">=4.0.0 <5.0.0\" is a semver range (>=, <): it follows new releases within its "
            "bounds");
  const VersionPinResult major = classify_version(F::HelmChartVersion, "4.x");
  EXPECT_EQ(major.pin, P::Wildcard);
  EXPECT_EQ(major.reason, "\"4.x\" is a wildcard: it follows new minor and patch releases");
  EXPECT_EQ(classify_version(F::HelmChartVersion, "*").pin, P::Wildcard);
  EXPECT_EQ(classify_version(F::HelmChartVersion, "66.3.1").pin, P::Exact);
}

TEST(VersionPinTest, DesignListIsUnpinned) {
  // docs/architecture.md, Rules (pinned-chart-versions): HEAD, branches, *, >=1.2, ~1.2, ^1.2,
  // 1.x and empty are unpinned.
  EXPECT_FALSE(is_pinned(classify_version(F::GitRevision, "HEAD").pin));
  EXPECT_FALSE(is_pinned(classify_version(F::GitRevision, "main").pin));
  for (const char* value : {"*", ">=1.2", "~1.2", "^1.2", "1.x", ""}) {
    EXPECT_FALSE(is_pinned(classify_version(F::HelmChartVersion, value).pin)) << value;
    EXPECT_FALSE(is_pinned(classify_version(F::GitRevision, value).pin)) << value;
    EXPECT_FALSE(is_pinned(classify_version(F::OciSemver, value).pin)) << value;
  }
  EXPECT_TRUE(is_pinned(classify_version(F::HelmChartVersion, "1.2.3").pin));
  EXPECT_TRUE(is_pinned(classify_version(F::OciDigest, "sha256:" + kSha256).pin));
  EXPECT_FALSE(is_pinned(classify_version(F::HelmChartVersion, "abc").pin));
}

TEST(VersionPinTest, ReasonsStayPrintableAndBounded) {
  const std::string hostile = std::string("\x01\"quoted\"\x7f") + std::string(500, 'z');
  for (const VersionField field : {F::HelmChartVersion, F::GitRevision, F::OciRevision, F::OciTag,
                                   F::OciSemver, F::OciDigest}) {
    const VersionPinResult result = classify_version(field, hostile);
    EXPECT_EQ(result.pin, P::Invalid) << version_field_name(field);
    EXPECT_LT(result.reason.size(), 300u) << result.reason;
    for (const char c : result.reason) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << version_field_name(field) << ": " << result.reason;
    }
  }
}

TEST(VersionPinTest, NeverCrashesOnPrefixesOfTrickyInput) {
  // Every prefix of a few dense constraints parses or is reported, without reading past the end.
  for (const std::string& text : {std::string(">= 1.2.3-rc.1+b.2, <2 || 1.0 - 2.x || ~>v3.*-0"),
                                  std::string("refs/tags/v1.2.3"), std::string("sha256:" + kSha256),
                                  std::string("v2024.03-LTS-RC19+b.1@sha256:" + kSha256)}) {
    for (std::size_t n = 0; n <= text.size(); ++n) {
      for (const VersionField field : {F::HelmChartVersion, F::GitRevision, F::OciRevision,
                                       F::OciTag, F::OciSemver, F::OciDigest}) {
        const VersionPinResult result = classify_version(field, text.substr(0, n));
        EXPECT_FALSE(result.reason.empty());
      }
    }
  }
}

TEST(VersionPinTest, NamesEveryPin) {
  EXPECT_EQ(version_pin_name(P::Exact), "Exact");
  EXPECT_EQ(version_pin_name(P::Digest), "Digest");
  EXPECT_EQ(version_pin_name(P::Range), "Range");
  EXPECT_EQ(version_pin_name(P::Wildcard), "Wildcard");
  EXPECT_EQ(version_pin_name(P::Branch), "Branch");
  EXPECT_EQ(version_pin_name(P::Empty), "Empty");
  EXPECT_EQ(version_pin_name(P::Invalid), "Invalid");
}

}  // namespace
}  // namespace emguard
