// pinned-images (docs/architecture.md, Rules): every container image of a pod-bearing object must
// name an exact tag or a digest. Reference parsing and the pinned/unpinned decision belong to
// image_ref.hpp; this file only finds the images and explains what is wrong with them.
#include <algorithm>
#include <array>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/common/ascii.hpp"
#include "policies/common/quoting.hpp"
#include "policies/manifests/json_access.hpp"
#include "policies/manifests/pod_spec.hpp"
#include "policies/references/image_ref.hpp"
#include "policies/rules/rule.hpp"

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

// What a reference sits in: a container's `image` or an image volume's `reference`.
struct ReferenceField {
  std::string_view key;      // "image", "reference"
  std::string_view missing;  // the end of "... has no image: <missing>"
  std::string_view setting;  // the field to set, for the advice
};

constexpr ReferenceField kContainerImage{
    "image", "this manifest does not say which image runs, so nothing pins it", "image"};
// Kubernetes 1.31+ ImageVolume (k8s.io/api core/v1 ImageVolumeSource): "reference ... Behaves in
// the same way as pod.spec.containers[*].image", and like it is optional only so that a later
// tool can set it.
constexpr ReferenceField kVolumeReference{
    "reference", "this manifest does not say which image is mounted, so nothing pins it",
    "image.reference"};

// Where the references being checked come from, for what the messages may assume.
struct Scope {
  const PinnedImagesOptions& options;
  bool argo_workflow = false;  // `{{...}}` is an Argo Workflows expression there
  std::vector<Finding>& findings;
};

// Argo Workflows substitutes `{{inputs.parameters.image}}` (and expressions `{{=...}}`) when it
// runs the template: the caller of the workflow, not this manifest, chooses the image.
std::string argo_expression_message(const std::string& who, const std::string& image,
                                    const PinnedImagesOptions& options) {
  return who + " takes its image from the Argo Workflows expression " + emguard::quoted(image) +
         ", so whoever submits the workflow chooses the image and this manifest pins nothing. " +
         pin_suggestion("registry.example.com/team/app", options.require_digest) +
         " If callers must choose, give them a list of pinned references to pick from "
         "(enum) and exempt this template with a dated exception.";
}

void check_reference(const json& holder, const std::string& path, const std::string& who,
                     const ReferenceField& field, bool may_be_missing, const Scope& scope) {
  const std::string reference_path = field_path(path, field.key);
  const json* image = member(holder, field.key);
  if (image == nullptr || (image->is_string() && image->get_ref<const std::string&>().empty())) {
    if (may_be_missing) return;
    // A template may leave the image to a later tool; either way, this manifest does not pin
    // what runs, and a Pod without one is rejected by the API server.
    scope.findings.push_back(
        {reference_path,
         who + " has no " + std::string(field.key) + ": " + std::string(field.missing) + ". Set " +
             std::string(field.setting) + " to an exact version or a digest, e.g. " +
             emguard::quoted("registry.example.com/team/app:1.2.3") + ".",
         {}});
    return;
  }
  if (!image->is_string()) {
    scope.findings.push_back({reference_path,
                              who + " has " + (field.key == "image" ? "an image" : "a reference") +
                                  " that is not a string but " + a_type_name(*image) +
                                  ": no runtime can pull it. Write the image reference as a "
                                  "string, e.g. " +
                                  std::string(field.key) + ": " +
                                  emguard::quoted("registry.example.com/team/app:1.2.3") + ".",
                              {}});
    return;
  }
  const std::string& text = image->get_ref<const std::string&>();
  std::string message = scope.argo_workflow && text.find("{{") != std::string::npos
                            ? argo_expression_message(who, text, scope.options)
                            : check_image(who, text, scope.options);
  if (!message.empty()) scope.findings.push_back({reference_path, std::move(message), text});
}

