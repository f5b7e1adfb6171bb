#include "renderer/inject/render.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "policies/common/error.hpp"
#include "policies/common/join.hpp"
#include "policies/common/sha256.hpp"
#include "policies/manifests/pod_spec.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "renderer/inject/inject.hpp"

namespace emguard::render {
namespace {

// The only fields em-guard edits in a workload: the pod spec's initContainers and volumes
// (strip_injected, inject_waits). Comparing them before and after tells an unchanged workload
// (one that already had em-guard's containers) without converting the whole object twice.
nlohmann::json edited_lists(const YAML::Node& pod_spec) {
  nlohmann::json lists = nlohmann::json::object();
  for (const char* list : {"initContainers", "volumes"}) {
    // A const lookup: a missing key must not be inserted (it would fix the key order).
    const YAML::Node items = std::as_const(pod_spec)[list];
    if (items) lists[list] = to_json(items);
  }
  return lists;
}

// A matched workload parsed, checked, and with em-guard's earlier additions removed.
struct Workload {
  YAML::Node object;
  PodSpecLocation pod;
  nlohmann::json lists_before;  // edited_lists() as the input had them
};

// A matched workload, parsed once: the first pass checks it and takes its version key, the
// second injects into the same tree.
struct Target {
  const Document* document;
  const ServiceConfig* service;
  Workload workload;
  std::string version_key;  // migrating services only
};

// " (line 42)": where the field at `path` (or its nearest written ancestor) is in the stream, so
// an error points at the field rather than at the document's `---`. Read again only for the
// message: the documents the renderer edits are parsed without their lines.
std::string field_line(const Document& document, const std::string& path) {
  return " (line " +
         std::to_string(read_document(document).lines.line_of(path, document.first_line)) + ")";
}

Workload prepare_workload(YAML::Node object, const Document& document,
                          const ServiceConfig& service) {
  std::optional<PodSpecLocation> pod = find_pod_spec(object);
  if (!pod) {
    const std::string path(pod_spec_path(document.header.kind));
    throw InputError(document.location() + ": " + document.header.kind + " " +
                     document.header.name + " matches service \"" + service.name +
                     "\" but has no pod spec at " + path + field_line(document, path));
  }
  for (const char* list : {"initContainers", "volumes"}) {
    // em-guard prepends to and appends to these lists; anything else would be lost or crash.
    const YAML::Node items = std::as_const(pod->spec)[list];
    if (items && !items.IsNull() && !items.IsSequence()) {
      const std::string path = pod->path + "." + list;
      throw InputError(document.location() + ": " + document.header.kind + " " +
                       document.header.name + ": " + path + " must be a list" +
                       field_line(document, path));
    }
  }
  nlohmann::json lists_before = edited_lists(pod->spec);
  strip_injected(pod->spec);
  return {object, std::move(*pod), std::move(lists_before)};
}

std::string most_common(const std::map<std::string, int>& counts) {
  std::string best;
  int best_count = 0;
  for (const auto& [value, count] : counts) {
    if (count > best_count) {
      best = value;
      best_count = count;
    }
  }
  return best;
}

Release resolve_release(const std::vector<Document>& documents, const RenderConfig& config,
                        const RenderOptions& options) {
  std::map<std::string, int> names, namespaces;
  for (const Document& document : documents) {
    const DocumentHeader& header = document.header;
    if (header.annotations.count(std::string(kGeneratedAnnotation)) != 0) continue;
    for (const char* label : {"app.kubernetes.io/instance", "release"}) {
      if (const auto found = header.labels.find(label); found != header.labels.end()) {
        ++names[found->second];
        break;
      }
    }
    if (!header.namespace_.empty()) ++namespaces[header.namespace_];
  }
  Release release;
  release.name = options.release_name.value_or(!config.release_name.empty() ? config.release_name
                                                                            : most_common(names));
  release.namespace_ = options.release_namespace.value_or(
      !config.release_namespace.empty() ? config.release_namespace
      : !namespaces.empty()             ? most_common(namespaces)
                                        : options.helm_namespace);
  return release;
}

// The output, built in one buffer of the exact size: kept documents' bytes, rewritten ones,
// then em-guard's objects.
// For Helm 4 input (`helm4`) em-guard's objects carry their file name as Helm's
// postrender-filename annotation, put there by the caller, and no `# Source:` comment: Helm
// writes its own from the annotation, and kyaml would keep ours as a second one.
// `pieces` (optional) gets where each piece starts in the output and the header it is known
// to have (that of its input document; none for em-guard's objects).
struct Piece {
  std::size_t offset = 0;
  std::size_t size = 0;
  const DocumentHeader* header = nullptr;
};

std::string assemble(const std::vector<Document>& documents, const std::vector<bool>& drop,
                     const std::map<std::size_t, std::string>& rewritten,
                     const std::vector<GeneratedObject>& generated, bool helm4,
                     std::vector<Piece>* pieces = nullptr) {
  std::vector<std::string> appended;
  std::size_t size = 1;  // a newline may be needed before the first appended document
  for (const Document& document : documents) {
    if (drop[document.index]) continue;
    const auto found = rewritten.find(document.index);
    size += found != rewritten.end() ? found->second.size() : document.raw.size();
  }
  for (const GeneratedObject& object : generated) {
    appended.push_back((helm4 ? "---\n" : "---\n# Source: " + object.source + "\n") +
                       emit_yaml(object.object));
    size += appended.back().size();
  }
  std::string output;
  output.reserve(size);
  for (const Document& document : documents) {
    if (drop[document.index]) continue;
    const auto found = rewritten.find(document.index);
    const std::string_view text =
        found != rewritten.end() ? std::string_view(found->second) : document.raw;
    if (pieces != nullptr) pieces->push_back({output.size(), text.size(), &document.header});
    output += text;
  }
  for (const std::string& text : appended) {
    if (!output.empty() && output.back() != '\n') output += '\n';
    if (pieces != nullptr) pieces->push_back({output.size(), text.size(), nullptr});
    output += text;
  }
  return output;
}

// --validate's objects: the output split as load_manifests would split it (the split is what
// decides the documents), each document whose bytes are exactly one kept or rewritten input
// document taking that document's header instead of reading it again; em-guard's own objects
// and anything else have theirs read.
std::vector<ManifestObject> output_objects(const std::string& output,
                                           const std::vector<Piece>& pieces, const Policy& policy) {
  if (looks_like_json(output)) {
    return load_manifests(output, "rendered output", ReadDepth::WhatRulesRead, &policy);
  }
  std::vector<Document> documents = split_documents(output);
  std::size_t next = 0;
  for (Document& document : documents) {
    if (!document.has_content) continue;
    const std::size_t offset = static_cast<std::size_t>(document.raw.data() - output.data());
    while (next < pieces.size() && pieces[next].offset < offset) ++next;
    const bool known = next < pieces.size() && pieces[next].offset == offset &&
                       pieces[next].size == document.raw.size() && pieces[next].header != nullptr;
    if (known) {
      document.header = *pieces[next].header;
    } else {
      read_header(document);
    }
  }
  return load_documents(documents, "rendered output", ReadDepth::WhatRulesRead, &policy);
}

std::string service_account_of(const YAML::Node& pod_spec) {
  for (const char* key : {"serviceAccountName", "serviceAccount"}) {
    if (pod_spec[key] && pod_spec[key].IsScalar() && !pod_spec[key].Scalar().empty()) {
      return pod_spec[key].Scalar();
    }
  }
  return "default";
}

// The version key of a migrating workload: what it will run, without em-guard's own additions.
// An unchanged workload keeps its key (and, in gated mode, the backup verified for it), and a
// second render of em-guard's output gives the same key. JSON with sorted keys makes it
// independent of layout.
std::string version_key(const Workload& workload) {
  nlohmann::json object = to_json(workload.object);
  std::string pointer = "/" + workload.pod.path;
  std::replace(pointer.begin(), pointer.end(), '.', '/');
  nlohmann::json& spec = object[nlohmann::json::json_pointer(pointer)];
  for (const char* list : {"initContainers", "volumes"}) {
    if (spec.contains(list) && spec[list].empty()) spec.erase(list);
  }
  Sha256 hash;
  hash.update(object.dump());
  return hash.hex().substr(0, 16);
}

bool is_helm4_input(const std::vector<Document>& documents) {
  return std::any_of(documents.begin(), documents.end(),
                     [](const Document& d) { return !d.helm4_filename().empty(); });
}

// Helm waits for hooks only up to `--timeout` (default 5m0s, helm/helm pkg/cmd/upgrade.go),
// while the backup Job may run until its activeDeadlineSeconds: the `--timeout` that covers the
// whole deadline, plus a margin for the pod's scheduling and the image pulls, in minutes.
std::string helm_timeout_note(const BackupConfig& backup) {
  constexpr long long kMarginSeconds = 300;
  const long long deadline = backup.active_deadline_seconds;
  const long long minutes = (deadline + kMarginSeconds + 59) / 60;
  return "; Helm waits for hooks only up to --timeout (default 5m0s) and this backup may run up "
         "to its activeDeadlineSeconds (" +
         std::to_string(deadline) + "s): pass --timeout " + std::to_string(minutes) +
         "m to helm upgrade, or a slow backup fails the upgrade (before anything changed)";
}

BackupPlan plan_backup(const RenderConfig& config, const RenderOptions& options,
                       const std::vector<Document>& documents, bool helm4) {
  BackupPlan plan;
  plan.enabled = config.backup.enabled;
  bool hooks = false;
  for (const Document& document : documents) {
    if (document.header.annotations.count("helm.sh/hook") != 0 &&
        document.header.annotations.count(std::string(kGeneratedAnnotation)) == 0) {
      hooks = true;
    }
  }
  const BackupMode asked = options.backup_mode.value_or(config.backup.mode);
  if (asked != BackupMode::Auto) {
    plan.mode = asked;
    plan.mode_reason = options.backup_mode ? "set by --backup-mode" : "set by backup.mode";
    plan.mode_short_reason = plan.mode_reason;
    if (asked == BackupMode::Hook && options.argocd && !helm4) {
      plan.mode_reason +=
          "; note: Argo CD runs this hook as PreSync on every sync, the first one included, so "
          "PostgreSQL, Redis and the backup PVC must exist before the application's first sync";
    } else if (asked == BackupMode::Hook && !helm4) {
      plan.mode_reason +=
          "; WARNING: nothing in the input shows Helm 4 or Argo CD. Helm 3 applies hooks added by "
          "a post-renderer as plain resources, so there the backup would NOT run before the "
          "migrations: use --backup-mode=gated with Helm 3";
    }
  } else if (helm4) {
    plan.mode = BackupMode::Hook;
    plan.mode_reason =
        "detected Helm 4 (postrender-filename annotations): Helm 4 post-renders hooks with the "
        "templates, so the pre-upgrade hook runs before the upgrade";
    plan.mode_short_reason = "Helm 4 detected";
  } else {
    // Gated is right wherever it is not known that a pre-upgrade hook runs first and only on
    // upgrades: it holds the migrating services back, whoever applies the manifests.
    plan.mode = BackupMode::Gated;
    if (options.argocd) {
      plan.mode_short_reason = "Argo CD detected";
      plan.mode_reason =
          "detected Argo CD (ARGOCD_APP_NAME): Argo CD runs pre-upgrade hooks as PreSync on every "
          "sync, the first one included, before PostgreSQL and the backup volume exist; the "
          "migrating services wait for the backup Job instead (--backup-mode=hook to override)";
    } else if (hooks) {
      plan.mode_short_reason = "Helm hooks in the input, which kubectl apply would not run";
      plan.mode_reason =
          "the input contains Helm hooks (helm template), and what applies it may not run them "
          "(kubectl apply does not); the migrating services wait for the backup Job instead";
    } else {
      plan.mode_short_reason = "no Helm 4 annotations: assuming Helm 3";
      plan.mode_reason =
          "no Helm 4 annotations in the input: assuming Helm 3, which would apply a hook added "
          "here as a plain resource; the migrating services wait for the backup Job instead";
    }
  }
  if (plan.mode == BackupMode::Hook && helm4) {
    plan.mode_reason += helm_timeout_note(config.backup);
  }
  return plan;
}

// The summary annotation: em-guard's version, the backup mode and why, what was injected where
// and what the backup covers, on one line that `kubectl describe` shows whole. Names only (of
// Secrets too), never a value. `injected` maps a service to the init containers em-guard added.
std::string summary_text(const Context& context, const RenderOptions& options,
                         const std::map<std::string, std::vector<std::string>>& injected) {
  // Annotations may hold 256 KiB in all; this one stays far below, whatever the configuration.
  constexpr std::size_t kLimit = 1024;
  const BackupConfig& backup = context.config.backup;
  std::string text = "em-guard-render " +
                     (options.version.empty() ? std::string("(version unknown)") : options.version);
  if (!backup.enabled) {
    text += "; backup: off (backup.enabled: false)";
  } else if (!context.backup.enabled) {
    text += "; backup: none (gated mode and no migrating service)";
  } else {
    text += std::string("; backup: ") +
            (context.backup.mode == BackupMode::Hook ? "hook" : "gated") + " (" +
            context.backup.mode_short_reason + ")";
  }
  std::vector<std::string> services;
  for (const auto& entry : injected) {
    std::vector<std::string> short_names;
    for (const std::string& name : entry.second) {
      short_names.push_back(name.starts_with(kInjectedPrefix) ? name.substr(kInjectedPrefix.size())
                                                              : name);
    }
    services.push_back(entry.first + " (" + join(short_names, ", ") + ")");
  }
  text += "; injected: " + (services.empty() ? std::string("nothing") : join(services, ", "));
  if (context.backup.enabled) {
    std::vector<std::string> contents;
    if (backup.postgresql) {
      const bool every = backup.databases == std::vector<std::string>{"*"};
      contents.push_back("PostgreSQL (" +
                         (every ? std::string("every database") : join(backup.databases, ", ")) +
                         ")");
    }
    if (backup.redis) contents.push_back("Redis");
    if (!backup.secrets.empty()) contents.push_back("Secrets (" + join(backup.secrets, ", ") + ")");
    text += "; backs up: " + (contents.empty() ? std::string("nothing") : join(contents, ", "));
  }
  if (text.size() > kLimit) {
    const std::string_view cut = " ... (em-guard-render --explain lists everything)";
    std::size_t end = kLimit - cut.size();
    // Never split a UTF-8 sequence (configured names may hold any text).
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end) + std::string(cut);
  }
  return text;
}

}  // namespace

