#include "policies/references/version_pin.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "policies/common/ascii.hpp"
#include "policies/common/quoting.hpp"
#include "policies/references/image_ref.hpp"
#include "policies/references/version_pin_semver.hpp"

// How each tool reads a version field; the semver grammar itself (Masterminds/semver) is in
// version_pin_semver.cpp.
// A single version is told from a constraint as Argo CD tells it (argoproj/argo-cd
// util/versions/tags.go, MaxVersion and IsConstraint): a value that semver.NewVersion accepts is
// "just a pin" of the tag of exactly that name, before any constraint parsing. NewVersion is
// loose (v3.4.0 version.go, coerceNewVersion, the default): an optional 'v', one to three
// numbers (leading zeros allowed: "2024.03"), an optional "-prerelease" and "+metadata". So
// "1.0", "v1" and "2024.03-LTS-RC19" are exact tags for a git or OCI source, while Helm
// (`helm pull --version`, pkg/registry GetTagMatchingVersionOrConstraint and repo IndexFile.Get)
// and Flux (source-controller internal/helm/repository, getLastMatchingVersionOrConstraint) pass
// the same "1.0" to NewConstraint, where it is the range 1.0.x.
// Argo CD's git client (util/git/client.go lsRemote) takes 40 hex characters as a commit SHA,
// then runs MaxVersion (a version stays as written; a constraint picks the highest matching
// tag), then matches ref names (HEAD, refs/heads/..., refs/tags/..., or a short branch or tag
// name), and finally takes 7 or more hex characters as a truncated commit SHA. Empty means HEAD.
// Its OCI client (util/oci/client.go resolveRevision) resolves the value as a tag or digest
// first and reads it as a constraint only when that fails and IsConstraint says it is one.

namespace emguard {
namespace {

using semver::all_of;
using semver::classify_semver;
using semver::is_semver_version;
using semver::trim_c_space;

constexpr std::size_t kMaxOciTagLength = 128;
constexpr std::size_t kFullShaLength = 40;
constexpr std::size_t kMinShortShaLength = 7;

// ---------------------------------------------------------------------------------------------
// Git revisions.

// A subset of `git check-ref-format`: the characters and sequences git refuses in ref names.
std::optional<std::string> git_ref_error(std::string_view ref) {
  for (const char c : ref) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' ||
        c == '*' || c == '[' || c == '\\') {
      return "it contains " + quoted_char(c);
    }
  }
  if (ref.find("..") != std::string_view::npos) return std::string("it contains \"..\"");
  if (ref.find("@{") != std::string_view::npos) return std::string("it contains \"@{\"");
  if (ref.find("//") != std::string_view::npos) return std::string("it contains \"//\"");
  if (ref == "@") return std::string("\"@\" alone is not a ref name");
  if (ref.front() == '/' || ref.back() == '/') {
    return std::string("it starts or ends with '/'");
  }
  if (ref.back() == '.') return std::string("it ends with '.'");
  std::size_t start = 0;
  while (start <= ref.size()) {
    const std::size_t slash = ref.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? ref.size() : slash;
    const std::string_view component = ref.substr(start, end - start);
    if (!component.empty() && component.front() == '.') {
      return "component " + quoted(component) + " starts with '.'";
    }
    if (component.size() >= 5 && component.substr(component.size() - 5) == ".lock") {
      return "component " + quoted(component) + " ends with \".lock\"";
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return std::nullopt;
}

constexpr std::string_view kRefsPrefix = "refs/";
constexpr std::string_view kHeadsPrefix = "refs/heads/";
constexpr std::string_view kTagsPrefix = "refs/tags/";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// A value of Argo CD's git or OCI client that NewVersion accepts: one tag, named as written.
VersionPinResult exact_version_tag(const std::string& shown) {
  return {VersionPin::Exact, shown + " is an exact version tag"};
}

VersionPinResult classify_git_revision(std::string_view value) {
  const std::string shown = quoted(value);
  if (value.empty()) {
    return {VersionPin::Empty, "an empty targetRevision means HEAD: it follows the latest commit"};
  }
  if (all_of(value, ascii::is_hex) && value.size() >= kMinShortShaLength &&
      value.size() <= kFullShaLength) {
    if (value.size() == kFullShaLength) return {VersionPin::Exact, shown + " is a commit SHA"};
    return {VersionPin::Exact, shown + " is a short commit SHA"};
  }
  if (is_semver_version(value)) return exact_version_tag(shown);
  if (std::optional<VersionPinResult> result = semver::classify_constraint(value, shown)) {
    // "=1.2.3" picks the one tag equal to 1.2.3 (v1.2.3 or 1.2.3).
    if (result->pin == VersionPin::Exact) result->reason = shown + " names one exact version tag";
    return *result;
  }
  if (value == "HEAD") return {VersionPin::Branch, shown + " follows the latest commit"};
  if (auto error = git_ref_error(value)) {
    return {
        VersionPin::Invalid,
        shown + " is neither a version, a semver constraint nor a valid git ref name: " + *error};
  }
  if (starts_with(value, kHeadsPrefix)) {
    return {VersionPin::Branch, shown + " is a branch: it follows new commits"};
  }
  if (starts_with(value, kTagsPrefix) && value.size() > kTagsPrefix.size()) {
    return {VersionPin::Exact, shown + " is a tag"};
  }
  if (starts_with(value, kRefsPrefix)) {
    return {VersionPin::Branch,
            shown +
                " is a ref that is neither a branch nor a tag (such as a pull request "
                "head): it moves to new commits"};
  }
  return {VersionPin::Branch, shown +
                                  " is a branch name, or a tag whose name is not a version: a "
                                  "branch follows new commits"};
}

// ---------------------------------------------------------------------------------------------
// OCI references.

VersionPinResult classify_oci_digest(std::string_view value) {
  const std::string shown = quoted(value);
  if (value.empty()) {
    return {VersionPin::Empty,
            "an empty digest selects nothing: Flux falls back to semver, tag or \"latest\""};
  }
  // One digest grammar for images and OCI sources: the image reference parser's.
  if (const std::string error = digest_error(value); !error.empty()) {
    return {VersionPin::Invalid, shown + " is not a valid digest: " + error};
  }
  return {VersionPin::Digest, shown + " is a content digest"};
}

// Why a non-empty `tag` breaks tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, if it does.
std::optional<std::string> oci_tag_error(std::string_view tag) {
  if (tag.size() > kMaxOciTagLength) {
    return "it is longer than " + std::to_string(kMaxOciTagLength) + " characters";
  }
  for (std::size_t i = 0; i < tag.size(); ++i) {
    const char c = tag[i];
    const bool word = ascii::is_alnum(c) || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-'))) {
      return quoted_char(c) + (i == 0 ? " cannot start a tag" : " is not allowed in a tag");
    }
  }
  return std::nullopt;
}

VersionPinResult classify_oci_tag(std::string_view value) {
  const std::string shown = quoted(value);
  if (value.empty()) return {VersionPin::Empty, "an empty tag means \"latest\""};
  if (auto error = oci_tag_error(value)) {
    return {VersionPin::Invalid, shown + " is not a valid tag: " + *error};
  }
  if (ascii::equals_ignoring_case(value, "latest")) {
    return {VersionPin::Branch, shown + " is moved to every new push"};
  }
  return {VersionPin::Exact, shown + " is a fixed tag"};
}

// Argo CD OCI source (Argo CD 3.1+, docs/user-guide/oci.md: "the desired image tag or digest").
// oras resolves "tag@digest" by its digest. A value NewVersion accepts is one tag (IsConstraint
// is false), a constraint is resolved over the tags, and anything else is a plain tag, so
// "latest" is reported as moving rather than as "not a valid constraint".
VersionPinResult classify_oci_revision(std::string_view value) {
  if (value.empty()) return {VersionPin::Empty, "an empty targetRevision names no tag or digest"};
  if (const std::size_t at = value.find('@'); at != std::string_view::npos) {
    return classify_oci_digest(value.substr(at + 1));
  }
  if (value.find(':') != std::string_view::npos) return classify_oci_digest(value);
  if (is_semver_version(value)) return exact_version_tag(quoted(value));
  if (std::optional<VersionPinResult> result = semver::classify_constraint(value, quoted(value))) {
    if (result->pin == VersionPin::Exact) {
      result->reason = quoted(value) + " names one exact version tag";
    }
    return *result;
  }
  if (auto error = oci_tag_error(value)) {
    return {
        VersionPin::Invalid,
        quoted(value) + " is neither a version, a semver constraint nor a valid tag: " + *error};
  }
  return classify_oci_tag(value);
}

}  // namespace

