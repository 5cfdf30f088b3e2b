#!/usr/bin/env bash
# Bot density benchmark (issue 7, "Density"): native recording bots against one meeting with several publishers.
#
#   bench/bot-density.sh [--bots "10 25 50"] [--publishers 3] [--duration 60] [--processes 5] [--compose 1]
#   (PARLEY_BENCH_BUILD=0 reuses the Release builds; WARMUP=S seconds of recording before measuring, default 5;
#    BOT_IMAGE=picture.png makes every in-process bot show it as its camera (bot_image);
#    SERVER_ENV="VAR=value ..." is added to the server's environment, which its `parley bot run` children inherit;
#    PARLEY_DLL=path/parley.dll runs another build, e.g. a ReadyToRun `dotnet publish` like the container image's)
#
# Runs inside a private network namespace (unshare -n; only lo) like bench/sfu-vs-janus.sh. `parley serve` (all
# roles, one media worker) and the publishers (`parley loadtest --publishers P:av`, 500 kbit/s video) are pinned to
# the first core, the bots to the second, so the bots' CPU is theirs alone.
#
# (1) In one process (bench/Parley.BotDensity): N bots, each a real NativeMeetingAdapter (signaling, ICE/DTLS/SRTP,
#     jitter buffers, one WebM per track) joining the load tool's meeting with a bot join token. Over the steady
#     state it reads the process's utime + stime and samples VmRSS and the GC heap: CPU-seconds per bot-minute,
#     bots per core, peak RSS per bot. After leaving it composes --compose recordings with ffmpeg (speaker_view)
#     and reports that cost per recorded minute apart (the bots' own post-processing, not paid while recording).
# (2) Separate processes (--processes M, 0 to skip): M bots through the whole product path, POST /v2/bots → the
#     orchestrator's local platform → `parley bot run` children; reports each child's peak RSS (VmHWM) and its
#     CPU-seconds per minute while recording. These share the server's core (they are its children).
set -euo pipefail

BOTS="10 25 50"
PUBLISHERS=3
DURATION=60
PROCESSES=5
COMPOSE=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bots) BOTS=$2; shift 2 ;;
    --publishers) PUBLISHERS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --processes) PROCESSES=$2; shift 2 ;;
    --compose) COMPOSE=$2; shift 2 ;;
    *) echo "usage: $0 [--bots \"10 25 50\"] [--publishers P] [--duration S] [--processes M] [--compose K]" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ "${PARLEY_BENCH_IN_NS:-}" != 1 ]]; then
  if [[ "${PARLEY_BENCH_BUILD:-1}" == 1 || ! -f "$ROOT/src/Parley/bin/Release/net10.0/parley.dll" ]]; then
    dotnet build "$ROOT/src/Parley/Parley.csproj" -c Release -v q -nologo >&2
  fi
  if [[ "${PARLEY_BENCH_BUILD:-1}" == 1 || ! -f "$ROOT/bench/Parley.BotDensity/bin/Release/net10.0/Parley.BotDensity.dll" ]]; then
    dotnet build "$ROOT/bench/Parley.BotDensity/Parley.BotDensity.csproj" -c Release -v q -nologo >&2
  fi
  exec env PARLEY_BENCH_IN_NS=1 SERVER_ENV="${SERVER_ENV:-}" PARLEY_DLL="${PARLEY_DLL:-}" unshare -n -- "$0" --bots "$BOTS" --publishers "$PUBLISHERS" --duration "$DURATION" --processes "$PROCESSES" --compose "$COMPOSE"
fi

# ---- inside the namespace ----
ip link set lo up
sysctl -qw net.core.rmem_max=26214400 net.core.wmem_max=26214400 net.core.rmem_default=4194304 2>/dev/null || true

NCPU=$(nproc)
SERVER_CORE=0
BOT_CORE=$(( NCPU > 1 ? 1 : 0 ))
WORK=$(mktemp -d /tmp/parley-bot-density.XXXXXX)
export TMPDIR=$WORK/tmp   # the bots record under $TMPDIR/parley-recordings
mkdir -p "$TMPDIR"
PARLEY="dotnet ${PARLEY_DLL:-$ROOT/src/Parley/bin/Release/net10.0/parley.dll}"
HARNESS="dotnet $ROOT/bench/Parley.BotDensity/bin/Release/net10.0/Parley.BotDensity.dll"
KEY=bench-static-api-key-0123456789abcdef
PORT=3401
URL=http://127.0.0.1:$PORT
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
echo "load before: $(uptime)" >&2

