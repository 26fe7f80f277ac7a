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
            "join_ms": load.get("join_ms"),
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
    checks = []
    def check(name, ok, value):
        if ok is not None:
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
              "latency_us", "rss_mib", "idle_rss_mib", "rss_per_stream_kib", "join_ms"):
        print(f"  {k:24} {res.get(k)}")
    if "all_workers" in res:
        print(f"  {'all workers':24} {res['all_workers']}")
    for c in checks:
        print(f"  target: {c['target']:34} {'met' if c['met'] else 'NOT met'} ({c['value']})")
    print(f"written: {out}")
    ok = one is not None and one.get("ok") and (base is None or base.get("ok"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
