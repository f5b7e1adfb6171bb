# em-guard wait-http: init container that holds a service back until an HTTP endpoint
# answers with a 2xx status. Runs after lib.sh.
# Env: EMG_URL (required), EMG_WHAT (required, e.g. "Keycloak"), EMG_TIMEOUT, EMG_INTERVAL.

emg_require EMG_URL EMG_WHAT

# Credentials in the URL must not reach the logs.
emg_where=$(printf '%s\n' "$EMG_URL" | sed 's#^\([A-Za-z][A-Za-z0-9+.-]*://\)[^/@]*@#\1#')

# Redirects are not followed: a health endpoint that redirects (usually to a login page) is
# the wrong URL, and saying so beats reporting it ready.
emg_http_ready() {
  _code=$(curl -sS -o /dev/null -w '%{http_code}' --connect-timeout "$EMG_ATTEMPT_TIMEOUT" \
    --max-time $((EMG_ATTEMPT_TIMEOUT * 2)) --url "$EMG_URL") || return 1
  case $_code in
    2??) return 0 ;;
    3??) printf 'HTTP status %s (redirects are not followed; point EMG_URL at the final address)\n' "$_code" ;;
    *) printf 'HTTP status %s\n' "$_code" ;;
  esac
  return 1
}

emg_wait "$EMG_WHAT at $emg_where" emg_http_ready