(cd "$WORK" && PORT=$PORT HOST=127.0.0.1 PARLEY_DATA_DIR="$WORK/data" RTC_MIN_PORT=32000 RTC_MAX_PORT=32100 RTC_WORKERS=1 \
  ANNOUNCED_IP=127.0.0.1 PARLEY_RATE_LIMIT_PER_SECOND=0 MAX_PARTICIPANTS=1000 LOG_LEVEL=warn STATIC_API_KEY=$KEY \
  PLATFORM_PRIORITY=local LOCAL_BOT_LIMIT=$(( PROCESSES > 0 ? PROCESSES : 1 )) \
  exec env ${SERVER_ENV:-} taskset -c $SERVER_CORE $PARLEY serve >"$WORK/server.log" 2>&1) &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
for _ in $(seq 1 240); do
  curl -sf "$URL/ready" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "parley serve did not start:" >&2; cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.5
done

start_publishers() { # seconds → pid of the load tool
  taskset -c $SERVER_CORE $PARLEY loadtest --url "$URL" --publishers "$PUBLISHERS:av" --video-bitrate 500 \
    --duration "$1" --json >"$WORK/loadtest-$2.json" 2>"$WORK/loadtest-$2.log" &
  echo $!
}

# ---- (1) N bots in one process ----
for n in $BOTS; do
  lt=$(start_publishers $(( DURATION + ${WARMUP:-5} + n / 10 + 90 )) "$n")
  PIDS+=("$lt")
  taskset -c $BOT_CORE $HARNESS --url "$URL" --api-key "$KEY" --bots "$n" --publishers "$PUBLISHERS" --duration "$DURATION" \
    --warmup "${WARMUP:-5}" --ramp 10 --compose "$COMPOSE" ${BOT_IMAGE:+--bot-image "$BOT_IMAGE"} >"$WORK/bots-$n.json" 2>"$WORK/bots-$n.log" || true
  kill "$lt" 2>/dev/null || true
  wait "$lt" 2>/dev/null || true
  rm -rf "$TMPDIR/parley-recordings"
  echo "load after $n bots: $(uptime)" >&2
  sleep 3
done

# ---- (2) M bots as `parley bot run` processes ----
if (( PROCESSES > 0 )); then
  lt=$(start_publishers $(( DURATION + 120 )) processes)
  PIDS+=("$lt")
  python3 - "$URL" "$KEY" "$PROCESSES" "$PUBLISHERS" "$DURATION" "$SERVER_PID" "$(getconf CLK_TCK)" >"$WORK/processes.json" 2>"$WORK/processes.log" <<'PY' || true
import json, os, sys, time, urllib.request
url, key, m, pubs, duration, server, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"x-meeting-baas-api-key": key, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r).get("data")
def log(*a): print("[processes]", *a, file=sys.stderr, flush=True)
meeting = None
for _ in range(240):
    for m_ in call("GET", "/v2/meetings?status=open&limit=20"):
        d = call("GET", f"/v2/meetings/{m_['meeting_id']}")
        if (d.get("participant_count") or 0) >= pubs:
            meeting = d; break
    if meeting: break
    time.sleep(0.5)
log("meeting", meeting["meeting_id"])
bots = [call("POST", "/v2/bots", {"bot_name": f"Process bot {i}", "meeting_url": meeting["join_url"], "recording_mode": "speaker_view"})["bot_id"] for i in range(m)]
def statuses(): return {b: call("GET", f"/v2/bots/{b}")["status"] for b in bots}
deadline = time.time() + 180
while time.time() < deadline and not all(s == "in_call_recording" for s in statuses().values()):
    time.sleep(1)
