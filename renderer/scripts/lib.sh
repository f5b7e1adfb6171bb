# em-guard shared shell library.
#
# em-guard-render prepends this file to every container script it injects and runs the result
# as `/bin/sh -c "<lib.sh + script>" em-guard-<name>`. It must therefore stay POSIX sh: the
# images are busybox (postgres/redis/curl alpine images) and dash or bash (bitnami/kubectl).
# All parameters arrive through environment variables. Nothing here may print a password, a
# token or Secret data, and `set -x` is never used because it would echo them.

# Unset variables are bugs in these scripts; failing loudly beats dumping the wrong thing.
# No `set -e`: the scripts test commands that are expected to fail (a server not up yet, a
# missing database), and -e's exemptions (inside `if`, `&&`, functions called from them) differ
# between dash, busybox and bash. Every command whose failure matters is checked explicitly,
# so each failure gets its own message and exit status instead of a silent exit.
set -u

# Exit status a wait check returns to stop waiting at once (e.g. the backup Job failed).
EMG_FATAL=100
# Upper bound in seconds for one wait attempt, so a black-holed host cannot eat the budget.
# shellcheck disable=SC2034 # used by the wait scripts appended after this library
EMG_ATTEMPT_TIMEOUT=5

emg_log() {
  printf 'em-guard: %s\n' "$*"
}

emg_warn() {
  printf 'em-guard: WARNING: %s\n' "$*" >&2
}

emg_fail() {
  printf 'em-guard: ERROR: %s\n' "$*" >&2
  exit 1
}

# emg_require NAME... fails on the first variable that is unset or empty.
emg_require() {
  for _emg_name in "$@"; do
    eval "_emg_value=\${$_emg_name-}"
    [ -n "$_emg_value" ] || emg_fail "$_emg_name is not set"
  done
}

# emg_uint NAME DEFAULT applies the default and insists on a whole number, because `[ -ge ]`
# and `$(( ))` on garbage give confusing shell errors instead of a useful message.
emg_uint() {
  eval "_emg_value=\${$1:-$2}"
  case $_emg_value in
    '' | *[!0-9]*) emg_fail "$1 must be a whole number, got '$_emg_value'" ;;
  esac
  eval "$1=\$_emg_value"
}

# emg_redact reads stdin and masks the values of the password variables, so that a tool
# which echoes its connection string cannot leak them through our error lines. The values
# are read from the environment inside awk, never placed on a command line.
emg_redact() {
  awk 'BEGIN { n = split("PGPASSWORD REDISCLI_AUTH", names, " ") }
    {
      for (i = 1; i <= n; i++) {
        s = ENVIRON[names[i]]
        if (length(s) < 4) continue
        while ((p = index($0, s)) > 0) $0 = substr($0, 1, p - 1) "***" substr($0, p + length(s))
      }
      print
    }'
}

# emg_oneline TEXT condenses multi-line tool output into one bounded, redacted line.
emg_oneline() {
  printf '%s\n' "$1" | emg_redact | tr '\r\n\t' '   ' | tr -s ' ' | sed 's/^ //; s/ $//' |
    cut -c1-1000
}

# emg_oneline_file FILE is emg_oneline for captured stderr.
emg_oneline_file() {
  if [ -s "$1" ]; then
    emg_oneline "$(cat "$1")"
  else
    printf 'no error output\n'
  fi
}

# emg_size FILE prints the size in bytes (wc pads with spaces on some platforms).
emg_size() {
  wc -c <"$1" | tr -d ' '
}

# emg_human KIB prints a size given in KiB the way people read it: 512 KiB, 6.2 MiB, 1.5 GiB
# (rounded down to one decimal).
emg_human() {
  if [ "$1" -lt 1024 ]; then
    printf '%s KiB\n' "$1"
  elif [ "$1" -lt 1048576 ]; then
    printf '%s.%s MiB\n' $(($1 / 1024)) $(($1 % 1024 * 10 / 1024))
  else
    printf '%s.%s GiB\n' $(($1 / 1048576)) $(($1 % 1048576 * 10 / 1048576))
  fi
}

# emg_du_kib PATH prints the disk space PATH takes, in KiB (0 if it cannot be measured).
emg_du_kib() {
  _emg_kib=$(du -sk -- "$1" 2>/dev/null | awk 'NR == 1 { print $1 }')
  case $_emg_kib in
    '' | *[!0-9]*) printf '0\n' ;;
    *) printf '%s\n' "$_emg_kib" ;;
  esac
}

# emg_free_kib DIR prints the space available to this user on DIR's filesystem, in KiB, and
# fails if df cannot tell. -P keeps each filesystem on one line (busybox and coreutils).
emg_free_kib() {
  _emg_kib=$(df -Pk -- "$1" 2>/dev/null | awk 'NR == 2 { print $4 }')
  case $_emg_kib in
    '' | *[!0-9]*) return 1 ;;
  esac
  printf '%s\n' "$_emg_kib"
}

