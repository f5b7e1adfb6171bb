// Which backup mode (a pre-upgrade hook, or a Job the migrating services wait for) and why, from
// what the input shows of the tool that applies it: Helm 4, Helm 3, Argo CD, `helm template`.
#include <algorithm>
#include <string>
#include <vector>

#include "renderer/inject/inject.hpp"

namespace emguard::render {

bool is_helm4_input(const std::vector<Document>& documents) {
  return std::any_of(documents.begin(), documents.end(),
                     [](const Document& d) { return !d.helm4_filename().empty(); });
}

namespace {

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

}  // namespace

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

}  // namespace emguard::render
