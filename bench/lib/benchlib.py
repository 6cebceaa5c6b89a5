#!/usr/bin/env python3
"""Helpers for bench/run.sh: parse each tool's output into one JSON record,
compute the true p99 of the stall experiment, and write the results report.

Subcommands (all print to stdout):

  record KEY=VALUE...      one JSON line for results.jsonl; reads the tool's
                           output (tool=, log=, json=, time=) and merges the
                           run's metadata (every other KEY=VALUE)
  truth  start= t0= rate= duration= stall= every=
                           the stall experiment's true latency percentiles
  report results.jsonl meta.json
                           the Markdown results (tables of medians, min–max,
                           ratios to wrk and vegeta)

Only the standard library is used.
"""

import json
import math
import re
import statistics
import sys
from datetime import datetime

# ---------------------------------------------------------------- parsing

_UNIT_MS = {"us": 0.001, "µs": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _dur_ms(text):
    """'2.30ms' / '812.00us' / '1.02s' (wrk) -> milliseconds."""
    m = re.fullmatch(r"([0-9.]+)(us|µs|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"bad duration {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_wrk(log):
    out = {}
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+\w+)", log, re.M)
    if m:
        out["requests"] = int(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s*{pct}%\s+(\S+)", log, re.M)
        if m:
            out[key] = _dur_ms(m.group(1))
    errs = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", log)
    if m:
        errs += sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", log)
    if m:
        errs += int(m.group(1))
    out["errors"] = errs
    m = re.search(r"^\s*Latency\s+\S+\s+\S+\s+(\S+)", log, re.M)
    if m:
        out["max_ms"] = _dur_ms(m.group(1))
    return out


def parse_hey(log):
    out = {}
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s*{pct}%+ in ([0-9.]+) secs", log, re.M)
        if m:
            out[key] = float(m.group(1)) * 1000.0
    m = re.search(r"Slowest:\s+([0-9.]+) secs", log)
    if m:
        out["max_ms"] = float(m.group(1)) * 1000.0
    ok = sum(int(n) for n in re.findall(r"^\s*\[\d+\]\s+(\d+) responses", log, re.M))
    bad = 0
    m = re.search(r"Error distribution:\n((?:\s+\[\d+\].*\n?)+)", log)
    if m:
        bad = sum(int(n) for n in re.findall(r"\[(\d+)\]", m.group(1)))
    nonok = sum(int(n) for c, n in re.findall(r"^\s*\[(\d+)\]\s+(\d+) responses", log, re.M)
                if not c.startswith("2"))
    out["requests"] = ok + bad
    out["errors"] = bad + nonok
    return out


def parse_vegeta(doc):
    lat = doc.get("latencies", {})
    codes = doc.get("status_codes", {}) or {}
    errs = sum(n for c, n in codes.items() if not str(c).startswith("2"))
    out = {
        "requests": doc.get("requests", 0),
        "errors": errs,
        "p50_ms": lat.get("50th", 0) / 1e6,
        "p99_ms": lat.get("99th", 0) / 1e6,
        "max_ms": lat.get("max", 0) / 1e6,
        "load_start": _iso_ts(doc.get("earliest")),
    }
    return out


def parse_fortio(doc):
    hist = doc.get("DurationHistogram", {})
    pcts = {p["Percentile"]: p["Value"] for p in hist.get("Percentiles", [])}
    codes = doc.get("RetCodes", {}) or {}
    errs = sum(n for c, n in codes.items() if not str(c).startswith("2"))
    out = {
        "requests": hist.get("Count", 0),
        "errors": errs,
        "p50_ms": pcts.get(50, 0) * 1000.0,
        "p99_ms": pcts.get(99, 0) * 1000.0,
        "max_ms": hist.get("Max", 0) * 1000.0,
        "load_start": _iso_ts(doc.get("StartTime")),
    }
    return out


def parse_barrage(doc):
    t = doc.get("totals", {})
    lat = doc.get("latency_ms", {})
    svc = doc.get("service_time_ms", {})
    return {
        "requests": t.get("requests", 0),
        "errors": t.get("errors", 0),
        "dropped": t.get("dropped", 0),
        "p50_ms": lat.get("p50"),
        "p99_ms": lat.get("p99"),
        "max_ms": lat.get("max"),
        "svc_p50_ms": svc.get("p50"),
        "svc_p99_ms": svc.get("p99"),
        "state": doc.get("state"),
        "planned_s": doc.get("planned_s"),
        "duration_s": doc.get("duration_s"),
        "load_start": _iso_ts(doc.get("started_at")),
        "findings": len(doc.get("findings") or []),
    }


def _iso_ts(text):
    """RFC 3339 with up to nanoseconds -> Unix seconds (float), or None."""
    if not text:
        return None
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    if not m:
        return None
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    base = datetime.fromisoformat(m.group(1) + tz).timestamp()
    frac = float("0." + m.group(2)) if m.group(2) else 0.0
    return base + frac


def parse_time(path):
    """GNU time -f '%U %S %M %e %x' output (last line)."""
    lines = [l for l in open(path).read().splitlines() if l.strip()]
    for line in reversed(lines):
        parts = line.split()
        if len(parts) == 5:
            try:
                u, s, m, e, x = float(parts[0]), float(parts[1]), int(parts[2]), float(parts[3]), int(parts[4])
            except ValueError:
                continue
            return {"user_s": u, "sys_s": s, "cpu_s": u + s, "rss_kb": m, "elapsed_s": e, "exit": x}
    return {}


def cmd_record(args):
    kv = dict(a.split("=", 1) for a in args)
    rec = {}
    tool = kv.get("tool", "")
    try:
        if tool == "wrk":
            rec.update(parse_wrk(open(kv["log"]).read()))
        elif tool == "hey":
            rec.update(parse_hey(open(kv["log"]).read()))
        elif tool == "vegeta":
            rec.update(parse_vegeta(json.load(open(kv["json"]))))
        elif tool == "fortio":
            rec.update(parse_fortio(json.load(open(kv["json"]))))
        elif tool == "barrage" or tool.startswith("faults-"):
            rec.update(parse_barrage(json.load(open(kv["json"]))))
    except (OSError, ValueError, KeyError) as e:
        rec["parse_error"] = f"{type(e).__name__}: {e}"
    if kv.get("time"):
        try:
            rec.update(parse_time(kv["time"]))
        except OSError as e:
            rec["parse_error"] = f"time: {e}"
    for k, v in kv.items():
        if k in ("log", "json", "time"):
            rec[k + "_file"] = v
            continue
        rec[k] = _num(v)
    if rec.get("cpu_s") and rec.get("requests"):
        rec["req_per_cpu_s"] = rec["requests"] / rec["cpu_s"]
    print(json.dumps(rec, sort_keys=True))


def _num(v):
    for f in (int, float):
        try:
            return f(v)
        except ValueError:
            pass
    return v


# ---------------------------------------------------------------- truth

def truth(start, t0, rate, duration, stall, every):
    """Latency each intended arrival would see from the stall alone.

    Arrivals are evenly spaced at `rate` per second from `start` for
    `duration` seconds; the target holds an arrival at phase p < stall of its
    period (counted from t0) for stall - p. Service time is taken as 0 (it is
    ~0.1 ms here, far below the stall). Returns p50/p90/p99/p999 in ms
    (nearest rank) and the held fraction.
    """
    n = int(round(rate * duration))
    lat = []
    for i in range(n):
        t = start + i / rate
        p = (t - t0) % every
        lat.append((stall - p) * 1000.0 if p < stall else 0.0)
    lat.sort()

    def q(x):
        k = max(0, math.ceil(x / 100.0 * n) - 1)
        return lat[k]

    held = sum(1 for v in lat if v > 0) / n
    return {"n": n, "held_frac": held, "p50_ms": q(50), "p90_ms": q(90), "p99_ms": q(99), "p999_ms": q(99.9)}


def cmd_truth(args):
    kv = {k: float(v) for k, v in (a.split("=", 1) for a in args)}
    print(json.dumps(truth(kv["start"], kv["t0"], kv["rate"], kv["duration"], kv["stall"], kv["every"])))


# ---------------------------------------------------------------- report

TOOLS = ["barrage", "wrk", "vegeta", "hey", "fortio"]


def _med(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None, None
    return statistics.median(vals), min(vals), max(vals)


def _fmt(v, nd=0):
    if v is None:
        return "–"
    if isinstance(v, float) and math.isnan(v):
        return "–"
    if abs(v) >= 1000 and nd == 0:
        return f"{v:,.0f}"
    return f"{v:,.{nd}f}"


def _mmm(vals, nd=0, show_range=True):
    m, lo, hi = _med(vals)
    if m is None:
        return "–"
    if not show_range or len([v for v in vals if v is not None]) < 2:
        return _fmt(m, nd)
    return f"{_fmt(m, nd)} ({_fmt(lo, nd)}–{_fmt(hi, nd)})"


def _ratio(a, b, nd=2):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.{nd}f}×"


def _ok(r):
    return r.get("exit", 1) == 0 and not r.get("parse_error") and r.get("requests")


def report(recs, meta):
    L = []
    w = L.append
    w(f"# Barrage side-by-side benchmark — {meta.get('date', '')}")
    w("")
    w(f"- machine: {meta.get('nproc')} CPUs, {meta.get('cpu_model')}, {meta.get('mem')}; kernel {meta.get('kernel')}")
    w(f"- command: `{meta.get('command')}`")
    w(f"- settings: {meta.get('settings')}")
    w(f"- versions: {meta.get('versions')}")
    w(f"- pinning: target (`barrage target`, Go net/http) on CPU {meta.get('target_cpu')}, "
      f"each generator on CPU {meta.get('gen_cpu')} (`taskset`); a fresh target per run")
    w("- CPU and peak RSS of the generator come from GNU time (`%U+%S`, `%M`); "
      "**barrage's process also holds the embedded etcd and the coordinator** "
      "(`barrage run` = local mode), and its time includes their start-up and shutdown.")
    w("- cells are `median (min–max)` over the rounds; ratios use the medians.")
    notes = meta.get("notes") or []
    if notes:
        w("- notes from the run:")
        for n in notes:
            w(f"  - {n}")
    w("")

    # ---------------- throughput
    thr = [r for r in recs if r.get("phase") == "throughput"]
    if thr:
        w("## 1. Throughput (closed loop, %s connections, %ss, GET /small)" % (meta.get("conns"), meta.get("duration")))
        w("")
        w("| tool | requests | req/s | gen CPU s | **req per CPU-s** | p50 ms | p99 ms | peak RSS MB | conns seen | target CPU s | target µs/req | unaccounted CPU s |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|")
        med = {}
        for t in TOOLS:
            rs = [r for r in thr if r.get("tool") == t]
            if not rs:
                continue
            good = [r for r in rs if _ok(r)]
            failed = len(rs) - len(good)
            g = lambda k: [r.get(k) for r in good]
            rps = [r["requests"] / r["duration"] for r in good]
            rss = [r["rss_kb"] / 1024.0 for r in good if r.get("rss_kb")]
            tus = [1e6 * r["target_cpu_s"] / r["target_requests"] for r in good if r.get("target_requests")]
            med[t] = {
                "rpc": _med(g("req_per_cpu_s"))[0],
                "p99": _med(g("p99_ms"))[0],
                "p50": _med(g("p50_ms"))[0],
                "rss": _med(rss)[0],
                "rps": _med(rps)[0],
            }
            name = t + (f" ({failed} failed)" if failed else "")
            w(f"| {name} | {_mmm(g('requests'))} | {_mmm(rps)} | {_mmm(g('cpu_s'), 2)} | {_mmm(g('req_per_cpu_s'))} | "
              f"{_mmm(g('p50_ms'), 2)} | {_mmm(g('p99_ms'), 2)} | {_mmm(rss, 1)} | {_mmm(g('conns'))} | "
              f"{_mmm(g('target_cpu_s'), 2)} | {_mmm(tus, 1)} | {_mmm(g('other_cpu_s'), 2)} |")
        w("")
        for ref in ("wrk", "vegeta"):
            if ref not in med:
                continue
            w(f"Ratios to {ref} (medians; >1 means more than {ref}):")
            w("")
            w(f"| tool | req per CPU-s ÷ {ref} | req/s ÷ {ref} | p99 ÷ {ref} | RSS ÷ {ref} |")
            w("|---|---|---|---|---|")
            for t in TOOLS:
                if t not in med or t == ref:
                    continue
                a, b = med[t], med[ref]
                w(f"| {t} | {_ratio(a['rpc'], b['rpc'])} | {_ratio(a['rps'], b['rps'])} | {_ratio(a['p99'], b['p99'])} | {_ratio(a['rss'], b['rss'])} |")
            w("")
        base = [r for r in recs if r.get("phase") == "baseline" and _ok(r)]
        if base:
            b = base[0]
            w(f"Barrage fixed cost (same process, {b.get('duration')}s open-model run at 1 rps, "
              f"i.e. start-up + embedded etcd + coordinator + shutdown): "
              f"{b.get('cpu_s', 0):.2f} CPU s, {b.get('rss_kb', 0) / 1024:.1f} MB peak RSS, {b.get('elapsed_s', 0):.1f} s wall.")
            if "barrage" in med:
                good = [r for r in thr if r.get("tool") == "barrage" and _ok(r)]
                adj = [r["requests"] / max(1e-9, r["cpu_s"] - b["cpu_s"]) for r in good]
                w(f"Subtracting it, barrage's req per CPU-s would be {_mmm(adj)}.")
            w("")

    # ---------------- open
    op = [r for r in recs if r.get("phase") == "open"]
    if op:
        asked = meta.get("open_rate")
        w(f"## 2. Open-model rate accuracy (asked {asked} rps for {meta.get('open_duration')}s)")
        w("")
        w("Achieved rate = requests completed ÷ planned seconds. Barrage's target is within 0.5 %.")
        w("")
        w("| tool | achieved rps | vs asked | dropped | errors | p50 ms | p99 ms | gen CPU s | peak RSS MB | conns seen |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for t in TOOLS:
            rs = [r for r in op if r.get("tool") == t]
            if not rs:
                continue
            good = [r for r in rs if _ok(r)]
            failed = len(rs) - len(good)
            g = lambda k: [r.get(k) for r in good]
            ach = [r["requests"] / r["duration"] for r in good]
            dev = [100.0 * (a / asked - 1.0) for a in ach]
            rss = [r["rss_kb"] / 1024.0 for r in good if r.get("rss_kb")]
            name = t + (f" ({failed} of {len(rs)} failed)" if failed else "")
            w(f"| {name} | {_mmm(ach)} | {_mmm(dev, 2)} % | {_mmm(g('dropped'))} | {_mmm(g('errors'))} | "
              f"{_mmm(g('p50_ms'), 2)} | {_mmm(g('p99_ms'), 2)} | {_mmm(g('cpu_s'), 2)} | {_mmm(rss, 1)} | {_mmm(g('conns'))} |")
        w("")
        w(meta.get("open_note", ""))
        w("")

    # ---------------- coordinated omission
    co = [r for r in recs if r.get("phase") == "co"]
    if co:
        w(f"## 3. Coordinated omission (target stalls {meta.get('stall_ms')} ms every {meta.get('stall_every_s')} s; "
          f"asked {meta.get('co_rate')} rps for {meta.get('co_duration')} s)")
        w("")
        w("True p99 = the p99 every intended arrival would see from the stall alone, computed per run from the "
          "stall phase (probed) and the run's start. Error = reported ÷ true − 1.")
        w("")
        w("| tool | true p99 ms | reported p99 ms | error | held in truth | requests | p50 ms | max ms |")
        w("|---|---|---|---|---|---|---|---|")
        rows = []
        for t in TOOLS:
            rs = [r for r in co if r.get("tool") == t and _ok(r)]
            failed = len([r for r in co if r.get("tool") == t]) - len(rs)
            if not rs and not failed:
                continue
            g = lambda k: [r.get(k) for r in rs]
            err = [100.0 * (r["p99_ms"] / r["truth_p99_ms"] - 1.0) for r in rs if r.get("truth_p99_ms")]
            held = [100.0 * r["truth_held_frac"] for r in rs if r.get("truth_held_frac") is not None]
            name = t + (f" ({failed} failed)" if failed else "")
            rows.append(f"| {name} | {_mmm(g('truth_p99_ms'), 1)} | {_mmm(g('p99_ms'), 1)} | {_mmm(err, 1)} % | "
                        f"{_mmm(held, 1)} % | {_mmm(g('requests'))} | {_mmm(g('p50_ms'), 2)} | {_mmm(g('max_ms'), 0)} |")
            if t == "barrage":
                svc = [r.get("svc_p99_ms") for r in rs]
                serr = [100.0 * (r["svc_p99_ms"] / r["truth_p99_ms"] - 1.0) for r in rs if r.get("truth_p99_ms") and r.get("svc_p99_ms") is not None]
                rows.append(f"| barrage service time (uncorrected) | {_mmm(g('truth_p99_ms'), 1)} | {_mmm(svc, 1)} | {_mmm(serr, 1)} % | | | {_mmm(g('svc_p50_ms'), 2)} | |")
        L.extend(rows)
        w("")

    # ---------------- memory
    mem = [r for r in recs if r.get("phase") == "memory"]
    if mem:
        w("## 4. Memory flatness (barrage closed model, %s connections)" % meta.get("conns"))
        w("")
        w("| planned requests | duration s | requests | peak RSS MB | gen CPU s | errors |")
        w("|---|---|---|---|---|---|")
        for r in sorted(mem, key=lambda r: r.get("planned_requests", 0)):
            w(f"| {_fmt(r.get('planned_requests'))} | {_fmt(r.get('duration'))} | {_fmt(r.get('requests'))} | "
              f"{_fmt(r.get('rss_kb', 0) / 1024.0, 1)} | {_fmt(r.get('cpu_s'), 1)} | {_fmt(r.get('errors'))} |")
        good = sorted([r for r in mem if _ok(r)], key=lambda r: r.get("planned_requests", 0))
        if len(good) >= 2:
            a, b = good[0], good[-1]
            w("")
            w(f"RSS ratio {_fmt(b.get('requests'))} ÷ {_fmt(a.get('requests'))} requests: "
              f"{b['rss_kb'] / a['rss_kb']:.2f}× (requests ratio {b['requests'] / a['requests']:.1f}×).")
        w("")

    # ---------------- fault mixing
    fl = [r for r in recs if r.get("phase") == "faults"]
    if fl:
        w("## 5. Cost of malformed-input mixing (barrage, API operations against the shop target, closed, %s connections)" % meta.get("conns"))
        w("")
        w("The same generated scenario, valid traffic only (`ratio: 0`) and with 5 % mutated requests (`ratio: 0.05`, every family); "
          "the agent also captures and judges responses (1 in 8 valid ones, every mutated one).")
        w("")
        w("| faults | requests | gen CPU s | **req per CPU-s** | findings |")
        w("|---|---|---|---|---|")
        per = {}
        for tool in ("faults-0", "faults-5"):
            g = [r for r in fl if r.get("tool") == tool and _ok(r)]
            rpc = [r["requests"] / r["cpu_s"] for r in g if r.get("cpu_s")]
            per[tool] = _med(rpc)[0]
            w(f"| {'0 %' if tool == 'faults-0' else '5 %'} | {_mmm([r.get('requests') for r in g])} | {_mmm([r.get('cpu_s') for r in g], 2)} | "
              f"{_mmm(rpc)} | {_mmm([r.get('findings', 0) for r in g])} |")
        if per.get("faults-0") and per.get("faults-5"):
            w("")
            w(f"With 5 % faults the agent does {per['faults-5'] / per['faults-0']:.2f}× the requests per CPU-second of valid-only traffic "
              f"(cost {100 * (1 - per['faults-5'] / per['faults-0']):.1f} %; target: at most 10 %).")
        w("")

    # ---------------- per-run raw
    w("## Every run")
    w("")
    w("| phase | round | tool | exit | requests | target saw | gen CPU s | RSS MB | p50 ms | p99 ms | idle before | unaccounted CPU s |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in recs:
        w(f"| {r.get('phase')} | {r.get('round', '')} | {r.get('tool')} | {r.get('exit', '?')} | {_fmt(r.get('requests'))} | "
          f"{_fmt(r.get('target_requests'))} | {_fmt(r.get('cpu_s'), 2)} | {_fmt((r.get('rss_kb') or 0) / 1024.0, 1)} | "
          f"{_fmt(r.get('p50_ms'), 2)} | {_fmt(r.get('p99_ms'), 2)} | {_fmt(r.get('idle_before'), 2)} | {_fmt(r.get('other_cpu_s'), 2)} |")
    w("")
    w("`target saw` = the target's own request counter for the run (fortio adds its warm-up requests). "
      "`idle before` = share of both CPUs idle in the 2 s before the run; `unaccounted CPU s` = busy time of the two CPUs "
      "during the run (/proc/stat) minus the generator's and the target's CPU time (rusage): other processes and kernel "
      "threads. /proc/stat is tick-sampled, so values within about ±0.5 s are accounting noise; only a large positive "
      "value means something else was running.")
    return "\n".join(L) + "\n"


def cmd_report(args):
    recs = [json.loads(l) for l in open(args[0]) if l.strip()]
    meta = json.load(open(args[1]))
    sys.stdout.write(report(recs, meta))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: benchlib.py record|truth|report ...")
    cmd, args = sys.argv[1], sys.argv[2:]
    {"record": cmd_record, "truth": cmd_truth, "report": cmd_report}.get(
        cmd, lambda _a: sys.exit(f"unknown subcommand {cmd}"))(args)


if __name__ == "__main__":
    main()
