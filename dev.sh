#!/usr/bin/env bash
# The project's two set-up commands (see README):
#   ./dev.sh demo   build em-guard-render and run it on the bundled sample em-runtime release
#   ./dev.sh test   build everything with warnings as errors and run every test
#   ./dev.sh asan   the same tests, built with AddressSanitizer + UndefinedBehaviorSanitizer
#                   (less the ones that only run the generated shell scripts)
#   ./dev.sh fuzz [SECONDS]  build the libFuzzer targets (clang) and run each for SECONDS (60)
#   ./dev.sh package  build (preset release) the Helm 4 plugin archive em-guard-<version>.tgz
#   ./dev.sh help   this text
# Each installs the Debian packages it needs first (apt-get as root, sudo otherwise).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  g++ cmake ninja-build pkg-config clang-format
  libboost-dev libssl-dev libyaml-cpp-dev nlohmann-json3-dev libvalijson-dev
  libgtest-dev googletest
  # The tests run the generated scripts against real servers and tools:
  postgresql postgresql-client redis-server redis-tools curl openssl
  # The tests validate the JUnit XML reports against Jenkins' schema with xmllint:
  libxml2-utils
  # The container scripts are checked with shellcheck and run under busybox sh as well as dash
  # (the injected containers' images use either):
  shellcheck busybox
)

# The fuzz targets need clang and its libFuzzer/sanitizer runtimes.
FUZZ_PACKAGES=(clang libclang-rt-14-dev)

install_packages() {
  local missing=() package
  # kubectl for the tests that run the scripts' real `kubectl` against a stand-in API: Debian's
  # kubernetes-client, unless a kubectl is already installed (another package owns the path).
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
  for package in "${PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}" >&2
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "dev.sh: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  # A freshly installed server package may start its own instance; the tests start their own.
}

build() {
  local preset=$1
  shift
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" "$@"
}

# Every C++ file as clang-format (.clang-format) would write it.
check_format() {
  local unformatted
  unformatted=$(git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run 2>&1 | grep -c warning || true)
  if [ "$unformatted" -ne 0 ]; then
    git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run 2>&1 | grep warning | head -20
    echo "dev.sh: $unformatted lines not clang-formatted (run: git ls-files '*.cpp' '*.hpp' | xargs clang-format -i)" >&2
    exit 1
  fi
}

# The demo's webhook server, while it runs: stop_demo_webhook (the EXIT trap demo_webhook sets)
# ends it on every exit path, so a failed step, set -e or Ctrl-C never leaves it behind.
demo_webhook_pid=""

# Ends the server if it still runs: SIGTERM, at most 10 s for the drain, then SIGKILL. Returns
# the server's exit status (0 when there was none to stop).
stop_demo_webhook() {
  local pid=$demo_webhook_pid status=0
  demo_webhook_pid=""
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "dev.sh: the webhook did not drain within 10 s of SIGTERM: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || status=$?
  return "$status"
}

# The admission webhook on 127.0.0.1 with dev certificates: one review denied, one warned, then
# SIGTERM and a clean drain.
demo_webhook() {
  local out=$1 log port="" path status=0 deadline
  echo "== em-guard-webhook serve: an AdmissionReview for a Pod running nginx:latest"
  certs-dev/make-certs.sh --out "$out/certs" >/dev/null
  log=$out/webhook.log
  : >"$log"  # there before the server starts: reading it below never races its creation
  trap 'stop_demo_webhook || true' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  build/release/webhook/em-guard-webhook serve --listen 127.0.0.1:0 \
    --tls-cert "$out/certs/tls.crt" --tls-key "$out/certs/tls.key" 2>"$log" &
  demo_webhook_pid=$!
  # The port from the "listening" line (digits followed by more of the line, so never a
  # half-written number); at most 10 s, and no longer than the server lives.
  deadline=$((SECONDS + 10))
  while :; do
    port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9][0-9]*\)[^0-9].*/\1/p' "$log")
    [ -n "$port" ] && break
    if ! kill -0 "$demo_webhook_pid" 2>/dev/null; then
      echo "dev.sh: the webhook exited before it listened; its log ($log):" >&2
      cat "$log" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "dev.sh: the webhook did not listen within 10 s; its log ($log):" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.05
  done
  for path in /validate/production /validate/staging; do
    echo "-- POST $path"
    curl -sS --max-time 5 --cacert "$out/certs/ca.crt" -H 'Content-Type: application/json' \
      --data @tests/fixtures/readme/review.json "https://localhost:$port$path"
    echo
  done
  stop_demo_webhook || status=$?
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ]; then
    echo "dev.sh: the webhook exited with status $status on SIGTERM (log: $log)" >&2
    return 1
  fi
  echo "-- SIGTERM: drained, exit 0 (decision log: $log)"
}

