// Container image references ("registry.example.com:5000/team/app:2.0@sha256:...") parsed by a
// hand-written scanner that follows the grammar of github.com/distribution/reference.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emguard {

// One reference, split into its parts exactly as written: no Docker Hub normalization, so
// "nginx" keeps an empty domain and a path of "nginx" rather than "docker.io/library/nginx".
struct ImageRef {
  std::string domain;  // "registry.example.com:5000", "localhost", "[::1]:5000"; "" when none
  std::string path;    // repository path without the domain, e.g. "team/app"
  std::string tag;     // "" when none
  std::string digest;  // "algorithm:hex", e.g. "sha256:0123..."; "" when none

  bool has_tag() const { return !tag.empty(); }
  bool has_digest() const { return !digest.empty(); }
  // "domain/path", or just "path" when no domain was given.
  std::string familiar_name() const;
};

// Either a reference or, for invalid input, a message naming the part at fault, e.g.
// `tag "v1$" has an invalid character '$'`. The message does not repeat the whole input, so
// callers can prefix it with where the image was found.
struct ImageParseResult {
  std::optional<ImageRef> ref;
  std::string error;  // empty when ref is set

  bool ok() const { return ref.has_value(); }
};

// Parses `name[:tag][@digest]`. A leading path component is taken as the registry domain only
// when it contains '.' or ':' or is exactly "localhost", so "host:5000/repo" has a port and no
// tag while "team/app" has no domain. sha256 / sha384 / sha512 digests must have exactly 64 / 96
// / 128 lowercase hex characters; other well-formed algorithms need at least 32 hex characters.
ImageParseResult parse_image_reference(std::string_view text);

// What is wrong with a content digest ("sha256:<64 hex>"), or "" when it is valid. sha256,
// sha384 and sha512 need their exact lengths in lowercase hex; other algorithms at least 32.
std::string digest_error(std::string_view digest);

// How firmly a reference pins the image that will run.
enum class PinState {
  Digest,      // has a digest (with or without a tag): content-addressed
  ExactTag,    // has a tag that is not known to move
  MutableTag,  // "latest" or one of the caller's mutable tag names
  NoTag,       // neither tag nor digest: the runtime pulls "latest"
  Invalid,     // not a usable reference (failed parse, or an ImageRef without a path)
};

// `latest` is always mutable; `mutable_tags` adds more names (e.g. "main", "stable", "edge").
// Tag names compare case-insensitively, so "Latest" is as mutable as "latest".
PinState pin_state(const ImageRef& ref, const std::vector<std::string>& mutable_tags = {});
PinState pin_state(const ImageParseResult& result,
                   const std::vector<std::string>& mutable_tags = {});

// "Digest", "ExactTag", ...: for messages and test output.
std::string_view pin_state_name(PinState state);

}  // namespace emguard
