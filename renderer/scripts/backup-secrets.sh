# em-guard backup-secrets: backup Job step that saves Kubernetes Secrets as JSON into the
# staging directory of this backup run. Runs after lib.sh.
# Env: EMG_NAMESPACE, EMG_SECRETS (space-separated names), EMG_BACKUP_DIR (required);
# EMG_OPTIONAL_SECRETS (names that may be absent; any not in EMG_SECRETS are saved too),
# EMG_TOKEN_DIR (optional projected service-account volume with token and ca.crt).
# Secret contents go only into files: kubectl's stdout goes to the file and its stderr to a
# scratch file, of which only a sanitized one-line summary is ever printed.

emg_require EMG_NAMESPACE EMG_SECRETS EMG_BACKUP_DIR
EMG_OPTIONAL_SECRETS=${EMG_OPTIONAL_SECRETS-}
emg_kube_setup

umask 077
emg_tmp_init
emg_out=$EMG_BACKUP_DIR/secrets
emg_recreate_dir "$emg_out"

# emg_is_optional NAME
emg_is_optional() {
  for _emg_opt in $EMG_OPTIONAL_SECRETS; do
    [ "$_emg_opt" != "$1" ] || return 0
  done
  return 1
}

# Error lines from kubectl are safe to show (they name the object, never its data), but only
# the first line is kept and redacted, in case a future kubectl echoes more.
emg_kubectl_error() {
  emg_oneline "$(head -n 1 "$EMG_TMP/err")"
}

emg_saved=0
emg_skipped=0
emg_seen=" "
set -f
for emg_name in $EMG_SECRETS $EMG_OPTIONAL_SECRETS; do
  case $emg_seen in *" $emg_name "*) continue ;; esac
  emg_seen="$emg_seen$emg_name "
  case $emg_name in
    .* | *[!a-z0-9.-]*) emg_fail "invalid Secret name '$emg_name' (Kubernetes names use a-z, 0-9, . and -)" ;;
  esac
  emg_file=$emg_out/$emg_name.json
  if ! kubectl get secret "$emg_name" -n "$EMG_NAMESPACE" --request-timeout=30s -o json \
    >"$emg_file" 2>"$EMG_TMP/err"; then
    rm -f -- "$emg_file"
    if grep -q -e NotFound -e 'not found' "$EMG_TMP/err"; then
      if emg_is_optional "$emg_name"; then
        emg_log "optional Secret $emg_name not found in namespace $EMG_NAMESPACE; skipping it"
        emg_skipped=$((emg_skipped + 1))
        continue
      fi
      emg_fail "required Secret $emg_name not found in namespace $EMG_NAMESPACE (list it in EMG_OPTIONAL_SECRETS if it may be absent)"
    fi
    emg_fail "cannot read Secret $emg_name in namespace $EMG_NAMESPACE: $(emg_kubectl_error)"
  fi
  chmod 600 "$emg_file" || emg_fail "cannot restrict permissions of $emg_file"
  [ -s "$emg_file" ] || emg_fail "kubectl returned nothing for Secret $emg_name in namespace $EMG_NAMESPACE"
  grep -q '"kind"[[:space:]]*:[[:space:]]*"Secret"' "$emg_file" ||
    emg_fail "kubectl output for Secret $emg_name in namespace $EMG_NAMESPACE is not a Secret object"
  emg_log "saved Secret $emg_name ($(emg_size "$emg_file") bytes) to secrets/$emg_name.json"
  emg_saved=$((emg_saved + 1))
done
set +f

emg_log "Secret backup done: $emg_saved saved, $emg_skipped optional skipped (namespace $EMG_NAMESPACE)"
