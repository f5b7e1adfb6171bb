# em-guard wait-postgres: init container that holds a service back until PostgreSQL accepts
# connections. Runs after lib.sh.
# Env: PGHOST (required; a name, an address, or a comma-separated list of them), PGPORT
# (default 5432), PGUSER, PGPASSWORD, PGDATABASE (optional; pg_isready reads them itself),
# EMG_TIMEOUT, EMG_INTERVAL.

emg_require PGHOST
PGPORT=${PGPORT:-5432}
export PGPORT

# pg_isready only checks that the server answers (it never authenticates), which is what
# "the database is up" means for ordering; its own "- no response" line is the error text.
# It says the same when the name does not resolve, so then the DNS lookup is the reason
# shown. Waiting goes on either way: the Service may simply not exist yet.
emg_pg_ready() {
  _out=$(pg_isready -h "$PGHOST" -p "$PGPORT" -t "$EMG_ATTEMPT_TIMEOUT" 2>&1)
  _status=$?
  [ "$_status" -ne 0 ] || return 0
  _dns=
  if [ "$_status" -eq 2 ]; then
    _rest=$PGHOST,
    while [ -n "$_rest" ]; do
      _host=${_rest%%,*}
      _rest=${_rest#*,}
      if _why=$(emg_dns_problem "$_host"); then
        _dns="${_dns:+$_dns; }$_why"
      fi
    done
  fi
  _out=${_out:-no reply (pg_isready exit status $_status)}
  if [ -z "$_dns" ]; then
    printf '%s\n' "$_out"
  else
    # With several hosts, the others may have failed for another reason.
    case $PGHOST in
      *,*) printf '%s; %s\n' "$_dns" "$_out" ;;
      *) printf '%s\n' "$_dns" ;;
    esac
  fi
  return 1
}

emg_wait "PostgreSQL at $PGHOST:$PGPORT" emg_pg_ready
