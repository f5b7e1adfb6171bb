// The post-renderer: rendered manifests in, manifests with backups and waits out.
// Shaped like Helm's postrender.PostRenderer: one call, bytes in, bytes out; no I/O here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/manifests/objects.hpp"
#include "renderer/inject/config.hpp"

namespace emguard::render {

struct RenderOptions {
  std::optional<std::string> release_name;       // --release
  std::optional<std::string> release_namespace;  // --namespace
  std::optional<BackupMode> backup_mode;         // --backup-mode
  // Facts about the caller the front end read from the environment.
  std::string helm_namespace;  // $HELM_NAMESPACE
  bool argocd = false;         // running as an Argo CD config management plugin
  // em-guard's version (the front end's EMGUARD_VERSION), written into the summary annotation
  // on em-guard's objects.
  std::string version;
  // --validate: also hand back the output's objects, as load_manifests(output, "rendered
  // output", ReadDepth::WhatRulesRead, policy) would read them, without reading the output a
  // second time (the headers render() read are reused).
  const Policy* objects_for = nullptr;
};

struct RenderResult {
  std::string output;
  std::vector<std::string> notices;      // always printed to stderr (e.g. the backup mode)
  std::vector<std::string> explanation;  // --explain: every change, one line each
  std::vector<ManifestObject> objects;   // with RenderOptions::objects_for
};

// Throws InputError (nothing is produced) on malformed manifests or an impossible request.
RenderResult render(std::string_view manifests, const RenderConfig& config,
                    const RenderOptions& options);

}  // namespace emguard::render
