// Classifies the version and revision strings GitOps sources name (Argo CD targetRevision, Flux
// HelmRelease chart versions, Flux OCIRepository refs) as pinned or floating, for the
// `pinned-chart-versions` rule. A hand-written scanner; no regular expressions, no I/O.
#pragma once

#include <string>
#include <string_view>

namespace emguard {

enum class VersionPin {
  Exact,     // one exact version, tag or commit SHA
  Digest,    // a content digest ("sha256:...")
  Range,     // a semver range: an operator other than a lone '=', a partial version ("1.2"),
             // a hyphen range, several constraints, or '||' alternatives
  Wildcard,  // a bare wildcard version: "*", "x", "1.x", "1.2.*", "=1.X"
  Branch,    // a reference that moves by itself: HEAD, a branch, the OCI tag "latest"
  Empty,     // empty or all-whitespace; the tool then picks the latest (or HEAD)
  Invalid,   // not valid text for the field; the reason says what is wrong
};

// Which field the value came from; each has its own grammar.
enum class VersionField {
  // Flux HelmRelease spec.chart.spec.version, or Argo CD targetRevision of a Helm repository
  // source (`chart` set, repoURL not oci://): a semver version or a Masterminds/semver
  // constraint. The value ends in `helm pull --version`, so a partial version ("1.2") is a range.
  HelmChartVersion,
  // Argo CD targetRevision of a git source (also the source hydrator's drySource): a commit SHA;
  // a value that parses as a version ("v1.0", "1.0", "2024.03-LTS-RC19"), which names exactly
  // the tag of that name; a semver constraint over tags; HEAD, a branch or a tag ref.
  GitRevision,
  // Argo CD targetRevision of an OCI source (repoURL oci://): a digest, "tag@digest", a version
  // (an exact tag, as for git), a semver constraint over tags, or any other tag.
  OciRevision,
  // Flux OCIRepository spec.ref.tag, spec.ref.semver and spec.ref.digest.
  OciTag,
  OciSemver,
  OciDigest,
};

struct VersionPinResult {
  VersionPin pin;
  // One phrase that starts with the (trimmed, quoted) value and says why it floats, why it is
  // pinned, or what is wrong, e.g. "\"^1.2\" is a semver range (caret): it follows new minor
  // releases" or "\"HEAD\" follows the latest commit".
  std::string reason;
};

// Leading and trailing whitespace is ignored. Never throws for bad input; see Invalid.
VersionPinResult classify_version(VersionField field, std::string_view value);

// Exact and Digest name one artifact; every other class floats or is unusable.
inline bool is_pinned(VersionPin pin) {
  return pin == VersionPin::Exact || pin == VersionPin::Digest;
}

// "Exact", "Digest", ...: for messages and test output.
std::string_view version_pin_name(VersionPin pin);
std::string_view version_field_name(VersionField field);

}  // namespace emguard
