# em-guard backup-record: last step of the backup Job, after the run is verified and published.
# It adds the run to the durable record of verified backups, ConfigMap EMG_RECORD: one key per
# workload version the run covered. The gate (wait-backup) of a pod of a recorded version starts
# at once, whatever later happens to this Job. The record is created here, not rendered, so
# that no Helm upgrade resets it, no uninstall deletes it and Argo CD does not track it.
# Runs after lib.sh, in the kubectl image.
# Env: EMG_BACKUP_ROOT, EMG_RUN_ID, EMG_RECORD, EMG_JOB_NAME, EMG_RELEASE, EMG_NAMESPACE,
# EMG_COVERS (lines `<version key> <service>`) (required); EMG_TOKEN_DIR; EMG_RECORD_KEEP
# (entries kept, newest first, default 200: a ConfigMap holds at most 1 MiB).

emg_require EMG_BACKUP_ROOT EMG_RUN_ID EMG_RECORD EMG_JOB_NAME EMG_RELEASE EMG_NAMESPACE EMG_COVERS
emg_uint EMG_RECORD_KEEP 200
emg_kube_setup
emg_tmp_init
LC_ALL=C
export LC_ALL
emg_ns=$EMG_NAMESPACE
emg_root=${EMG_BACKUP_ROOT%/}

# Everything that goes into the record is checked here, so the ConfigMap written below is
# valid YAML built from known characters only.
emg_safe() {
  case $2 in
    '' | *[!A-Za-z0-9_.:-]*) emg_fail "invalid $1 '$2' (allowed: letters, digits, _ . : -)" ;;
  esac
}
emg_safe EMG_RUN_ID "$EMG_RUN_ID"
emg_safe EMG_JOB_NAME "$EMG_JOB_NAME"
emg_safe EMG_RELEASE "$EMG_RELEASE"

# The run this Job just published: the newest folder of this run id with a MANIFEST.
emg_run=
for emg_d in "$emg_root"/*-"$EMG_RUN_ID"; do
  [ -f "$emg_d/MANIFEST" ] && emg_run=$emg_d
done
[ -n "$emg_run" ] || emg_fail "no published backup run $EMG_RUN_ID under $emg_root; the verify step did not publish it"
emg_created=$(sed -n 's/^created: //p' "$emg_run/MANIFEST" | head -n 1)
emg_safe "created time in $emg_run/MANIFEST" "$emg_created"
emg_dir=${emg_run##*/}

# The new entries: `<key> <value>` lines; the value starts with the time so that sorting keeps
# the newest entries.
: >"$EMG_TMP/new"
printf '%s\n' "$EMG_COVERS" | while read -r emg_key emg_service; do
  [ -n "$emg_key" ] || continue
  case $emg_key in *[!0-9a-z]*) emg_fail "invalid version key '$emg_key' in EMG_COVERS" ;; esac
  emg_safe "service name" "$emg_service"
  printf '%s %s run=%s service=%s job=%s\n' "$emg_key" "$emg_created" "$emg_dir" "$emg_service" \
    "$EMG_JOB_NAME" >>"$EMG_TMP/new" || exit 1
done || exit 1
[ -s "$EMG_TMP/new" ] || emg_fail "EMG_COVERS names no workload version"

# The record as it is: NotFound means this is the first backup; any other error is final
# (retrying would only hide an RBAC or API problem behind the Job's deadline).
emg_exists=1
# shellcheck disable=SC2016 # the $k and $v are go-template variables for kubectl, not sh's
if ! kubectl get configmap "$EMG_RECORD" -n "$emg_ns" --request-timeout=30s \
  -o 'go-template={{range $k, $v := .data}}{{$k}} {{$v}}{{"\n"}}{{end}}' \
  >"$EMG_TMP/old" 2>"$EMG_TMP/err"; then
  grep -q -e '(NotFound)' -e ' not found' "$EMG_TMP/err" ||
    emg_fail "cannot read the backup record ConfigMap $EMG_RECORD in namespace $emg_ns: $(emg_kubectl_reason "$EMG_TMP/err")"
  emg_exists=0
  : >"$EMG_TMP/old"
fi

# New entries replace old ones of the same key; then the newest EMG_RECORD_KEEP are kept.
{
  cat "$EMG_TMP/new"
  awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen) && NF >= 2' "$EMG_TMP/new" "$EMG_TMP/old"
} | sort -k2,2r -k1,1 | head -n "$EMG_RECORD_KEEP" | sort >"$EMG_TMP/entries"

{
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n'
  printf '  name: %s\n' "$EMG_RECORD"
  # Not app.kubernetes.io/instance: Argo CD tracks objects by that label, and would show the
  # record as an orphan of the application.
  printf '  labels:\n    app.kubernetes.io/name: em-guard\n'
  printf '    app.kubernetes.io/component: backup-record\n'
  printf '    em-guard.io/release: "%s"\n' "$EMG_RELEASE"
  printf 'data:\n'
  while read -r emg_key emg_value; do
    printf '  %s: "%s"\n' "$emg_key" "$emg_value"
  done <"$EMG_TMP/entries"
} >"$EMG_TMP/record.yaml"

if [ "$emg_exists" -eq 1 ]; then
  emg_verb=replace
else
  emg_verb=create
fi
# --validate=false: the object is built above from checked parts, and the API server validates
# it again; client-side validation would only add a download of the OpenAPI schema.
kubectl "$emg_verb" -n "$emg_ns" --request-timeout=30s --validate=false -f "$EMG_TMP/record.yaml" \
  >/dev/null 2>"$EMG_TMP/err" ||
  emg_fail "cannot $emg_verb the backup record ConfigMap $EMG_RECORD in namespace $emg_ns: $(emg_kubectl_reason "$EMG_TMP/err")"

while read -r emg_key emg_value; do
  emg_log "recorded $emg_key: $emg_value"
done <"$EMG_TMP/new"
emg_log "backup run $emg_dir recorded in ConfigMap $EMG_RECORD ($(wc -l <"$EMG_TMP/entries" | tr -d ' ') entries)"