RenderResult render(std::string_view manifests, const RenderConfig& config,
                    const RenderOptions& options) {
  std::vector<Document> documents = split_documents(manifests);
  read_headers(documents);
  RenderResult result;
  Context context{config, resolve_release(documents, config, options), {}, {}, {}};

  // Two passes over the matched workloads: the first parses and checks them and hashes the
  // migrating ones (the gated Job's name, which the second pass writes into them), the second
  // injects into the same trees and writes them out. Only matched workloads are held (a few
  // pod templates); every other document stays the bytes it was.
  std::vector<Target> targets;
  std::vector<bool> drop(documents.size(), false);
  std::vector<GeneratedObject> backup;  // the backup Job and what it needs, once planned
  for (const Document& document : documents) {
    if (!document.has_content) continue;
    if (document.header.annotations.count(std::string(kGeneratedAnnotation)) != 0) {
      drop[document.index] = true;  // em-guard's own output from an earlier run: made anew
      continue;
    }
    const ServiceConfig* service = match_service(document.header, config, context.release);
    if (service == nullptr) continue;
    Workload workload = prepare_workload(parse_document(document), document, *service);
    std::string key = service->migrates ? version_key(workload) : "";
    targets.push_back({&document, service, std::move(workload), std::move(key)});
  }

  if (targets.empty()) {
    std::string notice = "em-guard: no workload matched the configured services; nothing injected";
    const bool has_workloads =
        std::any_of(documents.begin(), documents.end(),
                    [](const Document& d) { return is_pod_bearing_kind(d.header.kind); });
    if (context.release.name.empty() && has_workloads) {
      notice +=
          " (the release name is unknown: no app.kubernetes.io/instance label, so the "
          "{release}-... name patterns cannot match; pass --release NAME if this is em-runtime)";
    }
    result.notices.push_back(notice);
    std::vector<Piece> pieces;
    result.output = assemble(documents, drop, {}, {}, false, &pieces);
    if (options.objects_for != nullptr) {
      result.objects = output_objects(result.output, pieces, *options.objects_for);
    }
    return result;
  }
  if (context.release.name.empty()) {
    throw InputError(
        "cannot tell the release name: no document has an app.kubernetes.io/instance label; "
        "pass --release NAME (Helm 3: --post-renderer-args --release=NAME)");
  }

  const bool helm4 = is_helm4_input(documents);
  context.backup = plan_backup(config, options, documents, helm4);
  const bool any_migrating = std::any_of(targets.begin(), targets.end(),
                                         [](const Target& t) { return t.service->migrates; });
  if (context.backup.enabled && context.backup.mode == BackupMode::Gated && !any_migrating) {
    context.backup.enabled = false;
    result.notices.push_back(
        "em-guard: no backup: gated mode needs a migrating service to hold back, and none of the "
        "matched workloads has migrates: true");
  }
  // Built once: its name (a hash of every script) goes into the containers, the object into the
  // output.
  YAML::Node scripts = scripts_config_map(context.release);
  context.scripts_config_map = scripts["metadata"]["name"].Scalar();
  if (context.backup.enabled) {
    Sha256 covered_hash;
    for (const Target& target : targets) {
      if (!target.service->migrates) continue;
      context.backup.covered.push_back({target.service->name, target.version_key});
    }
    std::sort(context.backup.covered.begin(), context.backup.covered.end(),
              [](const CoveredWorkload& a, const CoveredWorkload& b) {
                return std::tie(a.service, a.version_key) < std::tie(b.service, b.version_key);
              });
    for (const CoveredWorkload& workload : context.backup.covered) {
      covered_hash.update(workload.service + " " + workload.version_key + "\n");
    }
    context.backup.run_id = covered_hash.hex().substr(0, 12);
    // Gated mode: the migrating services' ServiceAccounts may read the backup's state (the
    // injection below does not change which account a pod runs as).
    std::vector<std::string> gate_accounts;
    if (context.backup.mode == BackupMode::Gated) {
      for (const Target& target : targets) {
        if (target.service->migrates)
          gate_accounts.push_back(service_account_of(target.workload.pod.spec));
      }
      std::sort(gate_accounts.begin(), gate_accounts.end());
      gate_accounts.erase(std::unique(gate_accounts.begin(), gate_accounts.end()),
                          gate_accounts.end());
    }
    // Built once, here: it names the backup Job, which the wait containers below refer to.
    backup = backup_objects(context, gate_accounts);
    result.notices.push_back(std::string("em-guard: backup mode ") +
                             (context.backup.mode == BackupMode::Hook ? "hook" : "gated") + ": " +
                             context.backup.mode_reason);
  } else if (!config.backup.enabled) {
    result.notices.push_back("em-guard: backups are off (backup.enabled: false)");
  }

  for (const Target& target : targets) context.present_services.insert(target.service->name);
  std::set<std::string> absent_upstreams;
  for (const Target& target : targets) {
    for (const std::string& upstream : target.service->after) {
      if (context.present_services.count(upstream) == 0) {
        absent_upstreams.insert(target.service->name + " would wait for " + upstream);
      }
    }
  }
  for (const std::string& absent : absent_upstreams) {
    result.notices.push_back("em-guard: note: " + absent +
                             ", but no workload of that service is in this release; not waiting");
  }

  std::map<std::size_t, std::string> rewritten;
  std::map<std::string, std::vector<std::string>> injected;  // service -> its init containers
  bool any_injected = false;
  for (const Target& target : targets) {
    const Document& document = *target.document;
    const Workload& workload = target.workload;
    const std::vector<std::string> added =
        inject_waits(workload.pod.spec, *target.service, context, target.version_key);
    if (!added.empty()) any_injected = true;
    for (const std::string& name : added) {
      std::vector<std::string>& of_service = injected[target.service->name];
      if (std::find(of_service.begin(), of_service.end(), name) == of_service.end()) {
        of_service.push_back(name);
      }
    }
    const std::string what = document.location() + ": " + document.header.kind + " " +
                             document.header.name + " (service " + target.service->name + ")";
    if (edited_lists(workload.pod.spec) == workload.lists_before) {
      result.explanation.push_back(what + ": already has em-guard's init containers; unchanged");
      continue;
    }
    std::string head(document_head(document));
    // `--- {inline: content}` has no head to keep, but its separator must stay.
    if (head.empty() && !document.separator.empty()) head = "---\n";
    rewritten[document.index] =
        head + emit_yaml(workload.object) + std::string(document_end_marker(document));
    result.explanation.push_back(what + ": init containers " + join(added, ", ") +
                                 " run before the service's own");
  }
  std::vector<GeneratedObject> generated;
  if (any_injected || context.backup.enabled) {
    // First, so that it exists before the pods that mount it wherever order counts.
    generated.push_back({"em-guard/scripts.yaml", scripts,
                         "ConfigMap " + context.scripts_config_map +
                             ": the scripts of every container em-guard adds (named by their "
                             "hash; kept when a new em-guard replaces them, for pods of older "
                             "ReplicaSets)"});
    generated.back().object["metadata"]["annotations"]["helm.sh/resource-policy"] =
        yaml_string("keep");
  }
  if (context.backup.enabled) {
    for (GeneratedObject& object : backup) generated.push_back(std::move(object));
    if (context.backup.mode == BackupMode::Hook && config.backup.existing_claim.empty()) {
      result.notices.push_back(
          "em-guard: note: the backup PVC is a release resource; on the first upgrade that adds "
          "em-guard, create it first (or set backup.storage.existingClaim) because pre-upgrade "
          "hooks run before new resources exist");
    }
  }

  // On the objects' metadata only, never on a pod template: a Job's template is immutable, and
  // the gated Job's name is a hash of its spec.
  const std::string summary = summary_text(context, options, injected);
  for (GeneratedObject& object : generated) {
    YAML::Node annotations = object.object["metadata"]["annotations"];
    annotations[std::string(kSummaryAnnotation)] = yaml_string(summary);
    if (helm4) annotations[std::string(kHelm4FilenameAnnotation)] = yaml_string(object.source);
    result.explanation.push_back("added " + object.summary);
  }
  std::vector<Piece> pieces;
  result.output = assemble(documents, drop, rewritten, generated, helm4, &pieces);
  if (options.objects_for != nullptr) {
    result.objects = output_objects(result.output, pieces, *options.objects_for);
  }
  return result;
}

}  // namespace emguard::render