// Calls `visit(entry, path, index)` for every object entry of the list at `key`. A list that is
// not a list (or entries that are not objects) is a schema error the API server reports; there
// is no image to judge in it.
template <typename Visit>
void for_each_entry(const json& parent, std::string_view key, const std::string& parent_path,
                    Visit&& visit) {
  const json* items = member(parent, key);
  if (items == nullptr || !items->is_array()) return;
  const std::string list_path = field_path(parent_path, key);
  for (std::size_t i = 0; i < items->size(); ++i) {
    const json& entry = (*items)[i];
    if (entry.is_object()) visit(entry, field_path(list_path, i), i);
  }
}

// Image volumes: `volumes[].image.reference`. Other volume types carry no image.
void check_image_volumes(const json& parent, const std::string& path, const std::string& prefix,
                         bool may_be_missing, const Scope& scope) {
  for_each_entry(parent, "volumes", path,
                 [&](const json& volume, const std::string& volume_path, std::size_t i) {
                   const json* image = object_member(volume, "image");
                   if (image == nullptr) return;
                   check_reference(*image, field_path(volume_path, "image"),
                                   prefix + container_label("image volume", volume, i),
                                   kVolumeReference, may_be_missing, scope);
                 });
}

void check_pod_spec(const json& spec, const std::string& path, const Scope& scope) {
  for (const ContainerList& list : kContainerLists) {
    for_each_entry(spec, list.key, path,
                   [&](const json& container, const std::string& container_path, std::size_t i) {
                     check_reference(container, container_path,
                                     container_label(list.label, container, i), kContainerImage,
                                     false, scope);
                   });
  }
  check_image_volumes(spec, path, "", false, scope);
}

// Argo Workflows (argoproj/argo-workflows pkg/apis/workflow/v1alpha1 workflow_types.go): a
// Template runs containers from `container` (a core Container), `script` (a Container plus
// source), `initContainers` and `sidecars` (UserContainer lists) and `containerSet.containers`
// (ContainerNode list), mounts `volumes`, and may hold further templates inline in
// `steps[][].inline` and `dag.tasks[].inline`. There are no ephemeral containers and no pod
// spec: the controller builds the pod.
struct ArgoTemplate {
  const json* value;
  std::string path;
  std::string label;  // `template "main"`, `inline template of step "a" in template "main"`
  std::string named;  // the label of the named template it is inline in (bounds nested labels)
};

// The image a template may leave out because `spec.templateDefaults` supplies it: the controller
// merges only the default of the template's own type (operator.go mergedTemplateDefaultsInto),
// and validation accepts an empty container.image or script.image only then (validate.go).
struct ArgoDefaults {
  bool container_image = false;
  bool script_image = false;
};

bool has_image(const json* container) {
  const json* image = container != nullptr ? member(*container, "image") : nullptr;
  return image != nullptr && image->is_string() && !image->get_ref<const std::string&>().empty();
}

