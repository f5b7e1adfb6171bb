# em-guard backup-postgres: backup Job step that dumps PostgreSQL into the staging directory
# of this backup run. Runs after lib.sh.
# Env: PGHOST, PGUSER, EMG_DATABASES, EMG_BACKUP_DIR (required); PGPORT (default 5432),
# PGPASSWORD (read by libpq from the environment), PGDATABASE (database to connect to for
# checks, default postgres), EMG_PG_GLOBALS (full | no-role-passwords | off, default full),
# EMG_PG_MISSING (skip | fail, default skip).
# EMG_DATABASES holds one database name per line, exactly as PostgreSQL spells it (spaces,
# quotes, $, dots, non-ASCII letters are all part of the name; empty lines are ignored), or
# the single line * for every database.
# Output in $EMG_BACKUP_DIR/postgresql: globals.sql, one <file>.dump per database, and
# databases.tsv, the index that maps each dump file to its database's exact name.

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
# Names are bytes: tr, sed and sort must not apply a locale's idea of characters to them.
LC_ALL=C
export LC_ALL
emg_where="PostgreSQL at $PGHOST:$PGPORT"
emg_maint_db=${PGDATABASE:-postgres}
emg_out=$EMG_BACKUP_DIR/postgresql
emg_recreate_dir "$emg_out"

emg_tab=$(printf '\t')
emg_cr=$(printf '\r')
# Spelled out rather than as ranges, which some shells read by locale.
emg_word='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_'

# A database name travels through this script in one escaped line: \ as \\, tab as \t,
# newline as \n, carriage return as \r. That is how databases.tsv and the MANIFEST hold it,
# and `printf %b` turns it back into the exact name (every other backslash is doubled, so no
# other escape can occur).

# emg_escape_line: stdin lines (raw names without newlines) to escaped lines.
emg_escape_line() {
  sed -e 's/\\/\\\\/g' -e "s/$emg_tab/\\\\t/g" -e "s/$emg_cr/\\\\r/g"
}

# emg_unescape ESCAPED sets emg_db to the exact name (trailing newlines included).
emg_unescape() {
  emg_db=$(printf '%bx' "$1")
  emg_db=${emg_db%x}
}

# emg_show ESCAPED prints the name for a log line: as is when it is a plain word, otherwise in
# double quotes, so that spaces and quotes in a name cannot be misread.
emg_show() {
  case $1 in
    [!$emg_word]* | *[!$emg_word-]*) printf '"%s"\n' "$(printf '%s\n' "$1" | sed 's/"/\\"/g')" ;;
    *) printf '%s\n' "$1" ;;
  esac
}

# emg_file_for sets emg_file to the dump file name for the exact name in emg_db. A plain name
# (letters, digits, _ and -, not starting with -) keeps it: app_main.dump. Any other name
# could hold a /, start with a dot or be unreadable in `ls`, so it becomes a slug of its safe
# characters plus 8 hex digits of its SHA-256, e.g. team_data.3f2a9c1b.dump. A plain name has
# no dot, so the two forms never collide.
emg_file_for() {
  case $emg_db in
    [!$emg_word]* | *[!$emg_word-]*)
      _slug=$(printf '%s' "$emg_db" | tr -c "$emg_word-" '_' | tr -s '_' | cut -c1-40)
      case $_slug in -*) _slug=_${_slug#-} ;; esac
      _hash=$(printf '%s' "$emg_db" | sha256sum | cut -c1-8)
      emg_file=$_slug.$_hash.dump
      ;;
    *) emg_file=$emg_db.dump ;;
  esac
}

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

# The list of databases to dump, one escaped name per line, in $EMG_TMP/names.
# EMG_DATABASES is split on newlines only (IFS), without globbing, so every other character
# is part of a name.
emg_star=no
emg_count=0
set -f
emg_ifs=$IFS
IFS='
'
for emg_line in $EMG_DATABASES; do
  emg_count=$((emg_count + 1))
  [ "$emg_line" != '*' ] || emg_star=yes
  printf '%s\n' "$emg_line"
