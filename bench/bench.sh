#!/usr/bin/env bash
# bench/bench.sh - media forwarding benchmark (`make bench`). See
# bench/README.md.
#
#   bash bench/bench.sh [BUILD_DIR]
#
# Phases, one after the other, at the same shape (BENCH_PHASES):
#   tribune-1w   tribune with rtc.workers = 1 pinned to one CPU, driven by
#                tribune-load (real LiveKit participants: signaling, ICE,
#                DTLS, SRTP, Opus) pinned to another: the per-core figure
#   tribune-all  the same with rtc.workers = all CPUs, tribune not pinned
#   baseline     below
#   ramp         (only when asked: BENCH_PHASES="ramp") tribune-1w at a
#                growing fan-out, to the highest held at < 0.1 % loss and
#                p99 < 5 ms
# Each tribune phase samples tribune's CPU time when tribune-load opens its
# measured window ("measuring" in its log) and when it closes it
# ("draining"), so joins and handshakes are left out; packets out are what
# tribune-load received in the window. The summary, with the ratio of
# tribune's pps_per_core to the baseline's, is bench/results/latest.json
# (bench/summary.py).
#
# The baseline: tribune-baseline-relay (a bare UDP
# relay: recvmmsg -> sendmmsg to every subscriber, no crypto, no routing;
# tools/baseline/udp_relay.c) pinned to one CPU, driven by
# tribune-baseline-load (tools/baseline/udp_load.c) pinned to another, at
# the shape below. It reads the relay's CPU time (utime+stime of all its
# threads, /proc/PID/stat) before and after the load run and its RSS
# (/proc/PID/status), and computes
#   forward_pps   packets the relay sent / sending time
#   pps_per_core  packets the relay sent / relay CPU seconds
# It prints a table and writes bench/results/baseline-latest.json; logs are
# in bench/results/bench-logs/. The tribune phase (tribune with
# rtc.workers = 1, then all cores, driven by tribune-load) will reuse the
# same helpers: start_pinned, cpu_seconds, rss_kib, measure_phase.
#
# Environment knobs (defaults in brackets):
#   BENCH_ROOMS [10]  BENCH_PUBLISHERS [1]  BENCH_SUBSCRIBERS [20] (per room)
#   BENCH_DURATION [10] s  BENCH_SIZE [120] bytes  BENCH_PTIME [20] ms
#   BENCH_LOAD_THREADS [1]  BENCH_RECV_TICK [0] us (tribune-baseline-load --recv-tick)
#   BENCH_SERVER_CPU [0]  BENCH_LOAD_CPU [1]  CPUs for taskset -c
#   BENCH_PIN [1]         0: no pinning (forced when the host has 1 CPU)
#   BENCH_BASELINE_OUT [bench/results/baseline-latest.json]
#
# Exit status: 0 when the phase ran (loss is reported, not fatal), 1 when
# a tool is missing, the relay did not start, or the load generator failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RELAY=$BUILD/tools/baseline/tribune-baseline-relay
LOAD=$BUILD/tools/baseline/tribune-baseline-load
TRIBUNE=$BUILD/tribune
TLOAD=$BUILD/tribune-load
BENCH_SECRET=bench_secret_0123456789_0123456789_abcdef

ROOMS=${BENCH_ROOMS:-10}
PUBLISHERS=${BENCH_PUBLISHERS:-1}
SUBSCRIBERS=${BENCH_SUBSCRIBERS:-20}
DURATION=${BENCH_DURATION:-10}
SIZE=${BENCH_SIZE:-120}
PTIME=${BENCH_PTIME:-20}
LOAD_THREADS=${BENCH_LOAD_THREADS:-1}
RECV_TICK=${BENCH_RECV_TICK:-0}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}
PIN=${BENCH_PIN:-1}
OUTDIR=$ROOT/bench/results
LOGDIR=$OUTDIR/bench-logs
BASELINE_OUT=${BENCH_BASELINE_OUT:-$OUTDIR/baseline-latest.json}
SUMMARY_OUT=${BENCH_OUT:-$OUTDIR/latest.json}
PHASES=${BENCH_PHASES:-tribune-1w tribune-all baseline}
RAMP_STEPS=${BENCH_RAMP_STEPS:-20 40 80 160}
RATE=${BENCH_RATE:-100}
START_TIMEOUT_S=5               # a server must say it listens within this
LOAD_TIMEOUT_S=$((DURATION + 200))  # the load run at most (registration retries included)