// Checks one template's own containers and volumes; its inline templates go to `pending`, last
// first, so that taking from the back visits templates in document order.
void check_argo_template(const ArgoTemplate& tmpl, const ArgoDefaults& defaults, bool is_defaults,
                         std::vector<ArgoTemplate>& pending, const Scope& scope) {
  std::vector<ArgoTemplate> inline_templates;
  const json& value = *tmpl.value;
  const std::string& label = tmpl.label;
  if (const json* container = object_member(value, "container")) {
    check_reference(*container, field_path(tmpl.path, "container"), label + " container",
                    kContainerImage, is_defaults || defaults.container_image, scope);
  }
  if (const json* script = object_member(value, "script")) {
    check_reference(*script, field_path(tmpl.path, "script"), label + " script", kContainerImage,
                    is_defaults || defaults.script_image, scope);
  }
  const std::pair<std::string_view, std::string_view> lists[] = {
      {"initContainers", "init container"}, {"sidecars", "sidecar"}};
  for (const auto& list : lists) {
    // A named copy: C++20 lets lambdas capture structured bindings, clang 14 (the fuzz build)
    // does not yet.
    const std::string_view noun = list.second;
    for_each_entry(value, list.first, tmpl.path,
                   [&](const json& container, const std::string& path, std::size_t i) {
                     check_reference(container, path,
                                     label + " " + container_label(noun, container, i),
                                     kContainerImage, is_defaults, scope);
                   });
  }
  if (const json* set = object_member(value, "containerSet")) {
    for_each_entry(*set, "containers", field_path(tmpl.path, "containerSet"),
                   [&](const json& container, const std::string& path, std::size_t i) {
                     check_reference(
                         container, path,
                         label + " " + container_label("container set container", container, i),
                         kContainerImage, is_defaults, scope);
                   });
  }
  check_image_volumes(value, tmpl.path, label + " ", is_defaults, scope);

  // Inline templates (Argo Workflows 3.2+, examples/steps-inline-workflow.yaml and
  // dag-inline-workflow.yaml) run containers like named ones. Their label names the step and the
  // named template around them; the path says the rest, however deep they nest.
  if (const json* steps = member(value, "steps"); steps != nullptr && steps->is_array()) {
    const std::string steps_path = field_path(tmpl.path, "steps");
    for (std::size_t i = 0; i < steps->size(); ++i) {
      const json& group = (*steps)[i];
      if (!group.is_array()) continue;
      const std::string group_path = field_path(steps_path, i);
      for (std::size_t j = 0; j < group.size(); ++j) {
        const json* inline_template = object_member(group[j], "inline");
        if (inline_template == nullptr) continue;
        inline_templates.push_back(
            {inline_template, field_path(field_path(group_path, j), "inline"),
             "inline template of " + container_label("step", group[j], j) + " in " + tmpl.named,
             tmpl.named});
      }
    }
  }
  if (const json* dag = object_member(value, "dag")) {
    for_each_entry(
        *dag, "tasks", field_path(tmpl.path, "dag"),
        [&](const json& task, const std::string& path, std::size_t i) {
          const json* inline_template = object_member(task, "inline");
          if (inline_template == nullptr) return;
          inline_templates.push_back(
              {inline_template, field_path(path, "inline"),
               "inline template of " + container_label("task", task, i) + " in " + tmpl.named,
               tmpl.named});
        });
  }
  pending.insert(pending.end(), std::make_move_iterator(inline_templates.rbegin()),
                 std::make_move_iterator(inline_templates.rend()));
}

void check_workflow_spec(const json& spec, const std::string& path, const Scope& scope) {
  check_image_volumes(spec, path, "", false, scope);
  ArgoDefaults defaults;
  std::vector<ArgoTemplate> pending;
  if (const json* template_defaults = object_member(spec, "templateDefaults")) {
    defaults.container_image = has_image(object_member(*template_defaults, "container"));
    defaults.script_image = has_image(object_member(*template_defaults, "script"));
    // The defaults are merged into templates, so their images run too; what they leave out,
    // the templates give.
    check_argo_template({template_defaults, field_path(path, "templateDefaults"),
                         "templateDefaults", "templateDefaults"},
                        defaults, true, pending, scope);
  }
  std::vector<ArgoTemplate> templates;
  for_each_entry(spec, "templates", path,
                 [&](const json& value, const std::string& template_path, std::size_t i) {
                   std::string label = container_label("template", value, i);
                   templates.push_back({&value, template_path, label, label});
                 });
  pending.insert(pending.end(), std::make_move_iterator(templates.rbegin()),
                 std::make_move_iterator(templates.rend()));
  // A work list, not recursion: inline templates nest as deep as the input does.
  while (!pending.empty()) {
    const ArgoTemplate next = std::move(pending.back());
    pending.pop_back();
    check_argo_template(next, defaults, false, pending, scope);
  }
}

