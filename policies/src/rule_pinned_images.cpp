// pinned-images (DESIGN.md section 4): every container image of a pod-bearing object must name
// an exact tag or a digest. Reference parsing and the pinned/unpinned decision belong to
// image_ref.hpp; this file only finds the images and explains what is wrong with them.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "emguard/ascii.hpp"
#include "emguard/image_ref.hpp"
#include "emguard/k8s.hpp"
#include "emguard/text.hpp"
#include "json_access.hpp"
#include "rules.hpp"

namespace emguard::rules {
namespace {

using nlohmann::json;

struct ContainerList {
  std::string_view key;
  std::string_view label;  // how a message names a member of the list
};

// The three lists the kubelet starts containers from; the label tells the reader which one the
// finding is in, since names need not be unique across them.
constexpr std::array<ContainerList, 3> kContainerLists{{
    {"containers", "container"},
    {"initContainers", "init container"},
    {"ephemeralContainers", "ephemeral container"},
}};

constexpr std::string_view kDigestPlaceholder = "@sha256:<64 hex digits>";

// `container "app"`, or `container #2` when the entry has no usable name (the API server
// rejects that, but a render or CI check should still point at the right entry).
std::string container_label(std::string_view label, const json& container, std::size_t index) {
  const json* name = member(container, "name");
  if (name != nullptr && name->is_string() && !name->get_ref<const std::string&>().empty()) {
    return std::string(label) + " " + emguard::quoted(name->get_ref<const std::string&>());
  }
  return std::string(label) + " #" + std::to_string(index);
}

// How to fix an unpinned reference; `name` is the reference's own repository name, so the
// suggestion can be pasted after filling in the version.
std::string pin_suggestion(const std::string& name, bool require_digest) {
  if (require_digest) {
    return "The policy requires a digest (pinned-images requireDigest), so pin the digest of "
           "the image you tested, e.g. " +
           emguard::quoted(name + ":1.2.3" + std::string(kDigestPlaceholder)) + " or " +
           emguard::quoted(name + std::string(kDigestPlaceholder)) + ".";
  }
  return "Pin an exact version, e.g. " + emguard::quoted(name + ":1.2.3") + ", or a digest, e.g. " +
         emguard::quoted(name + std::string(kDigestPlaceholder)) + ".";
}

constexpr std::string_view kMovesWithoutChange =
    "the image that runs can change without any change to this manifest and a rollback may not "
    "restore the old code";

std::string check_image(const std::string& who, const std::string& image,
                        const PinnedImagesOptions& options) {
  const ImageParseResult parsed = parse_image_reference(image);
  const PinState state = pin_state(parsed, options.mutable_tags);
  const std::string shown = emguard::quoted(image);
  switch (state) {
    case PinState::Digest:
      return {};
    case PinState::Invalid: {
      const std::string error = parsed.ok() ? std::string("it names no repository") : parsed.error;
      return who + " has an invalid image reference " + shown + ": " + error +
             ". The runtime cannot pull it, and no one can tell which image was meant. Write "
             "[registry/]repository[:tag][@digest], e.g. " +
             emguard::quoted("registry.example.com/team/app:1.2.3") + ".";
    }
    case PinState::NoTag: {
      const ImageRef& ref = *parsed.ref;
      std::string text = who + " uses image " + shown + " with no tag";
      // "host:5000/repo" reads like a tag to many people; say why it is not one.
      if (const std::size_t colon = ref.domain.rfind(':');
          colon != std::string::npos && ref.domain.find(']', colon) == std::string::npos) {
        text += " (" + emguard::quoted(ref.domain.substr(colon + 1)) + " is the port of registry " +
                emguard::quoted(ref.domain) + ", not a tag)";
      }
      return text + ", so the runtime pulls \"latest\": " + std::string(kMovesWithoutChange) +
             ". " + pin_suggestion(ref.familiar_name(), options.require_digest);
    }
    case PinState::MutableTag: {
      const ImageRef& ref = *parsed.ref;
      std::string why = "the tag " + emguard::quoted(ref.tag) + " is mutable";
      // Say where the verdict comes from when it is the policy's list, not the universal
      // "latest", so the reader knows which setting to look at.
      if (!ascii::equals_ignoring_case(ref.tag, "latest")) {
        why += " (the policy lists it in pinned-images mutableTags)";
      }
      return who + " uses image " + shown + ": " + why + ", so " +
             std::string(kMovesWithoutChange) + ". " +
             pin_suggestion(ref.familiar_name(), options.require_digest);
    }
    case PinState::ExactTag: {
      if (!options.require_digest) return {};
      const ImageRef& ref = *parsed.ref;
      return who + " uses image " + shown + " with the tag " + emguard::quoted(ref.tag) +
             " but no digest: the policy requires a digest (pinned-images requireDigest), "
             "because a registry lets anyone with push access move a tag to different content. "
             "Add the digest of the image you tested, e.g. " +
             emguard::quoted(ref.familiar_name() + ":" + ref.tag +
                             std::string(kDigestPlaceholder)) +
             " or " + emguard::quoted(ref.familiar_name() + std::string(kDigestPlaceholder)) + ".";
    }
  }
  return {};
}

void check_container(const json& container, const std::string& path, const std::string& who,
                     const PinnedImagesOptions& options, std::vector<Finding>& findings) {
  const std::string image_path = field_path(path, "image");
  const json* image = member(container, "image");
  if (image == nullptr || (image->is_string() && image->get_ref<const std::string&>().empty())) {
    // A template may leave the image to a later tool; either way, this manifest does not pin
    // what runs, and a Pod without one is rejected by the API server.
    findings.push_back(
        {image_path,
         who +
             " has no image: this manifest does not say which image runs, so nothing pins it. "
             "Set image to an exact version or a digest, e.g. " +
             emguard::quoted("registry.example.com/team/app:1.2.3") + ".",
         {}});
    return;
  }
  if (!image->is_string()) {
    findings.push_back({image_path,
                        who + " has an image that is not a string but " + a_type_name(*image) +
                            ": no runtime can pull it. Write the image reference as a string, "
                            "e.g. image: " +
                            emguard::quoted("registry.example.com/team/app:1.2.3") + ".",
                        {}});
    return;
  }
  const std::string& text = image->get_ref<const std::string&>();
  std::string message = check_image(who, text, options);
  if (!message.empty()) findings.push_back({image_path, std::move(message), text});
}

}  // namespace

bool pinned_images_reads(std::string_view kind) { return is_pod_bearing_kind(kind); }

std::vector<Finding> check_pinned_images(const RuleInput& input) {
  std::vector<Finding> findings;
  const json* kind = member(input.object, "kind");
  if (kind == nullptr || !kind->is_string()) return findings;
  const std::string_view spec_path = pod_spec_path(kind->get_ref<const std::string&>());
  if (spec_path.empty()) return findings;  // not a pod-bearing kind
  // The dotted pod spec path is also its printed field path: every step is an identifier.
  const std::string path(spec_path);
  const json* spec = walk(input.object, spec_path);
  // No pod spec (a partial manifest, or an object the API server would reject): nothing runs
  // from it, and schema validation is not this rule's job.
  if (spec == nullptr || !spec->is_object()) return findings;

  const PinnedImagesOptions& options = input.policy.pinned_images();
  for (const ContainerList& list : kContainerLists) {
    const json* containers = member(*spec, list.key);
    // A list that is not a list (or entries that are not objects) is a schema error the API
    // server reports; there is no image to judge in it.
    if (containers == nullptr || !containers->is_array()) continue;
    const std::string list_path = field_path(path, list.key);
    for (std::size_t i = 0; i < containers->size(); ++i) {
      const json& container = (*containers)[i];
      if (!container.is_object()) continue;
      check_container(container, field_path(list_path, i),
                      container_label(list.label, container, i), options, findings);
    }
  }
  return findings;
}

}  // namespace emguard::rules
