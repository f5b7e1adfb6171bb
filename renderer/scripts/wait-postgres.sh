# em-guard wait-postgres: init container that holds a service back until PostgreSQL accepts
# connections. Runs after lib.sh.
# Env: PGHOST (required), PGPORT (default 5432), PGUSER, PGPASSWORD, PGDATABASE (optional;
# pg_isready reads them itself), EMG_TIMEOUT, EMG_INTERVAL.

emg_require PGHOST
PGPORT=${PGPORT:-5432}
export PGPORT

# pg_isready only checks that the server answers (it never authenticates), which is what
# "the database is up" means for ordering; its own "- no response" line is the error text.
emg_pg_ready() {
  pg_isready -h "$PGHOST" -p "$PGPORT" -t "$EMG_ATTEMPT_TIMEOUT"
}

emg_wait "PostgreSQL at $PGHOST:$PGPORT" emg_pg_ready
