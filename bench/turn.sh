#!/usr/bin/env bash
# bench/turn.sh - TURN relay benchmark: tribune's embedded TURN server and
# coturn side by side, in one run, under the same turnutils_uclient load.
#
#   bash bench/turn.sh [BUILD_DIR]        (make bench-turn does this)
#
# Both servers are started once on 127.0.0.1, each with its own relay port
# range and its own turnutils_peer (an echo peer). Then every phase is run
# against each server in turn, with identical uclient parameters:
#   paced  TURN_BENCH_CLIENTS clients, one TURN_BENCH_LEN-byte message every
#          20 ms each (an audio-like load), TURN_BENCH_PACED_N messages each
#   burst  the same clients with no pacing (uclient -z 0: up to 50 messages
#          per client per 1 ms tick), TURN_BENCH_BURST_N messages each
# Per server and phase it records messages sent/received, loss, the steady
# receive rate, the server's CPU time (utime+stime from /proc/PID/stat,
# all threads) and RSS, prints a table and the tribune/coturn ratios, and
# writes bench/results/turn-latest.json. Logs: bench/results/turn-logs/.
#
# Environment knobs (defaults in brackets):
#   TURN_BENCH_CLIENTS [100]  TURN_BENCH_LEN [170]
#   TURN_BENCH_PACED_N [500]  TURN_BENCH_BURST_N [4000]
#   TURN_BENCH_COTURN_MT=1    also run coturn with its default relay threads
#   TURN_BENCH_PIN=1          servers on the last CPU, uclient and peer on the
#                             others (burst then measures the server, not the host)
#   TURN_BENCH_STANDIN=1      run a second coturn in tribune's column (to test
#                             the harness while tribune has no TURN listener)
#   TURN_BENCH_OUT [bench/results/turn-latest.json]
#
# Exit status: 0 when every server ran every phase, 1 otherwise (the table
# and the JSON are still written with what ran).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TRIBUNE=$BUILD/tribune

CLIENTS=${TURN_BENCH_CLIENTS:-100}
MSGLEN=${TURN_BENCH_LEN:-170}
PACED_N=${TURN_BENCH_PACED_N:-500}
BURST_N=${TURN_BENCH_BURST_N:-4000}
COTURN_MT=${TURN_BENCH_COTURN_MT:-0}
STANDIN=${TURN_BENCH_STANDIN:-0}
OUT=${TURN_BENCH_OUT:-$ROOT/bench/results/turn-latest.json}
PIN=${TURN_BENCH_PIN:-0}
SRV_CPU=() LOAD_CPU=()
if [[ $PIN == 1 ]]; then
    NCPU=$(nproc)
    (( NCPU >= 2 )) || { echo "bench-turn: TURN_BENCH_PIN=1 needs 2 CPUs or more" >&2; exit 1; }
    command -v taskset >/dev/null || { echo "bench-turn: taskset not found (util-linux)" >&2; exit 1; }
    SRV_CPU=(taskset -c $((NCPU - 1)))
    LOAD_CPU=(taskset -c 0-$((NCPU - 2)))
fi
USER_NAME=bench
USER_PASS=benchpassword-12345
REALM=bench
RELAY_PORTS=1000          # per server; coturn ran out with 200 for 100 uclient clients
PHASE_TIMEOUT_S=60        # one uclient run at most

for tool in turnserver turnutils_uclient turnutils_peer python3 ss; do
    command -v "$tool" >/dev/null || { echo "bench-turn: $tool not found (Debian: apt-get install coturn iproute2 python3)" >&2; exit 1; }
done
if [[ $STANDIN != 1 && ! -x $TRIBUNE ]]; then
    echo "bench-turn: $TRIBUNE not found; run make build first" >&2
    exit 1
fi

