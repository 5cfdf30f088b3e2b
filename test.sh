#!/usr/bin/env bash
# The one test command: installs what the tests need, builds, starts throwaway PostgreSQL and Redis (and
# moto_server when installed) on loopback inside a private network namespace, runs every test, stops the
# servers and exits with the tests' status. Safe to run twice in a row; leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

log() { printf '[test.sh] %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------------------
# 1. Prerequisites (Debian packages), installed only when missing and only when we may.
# ---------------------------------------------------------------------------------------------------------
pg_bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

missing=()
pg_bin_dir >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Headless Chromium for the WebRTC interop and browser tests (Debian's package; Playwright never downloads one).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# ffmpeg: the recording bot's post-processing; coturn: TURN for meetings; janus: the SFU benchmark's peer.
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v turnserver >/dev/null 2>&1 || missing+=(coturn)
command -v janus >/dev/null 2>&1 || [ -x /usr/bin/janus ] || missing+=(janus)
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "missing packages: ${missing[*]} (run as root to install them with apt-get); tests that need them will fail"
  fi
fi

# ---------------------------------------------------------------------------------------------------------
# 2. Restore and build while the network is still reachable (NuGet).
# ---------------------------------------------------------------------------------------------------------
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log "restoring and building"
dotnet restore Parley.slnx --verbosity quiet
dotnet build Parley.slnx --no-restore --configuration Debug --verbosity quiet -clp:NoSummary

# ---------------------------------------------------------------------------------------------------------
# 3. Servers and tests, inside a private network namespace when we can make one.
# ---------------------------------------------------------------------------------------------------------
inner() {
  set -euo pipefail
  local work pg_bin pg_port redis_port moto_port status=0
  work=$(mktemp -d /tmp/parley-test.XXXXXX)
  chmod 755 "$work"

  free_port() {
    # Asks the kernel for a free loopback port; in a fresh namespace every port is free anyway.
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  }

  as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
  }

  cleanup() {
    set +e
    [ -n "${pg_bin:-}" ] && [ -f "$work/pg/postmaster.pid" ] && as_postgres "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1
    [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null
    [ -f "$work/moto.pid" ] && kill "$(cat "$work/moto.pid")" 2>/dev/null
    rm -rf "$work"
  }
  trap cleanup EXIT

  if [ "${PARLEY_NETNS:-0}" = 1 ]; then
    ip link set lo up
  fi

  # PostgreSQL: a throwaway cluster, trust auth on loopback only, no fsync (it is thrown away).
  if pg_bin=$(pg_bin_dir); then
    pg_port=$(free_port)
    mkdir -p "$work/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$work/pg"
    as_postgres "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust --no-sync -E UTF8 >"$work/initdb.log" 2>&1 \
      || { cat "$work/initdb.log" >&2; exit 1; }
    as_postgres "$pg_bin/pg_ctl" -D "$work/pg" -w -t 60 -l "$work/pg/server.log" \
      -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    export PARLEY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
    log "PostgreSQL on 127.0.0.1:$pg_port"
  else
    log "PostgreSQL is not installed: PostgreSQL tests will fail"
  fi

  if command -v redis-server >/dev/null 2>&1; then
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --pidfile "$work/redis.pid" --dir "$work" --logfile "$work/redis.log"
    for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    export PARLEY_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
    log "Redis on 127.0.0.1:$redis_port"
  else
    log "Redis is not installed: Redis tests will fail"
  fi

  if command -v moto_server >/dev/null 2>&1; then
    moto_port=$(free_port)
    moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
    echo $! >"$work/moto.pid"
    for _ in $(seq 1 100); do
      python3 -c "import socket; socket.create_connection(('127.0.0.1',$moto_port),0.2)" 2>/dev/null && break
      sleep 0.1
    done
    export PARLEY_TEST_AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
    log "moto_server on 127.0.0.1:$moto_port"
  fi

  log "running tests"
  # The full log goes to a file as well, so that the end of the output can repeat what failed: a CI page that
  # shows only the last lines still names the failing tests and any crashed test host.
  dotnet test Parley.slnx --no-build --configuration Debug --verbosity quiet \
    --logger "console;verbosity=normal" -- RunConfiguration.TreatNoTestsAsError=false 2>&1 \
    | tee "$work/test.log" || status=$?
  summarize "$work/test.log" "$status"
  exit $status
}

# Repeats, after all the output, every failed test with its first error lines, aborted or crashed test hosts, and
# the totals over every test project.
summarize() {
  local logfile=$1 status=$2
  echo
  echo "================================ test summary ================================"
  awk '/^ *Total tests: [0-9]+/ {runs++; total+=$3} /^ *Passed: [0-9]+/ {passed+=$2}
       /^ *Failed: [0-9]+/ {failed+=$2} /^ *Skipped: [0-9]+/ {skipped+=$2}
       END {printf "test runs: %d, tests: %d, passed: %d, failed: %d, skipped: %d\n", runs, total, passed, failed, skipped}' "$logfile"
  if grep -qE '^\s*Failed [A-Za-z]|Test Run Aborted|Test host process crashed|The active test run was aborted' "$logfile"; then
    echo "--- failures ---"
    grep -E -A12 '^\s*Failed [A-Za-z]' "$logfile" | head -400 || true
    grep -E -B2 -A8 'Test Run Aborted|Test host process crashed|The active test run was aborted' "$logfile" | head -100 || true
  fi
  echo "dotnet test exit status: $status"
}

export -f inner pg_bin_dir log summarize
export ROOT
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
  log "entering a private network namespace (only 127.0.0.1 exists there)"
  PARLEY_NETNS=1 unshare -n bash -c inner
else
  log "cannot create a network namespace here (unshare -n needs root); running on loopback directly"
  PARLEY_NETNS=0 bash -c inner
fi