done >"$EMG_TMP/listed"
IFS=$emg_ifs
set +f
[ "$emg_count" -gt 0 ] || emg_fail "EMG_DATABASES names no database (one name per line, or *)"
if [ "$emg_star" = yes ]; then
  [ "$emg_count" -eq 1 ] ||
    emg_fail "EMG_DATABASES lists * together with other names; * alone means every database"
  # Every database that accepts connections, as pg_dumpall would take them (template
  # databases hold nothing of ours), so one created between two upgrades is never missed.
  # The server escapes the names, so one holding a newline or a tab is still one line.
  if ! psql -X -q -At -v ON_ERROR_STOP=1 -d "$emg_maint_db" >"$EMG_TMP/names" \
    2>"$EMG_TMP/err" <<'SQL'; then
SELECT replace(replace(replace(replace(datname::text, E'\\', E'\\\\'), E'\t', E'\\t'),
                               E'\n', E'\\n'), E'\r', E'\\r')
  FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname;
SQL
    emg_fail "cannot list the databases on $emg_where: $(emg_oneline_file "$EMG_TMP/err")"
  fi
  emg_shown=
  while IFS= read -r emg_esc; do
    emg_shown="$emg_shown $(emg_show "$emg_esc")"
  done <"$EMG_TMP/names"
  emg_log "databases on $emg_where:${emg_shown:- none}"
else
  # A name listed twice is dumped once.
  emg_escape_line <"$EMG_TMP/listed" | awk '!seen[$0]++' >"$EMG_TMP/names"
fi

emg_index=$emg_out/databases.tsv
{
  printf '# em-guard PostgreSQL dumps: file, a tab, then the exact database name'
  printf ' (in which \\\\ stands for a backslash, \\t for a tab, \\n for a newline, \\r for a carriage return)\n'
} >"$emg_index.tmp" || emg_fail "cannot write $emg_index.tmp"

emg_dumped=0
while IFS= read -r emg_esc; do
  emg_unescape "$emg_esc"
  emg_name=$(emg_show "$emg_esc")
  # :'db' makes psql quote the name as a literal, so no name can change the query.
  if ! emg_exists=$(psql -X -q -At -v ON_ERROR_STOP=1 -v db="$emg_db" -d "$emg_maint_db" \
    2>"$EMG_TMP/err" <<'SQL'
SELECT 1 FROM pg_database WHERE datname = :'db';
SQL
  ); then
    emg_fail "cannot check whether database $emg_name exists on $emg_where: $(emg_oneline_file "$EMG_TMP/err")"
  fi
  if [ "$emg_exists" != 1 ]; then
    case $emg_db in
      *' '*) emg_warn "database $emg_name has a space in its name; EMG_DATABASES lists one name per line" ;;
    esac
    if [ "$EMG_PG_MISSING" = fail ]; then
      emg_fail "database $emg_name does not exist on $emg_where (EMG_PG_MISSING=fail)"
    fi
    emg_log "database $emg_name does not exist on $emg_where yet; skipping it (EMG_PG_MISSING=skip)"
    continue
  fi
  emg_file_for
  if cut -f1 "$emg_index.tmp" | grep -Fxq -e "$emg_file"; then
    emg_fail "databases $emg_name and another one map to the same file name $emg_file"
  fi
  # libpq takes PGDATABASE as a plain name, whereas `-d` would read a name holding = or
  # starting with postgresql:// as connection parameters.
  if ! PGDATABASE=$emg_db pg_dump -Fc -f "$emg_out/$emg_file" 2>"$EMG_TMP/err"; then
    emg_fail "pg_dump of database $emg_name on $emg_where failed: $(emg_oneline_file "$EMG_TMP/err")"
  fi
  emg_pg_verify_dump "$emg_out/$emg_file" "database $emg_name on $emg_where"
  printf '%s\t%s\n' "$emg_file" "$emg_esc" >>"$emg_index.tmp" ||
    emg_fail "cannot write $emg_index.tmp"
  emg_log "wrote postgresql/$emg_file ($(emg_size "$emg_out/$emg_file") bytes, $EMG_DUMP_ENTRIES archive entries) for database $emg_name"
  emg_dumped=$((emg_dumped + 1))
done <"$EMG_TMP/names"

# The index appears only once every dump is written, so finalize can tell a finished step.
mv -- "$emg_index.tmp" "$emg_index" || emg_fail "cannot rename $emg_index.tmp to $emg_index"
emg_log "PostgreSQL backup done: $emg_dumped database(s) dumped from $emg_where"
