# em-guard wait-backup: init container of a migrating service in gated mode. It holds the
# service back until the pre-upgrade backup of this very version of the service is verified,
# so no pod runs a migration on data that was not backed up. Runs after lib.sh.
#
# A pod starts at once when the durable record (ConfigMap EMG_RECORD, written by the backup
# Job's last step) lists its version, whether the Job still exists, was deleted by a TTL or a
# cleanup, or was replaced by a later upgrade. Only while its version is not recorded does it
# read the plan (ConfigMap EMG_PLAN: the Job that backs up the versions being deployed now)
# and that Job: it waits while the Job runs or is not created yet, and fails at once when the
# Job failed.
# Env: EMG_SERVICE, EMG_BACKUP_KEY (this workload version's key), EMG_RECORD, EMG_PLAN,
# EMG_NAMESPACE (required); EMG_TOKEN_DIR (projected service-account volume with token and
# ca.crt), EMG_RBAC_GRACE (seconds a Forbidden answer is taken for RBAC still propagating,
# default 60), EMG_TIMEOUT, EMG_INTERVAL.

emg_require EMG_SERVICE EMG_BACKUP_KEY EMG_RECORD EMG_PLAN EMG_NAMESPACE
emg_uint EMG_RBAC_GRACE 60
case $EMG_BACKUP_KEY in
  *[!0-9a-f]*) emg_fail "EMG_BACKUP_KEY must be lower-case hex, got '$EMG_BACKUP_KEY'" ;;
esac
emg_kube_setup
emg_tmp_init

emg_gate_start=$(date +%s)
emg_ns=$EMG_NAMESPACE
emg_version="$EMG_SERVICE version $EMG_BACKUP_KEY"

# emg_get KIND NAME JSONPATH: the value on stdout and status 0; on an error, one line on stdout
# and status 1 (not found), 2 (forbidden) or 3 (any other API error).
emg_get() {
  if kubectl get "$1" "$2" -n "$emg_ns" --request-timeout=10s -o "jsonpath=$3" \
    >"$EMG_TMP/value" 2>"$EMG_TMP/err"; then
    cat "$EMG_TMP/value"
    return 0
  fi
  if grep -q -e '(NotFound)' -e ' not found' "$EMG_TMP/err"; then
    printf '%s %s does not exist\n' "$1" "$2"
    return 1
  fi
  if grep -q -e '(Forbidden)' -e 'forbidden' "$EMG_TMP/err"; then
    printf 'forbidden to get %s %s: %s\n' "$1" "$2" "$(emg_kubectl_reason "$EMG_TMP/err")"
    return 2
  fi
  printf 'cannot get %s %s: %s\n' "$1" "$2" "$(emg_kubectl_reason "$EMG_TMP/err")"
  return 3
}

# A Forbidden answer may be RBAC that has not propagated yet; after the grace period it is a
# Role that does not grant what the gate needs, which waiting will not fix.
emg_forbidden() {
  if [ $(($(date +%s) - emg_gate_start)) -ge "$EMG_RBAC_GRACE" ]; then
    printf '%s; the Role <release>-em-guard-backup-gate must grant it (kubectl -n %s describe role,rolebinding -l app.kubernetes.io/component=backup-gate)\n' \
      "$1" "$emg_ns"
    return "$EMG_FATAL"
  fi
  printf '%s\n' "$1"
  return 1
}

# What the operator can run when the backup this pod needs will not come: recreate the Job
# (apply the release again) or, deliberately, start without it.
emg_next_steps() {
  printf 'Next step: apply the release again to (re)create the backup Job (helm upgrade with the same chart version and values, or an Argo CD sync); to start %s WITHOUT a backup, at your own risk: kubectl -n %s create configmap %s; kubectl -n %s patch configmap %s --type merge -p %s' \
    "$EMG_SERVICE" "$emg_ns" "$EMG_RECORD" "$emg_ns" "$EMG_RECORD" \
    "'{\"data\":{\"$EMG_BACKUP_KEY\":\"waived $EMG_SERVICE\"}}'"
}

