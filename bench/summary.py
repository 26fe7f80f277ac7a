#!/usr/bin/env python3
"""summary.py PHASES_JSON OUT_JSON — the figures `make bench` reports, from
bench.sh's per-phase results: tribune's forwarding rate and cost per core
(rtc.workers = 1), the same for the bare UDP relay measured in the same run,
their ratio (the figure that survives a noisy machine), loss, latency, memory
and join times, checked against issue 7's targets. Prints a short table."""
import json
import sys


def phases(doc):
    if "phases" in doc:
        return {p["phase"]: p for p in doc["phases"]}
    return {doc["phase"]: doc}


def streams(load):
    """(receiver, publisher) pairs: every participant hears every publisher of its room but itself."""
    r, p, s = load.get("rooms", 0), load.get("publishers", 0), load.get("subscribers", 0)
    return r * p * (p - 1 + s)


def main(src, out):
    doc = json.load(open(src))
    ph = phases(doc)
    one, base, alln = ph.get("tribune-1w"), ph.get("baseline"), ph.get("tribune-all")
    res = {"date": doc.get("date"), "host": doc.get("host")}
    if one and one.get("load"):
        load = one["load"]
        rss, idle = one.get("server_rss_kib") or 0, one.get("server_idle_rss_kib") or 0
        hwm = one.get("server_hwm_kib") or 0
        n = streams(load)
        res.update({
            "shape": {k: load.get(k) for k in ("rooms", "publishers", "subscribers", "participants")},
            "forward_pps": one.get("forward_pps"),
            "server_cpu_s": one.get("server_cpu_s"),
            "pps_per_core": one.get("pps_per_core"),
            "loss": load.get("loss_pct", 0) / 100,
            "latency_us": {"p50": load["latency_us"]["p50"], "p99": load["latency_us"]["p99"],
                           "max": load["latency_us"]["max"]},
            "rss_mib": round(rss / 1024, 2),
            "peak_rss_mib": round(hwm / 1024, 2),
            "idle_rss_mib": round(idle / 1024, 2),
            "rss_per_stream_kib": round((rss - idle) / n, 2) if n else None,
            # the private part (heap, stacks): RSS also counts shared library pages
            "idle_anon_mib": round((one.get("server_idle_anon_kib") or 0) / 1024, 2),
            "anon_per_stream_kib": round(((one.get("server_anon_kib") or 0) -
                                          (one.get("server_idle_anon_kib") or 0)) / n, 2) if n else None,
            "join_ms": load.get("join_ms"),
            "load_cpu_s": load.get("cpu_s"),
        })
    if base:
        res["baseline_pps_per_core"] = base.get("pps_per_core")
        res["baseline_forward_pps"] = base.get("forward_pps")
    if res.get("pps_per_core") and res.get("baseline_pps_per_core"):
        res["ratio_to_baseline"] = round(res["pps_per_core"] / res["baseline_pps_per_core"], 3)
    if alln and alln.get("load"):
        res["all_workers"] = {"forward_pps": alln.get("forward_pps"),
                              "server_cpu_s": alln.get("server_cpu_s"),
                              "pps_per_core": alln.get("pps_per_core"),
                              "loss": alln["load"].get("loss_pct", 0) / 100,
                              "latency_us": alln["load"].get("latency_us")}
    steps = [p for name, p in sorted(ph.items(), key=lambda kv: kv[1]["load"].get("subscribers", 0)
                                     if kv[1].get("load") else 0) if name.startswith("ramp-")]
    if steps:
        rows = [{"subscribers_per_room": p["load"].get("subscribers"),
                 "participants": p["load"].get("participants"),
                 "forward_pps": p.get("forward_pps"), "pps_per_core": p.get("pps_per_core"),
                 "loss": p["load"].get("loss_pct", 0) / 100,
                 "latency_us_p99": p["load"].get("latency_us", {}).get("p99"),
                 "load_cpu_s": p["load"].get("cpu_s"), "ok": p.get("ok")} for p in steps]
        held = [r for r in rows if r["ok"] and r["loss"] < 0.001 and (r["latency_us_p99"] or 1e9) < 5000]
        res["ramp"] = {"steps": rows,
                       "held_subscribers_per_room": held[-1]["subscribers_per_room"] if held else None,
                       "held_forward_pps": held[-1]["forward_pps"] if held else None}
    checks = []
    def check(name, ok, value):
        if value is not None:
            checks.append({"target": name, "met": bool(ok), "value": value})
    r = res.get("ratio_to_baseline")
    check("pps_per_core >= 0.7 x baseline", r and r >= 0.7, r)
    check("idle RSS <= 16 MiB", res.get("idle_rss_mib") is not None and res["idle_rss_mib"] <= 16,
          res.get("idle_rss_mib"))
    check("<= 64 KiB per subscribed stream", res.get("rss_per_stream_kib") is not None
          and res["rss_per_stream_kib"] <= 64, res.get("rss_per_stream_kib"))
    j = (res.get("join_ms") or {}).get("p50")
    check("join p50 < 150 ms", j is not None and j < 150, j)
    res["targets"] = checks
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print()
    print("summary (rtc.workers = 1 vs the bare relay, same run, same shape):")
    for k in ("forward_pps", "pps_per_core", "baseline_pps_per_core", "ratio_to_baseline", "loss",
              "latency_us", "rss_mib", "idle_rss_mib", "rss_per_stream_kib", "idle_anon_mib",
              "anon_per_stream_kib", "join_ms", "load_cpu_s"):
        if res.get(k) is not None:
            print(f"  {k:24} {res.get(k)}")
    if "ramp" in res:
        print(f"  {'ramp':24} held {res['ramp']['held_subscribers_per_room']} subscribers/room "
              f"({res['ramp']['held_forward_pps']} pkt/s)")
    if "all_workers" in res:
        print(f"  {'all workers':24} {res['all_workers']}")
    for c in checks:
        print(f"  target: {c['target']:34} {'met' if c['met'] else 'NOT met'} ({c['value']})")
    print(f"written: {out}")
    ok = (one is None or one.get("ok")) and (base is None or base.get("ok")) and \
        (one is not None or steps)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