demo() {
  install_packages
  build release --target em-guard-render em-guard-webhook
  local out=build/demo
  mkdir -p "$out"
  echo
  echo "== em-guard-render on charts/em-runtime-sample/rendered.yaml (as Helm 3 would run it)"
  build/release/renderer/em-guard-render --explain \
    < charts/em-runtime-sample/rendered.yaml > "$out/em-runtime.gated.yaml"
  echo
  echo "== a Helm 4 rendering (postrender-filename annotations): the backup is a pre-upgrade hook"
  build/release/renderer/em-guard-render --explain \
    < tests/fixtures/render/helm4-release.yaml > "$out/em-runtime.helm4.yaml"
  echo
  echo "== idempotent: rendering the output again changes nothing"
  # setsid: with stderr discarded em-guard-render would show its notices on the terminal.
  setsid -w build/release/renderer/em-guard-render < "$out/em-runtime.gated.yaml" 2>/dev/null |
    cmp - "$out/em-runtime.gated.yaml" && echo "same bytes"
  echo
  echo "== em-guard-webhook check: the rendered release (injected objects included) against the policy"
  build/release/webhook/em-guard-webhook check -f "$out/em-runtime.gated.yaml" --namespace em-runtime
  echo
  echo "== the same release with a floating image: production rejects it, staging warns"
  sed 's|em-governance:1.8.2|em-governance:latest|' charts/em-runtime-sample/rendered.yaml \
    > "$out/em-runtime.latest.yaml"
  build/release/webhook/em-guard-webhook check -f "$out/em-runtime.latest.yaml" \
    --namespace em-runtime && echo "unexpected: accepted" || echo "(exit $?: rejected)"
  build/release/webhook/em-guard-webhook check -f "$out/em-runtime.latest.yaml" \
    --environment staging | tail -n 1
  echo
  echo "== policy test suites (tests/policy-suites)"
  build/release/webhook/em-guard-webhook test tests/policy-suites | tail -n 1
  echo
  demo_webhook "$out"
  echo
  echo "Full output: $out/em-runtime.gated.yaml and $out/em-runtime.helm4.yaml"
  echo "Helm plugin directory (helm plugin install): build/release/helm-plugin/em-guard"
}

# Each container script as it is injected (lib.sh first, then the script), so shellcheck sees
# the functions and variables lib.sh defines.
check_scripts() {
  local script status=0
  for script in renderer/scripts/*.sh; do
    [ "$script" = renderer/scripts/lib.sh ] && continue
    cat renderer/scripts/lib.sh "$script" | shellcheck --shell=sh - ||
      { echo "dev.sh: shellcheck: $script (after lib.sh)" >&2; status=1; }
  done
  shellcheck --shell=sh renderer/scripts/lib.sh || status=1
  return "$status"
}

# The tests that run the generated scripts, once more under busybox sh: ctest ran them under
# /bin/sh (dash on Debian); tests/support/script_runner.cpp reads EMGUARD_TEST_SHELL.
run_script_tests_under_busybox() {
  echo "dev.sh: the script tests again, under busybox sh"
  EMGUARD_TEST_SHELL="busybox sh" build/ci/tests/emguard_tests --gtest_brief=1 \
    --gtest_filter="$SHELL_SCRIPT_TESTS"
}

run_tests() {
  install_packages
  check_format
  check_scripts
  build ci
  ctest --preset ci
  run_script_tests_under_busybox
}

# The sanitizers watch em-guard's own C++: the tests that run the generated shell scripts against
# real PostgreSQL, Redis and kubectl exercise /bin/sh, not our code, and already ran in `test`.
# The rest run in one process: ctest would start one per test, which under the sanitizers costs
# more than the tests themselves (385 s against 188 s here). LeakSanitizer still checks at exit,
# and `timeout` stands in for ctest's per-test limit.
SHELL_SCRIPT_TESTS='BackupFinalize.*:BackupPostgres.*:BackupPrepare.*:BackupRedis.*:BackupSecrets.*:RealKubectl.*:ScriptsContract.*:WaitHttp.*:WaitPostgres.*:WaitRedis.*:Gate.*'

run_tests_under_sanitizers() {
  install_packages
  build asan
  timeout 1500 build/asan/tests/emguard_tests --gtest_brief=1 --gtest_filter="-$SHELL_SCRIPT_TESTS"
}

package() {
  install_packages
  build release --target package
  local version
  version=$(sed -n 's/^version: //p' build/release/helm-plugin/em-guard/plugin.yaml)
  echo "Helm 4 plugin: build/release/helm-plugin/em-guard (folder),"
  echo "  build/release/em-guard-$version.tgz (archive; README \"Helm 4\" says how to install each)"
}

run_fuzz() {
  install_packages "${FUZZ_PACKAGES[@]}"
  tests/fuzz/run "${1:-60}"
}

case "${1:-}" in
  demo) demo ;;
  test) run_tests ;;
  asan) run_tests_under_sanitizers ;;
  fuzz) run_fuzz "${2:-60}" ;;
  package) package ;;
  help | -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) echo "usage: ./dev.sh demo|test|asan|fuzz [SECONDS]|package|help" >&2; exit 2 ;;
esac
