#!/usr/bin/env bash
# Bot creation throughput through the HTTP API: POST /v2/bots at increasing concurrency with wrk, against
# embedded SQLite and against PostgreSQL, one `parley serve` (Release build) at a time on this machine.
# Prints creates/s and latency p50/p99 per run. Usage: bench/bots-create.sh [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONCURRENCY=${CONCURRENCY:-"1 8 32 64"}
KEY=bench-key-0123456789abcdef0123456789
work=$(mktemp -d /tmp/parley-bench.XXXXXX)
chmod 755 "$work"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
server_pid=""

cleanup() {
  set +e
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -f "$work/pg/postmaster.pid" ] && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
dotnet build src/Parley -c Release -v quiet -clp:NoSummary >/dev/null
PARLEY=src/Parley/bin/Release/net10.0/parley

cat >"$work/create.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["x-meeting-baas-api-key"] = "bench-key-0123456789abcdef0123456789"
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"bot_name":"bench %d","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"n":%d}}', counter, counter)
  return wrk.format(nil, "/v2/bots", nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

start_server() { # $1 = label, rest = env assignments
  local label=$1; shift
  local port=$((20000 + RANDOM % 20000))
  env "$@" PORT=$port HOST=127.0.0.1 STATIC_API_KEY=$KEY PARLEY_RATE_LIMIT_PER_SECOND=0 LOG_LEVEL=warn \
    PARLEY_DATA_DIR="$work/data-$label" PARLEY_MIGRATE_ON_START=true "$PARLEY" serve --roles api >"$work/$label.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$port/ready" >/dev/null || { cat "$work/$label.log"; exit 1; }
  server_port=$port
}

run_suite() { # $1 = label, $2 = port
  wrk -t1 -c8 -d3s -s "$work/create.lua" "http://127.0.0.1:$2" >/dev/null  # warm-up (JIT, pools)
  for c in $CONCURRENCY; do
    local threads=$(( c < 2 ? 1 : 2 ))
    local line
    line=$(wrk -t$threads -c"$c" -d"${DURATION}s" -s "$work/create.lua" "http://127.0.0.1:$2" | grep '^RESULT')
    read -r _ rps p50 p99 total errors <<<"$line"
    printf '%-10s %11s %10s %9s ms %9s ms %8s\n' "$1" "$c" "$rps" "$p50" "$p99" "$errors"
  done
}

printf '%-10s %11s %10s %12s %12s %8s\n' database concurrency creates/s p50 p99 errors
start_server sqlite
run_suite sqlite "$server_port"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

mkdir -p "$work/pg" && chown postgres "$work/pg"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust >/dev/null
pg_port=$((40000 + RANDOM % 10000))
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -w -l "$work/pg/server.log" -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
start_server postgres DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
run_suite postgres "$server_port"