// OpenShift DeploymentConfig ImageChange triggers (openshift/api apps/v1
// DeploymentTriggerImageChangeParams): with `automatic: true` OpenShift writes the image an
// ImageStreamTag points at into the named containers, and rolls out again whenever the tag
// moves. What runs is then the stream tag's, whatever `image` says, so the tag must be pinned
// like an image's: `recreate-example:latest` moves; an ImageStreamImage (`name@sha256:...`)
// does not.
void check_image_change_triggers(const json& object, const Scope& scope) {
  const std::string group(api_group_of(string_member(object, "apiVersion")));
  if (string_member(object, "kind") != "DeploymentConfig" ||
      (group != "apps.openshift.io" && !group.empty())) {
    return;
  }
  const json* spec = object_member(object, "spec");
  if (spec == nullptr) return;
  for_each_entry(
      *spec, "triggers", "spec",
      [&](const json& trigger, const std::string& trigger_path, std::size_t i) {
        const json* params = object_member(trigger, "imageChangeParams");
        if (string_member(trigger, "type") != "ImageChange" || params == nullptr) return;
        const json* automatic = member(*params, "automatic");
        if (automatic == nullptr || !automatic->is_boolean() || !automatic->get<bool>()) return;
        const json* from = object_member(*params, "from");
        if (from == nullptr) return;
        const std::string from_kind = string_member(*from, "kind");
        const std::string name = string_member(*from, "name");
        if (from_kind == "ImageStreamImage" || from_kind == "DockerImage") {
          // ImageStreamImage names a digest. DockerImage is not a stream: OpenShift
          // resolves it once, like a container image.
          return;
        }
        const std::size_t colon = name.rfind(':');
        const std::string tag = colon == std::string::npos ? "" : name.substr(colon + 1);
        std::string containers;
        if (const json* names = member(*params, "containerNames");
            names != nullptr && names->is_array()) {
          for (const json& container : *names) {
            if (!container.is_string()) continue;
            containers +=
                (containers.empty() ? "" : ", ") + emguard::quoted(container.get<std::string>());
          }
        }
        const bool is_mutable =
            tag.empty() || ascii::equals_ignoring_case(tag, "latest") ||
            std::any_of(scope.options.mutable_tags.begin(), scope.options.mutable_tags.end(),
                        [&](const std::string& m) { return m == tag; });
        if (!is_mutable && !scope.options.require_digest) return;
        const std::string who =
            "ImageChange trigger #" + std::to_string(i) +
            (containers.empty() ? std::string() : " of container(s) " + containers);
        const std::string follows = who + " follows image stream tag " + emguard::quoted(name) +
                                    " automatically: OpenShift replaces the image of "
                                    "those containers whenever the tag moves";
        std::string message =
            is_mutable ? follows + ", and " +
                             (tag.empty() ? std::string("a tag-less name means \"latest\"")
                                          : "the tag " + emguard::quoted(tag) + " is mutable") +
                             ", so " + std::string(kMovesWithoutChange) +
                             ". Follow an exact tag (stream:1.2.3), an ImageStreamImage "
                             "(stream@sha256:...), or set automatic: false."
                       : follows +
                             ", and the policy requires a digest (pinned-images "
                             "requireDigest). Follow an ImageStreamImage (stream@sha256:...) "
                             "or set automatic: false.";
        scope.findings.push_back(
            {field_path(field_path(field_path(trigger_path, "imageChangeParams"), "from"), "name"),
             std::move(message), name});
      });
}

}  // namespace

bool pinned_images_reads(std::string_view api_version, std::string_view kind) {
  return may_carry_pod_specs(api_version, kind);
}

std::vector<Finding> check_pinned_images(const RuleInput& input) {
  std::vector<Finding> findings;
  const PinnedImagesOptions& options = input.policy.pinned_images();
  // No pod spec (a partial manifest, or an object the API server would reject): nothing runs
  // from it, and schema validation is not this rule's job.
  for (const PodSpecAt& pod : find_pod_specs(input.object, options.pod_spec_kinds)) {
    check_pod_spec(*pod.spec, pod.path, Scope{options, false, findings});
  }
  if (const auto workflow = argo_workflow_spec(input.object)) {
    check_workflow_spec(*workflow->spec, workflow->path, Scope{options, true, findings});
  }
  check_image_change_triggers(input.object, Scope{options, false, findings});
  return findings;
}

}  // namespace emguard::rules
