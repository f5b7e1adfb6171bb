# em-guard wait-job: init container of a migrating service in gated mode; it holds the
# service back until the pre-upgrade backup Job has completed. Runs after lib.sh.
# Env: EMG_JOB_NAME, EMG_NAMESPACE (required), EMG_TOKEN_DIR (optional projected
# service-account volume with token and ca.crt), EMG_TIMEOUT, EMG_INTERVAL.

emg_require EMG_JOB_NAME EMG_NAMESPACE
emg_kube_setup

# One line per condition, e.g. "Complete=True() " or "Failed=True(BackoffLimitExceeded) ".
emg_job_jsonpath='{range .status.conditions[*]}{.type}={.status}({.reason}) {end}'

# A missing Job or an API error means "not yet" (the Job may not be created yet, RBAC may
# still be propagating). A failed Job is final: the service must not start on data that
# was not backed up, so the wait stops at once.
emg_job_done() {
  _conditions=$(kubectl get job "$EMG_JOB_NAME" -n "$EMG_NAMESPACE" --request-timeout=10s \
    -o "jsonpath=$emg_job_jsonpath") || return 1
  case " $_conditions" in
    *" Failed=True"*)
      _reason=$(printf '%s\n' "$_conditions" | sed -n 's/.*Failed=True(\([^)]*\)).*/\1/p')
      printf 'backup Job %s in namespace %s failed%s; the upgrade must not go on. Next step: kubectl logs job/%s -n %s\n' \
        "$EMG_JOB_NAME" "$EMG_NAMESPACE" "${_reason:+ ($_reason)}" "$EMG_JOB_NAME" "$EMG_NAMESPACE"
      return "$EMG_FATAL"
      ;;
    *" Complete=True"*) return 0 ;;
  esac
  printf 'Job %s has not completed yet%s\n' "$EMG_JOB_NAME" "${_conditions:+ (conditions: $_conditions)}"
  return 1
}

emg_wait "backup Job $EMG_JOB_NAME in namespace $EMG_NAMESPACE" emg_job_done