VersionPinResult classify_version(VersionField field, std::string_view value) {
  value = trim_c_space(value);
  switch (field) {
    case VersionField::HelmChartVersion:
      if (value.empty()) {
        return {VersionPin::Empty, "an empty chart version selects the latest chart version"};
      }
      return classify_semver(value, "chart version or semver constraint");
    case VersionField::GitRevision:
      return classify_git_revision(value);
    case VersionField::OciRevision:
      return classify_oci_revision(value);
    case VersionField::OciTag:
      return classify_oci_tag(value);
    case VersionField::OciSemver:
      if (value.empty()) {
        return {VersionPin::Empty,
                "an empty semver constraint selects nothing: Flux falls back to the tag or "
                "\"latest\""};
      }
      return classify_semver(value, "semver constraint");
    case VersionField::OciDigest:
      return classify_oci_digest(value);
  }
  return {VersionPin::Invalid, "unknown version field"};
}

std::string_view version_pin_name(VersionPin pin) {
  switch (pin) {
    case VersionPin::Exact:
      return "Exact";
    case VersionPin::Digest:
      return "Digest";
    case VersionPin::Range:
      return "Range";
    case VersionPin::Wildcard:
      return "Wildcard";
    case VersionPin::Branch:
      return "Branch";
    case VersionPin::Empty:
      return "Empty";
    case VersionPin::Invalid:
      return "Invalid";
  }
  return "Unknown";
}

std::string_view version_field_name(VersionField field) {
  switch (field) {
    case VersionField::HelmChartVersion:
      return "HelmChartVersion";
    case VersionField::GitRevision:
      return "GitRevision";
    case VersionField::OciRevision:
      return "OciRevision";
    case VersionField::OciTag:
      return "OciTag";
    case VersionField::OciSemver:
      return "OciSemver";
    case VersionField::OciDigest:
      return "OciDigest";
  }
  return "Unknown";
}

}  // namespace emguard