for v in ROOMS PUBLISHERS SUBSCRIBERS DURATION SIZE PTIME LOAD_THREADS RECV_TICK SERVER_CPU LOAD_CPU; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench: BENCH_$v must be a number, not '${!v}'" >&2; exit 1; }
done
for tool in python3 getconf timeout curl; do
    command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 1; }
done
for exe in "$RELAY" "$LOAD" "$TRIBUNE" "$TLOAD"; do
    [[ -x $exe ]] || { echo "bench: $exe not found; build first (ninja -C $BUILD)" >&2; exit 1; }
done
NCPU=$(nproc)
if [[ $PIN == 1 ]] && (( NCPU < 2 )); then
    echo "bench: 1 CPU only: server and load generator share it (figures are pessimistic)" >&2
    PIN=0
fi
if [[ $PIN == 1 ]]; then
    command -v taskset >/dev/null || { echo "bench: taskset not found (Debian: util-linux)" >&2; exit 1; }
    (( SERVER_CPU < NCPU && LOAD_CPU < NCPU )) || { echo "bench: CPU $SERVER_CPU or $LOAD_CPU does not exist ($NCPU CPUs)" >&2; exit 1; }
fi
CLK_TCK=$(getconf CLK_TCK)
mkdir -p "$LOGDIR" "$(dirname "$BASELINE_OUT")"
rm -f "$LOGDIR"/*.log "$LOGDIR"/*.json "$LOGDIR"/*.env

# ---- process bookkeeping: every process started here is stopped by PID ----
PIDS=()
stop_pid() {   # stop_pid PID: SIGTERM, up to 3 s, then SIGKILL
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317  # (invoked by the EXIT trap)
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- measurement helpers (shared by every phase) ----
pin_prefix() {   # pin_prefix CPU: the taskset words for CPU, or nothing
    if [[ $PIN == 1 ]]; then echo "taskset -c $1"; fi
}

# start_pinned CPU LOG CMD...: CMD in the background on CPU, stdout and
# stderr to LOG; its PID in STARTED_PID (taskset execs CMD: same PID).
start_pinned() {
    local cpu=$1 log=$2
    shift 2
    # shellcheck disable=SC2046
    $(pin_prefix "$cpu") "$@" >"$log" 2>&1 </dev/null &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
}

# run_pinned CPU LOG TIMEOUT_S CMD...: CMD in the foreground on CPU; its status.
run_pinned() {
    local cpu=$1 log=$2 limit=$3 rc=0
    shift 3
    # shellcheck disable=SC2046
    timeout --kill-after=5 "$limit" $(pin_prefix "$cpu") "$@" >"$log" 2>&1 </dev/null || rc=$?
    return "$rc"
}

# cpu_seconds PID: utime + stime of the process (all threads), in seconds.
cpu_seconds() {
    local stat
    stat=$(<"/proc/$1/stat") || return 1
    stat=${stat##*) }   # the fields after "(comm)"; comm may hold spaces
    awk -v tck="$CLK_TCK" '{ printf "%.3f\n", ($12 + $13) / tck }' <<<"$stat"
}

# rss_kib PID / hwm_kib PID: resident set now / at its peak, KiB.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
# anon_kib PID: the private anonymous part of the RSS (heap, stacks): RSS
# also counts the pages of shared libraries, shared with other processes.
anon_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }

# host_steal_seconds: CPU time the hypervisor took from this host (all
# CPUs; /proc/stat). The busy columns there are sampled on the tick and
# miss short bursts, so they are not used to find other work.
host_steal_seconds() {
    awk -v tck="$CLK_TCK" '/^cpu / { printf "%.2f\n", $9 / tck; exit }' /proc/stat
}

# wait_log FILE REGEX TIMEOUT_S PID: until FILE matches REGEX; fails when
# PID exits or the time is up.
wait_log() {
    local file=$1 re=$2 limit=$3 pid=$4 i
    for ((i = 0; i < limit * 20; i++)); do
        grep -Eq "$re" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# measure_phase NAME SERVER_PID LOAD_LOG -- LOAD_CMD...: runs the load
# generator pinned to LOAD_CPU and records the server's CPU seconds over
# the run, its RSS after it, and the wall time, in $LOGDIR/NAME.env
# (KEY=VALUE lines); the load generator's status is its status.
measure_phase() {
    local name=$1 pid=$2 log=$3 rc=0 cpu0 cpu1 steal0 steal1 t0 t1 rss hwm alive=1
    shift 4
    cpu0=$(cpu_seconds "$pid") || { echo "bench: $name: server $pid is gone" >&2; return 1; }
    steal0=$(host_steal_seconds)
    t0=$(date +%s.%N)
    run_pinned "$LOAD_CPU" "$log" "$LOAD_TIMEOUT_S" "$@" || rc=$?
    t1=$(date +%s.%N)
    steal1=$(host_steal_seconds)
    if cpu1=$(cpu_seconds "$pid" 2>/dev/null); then
        rss=$(rss_kib "$pid") hwm=$(hwm_kib "$pid")
    else
        cpu1=$cpu0 rss=0 hwm=0 alive=0
    fi
    cat >"$LOGDIR/$name.env" <<EOF
load_exit=$rc
server_alive=$alive
server_cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.3f", b - a }')
server_rss_kib=$rss
server_hwm_kib=$hwm
wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
host_steal_s=$(awk -v a="$steal0" -v b="$steal1" 'BEGIN { printf "%.2f", b - a }')
EOF
    return "$rc"
}

# ---- phases ----
# phase_baseline: the bare UDP relay on SERVER_CPU, tribune-baseline-load on
# LOAD_CPU; its counters (printed by the relay at exit) join the .env file.
phase_baseline() {
    local log=$LOGDIR/baseline-relay.log port pid rc=0
    local max_rooms=$((ROOMS > 1024 ? ROOMS : 1024)) max_subs=$((SUBSCRIBERS > 1024 ? SUBSCRIBERS : 1024))
    start_pinned "$SERVER_CPU" "$log" "$RELAY" --port 0 --max-rooms "$max_rooms" --max-subs "$max_subs"
    pid=$STARTED_PID
    if ! wait_log "$log" 'listening on 127\.0\.0\.1:[0-9]+' "$START_TIMEOUT_S" "$pid"; then
        echo "bench: tribune-baseline-relay did not start:" >&2
        cat "$log" >&2
        return 1
    fi
    port=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$log" | head -n 1)
    measure_phase baseline "$pid" "$LOGDIR/baseline-load.log" -- \
        "$LOAD" --server "127.0.0.1:$port" --rooms "$ROOMS" --publishers "$PUBLISHERS" \
        --subscribers "$SUBSCRIBERS" --duration "$DURATION" --size "$SIZE" --ptime "$PTIME" \
        --threads "$LOAD_THREADS" --recv-tick "$RECV_TICK" --json "$LOGDIR/baseline-load.json" || rc=$?
    stop_pid "$pid"
    sed -nE 's/.*stopped: (.*)/\1/p' "$log" | tr ' ' '\n' | sed 's/^/relay_/' >>"$LOGDIR/baseline.env"
    if (( rc != 0 )); then
        echo "bench: tribune-baseline-load failed (exit $rc):" >&2
        tail -n 20 "$LOGDIR/baseline-load.log" >&2
    fi
    return "$rc"
}

# phase_tribune NAME WORKERS PINNED: tribune (its own config: loopback
# ports, one key, rtc.workers WORKERS) on SERVER_CPU when PINNED=1, driven
# by tribune-load on LOAD_CPU. tribune's CPU time is sampled when the load
# generator opens and closes its window; its RSS before the load (idle), at
# the end of the window (steady state) and at its peak.
phase_tribune() {
    local name=$1 workers=$2 pinned=$3 pid lpid rc=0 cpu0=0 cpu1=0 t0=0 t1=0 steal0=0 steal1=0 rss=0
    local anon=0 idle_anon=0
    local dir=$LOGDIR/$1 log=$LOGDIR/$1-server.log llog=$LOGDIR/$1-load.log idle http udp i
    mkdir -p "$dir"
    http=$(free_port)
    udp=$(free_port)
    printf '%s\n' "port: $http" "bind_addresses: [127.0.0.1]" "keys:" \
        "  bench: $BENCH_SECRET" "rtc:" "  udp_port: $udp" "  tcp_port: 0" \
        "  node_ip: 127.0.0.1" "  use_external_ip: false" "  workers: $workers" \
        "logging:" "  level: warn" >"$dir/tribune.yaml"
    if [[ $pinned == 1 ]]; then
        start_pinned "$SERVER_CPU" "$log" "$TRIBUNE" --config "$dir/tribune.yaml"
    else
        "$TRIBUNE" --config "$dir/tribune.yaml" >"$log" 2>&1 </dev/null &
        STARTED_PID=$!
        PIDS+=("$STARTED_PID")
    fi
    pid=$STARTED_PID
    for ((i = 0; i < START_TIMEOUT_S * 20; i++)); do
        curl -fsS "http://127.0.0.1:$http/" >/dev/null 2>&1 && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if ! curl -fsS "http://127.0.0.1:$http/" >/dev/null 2>&1; then
        echo "bench: tribune did not start:" >&2
        cat "$log" >&2
        return 1
    fi
    idle=$(rss_kib "$pid")
    idle_anon=$(anon_kib "$pid")
    # shellcheck disable=SC2046
    timeout --kill-after=5 "$LOAD_TIMEOUT_S" $(pin_prefix "$LOAD_CPU") "$TLOAD" \
        --port "$http" --key bench --secret "$BENCH_SECRET" --rooms "$ROOMS" \
        --publishers "$PUBLISHERS" --subscribers "$SUBSCRIBERS" --duration "$DURATION" \
        --rate "$RATE" --threads "$LOAD_THREADS" --json "$LOGDIR/$name-load.json" >"$llog" 2>&1 </dev/null &
    lpid=$!
    PIDS+=("$lpid")
    if wait_log "$llog" 'tribune-load: measuring' "$LOAD_TIMEOUT_S" "$lpid"; then
        cpu0=$(cpu_seconds "$pid") steal0=$(host_steal_seconds) t0=$(date +%s.%N)
        wait_log "$llog" 'tribune-load: draining' "$((DURATION + 30))" "$lpid" || true
        cpu1=$(cpu_seconds "$pid") steal1=$(host_steal_seconds) t1=$(date +%s.%N)
        rss=$(rss_kib "$pid")   # steady state: everybody in, media flowing
        anon=$(anon_kib "$pid")
    fi
    wait "$lpid" || rc=$?
    local hwm alive=1
    hwm=$(hwm_kib "$pid" 2>/dev/null) || { hwm=0; alive=0; }
    {
        echo "load_exit=$rc"
        echo "server_alive=$alive"
        awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "server_cpu_s=%.3f\n", b - a }'
        echo "server_rss_kib=$rss"
        echo "server_hwm_kib=$hwm"
        echo "server_idle_rss_kib=$idle"
        echo "server_anon_kib=$anon"
        echo "server_idle_anon_kib=$idle_anon"
        echo "workers=$workers"
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "wall_s=%.3f\n", b - a }'
        awk -v a="$steal0" -v b="$steal1" 'BEGIN { printf "host_steal_s=%.2f\n", b - a }'
    } >"$LOGDIR/$name.env"
    stop_pid "$pid"
    if (( rc != 0 )); then
        echo "bench: tribune-load failed in $name (exit $rc):" >&2
        tail -n 20 "$llog" >&2
    fi
    return "$rc"
}

# phase_ramp: tribune (1 worker, pinned) at a growing fan-out, one step per
# BENCH_RAMP_STEPS value of subscribers per room, until a step loses 0.1 %
# or more, or its p99 latency reaches 5 ms; the steps ran are appended to
# RAN (each is a phase "ramp-S" in the table and in latest.json's "ramp").
phase_ramp() {
    local s verdict
    for s in $RAMP_STEPS; do
        SUBSCRIBERS=$s phase_tribune "ramp-$s" 1 1 || { RAN+=("ramp-$s"); return 1; }
        RAN+=("ramp-$s")
        verdict=$(python3 -c 'import json, sys
l = json.load(open(sys.argv[1]))
print("held" if l["loss"] < 0.001 and l["latency_us"]["p99"] < 5000 else "over")' \
            "$LOGDIR/ramp-$s-load.json")
        echo "bench: ramp: $s subscribers per room: $verdict" >&2
        [[ $verdict == held ]] || break
    done
}

# free_port: a port number nothing on 127.0.0.1 uses now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# report OUT PHASE...: the table, and OUT as JSON (one object per phase).
report() {
    local out=$1
    shift
    python3 - "$out" "$LOGDIR" "$NCPU" "$PIN" "$SERVER_CPU" "$LOAD_CPU" "$@" <<'PY'
import json, os, platform, sys, time
out, logdir, ncpu, pin, server_cpu, load_cpu = sys.argv[1:7]
phases = sys.argv[7:]

def env(path):
    kv = {}
    if os.path.exists(path):
        for line in open(path):
            k, _, v = line.strip().partition("=")
            if k:
                try:
                    kv[k] = float(v) if "." in v else int(v)
                except ValueError:
                    kv[k] = v
    return kv

def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()

SERVERS = {"baseline": "tribune-baseline-relay", "tribune-1w": "tribune (1 worker)",
           "tribune-all": "tribune (all workers)"}
SERVERS.update({p: f"tribune 1w, {p[5:]} subs/room" for p in phases if p.startswith("ramp-")})
rows = []
for ph in phases:
    m = env(os.path.join(logdir, ph + ".env"))
    try:
        load = json.load(open(os.path.join(logdir, ph + "-load.json")))
    except (OSError, ValueError):
        load = {}
    if (ph.startswith("tribune") or ph.startswith("ramp-")) and load:
        # tribune-load's report, in the baseline's terms
        m["relay_out"] = load.get("received")
        load = dict(load, duration_s=load.get("window_s", 0), loss_pct=100 * load.get("loss", 0),
                    size=0, ptime_ms=20, cpu_s=load.get("load_cpu_s"), threads=1, late_sends=0,
                    loss=load.get("expected", 0) - load.get("received", 0), send_errors=0)
    pkts_out = m.get("relay_out")
    cpu = m.get("server_cpu_s") or 0
    window = load.get("duration_s") or 0
    row = {"phase": ph, "server": SERVERS.get(ph, ph),
           "ok": m.get("load_exit") == 0 and m.get("server_alive") == 1 and bool(load),
           "packets_in": m.get("relay_in"), "packets_out": pkts_out,
           "server_send_errors": m.get("relay_send_errors"),
           "forward_pps": round(pkts_out / window, 1) if pkts_out is not None and window else None,
           "pps_per_core": round(pkts_out / cpu) if pkts_out is not None and cpu > 0 else None,
           "server_cpu_s": cpu, "server_rss_kib": m.get("server_rss_kib"),
           "server_hwm_kib": m.get("server_hwm_kib"), "wall_s": m.get("wall_s"),
           "host_steal_s": m.get("host_steal_s"), "load_exit": m.get("load_exit"),
           "server_alive": m.get("server_alive") == 1, "load": load,
           "server_idle_rss_kib": m.get("server_idle_rss_kib"),
           "server_anon_kib": m.get("server_anon_kib"),
           "server_idle_anon_kib": m.get("server_idle_anon_kib")}
    rows.append(row)

meta = {"bench": "media forwarding", "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"nproc": int(ncpu), "kernel": platform.release(), "cpu": cpu_model()},
        "pinning": {"server_cpu": int(server_cpu), "load_cpu": int(load_cpu)} if pin == "1" else None}
doc = dict(meta, phases=rows)
if len(rows) == 1:
    doc.update({k: v for k, v in rows[0].items() if k != "phase"}, phase=rows[0]["phase"])
    del doc["phases"]
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")

def fmt(v, nd=0):
    if v is None:
        return "-"
    return f"{v:,.{nd}f}" if isinstance(v, float) or nd else f"{v:,}"

print()
print(f"media forwarding benchmark  {meta['date']}  {ncpu} CPU(s) ({meta['host']['cpu']}), kernel {meta['host']['kernel']}")
for r in sorted(rows, key=lambda r: not r["load"].get("size")):  # a row with a packet size first
    l = r["load"]
    if l:
        print(f"shape: {l['rooms']} rooms x {l['publishers']} publisher(s) x {l['subscribers']} subscribers, "
              f"{l['size']}-byte packets every {l['ptime_ms']} ms, {l['duration_s']:g} s; "
              + (f"server on CPU {server_cpu}, load on CPU {load_cpu}" if pin == "1" else "not pinned"))
        break
print()
hdr = ("server", "pkts out", "fwd pps", "CPU s", "pps/core", "RSS KiB", "loss%", "p50 us", "p99 us", "max us", "jitter us", "load CPU s")
w = (24, 10, 9, 7, 10, 8, 7, 7, 7, 8, 9, 10)
print("  ".join(h.ljust(w[0]) if i == 0 else h.rjust(w[i]) for i, h in enumerate(hdr)))
for r in rows:
    l, lat = r["load"], r["load"].get("latency_us", {})
    cells = (r["server"], fmt(r["packets_out"]), fmt(r["forward_pps"], 0), fmt(r["server_cpu_s"], 2),
             fmt(r["pps_per_core"]), fmt(r["server_rss_kib"]), fmt(l.get("loss_pct"), 3),
             fmt(lat.get("p50")), fmt(lat.get("p99")), fmt(lat.get("max"), 0), fmt(l.get("jitter_us"), 1),
             fmt(l.get("cpu_s"), 2))
    print("  ".join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(cells)))
    if not r["ok"]:
        print(f"  ^ FAILED: load exit {r['load_exit']}, server alive {r['server_alive']}")
    elif l.get("loss", 0) or l.get("send_errors", 0):
        print(f"  ^ WARNING: {l.get('loss')} packets lost, {l.get('send_errors')} send errors: the figure is not a clean one")
    if l.get("late_sends", 0) > 0.01 * max(1, l.get("sent", 0)):
        print(f"  ^ WARNING: the load generator sent {l['late_sends']} packets over 1 ms late: it is saturated or was preempted")
    if l and (l.get("cpu_s") or 0) > 0.8 * l.get("duration_s", 0) * l.get("threads", 1):
        print(f"  ^ WARNING: the load generator used {l['cpu_s']:.1f} CPU s in {l['duration_s']:g} s: it is the bottleneck")
    wall, steal = r.get("wall_s") or 0, r.get("host_steal_s") or 0
    if wall and steal > 0.05 * wall * int(ncpu):
        print(f"  ^ WARNING: noisy host: the hypervisor took {steal:.1f} CPU s of {wall * int(ncpu):.0f} "
              f"in {wall:.1f} s; rely on the ratio, or run again")
print(f"\nwritten: {out}")
sys.exit(0 if all(r["ok"] for r in rows) else 1)
PY
}

STATUS=0
RAN=()
for ph in $PHASES; do
    case $ph in
    baseline) phase_baseline || STATUS=1 ;;
    tribune-1w) phase_tribune tribune-1w 1 1 || STATUS=1 ;;
    tribune-all) phase_tribune tribune-all "$NCPU" 0 || STATUS=1 ;;
    ramp) phase_ramp || STATUS=1; continue ;;
    *) echo "bench: unknown phase $ph" >&2; exit 1 ;;
    esac
    RAN+=("$ph")
done
report "$LOGDIR/phases.json" "${RAN[@]}" || STATUS=1
if [[ " ${RAN[*]} " == *" baseline "* ]]; then cp "$LOGDIR/phases.json" "$BASELINE_OUT"; fi
python3 "$ROOT/bench/summary.py" "$LOGDIR/phases.json" "$SUMMARY_OUT" || STATUS=1
exit "$STATUS"