emg_backup_done() {
  # 1. The record: a verified backup of this version, however long ago.
  emg_rec=$(emg_get configmap "$EMG_RECORD" "{.data.$EMG_BACKUP_KEY}")
  emg_rc=$?
  if [ "$emg_rc" -eq 0 ] && [ -n "$emg_rec" ]; then
    printf '%s\n' "$emg_rec" >"$EMG_TMP/verified"
    return 0
  fi
  [ "$emg_rc" -ne 2 ] || {
    emg_forbidden "$emg_rec"
    return
  }
  if [ "$emg_rc" -eq 0 ] || [ "$emg_rc" -eq 1 ]; then
    emg_missing="no verified backup of $emg_version in ConfigMap $EMG_RECORD"
  else
    emg_missing=$emg_rec
  fi

  # 2. The plan: is the backup of this version being taken now, and by which Job?
  # shellcheck disable=SC2153 # EMG_PLAN comes from the container's env (waits.cpp), not a typo
  emg_plan=$(emg_get configmap "$EMG_PLAN" "{.data.job} {.data.$EMG_BACKUP_KEY}")
  emg_rc=$?
  [ "$emg_rc" -ne 2 ] || {
    emg_forbidden "$emg_missing; $emg_plan"
    return
  }
  if [ "$emg_rc" -ne 0 ]; then
    printf '%s; %s\n' "$emg_missing" "$emg_plan"
    return 1
  fi
  emg_job=${emg_plan%% *}
  emg_planned=${emg_plan#* }
  if [ -z "$emg_job" ] || [ "$emg_planned" != "$EMG_SERVICE" ]; then
    # A plan for other versions: this pod belongs to a release that is being replaced, or
    # the plan is being updated right now.
    printf '%s, and the current backup plan (ConfigMap %s%s) does not cover it. %s\n' \
      "$emg_missing" "$EMG_PLAN" "${emg_job:+, Job $emg_job}" "$(emg_next_steps)"
    return 1
  fi

  # 3. The Job that takes it.
  emg_conditions=$(emg_get job "$emg_job" \
    '{range .status.conditions[*]}{.type}={.status}({.reason}) {end}')
  emg_rc=$?
  case $emg_rc in
    1)
      printf '%s; backup Job %s does not exist (not created yet, or deleted before it completed). %s\n' \
        "$emg_missing" "$emg_job" "$(emg_next_steps)"
      return 1
      ;;
    2)
      emg_forbidden "$emg_missing; $emg_conditions"
      return
      ;;
    3)
      printf '%s; %s\n' "$emg_missing" "$emg_conditions"
      return 1
      ;;
  esac
  case " $emg_conditions" in
    *" Failed=True"*)
      emg_reason=$(printf '%s\n' "$emg_conditions" | sed -n 's/.*Failed=True(\([^)]*\)).*/\1/p')
      printf 'backup Job %s in namespace %s failed%s; %s must not start on data that was not backed up. Next step: kubectl logs job/%s -n %s, fix the cause, kubectl delete job %s -n %s, then upgrade again\n' \
        "$emg_job" "$emg_ns" "${emg_reason:+ ($emg_reason)}" "$EMG_SERVICE" "$emg_job" "$emg_ns" \
        "$emg_job" "$emg_ns"
      return "$EMG_FATAL"
      ;;
    *" Complete=True"*)
      # The record is written before the Job completes; reading it first just lost a race.
      printf 'Job %s completed\n' "$emg_job" >"$EMG_TMP/verified"
      return 0
      ;;
  esac
  printf '%s; backup Job %s has not completed yet%s\n' "$emg_missing" "$emg_job" \
    "${emg_conditions:+ (conditions: $emg_conditions)}"
  return 1
}

emg_wait "the pre-upgrade backup of $emg_version (namespace $emg_ns)" emg_backup_done
emg_log "backup verified: $(emg_oneline "$(cat "$EMG_TMP/verified")")"