# emg_need_kib KIB prints the space to ask for a backup when the last one took KIB: 10% for
# growth and 1 MiB for the seal and the file system's own bookkeeping.
emg_need_kib() {
  printf '%s\n' $(($1 + $1 / 10 + 1024))
}

# emg_attempts N prints "N attempt(s)" with the right plural.
emg_attempts() {
  if [ "$1" -eq 1 ]; then
    printf '1 attempt\n'
  else
    printf '%s attempts\n' "$1"
  fi
}

# emg_tmp_init creates a private scratch directory ($EMG_TMP) removed on exit. It must be
# called directly, not inside $(...), or the variable and the trap would die with a subshell.
emg_tmp_init() {
  [ -z "${EMG_TMP-}" ] || return 0
  EMG_TMP=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/em-guard.XXXXXX") ||
    emg_fail "cannot create a scratch directory under ${TMPDIR:-/tmp}"
  trap 'rm -rf -- "$EMG_TMP"' EXIT
  # Turn signals into a normal exit so the EXIT trap still cleans up.
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# emg_with_timeout SECONDS CMD... bounds tools that have no timeout flag of their own
# (redis-cli before 7.2). busybox and coreutils both provide `timeout SECS PROG ARGS`; a
# timeout returns 124 with either (busybox's own status is the killed child's 143).
emg_with_timeout() {
  if command -v timeout >/dev/null 2>&1; then
    timeout "$@"
    _emg_rc=$?
    [ "$_emg_rc" -ne 143 ] || _emg_rc=124
    return "$_emg_rc"
  else
    shift
    "$@"
  fi
}

# emg_wait LABEL CHECK [ARGS...] runs CHECK every EMG_INTERVAL seconds (default 2) until it
# succeeds or EMG_TIMEOUT seconds (default 300) have passed. CHECK's output is only shown
# when it fails, condensed to one line. A CHECK returning $EMG_FATAL ends the wait at once
# with its output as the error. LABEL reads like "PostgreSQL at db:5432".
emg_wait() {
  _emg_label=$1
  shift
  emg_uint EMG_TIMEOUT 300
  emg_uint EMG_INTERVAL 2
  [ "$EMG_INTERVAL" -ge 1 ] || emg_fail "EMG_INTERVAL must be at least 1 second"
  _emg_start=$(date +%s)
  _emg_attempt=0
  while :; do
    _emg_attempt=$((_emg_attempt + 1))
    _emg_out=$("$@" 2>&1)
    _emg_rc=$?
    _emg_elapsed=$(($(date +%s) - _emg_start))
    if [ "$_emg_rc" -eq 0 ]; then
      emg_log "$_emg_label is ready after ${_emg_elapsed}s ($(emg_attempts "$_emg_attempt"))"
      return 0
    fi
    _emg_msg=$(emg_oneline "$_emg_out")
    [ -n "$_emg_msg" ] || _emg_msg="check failed with exit status $_emg_rc"
    [ "$_emg_rc" -ne "$EMG_FATAL" ] || emg_fail "$_emg_msg"
    if [ "$_emg_elapsed" -ge "$EMG_TIMEOUT" ]; then
      emg_fail "gave up waiting for $_emg_label after ${_emg_elapsed}s ($(emg_attempts "$_emg_attempt")); last error: $_emg_msg"
    fi
    emg_log "waiting for $_emg_label (attempt $_emg_attempt, ${_emg_elapsed}s elapsed): $_emg_msg"
    # Never sleep past the deadline, so the last attempt happens right at it.
    _emg_left=$((EMG_TIMEOUT - _emg_elapsed))
    if [ "$_emg_left" -lt "$EMG_INTERVAL" ]; then
      sleep "$_emg_left"
    else
      sleep "$EMG_INTERVAL"
    fi
  done
}

# emg_dns_problem HOST prints "cannot resolve host HOST (...)" and succeeds when a DNS lookup
# finds no address for HOST, so that a wait can say "DNS" instead of a tool's bare "no
# response". It fails when HOST resolves or cannot be checked: an IP address, a socket
# directory, or no getent (alpine has it in musl-utils, Debian in libc-bin).
emg_dns_problem() {
  case $1 in
    '' | /* | *:* | \[*) return 1 ;; # a socket directory or an IPv6 address
    *[!0-9.]*) ;;                   # a name
    *) return 1 ;;                  # an IPv4 address
  esac
  command -v getent >/dev/null 2>&1 || return 1
  emg_with_timeout "$EMG_ATTEMPT_TIMEOUT" getent hosts "$1" >/dev/null 2>&1
  case $? in
    2) printf 'cannot resolve host %s (DNS has no address for it)\n' "$1" ;;
    124) printf 'cannot resolve host %s (the DNS lookup timed out after %ss)\n' "$1" "$EMG_ATTEMPT_TIMEOUT" ;;
    *) return 1 ;;
  esac
}

# emg_kube_setup points kubectl at the API server with a projected service-account token when
# EMG_TOKEN_DIR is set. The kubeconfig names the token *file* (kubectl re-reads it as the
# kubelet rotates it), so the token never appears on a command line or in the environment.
emg_kube_setup() {
  [ -n "${EMG_TOKEN_DIR-}" ] || return 0
  case $EMG_TOKEN_DIR in
    *\"* | *\\*) emg_fail "EMG_TOKEN_DIR must not contain quotes or backslashes" ;;
  esac
  [ -r "$EMG_TOKEN_DIR/token" ] || emg_fail "EMG_TOKEN_DIR=$EMG_TOKEN_DIR has no readable token"
  [ -r "$EMG_TOKEN_DIR/ca.crt" ] || emg_fail "EMG_TOKEN_DIR=$EMG_TOKEN_DIR has no readable ca.crt"
  emg_tmp_init
  (
    umask 077
    cat >"$EMG_TMP/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: in-cluster
    cluster:
      server: https://kubernetes.default.svc
      certificate-authority: "$EMG_TOKEN_DIR/ca.crt"
users:
  - name: em-guard
    user:
      tokenFile: "$EMG_TOKEN_DIR/token"
contexts:
  - name: in-cluster
    context:
      cluster: in-cluster
      user: em-guard
current-context: in-cluster
EOF
  ) || emg_fail "cannot write a kubeconfig under $EMG_TMP"
  KUBECONFIG=$EMG_TMP/kubeconfig
  export KUBECONFIG
}

# emg_recreate_dir DIR empties DIR (this step's own output only) so that a retried Job
# never mixes files from two attempts.
emg_recreate_dir() {
  rm -rf -- "$1" || emg_fail "cannot remove old $1"
  mkdir -p -- "$1" || emg_fail "cannot create $1"
  chmod 700 "$1" || emg_fail "cannot restrict permissions of $1"
}

# emg_pg_verify_dump FILE WHAT checks that a custom-format dump is non-empty, that
# pg_restore --list reads its table of contents, and that pg_restore can read every data
# block (--list alone only reads the header, so a truncated dump would pass). On success
# EMG_DUMP_ENTRIES holds its number of archive entries. Call it directly (it exits on
# failure) after emg_tmp_init.
emg_pg_verify_dump() {
  [ -s "$1" ] || emg_fail "$2: dump file $1 is empty"
  if ! pg_restore --list "$1" >"$EMG_TMP/toc" 2>"$EMG_TMP/verify.err"; then
    emg_fail "$2: dump file $1 failed verification with pg_restore --list: $(emg_oneline_file "$EMG_TMP/verify.err")"
  fi
  if ! pg_restore -f /dev/null "$1" 2>"$EMG_TMP/verify.err"; then
    emg_fail "$2: dump file $1 is damaged, pg_restore cannot read it to the end: $(emg_oneline_file "$EMG_TMP/verify.err")"
  fi
  # shellcheck disable=SC2034 # read by the calling script
  EMG_DUMP_ENTRIES=$(grep -c -v '^;' "$EMG_TMP/toc")
}

# emg_kubectl_reason FILE prints kubectl's own error from its captured stderr as one redacted
# line: the last line that is not a client-side log line (klog's "E1201 12:00:00 ..." warnings,
# such as discovery retries, come first). kubectl's errors name objects, never their data.
emg_kubectl_reason() {
  emg_oneline "$(grep -v '^[IWE][0-9]\{4\} ' "$1" | tail -n 1)"
}

# emg_staging_dirs sets emg_root and emg_stage from EMG_BACKUP_ROOT and EMG_BACKUP_DIR, and
# insists that the staging dir is directly inside the root and named .partial-<id>: the publish
# step is a rename, which is only atomic within one directory of one volume.
emg_staging_dirs() {
  emg_root=${EMG_BACKUP_ROOT%/}
  emg_stage=${EMG_BACKUP_DIR%/}
  [ "${emg_stage%/*}" = "$emg_root" ] ||
    emg_fail "EMG_BACKUP_DIR ($EMG_BACKUP_DIR) must be directly inside EMG_BACKUP_ROOT ($EMG_BACKUP_ROOT)"
  case ${emg_stage##*/} in
    .partial-?*) ;;
    *) emg_fail "EMG_BACKUP_DIR ($EMG_BACKUP_DIR) must be named .partial-<id>" ;;
  esac
}