log("statuses", statuses())
def children():
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit(): continue
        try:
            stat = open(f"/proc/{pid}/stat").read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            cmd = open(f"/proc/{pid}/cmdline").read().split("\0")
        except OSError: continue
        if ppid == server and "bot" in cmd and "run" in cmd: out.append(int(pid))
    return out
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read(); f = f[f.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / hz
def status_kb(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"): return int(line.split()[1])
    return 0
pids = children()
time.sleep(5)  # warm-up: JIT and key frames
c0 = {p: cpu(p) for p in pids}; t0 = time.time()
time.sleep(duration)
c1 = {p: cpu(p) for p in pids}; t1 = time.time()
rss = [status_kb(p, "VmRSS") / 1024 for p in pids]; hwm = [status_kb(p, "VmHWM") / 1024 for p in pids]
def rollup(pid):  # anonymous memory (GC heap, stacks, native allocations) vs file-backed (mapped assemblies, R2R code)
    v = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit(): v[parts[0][:-1]] = int(parts[1]) / 1024
    # Pss divides each shared page among the processes mapping it: M bots on one node share the mapped assemblies.
    return {"anonymous_mb": round(v.get("Anonymous", 0), 1), "file_mb": round(v.get("Rss", 0) - v.get("Anonymous", 0), 1),
            "pss_mb": round(v.get("Pss", 0), 1),
            # Private pages (anonymous, the JIT's code heap, dirty file pages): what one more bot process adds to a node.
            "private_mb": round(v.get("Private_Clean", 0) + v.get("Private_Dirty", 0), 1)}
split = [rollup(p) for p in pids]
minutes = (t1 - t0) / 60
per_min = [(c1[p] - c0[p]) / minutes for p in pids]
for b in bots: call("POST", f"/v2/bots/{b}/leave")
deadline = time.time() + 300
while time.time() < deadline and not all(s in ("completed", "failed") for s in statuses().values()):
    time.sleep(2)
print(json.dumps({"processes": len(pids), "seconds": round(t1 - t0, 1),
  "rss_mb": [round(x, 1) for x in sorted(rss)], "peak_rss_mb": [round(x, 1) for x in sorted(hwm)],
  "cpu_seconds_per_minute": [round(x, 2) for x in sorted(per_min)], "rss_split": split, "final": statuses()}))
PY
  kill "$lt" 2>/dev/null || true
  wait "$lt" 2>/dev/null || true
fi
echo "load at the end: $(uptime)" >&2

# ---- table ----
python3 - "$WORK" "$BOTS" "$PUBLISHERS" "$PROCESSES" <<'PY'
import json, sys, os
work, bots, pubs, processes = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), int(sys.argv[4])
print(f"{'bots':>5} {'recording':>9} {'pubs':>4} {'seconds':>7} {'cpu_s':>7} {'cpu_s/bot-min':>13} {'bots/core':>9} "
      f"{'rss_MB':>7} {'rss/bot':>7} {'Δrss/bot':>8} {'gc_MB':>6} {'kbit/bot':>8} {'tracks':>6} {'alloc_MB/bot-min':>16}")
compose, baselines = [], []
for n in bots:
    try: r = json.load(open(os.path.join(work, f"bots-{n}.json")))
    except Exception:
        print(f"{n:>5} failed: see {work}/bots-{n}.log"); continue
    print(f"{r['bots']:>5} {r['bots_recording_throughout']:>9} {r['publishers']:>4} {r['seconds']:>7} {r['cpu_seconds']:>7} "
          f"{r['cpu_seconds_per_bot_minute']:>13} {r['bots_per_core']:>9} {r['peak_rss_mb']:>7} {r['peak_rss_per_bot_mb']:>7} "
          f"{r['marginal_rss_per_bot_mb']:>8} {r['peak_gc_heap_mb']:>6} {r['recorded_kbit_per_bot']:>8} "
          f"{str(r['tracks_per_bot_min']) + '-' + str(r['tracks_per_bot_max']):>6} {r['allocated_mb_per_bot_minute']:>16}")
    compose += r.get("composition", [])
    baselines.append(str(r["baseline_rss_mb"]))
print("(rss/bot = peak RSS / bots; Δrss/bot = (peak RSS - RSS before the bots joined) / bots; harness RSS before the bots:",
      " / ".join(baselines), "MB)")
for c in compose:
    print(f"post-processing (speaker_view MP4 + FLAC, ffmpeg): {c['recorded_seconds']} s recorded → {c['cpu_seconds']} CPU-s, "
          f"{c['cpu_seconds_per_recorded_minute']} CPU-s per recorded minute, {c['wall_seconds']} s wall; video={c['video']} audio={c['audio']}")
def span_list(vals):
    return f"{min(vals)}-{max(vals)}" if vals else "?"
if processes:
    try:
        p = json.load(open(os.path.join(work, "processes.json")))
        split = p.get("rss_split") or []
        def span(key):
            vals = sorted(x[key] for x in split if key in x)
            return f"{vals[0]}-{vals[-1]}" if vals else "?"
        print(f"separate `parley bot run` processes: {p['processes']}, over {p['seconds']} s: peak RSS MB {span_list(p['peak_rss_mb'])}, "
              f"private MB {span('private_mb')} (anonymous {span('anonymous_mb')}), PSS MB {span('pss_mb')}, "
              f"CPU-s per minute {span_list(p['cpu_seconds_per_minute'])}; final {sorted(p['final'].values())}")
    except Exception:
        print(f"separate processes: failed, see {work}/processes.log")
print("Meeting BaaS seed (self-hosting guide, Bot Pool): a browser bot pod uses 1.5-4 CPU cores and 3-8 GB RAM,"
      " i.e. 90-240 CPU-s per bot-minute and 0.25-0.67 bots per core.")
PY
echo "(reports and logs in $WORK)"
