// render(): the two passes over the matched workloads and what goes around them. The release
// (release.cpp), the backup mode (backup_mode.cpp) and objects (backup.cpp), the waits (waits.cpp)
// and the output text (output.cpp) each live in their own file.
#include "renderer/inject/render.hpp"

#include <algorithm>
#include <map>
#include <optional>
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

// A matched workload: the first pass parses and checks it and takes its version key and
// ServiceAccount; the second injects into the same tree, when the first could keep it.
struct Target {
  const Document* document;
  const ServiceConfig* service;
  std::optional<Workload> workload;  // empty: parsed again by the second pass
  std::string version_key;           // migrating services only
  std::string service_account;
};

// The first pass keeps the parsed workloads for the second while their text stays under this
// bound: a chart's handful of workloads is parsed once, but a yaml-cpp tree takes some hundred
// times the bytes of its text, and a release of a thousand matched workloads must not hold
// them all at once (bench/run, large-injection), so past the bound each is parsed again.
constexpr std::size_t kMaxHeldWorkloadBytes = std::size_t{512} << 10;

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
  // migrating ones (the backup's run and the gated Job's name, which the second pass writes
  // into them), the second injects into the same trees (up to kMaxHeldWorkloadBytes of them;
  // past it, parsed again) and writes them out. Every other document stays the bytes it was.
  std::vector<Target> targets;
  std::vector<bool> drop(documents.size(), false);
  std::vector<GeneratedObject> backup;  // the backup Job and what it needs, once planned
  std::size_t held_bytes = 0;           // the text of the workloads kept parsed (targets)
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
    std::string account = service_account_of(workload.pod.spec);
    held_bytes += document.raw.size();
    std::optional<Workload> kept;
    if (held_bytes <= kMaxHeldWorkloadBytes) kept = std::move(workload);
    targets.push_back({&document, service, std::move(kept), std::move(key), std::move(account)});
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
        if (target.service->migrates) gate_accounts.push_back(target.service_account);
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
  for (Target& target : targets) {
    const Document& document = *target.document;
    // Moved out, so that each tree is released once it is written.
    Workload workload = target.workload
                            ? std::move(*target.workload)
                            : prepare_workload(parse_document(document), document, *target.service);
    target.workload.reset();
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
