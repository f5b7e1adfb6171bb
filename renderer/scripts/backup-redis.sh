# em-guard backup-redis: backup Job step that copies the Redis dataset as an RDB snapshot into
# the staging directory of this backup run. Runs after lib.sh.
# Env: EMG_REDIS_HOST, EMG_BACKUP_DIR (required); EMG_REDIS_PORT (default 6379),
# REDISCLI_AUTH (optional password, read by redis-cli from the environment).

emg_require EMG_REDIS_HOST EMG_BACKUP_DIR
EMG_REDIS_PORT=${EMG_REDIS_PORT:-6379}
[ -n "${REDISCLI_AUTH-}" ] || unset REDISCLI_AUTH

umask 077
emg_tmp_init
# shellcheck disable=SC2153 # EMG_REDIS_HOST comes from the environment
emg_where="Redis at $EMG_REDIS_HOST:$EMG_REDIS_PORT"
emg_out=$EMG_BACKUP_DIR/redis
emg_file=$emg_out/dump.rdb
emg_recreate_dir "$emg_out"

# --rdb asks the server for a fresh snapshot over the replication protocol, so it needs no
# access to the server's disk. Its chatter ("sending REPLCONF ...") is kept out of the log.
if ! redis-cli -h "$EMG_REDIS_HOST" -p "$EMG_REDIS_PORT" --rdb "$emg_file" \
  >"$EMG_TMP/out" 2>&1; then
  rm -f -- "$emg_file"
  emg_fail "redis-cli --rdb against $emg_where failed: $(emg_oneline "$(grep -v '^sending ' "$EMG_TMP/out")")"
fi

[ -s "$emg_file" ] || emg_fail "$emg_where produced an empty snapshot $emg_file"
emg_magic=$(head -c 5 "$emg_file")
[ "$emg_magic" = REDIS ] ||
  emg_fail "snapshot $emg_file from $emg_where is not an RDB file (it does not start with REDIS)"
emg_checked="header checked"
if command -v redis-check-rdb >/dev/null 2>&1; then
  if ! redis-check-rdb "$emg_file" >"$EMG_TMP/check" 2>&1; then
    emg_fail "redis-check-rdb rejected snapshot $emg_file from $emg_where: $(emg_oneline "$(tail -n 3 "$EMG_TMP/check")")"
  fi
  emg_checked="redis-check-rdb OK"
fi
emg_log "wrote redis/dump.rdb ($(emg_size "$emg_file") bytes, $emg_checked) from $emg_where"
