# em-guard backup-postgres: backup Job step that dumps PostgreSQL into the staging directory
# of this backup run. Runs after lib.sh.
# Env: PGHOST, PGUSER, EMG_DATABASES (space-separated, or * for all), EMG_BACKUP_DIR (required); PGPORT
# (default 5432), PGPASSWORD (read by libpq from the environment), PGDATABASE (database to
# connect to for checks, default postgres), EMG_PG_GLOBALS (full | no-role-passwords | off,
# default full), EMG_PG_MISSING (skip | fail, default skip).

emg_require PGHOST PGUSER EMG_DATABASES EMG_BACKUP_DIR
PGPORT=${PGPORT:-5432}
# Without a connect timeout libpq waits for the kernel (minutes) on a black-holed host.
PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
export PGHOST PGPORT PGUSER PGCONNECT_TIMEOUT
EMG_PG_GLOBALS=${EMG_PG_GLOBALS:-full}
EMG_PG_MISSING=${EMG_PG_MISSING:-skip}
case $EMG_PG_GLOBALS in
  full | no-role-passwords | off) ;;
  *) emg_fail "EMG_PG_GLOBALS must be full, no-role-passwords or off, got '$EMG_PG_GLOBALS'" ;;
esac
case $EMG_PG_MISSING in
  skip | fail) ;;
  *) emg_fail "EMG_PG_MISSING must be skip or fail, got '$EMG_PG_MISSING'" ;;
esac

# Dumps hold application data: nobody but this user may read them.
umask 077
emg_tmp_init
emg_where="PostgreSQL at $PGHOST:$PGPORT"
emg_maint_db=${PGDATABASE:-postgres}
emg_out=$EMG_BACKUP_DIR/postgresql
emg_recreate_dir "$emg_out"

# Fail early with one clear line if the server is unreachable or refuses our credentials,
# instead of a confusing error from the first dump.
if ! psql -X -q -At -v ON_ERROR_STOP=1 -d "$emg_maint_db" -c 'SELECT 1' \
  >/dev/null 2>"$EMG_TMP/err"; then
  emg_fail "cannot connect to $emg_where as user $PGUSER (database $emg_maint_db): $(emg_oneline_file "$EMG_TMP/err")"
fi
emg_log "connected to $emg_where as user $PGUSER"

if [ "$EMG_PG_GLOBALS" != off ]; then
  # Managed services (RDS, Cloud SQL) hide role passwords; no-role-passwords still keeps the
  # roles and grants, which a restore needs before the per-database dumps.
  if [ "$EMG_PG_GLOBALS" = no-role-passwords ]; then
    set -- --no-role-passwords
  else
    set --
  fi
  if ! pg_dumpall -l "$emg_maint_db" --globals-only "$@" -f "$emg_out/globals.sql" \
    2>"$EMG_TMP/err"; then
    emg_fail "pg_dumpall --globals-only failed for $emg_where: $(emg_oneline_file "$EMG_TMP/err") (on managed services set EMG_PG_GLOBALS=no-role-passwords or off)"
  fi
  [ -s "$emg_out/globals.sql" ] || emg_fail "pg_dumpall wrote an empty globals.sql for $emg_where"
  emg_log "wrote postgresql/globals.sql ($(emg_size "$emg_out/globals.sql") bytes)"
fi

# "*" means every database that accepts connections, as pg_dumpall would take them (template
# databases hold nothing of ours). A database created between two upgrades is thus never missed.
if [ "$EMG_DATABASES" = '*' ]; then
  if ! emg_all=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$emg_maint_db" -c \
    'SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname' \
    2>"$EMG_TMP/err"); then
    emg_fail "cannot list the databases on $emg_where: $(emg_oneline_file "$EMG_TMP/err")"
  fi
  EMG_DATABASES=$(printf '%s\n' "$emg_all" | tr '\n' ' ')
  emg_log "databases on $emg_where: $EMG_DATABASES"
fi

emg_dumped=0
# Database names are split on spaces; globbing stays off so a stray * is just a bad name.
set -f
for emg_db in $EMG_DATABASES; do
  # The name becomes a file name, so keep it to characters that cannot escape the directory.
  case $emg_db in
    .* | *[!A-Za-z0-9_.-]*)
      emg_fail "invalid database name '$emg_db' in EMG_DATABASES (allowed: letters, digits, _ . -, not starting with .)"
      ;;
  esac
  # :'db' makes psql quote the name as a literal, so no name can change the query.
  if ! emg_exists=$(psql -X -q -At -v ON_ERROR_STOP=1 -v db="$emg_db" -d "$emg_maint_db" \
    2>"$EMG_TMP/err" <<'SQL'
SELECT 1 FROM pg_database WHERE datname = :'db';
SQL
  ); then
    emg_fail "cannot check whether database $emg_db exists on $emg_where: $(emg_oneline_file "$EMG_TMP/err")"
  fi
  if [ "$emg_exists" != 1 ]; then
    if [ "$EMG_PG_MISSING" = fail ]; then
      emg_fail "database $emg_db does not exist on $emg_where (EMG_PG_MISSING=fail)"
    fi
    emg_log "database $emg_db does not exist on $emg_where yet; skipping it (EMG_PG_MISSING=skip)"
    continue
  fi
  emg_file=$emg_out/$emg_db.dump
  if ! pg_dump -Fc -d "$emg_db" -f "$emg_file" 2>"$EMG_TMP/err"; then
    emg_fail "pg_dump of database $emg_db on $emg_where failed: $(emg_oneline_file "$EMG_TMP/err")"
  fi
  emg_pg_verify_dump "$emg_file" "database $emg_db on $emg_where"
  emg_log "wrote postgresql/$emg_db.dump ($(emg_size "$emg_file") bytes, $EMG_DUMP_ENTRIES archive entries)"
  emg_dumped=$((emg_dumped + 1))
done
set +f

emg_log "PostgreSQL backup done: $emg_dumped database(s) dumped from $emg_where"
