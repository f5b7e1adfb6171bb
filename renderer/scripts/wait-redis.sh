# em-guard wait-redis: init container that holds a service back until Redis answers PING.
# Runs after lib.sh.
# Env: EMG_REDIS_HOST (required), EMG_REDIS_PORT (default 6379), REDISCLI_AUTH (optional
# password, read by redis-cli from the environment so it never appears in `ps`),
# EMG_TIMEOUT, EMG_INTERVAL.

emg_require EMG_REDIS_HOST
EMG_REDIS_PORT=${EMG_REDIS_PORT:-6379}
# An empty REDISCLI_AUTH would make redis-cli send AUTH with an empty password.
[ -n "${REDISCLI_AUTH-}" ] || unset REDISCLI_AUTH

# redis-cli exits 0 even for error replies (NOAUTH, WRONGPASS, LOADING), so only an exact
# PONG counts; anything else is shown as the reason.
emg_redis_ready() {
  # shellcheck disable=SC2153 # EMG_REDIS_HOST comes from the environment
  _reply=$(emg_with_timeout "$EMG_ATTEMPT_TIMEOUT" \
    redis-cli -h "$EMG_REDIS_HOST" -p "$EMG_REDIS_PORT" PING 2>&1)
  _status=$?
  [ "$_reply" = PONG ] && return 0
  if [ "$_status" -eq 124 ]; then
    printf 'no reply within %ss\n' "$EMG_ATTEMPT_TIMEOUT"
  else
    printf '%s\n' "${_reply:-no reply (redis-cli exit status $_status)}"
  fi
  return 1
}

emg_wait "Redis at $EMG_REDIS_HOST:$EMG_REDIS_PORT" emg_redis_ready
