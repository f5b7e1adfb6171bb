# em-guard wait-redis: init container that holds a service back until Redis answers PING.
# Runs after lib.sh.
# Env: EMG_REDIS_HOST (required), EMG_REDIS_PORT (default 6379), REDISCLI_AUTH (optional
# password, read by redis-cli from the environment so it never appears in `ps`),
# EMG_TIMEOUT, EMG_INTERVAL.

emg_require EMG_REDIS_HOST
EMG_REDIS_PORT=${EMG_REDIS_PORT:-6379}
# An empty REDISCLI_AUTH would make redis-cli send AUTH with an empty password.
[ -n "${REDISCLI_AUTH-}" ] || unset REDISCLI_AUTH
# shellcheck disable=SC2153 # EMG_REDIS_HOST comes from the environment
emg_where="Redis at $EMG_REDIS_HOST:$EMG_REDIS_PORT"

# redis-cli exits 0 even for error replies (NOAUTH, WRONGPASS, LOADING), so only an exact
# PONG counts; anything else is shown as the reason. A refused password is final: waiting
# cannot fix it, so the check returns EMG_FATAL and the wait stops at once. A server that is
# down, loading or not resolvable yet is waited for.
emg_redis_ready() {
  _reply=$(emg_with_timeout "$EMG_ATTEMPT_TIMEOUT" \
    redis-cli -h "$EMG_REDIS_HOST" -p "$EMG_REDIS_PORT" PING 2>&1)
  _status=$?
  [ "$_reply" = PONG ] && return 0
  if [ "$_status" -eq 124 ]; then
    printf 'no reply within %ss\n' "$EMG_ATTEMPT_TIMEOUT"
    return 1
  fi
  # redis-cli prints "AUTH failed: <reply>" and then the command's own NOAUTH: the first
  # line is the one that says why.
  _first=$(printf '%s\n' "$_reply" | head -n 1)
  case $_reply in
    *WRONGPASS* | *'invalid password'* | *'invalid username-password pair'*)
      printf '%s rejected the password: %s; not retrying, since a wrong password does not fix itself: check credentials.*.redis.password in the em-guard configuration\n' \
        "$emg_where" "$_first"
      return "$EMG_FATAL"
      ;;
    *'without any password configured'*)
      printf '%s has no password, but one is configured: %s; not retrying: remove credentials.*.redis.password from the em-guard configuration or set a password on the server\n' \
        "$emg_where" "$_first"
      return "$EMG_FATAL"
      ;;
    *NOAUTH*)
      if [ -z "${REDISCLI_AUTH-}" ]; then
        printf '%s requires a password, but none is configured: %s; not retrying: set credentials.*.redis.password in the em-guard configuration\n' \
          "$emg_where" "$_first"
      else
        printf '%s did not accept the password: %s; not retrying: check credentials.*.redis.password in the em-guard configuration\n' \
          "$emg_where" "$_first"
      fi
      return "$EMG_FATAL"
      ;;
    *NOPERM*)
      printf '%s does not let this user run PING: %s; not retrying: grant the user +ping (or connect as another user)\n' \
        "$emg_where" "$_first"
      return "$EMG_FATAL"
      ;;
    'Could not connect to Redis at '*)
      if _why=$(emg_dns_problem "$EMG_REDIS_HOST"); then
        printf '%s\n' "$_why"
        return 1
      fi
      ;;
  esac
  printf '%s\n' "${_reply:-no reply (redis-cli exit status $_status)}"
  return 1
}

emg_wait "$emg_where" emg_redis_ready