LOGDIR=$ROOT/bench/results/turn-logs
mkdir -p "$LOGDIR" "$(dirname "$OUT")"
rm -f "$LOGDIR"/*.log "$LOGDIR"/*.db "$LOGDIR"/*.pid "$LOGDIR"/*.jsonl
ROWS=$LOGDIR/rows.jsonl
: >"$ROWS"
START_EPOCH=$(date +%s)

# ---- process bookkeeping: every process started here is stopped by PID ----
PIDS=()
cleanup() {
    local pid i
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the Python helper: free ports, one uclient run, the report ----
HELPER=$LOGDIR/helper.py
cat >"$HELPER" <<'PY'
"""Helper for bench/turn.sh (generated at run time): free port blocks,
one measured turnutils_uclient run, and the final table/JSON."""
import json, os, random, re, resource, socket, subprocess, sys, time

def port_free(p):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
        finally:
            s.close()
    return True

def cmd_ports(args):
    # N blocks of SIZE consecutive free ports below the ephemeral range
    n, size = int(args[0]), int(args[1])
    taken, out = [], []
    for _ in range(400):
        if len(out) == n:
            break
        b = random.randrange(20000, 32700 - size)
        if any(b < t + size and t < b + size for t in taken):
            continue
        if all(port_free(p) for p in range(b, b + size)):
            taken.append(b)
            out.append(b)
    if len(out) < n:
        sys.exit("no free port block found")
    print(" ".join(map(str, out)))

def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return (int(rest[11]) + int(rest[12])) / tck   # utime + stime

def proc_mem(pid):
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm

def udp_counters():
    # system-wide UDP counters (every socket on the host, not just ours)
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Udp:")]
    return dict(zip(rows[0][1:], map(int, rows[1][1:])))

def socket_drops(pids):
    # receive-buffer drops (skmem d) summed over the UDP sockets of each pid
    out = {pid: 0 for pid in pids}
    try:
        text = subprocess.run(["ss", "-Huanmp"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return out
    owner = []
    for line in text.splitlines():
        if not line.startswith((" ", "\t")):
            owner = [int(x) for x in re.findall(r"pid=(\d+),", line)]
            continue
        m = re.search(r"skmem:\(.*?\bd(\d+)\)", line)
        if m:
            for pid in owner:
                if pid in out:
                    out[pid] += int(m.group(1))
    return out

def host_busy():
    # (busy, softirq) CPU seconds of the whole host (all CPUs), /proc/stat;
    # loopback UDP is largely processed in softirq, charged to no process
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    tck = os.sysconf("SC_CLK_TCK")
    return (sum(v[:8]) - v[3] - v[4]) / tck, v[6] / tck

def ctx_switches(pid):
    # voluntary / involuntary context switches summed over the threads
    vol = invol = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        invol += int(line.split()[1])
        except OSError:
            pass
    return vol, invol

def cpu_or_zero(pid):
    try:
        return proc_cpu(pid)
    except OSError:
        return 0.0

STAT = re.compile(r"msz=(\d+), tot_send_msgs=(\d+), tot_recv_msgs=(\d+)")
FINAL = re.compile(r"start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)")
LOST = re.compile(r"Total lost packets (\d+) \(([-\d.naif]+)%\), total send dropped (\d+)")
RTT = re.compile(r"Average round trip delay ([-\d.naif]+) ms; min = (\d+) ms, max = (\d+) ms")
CONNECT = re.compile(r"Total connect time is (\d+)")
TRANSMIT = re.compile(r"Total transmit time is (\d+)")

def cmd_run(args):
    # run SERVER PHASE PID PEER_PID TIMEOUT LOG -- uclient argv...
    server, phase, pid, peer_pid = args[0], args[1], int(args[2]), int(args[3])
    timeout, log = float(args[4]), args[5]
    argv = args[args.index("--") + 1:]
    t0 = time.monotonic()
    row = run_once(server, phase, pid, peer_pid, timeout, log, argv)
    # uclient gives up on the first error while it sets its clients up; such
    # a failure is kept in the row, reported, and the phase is run once more
    if (not row["ok"] and "sent" not in row and row.get("server_alive")
            and row.get("wall_s", 99) < 20 and timeout - (time.monotonic() - t0) > 30):
        os.replace(log, log.replace(".log", "-failed.log"))
        again = run_once(server, phase, pid, peer_pid, timeout - (time.monotonic() - t0), log, argv)
        again["first_attempt"] = {k: row.get(k) for k in ("error", "exit_code", "wall_s", "first_errors")}
        row = again
    print(json.dumps(row))

def run_once(server, phase, pid, peer_pid, timeout, log, argv):
    row = {"server": server, "phase": phase, "ok": False, "command": " ".join(argv)}
    try:
        cpu0 = proc_cpu(pid)
    except OSError:
        row["error"] = "server process gone before the phase"
        return row
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    udp0 = udp_counters()
    drops0 = socket_drops([pid, peer_pid])
    host0, peer0, cs0 = host_busy(), cpu_or_zero(peer_pid), ctx_switches(pid)
    t0 = time.monotonic()
    lines = []
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1)
    timed_out = False
    import threading
    def killer():
        nonlocal timed_out
        timed_out = True
        p.kill()
    timer = threading.Timer(timeout, killer)
    timer.start()
    with open(log, "w") as lf:
        for line in p.stdout:
            t = time.monotonic() - t0
            lines.append((t, line.rstrip("\n")))
            lf.write(f"{t:9.3f} {line}")
    rc = p.wait()
    timer.cancel()
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    udp1 = udp_counters()
    drops1 = socket_drops([pid, peer_pid])
    host1, peer1, cs1 = host_busy(), cpu_or_zero(peer_pid), ctx_switches(pid)
    try:
        cpu1 = proc_cpu(pid)
        rss, hwm = proc_mem(pid)
        alive = True
    except OSError:
        cpu1, rss, hwm, alive = cpu0, 0, 0, False
    client_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    row.update({"exit_code": rc, "timed_out": timed_out, "server_alive": alive,
                "wall_s": round(wall, 3), "server_cpu_s": round(cpu1 - cpu0, 3),
                "client_cpu_s": round(client_cpu, 3), "peer_cpu_s": round(peer1 - peer0, 3),
                # CPU used on the host by everything but this phase's server,
                # uclient, peer and softirq: other work competing with the run
                "host_softirq_s": round(host1[1] - host0[1], 2),
                "host_other_cpu_s": round(max(0.0, (host1[0] - host0[0]) - (host1[1] - host0[1])
                                              - (cpu1 - cpu0) - client_cpu - (peer1 - peer0)), 2),
                "server_ctxsw_voluntary": cs1[0] - cs0[0], "server_ctxsw_involuntary": cs1[1] - cs0[1],
                "server_rss_kb": rss, "server_hwm_kb": hwm,
                "host_udp_rcvbuf_errors": udp1.get("RcvbufErrors", 0) - udp0.get("RcvbufErrors", 0),
                "host_udp_sndbuf_errors": udp1.get("SndbufErrors", 0) - udp0.get("SndbufErrors", 0),
                # drops on sockets still open at the end (the server's
                # listener, the echo peer); relay and client sockets are
                # closed by then, their drops are only in the host counter
                "server_socket_drops": drops1[pid] - drops0[pid],
                "peer_socket_drops": drops1[peer_pid] - drops0[peer_pid]})
    stats = []
    errors = []
    for t, line in lines:
        m = STAT.search(line)
        if m:
            stats.append((t, int(m.group(2)), int(m.group(3))))
        elif (m := FINAL.search(line)):
            row["sent"], row["received"] = int(m.group(1)), int(m.group(2))
        elif (m := LOST.search(line)):
            row["lost"], row["send_dropped"] = int(m.group(1)), int(m.group(3))
        elif (m := RTT.search(line)):
            row["rtt_avg_ms"] = float(m.group(1)); row["rtt_max_ms"] = int(m.group(3))
        elif (m := CONNECT.search(line)):
            row["connect_s"] = int(m.group(1))
        elif (m := TRANSMIT.search(line)):
            row["transmit_s"] = int(m.group(1))
        elif "error" in line.lower():
            errors.append(line.strip())
    row["error_lines"] = len(errors)
    row["first_errors"] = errors[:5]
    if "sent" in row:
        sent, recv = row["sent"], row["received"]
        row["loss_pct"] = round(100.0 * (sent - min(sent, recv)) / sent, 3) if sent else None
        # sustained receive rate: the best window of WINDOW consecutive
        # per-second statistics intervals strictly inside the active period
        # (uclient starts its clients over 1-6 s, so the ends are ramps)
        inside = [s for s in stats if 0 < s[2] < recv]
        WINDOW = 3
        if len(inside) > WINDOW:
            rate = max((inside[i + WINDOW][2] - inside[i][2]) / (inside[i + WINDOW][0] - inside[i][0])
                       for i in range(len(inside) - WINDOW))
            row["rate_method"] = f"best {WINDOW}-s window"
        elif len(inside) >= 2 and inside[-1][0] - inside[0][0] >= 0.5:
            rate = (inside[-1][2] - inside[0][2]) / (inside[-1][0] - inside[0][0])
            row["rate_method"] = "active window"
        else:
            # too short for a steady window: all received over the time from
            # the last all-zero statistics line to the end of the run
            zero = [s[0] for s in stats if s[2] == 0]
            span = wall - (zero[-1] if zero else 0.0)
            rate = recv / span if span > 0 else 0.0
            row["rate_method"] = "whole run"
        row["msgs_per_s"] = round(rate, 1)
        cpu = row["server_cpu_s"]
        row["msgs_per_cpu_s"] = round(recv / cpu, 1) if cpu > 0 else None
        row["ok"] = rc == 0 and not timed_out and alive and recv > 0
    if not row["ok"] and "error" not in row:
        row["error"] = ("timed out" if timed_out else
                        "server died" if not alive else
                        f"uclient exit {rc}" if rc else "no messages received")
    return row

def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)

def cmd_report(args):
    rows_path, meta_path, out_path = args
    rows = [json.loads(l) for l in open(rows_path) if l.strip()]
    meta = json.load(open(meta_path))
    labels = {s["name"]: s["label"] for s in meta["servers"]}
    print()
    print(f"TURN relay benchmark  {meta['date']}  {meta['host']['nproc']} CPU(s), kernel {meta['host']['kernel']}")
    p = meta["params"]
    print(f"load: turnutils_uclient, {p['clients']} clients x 1 UDP allocation (ChannelData), "
          f"{p['message_bytes']}-byte messages echoed by turnutils_peer on 127.0.0.1")
    print(f"  paced: 1 message / 20 ms / client, {p['paced_messages']} each; "
          f"burst: no pacing (-z 0), {p['burst_messages']} each")
    for s in meta["servers"]:
        print(f"  {s['label']:<22} {s['desc']}")
    print()
    hdr = ("server", "phase", "sent", "recv", "loss%", "msgs/s", "srv CPU s", "msgs/CPU-s",
           "RTT ms", "RSS MB", "connect s", "wall s", "other CPU s", "drops srv/peer/rest")
    w = (22, 6, 9, 9, 7, 10, 9, 11, 7, 7, 9, 7, 11, 20)
    def k(n):
        return "-" if n is None else f"{n / 1000:.1f}k" if n >= 1000 else str(n)
    def drops(r):
        srv, peer, host = r.get("server_socket_drops"), r.get("peer_socket_drops"), r.get("host_udp_rcvbuf_errors")
        if host is None:
            return "-"
        rest = max(0, host - (srv or 0) - (peer or 0))
        return f"{k(srv)}/{k(peer)}/{k(rest)}"
    print("  ".join(h.ljust(w[0]) if i == 0 else h.rjust(w[i]) for i, h in enumerate(hdr)))
    for r in rows:
        if r.get("ok") or "sent" in r:
            cells = (labels.get(r["server"], r["server"]), r["phase"], fmt(r.get("sent")), fmt(r.get("received")),
                     fmt(r.get("loss_pct"), 2), fmt(r.get("msgs_per_s"), 0), fmt(r.get("server_cpu_s"), 2),
                     fmt(r.get("msgs_per_cpu_s"), 0), fmt(r.get("rtt_avg_ms"), 2),
                     fmt(r.get("server_rss_kb", 0) / 1024.0, 1), fmt(r.get("connect_s")), fmt(r.get("wall_s"), 1),
                     fmt(r.get("host_other_cpu_s"), 1), drops(r))
        else:
            cells = (labels.get(r["server"], r["server"]), r["phase"], "FAILED: " + r.get("error", "?"))
        line = "  ".join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(cells))
        print(line if r.get("ok") or "sent" in r else "  ".join(cells))
        if not r.get("ok") and r.get("first_errors"):
            for e in r["first_errors"][:3]:
                print(f"      uclient: {e}")
        fa = r.get("first_attempt")
        if fa:
            errs = [re.sub(r"^\d+: : ", "", e) for e in fa.get("first_errors") or []]
            why = "; ".join(dict.fromkeys(errs)) or fa.get("error")
            print(f"      ^ first attempt failed after {fmt(fa.get('wall_s'), 1)} s ({why}); phase run again")
    ncpu = meta["host"]["nproc"]
    busy = [f"{labels.get(r['server'], r['server'])} {r['phase']}" for r in rows
            if r.get("host_other_cpu_s", 0) > 0.25 * ncpu * r.get("wall_s", 0) > 0]
    if busy:
        print(f"\nWARNING: other work used over a quarter of the host's CPU during: {', '.join(busy)};")
        print("         those figures are noisy, run the benchmark again on a quieter machine.")
    # ratios: the tribune column (or its stand-in) over coturn 1-thread
    ratios = {}
    subj, ref = meta["subject"], "coturn"
    by = {(r["server"], r["phase"]): r for r in rows}
    print()
    if not meta.get("subject_ready", True):
        print(f"no ratio: {labels.get(subj, subj)} did not run ({meta.get('subject_error', '')})")
    for phase in ("paced", "burst"):
        a, b = by.get((subj, phase)), by.get((ref, phase))
        if not (a and b and a.get("ok") and b.get("ok")):
            continue
        def ratio(k):
            x, y = a.get(k), b.get(k)
            return round(x / y, 3) if x and y else None
        ratios[phase] = {"msgs_per_s": ratio("msgs_per_s"), "msgs_per_cpu_s": ratio("msgs_per_cpu_s"),
                         "server_cpu_s": ratio("server_cpu_s"),
                         "loss_pct": {subj: a.get("loss_pct"), ref: b.get("loss_pct")}}
        rr = ratios[phase]
        print(f"ratio {labels[subj]} / {labels[ref]}, {phase:<5}: msgs/s x{fmt(rr['msgs_per_s'], 2)}, "
              f"msgs per CPU-second x{fmt(rr['msgs_per_cpu_s'], 2)}  "
              f"(loss {fmt(a.get('loss_pct'), 2)}% vs {fmt(b.get('loss_pct'), 2)}%)")
    print("msgs = messages echoed back to the client (each crosses the server twice: client->peer, peer->client).")
    print("msgs/CPU-s = received / server CPU seconds (all threads); the figure that survives a busy machine.")
    print("msgs/s = best 3-s receive rate; paced offers clients x 50/s, burst is what the host sustains.")
    print("other CPU s = CPU the rest of the host used during the phase (not this server, uclient, peer,")
    print("        nor softirq): work competing with the benchmark; more than a few seconds = noisy run.")
    print("drops = UDP receive-buffer drops: server's sockets / echo peer's / rest of the host (client and")
    print("        closed relay sockets, and any other UDP traffic on this machine).")
    doc = dict(meta)
    doc["results"] = rows
    doc["ratios"] = {"subject": subj, "reference": ref, "phases": ratios}
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, out_path)
    print(f"\nresults: {os.path.relpath(out_path)}")
    ok = meta.get("subject_ready", True) and all(r.get("ok") for r in rows)
    sys.exit(0 if ok else 1)

{"ports": cmd_ports, "run": cmd_run, "report": cmd_report}[sys.argv[1]](sys.argv[2:])
PY

# ---- ports: one block per server, each with its own relay range ----
# block layout: +0 TURN UDP listener, +2/+3 turnutils_peer (it uses P and P+1),
# +4 tribune HTTP, +5 tribune media UDP, +100.. relay range
NSERVERS=2
[[ $COTURN_MT == 1 ]] && NSERVERS=3
BLOCK=$((100 + RELAY_PORTS))
BUDGET_S=$((NSERVERS * 85))   # no phase starts after this many seconds
read -r -a BASES <<<"$(python3 "$HELPER" ports "$NSERVERS" "$BLOCK")"

wait_udp_listen() { # PID PORT SECONDS: wait until PID has a UDP socket on PORT
    local pid=$1 port=$2 n=$(( $3 * 10 )) i
    for ((i = 0; i < n; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        ss -Hlunp "sport = :$port" 2>/dev/null | grep -q "pid=$pid," && return 0
        sleep 0.1
    done
    return 1
}

start_peer() { # NAME BASE -> PEER_PORTS[NAME], PEER_PIDS[NAME]
    local name=$1 base=$2
    PEER_PORTS[$name]=$((base + 2))
    "${LOAD_CPU[@]}" turnutils_peer -L 127.0.0.1 -p "${PEER_PORTS[$name]}" >"$LOGDIR/$name-peer.log" 2>&1 &
    PEER_PIDS[$name]=$!
    PIDS+=($!)
    wait_udp_listen $! "${PEER_PORTS[$name]}" 5 || { echo "bench-turn: turnutils_peer for $name did not start" >&2; exit 1; }
}

start_coturn() { # NAME BASE THREADS(0 = coturn's default) -> SRV_PID
    local name=$1 base=$2 threads=$3 tflag=()
    [[ $threads != 0 ]] && tflag=(--relay-threads "$threads")
    "${SRV_CPU[@]}" turnserver -n --no-cli --no-tls --no-dtls --no-tcp-relay --no-rfc5780 \
        --listening-ip=127.0.0.1 --listening-port="$base" --relay-ip=127.0.0.1 \
        --min-port=$((base + 100)) --max-port=$((base + 100 + RELAY_PORTS - 1)) \
        --allow-loopback-peers --lt-cred-mech --user "$USER_NAME:$USER_PASS" --realm "$REALM" \
        "${tflag[@]}" --userdb "$LOGDIR/$name.db" --pidfile "$LOGDIR/$name.pid" \
        --log-file stdout --simple-log >"$LOGDIR/$name.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    local i
    for ((i = 0; i < 100; i++)); do  # relay ports are set up before the listener
        grep -q "Total General servers" "$LOGDIR/$name.log" && break
        sleep 0.1
    done
    if ! wait_udp_listen "$SRV_PID" "$base" 5; then
        echo "bench-turn: coturn ($name) did not start; see $LOGDIR/$name.log" >&2
        tail -5 "$LOGDIR/$name.log" >&2
        exit 1
    fi
}

SUBJECT_READY=true
SUBJECT_ERROR=
start_tribune() { # NAME BASE -> SRV_PID, or SUBJECT_READY=false
    local name=$1 base=$2 i cfg
    cfg="port: $((base + 4))
bind_addresses: [127.0.0.1]
keys: {bench_key: bench_secret_0123456789_abcdefghijklmnop}
rtc: {udp_port: $((base + 5)), tcp_port: 0, node_ip: 127.0.0.1}
turn:
  enabled: true
  udp_port: $base
  realm: $REALM
  relay_range_start: $((base + 100))
  relay_range_end: $((base + 100 + RELAY_PORTS - 1))
  users: {$USER_NAME: $USER_PASS}
  allow_restricted_peer_cidrs: [127.0.0.0/8]
  bandwidth_limit: 0
  per_user_relay_allocation_limit: 0
  max_allocations: 1000
"
    printf '%s' "$cfg" >"$LOGDIR/$name.yaml"
    "${SRV_CPU[@]}" "$TRIBUNE" --config-body "$cfg" >"$LOGDIR/$name.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    for ((i = 0; i < 100; i++)); do
        if grep -q "TURN listening" "$LOGDIR/$name.log"; then
            wait_udp_listen "$SRV_PID" "$base" 5 && return 0
            SUBJECT_ERROR="logged 'TURN listening' but has no UDP socket on 127.0.0.1:$base"
            break
        fi
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            SUBJECT_ERROR="tribune exited at start-up"
            break
        fi
        sleep 0.1
    done
    [[ -n $SUBJECT_ERROR ]] || SUBJECT_ERROR="no 'TURN listening' line within 10 s"
    SUBJECT_READY=false
    python3 -c 'import json,sys; print(json.dumps({"server": "tribune", "phase": "start", "ok": False, "error": sys.argv[1]}))' \
        "$SUBJECT_ERROR" >>"$ROWS"
    echo "bench-turn: tribune's TURN server is not ready: $SUBJECT_ERROR" >&2
    echo "  command: $TRIBUNE --config-body \"\$(cat $LOGDIR/$name.yaml)\"" >&2
    sed 's/^/  | /' "$LOGDIR/$name.log" | tail -8 >&2
}

# ---- start the servers ----
declare -A SRV_PIDS SRV_PORTS PEER_PORTS PEER_PIDS
SERVERS=()
SERVER_META=()
COTURN_VERSION=$(turnserver --version 2>/dev/null | head -1)

start_coturn coturn "${BASES[0]}" 1
SRV_PIDS[coturn]=$SRV_PID; SRV_PORTS[coturn]=${BASES[0]}
start_peer coturn "${BASES[0]}"
SERVERS+=(coturn)
SERVER_META+=("coturn|coturn 1 thr|coturn $COTURN_VERSION, --relay-threads 1 (tribune's TURN runs on one thread)")

if [[ $STANDIN == 1 ]]; then
    SUBJECT=standin
    start_coturn standin "${BASES[1]}" 1
    SRV_PIDS[standin]=$SRV_PID; SRV_PORTS[standin]=${BASES[1]}
    start_peer standin "${BASES[1]}"
    SERVERS+=(standin)
    SERVER_META+=("standin|coturn stand-in|coturn $COTURN_VERSION, --relay-threads 1, standing in for tribune (TURN_BENCH_STANDIN=1)")
else
    SUBJECT=tribune
    TRIBUNE_VERSION=$("$TRIBUNE" --version 2>/dev/null | head -1 || true)
    SERVER_META+=("tribune|tribune|${TRIBUNE_VERSION:-tribune} ($TRIBUNE), embedded TURN, one TURN thread")
    start_tribune tribune "${BASES[1]}"
    if $SUBJECT_READY; then
        SRV_PIDS[tribune]=$SRV_PID; SRV_PORTS[tribune]=${BASES[1]}
        start_peer tribune "${BASES[1]}"
        SERVERS+=(tribune)
    fi
fi

if [[ $COTURN_MT == 1 ]]; then
    start_coturn coturn-mt "${BASES[2]}" 0
    SRV_PIDS[coturn-mt]=$SRV_PID; SRV_PORTS[coturn-mt]=${BASES[2]}
    start_peer coturn-mt "${BASES[2]}"
    SERVERS+=(coturn-mt)
    SERVER_META+=("coturn-mt|coturn default thr|coturn $COTURN_VERSION, default relay threads (one per CPU)")
fi

echo "bench-turn: servers up (${SERVERS[*]}); $CLIENTS clients, ${MSGLEN}-byte messages; logs in ${LOGDIR#"$ROOT"/}/" >&2

# ---- the phases, each server in turn ----
run_phase() { # SERVER PHASE extra-uclient-args...
    local srv=$1 phase=$2; shift 2
    local left=$(( BUDGET_S - ($(date +%s) - START_EPOCH) )) to=$PHASE_TIMEOUT_S
    if (( left < 15 )); then
        echo "{\"server\":\"$srv\",\"phase\":\"$phase\",\"ok\":false,\"error\":\"skipped: time budget spent\"}" >>"$ROWS"
        return
    fi
    (( left < to )) && to=$left
    echo "bench-turn: $srv $phase ..." >&2
    python3 "$HELPER" run "$srv" "$phase" "${SRV_PIDS[$srv]}" "${PEER_PIDS[$srv]}" "$to" "$LOGDIR/$srv-$phase-uclient.log" -- \
        "${LOAD_CPU[@]}" turnutils_uclient -c -m "$CLIENTS" -l "$MSGLEN" -u "$USER_NAME" -w "$USER_PASS" \
        -e 127.0.0.1 -r "${PEER_PORTS[$srv]}" -p "${SRV_PORTS[$srv]}" "$@" 127.0.0.1 >>"$ROWS"
}

for srv in "${SERVERS[@]}"; do run_phase "$srv" paced -n "$PACED_N" -z 20; done
for srv in "${SERVERS[@]}"; do run_phase "$srv" burst -n "$BURST_N" -z 0; done

# a server that died during the run is reported with its log tail
for srv in "${SERVERS[@]}"; do
    if ! kill -0 "${SRV_PIDS[$srv]}" 2>/dev/null; then
        echo "bench-turn: $srv exited during the run; last log lines:" >&2
        tail -8 "$LOGDIR/$srv.log" | sed 's/^/  | /' >&2
    fi
done

# ---- report ----
META=$LOGDIR/meta.json
{
    printf '{"benchmark":"turn","date":"%s","duration_s":%d,' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" $(( $(date +%s) - START_EPOCH ))
    printf '"host":{"nproc":%d,"kernel":"%s"},' "$(nproc)" "$(uname -r)"
    printf '"params":{"clients":%d,"message_bytes":%d,"paced_messages":%d,"paced_interval_ms":20,"burst_messages":%d,"burst_interval_ms":0,"channel_data":true,"transport":"udp"},' \
        "$CLIENTS" "$MSGLEN" "$PACED_N" "$BURST_N"
    printf '"subject":"%s","subject_ready":%s,"subject_error":%s,"servers":[' "$SUBJECT" "$SUBJECT_READY" \
        "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$SUBJECT_ERROR")"
    sep=
    for m in "${SERVER_META[@]}"; do
        IFS='|' read -r n l d <<<"$m"
        python3 -c 'import json,sys; print(sys.argv[1] + json.dumps({"name": sys.argv[2], "label": sys.argv[3], "desc": sys.argv[4]}), end="")' \
            "$sep" "$n" "$l" "$d"
        sep=,
    done
    printf ']}\n'
} >"$META"

cleanup
python3 "$HELPER" report "$ROWS" "$META" "$OUT"
