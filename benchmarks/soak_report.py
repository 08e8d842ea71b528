"""The soak's report: the per-minute table, the RSS trends, the swaps, the summary line.

``benchmarks.soak`` gathers the figures (every request's result, the /proc samples, the jobs);
this turns them into what it prints and, with --json, writes.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from benchmarks.soak import Job, Soak


def startup_line(answers: dict[int, list], workers: int) -> str:
    ready = [pid for pid, versions in answers.items() if versions[-1]]
    line = f"start-up: {len(ready)}/{workers} workers answered with a model loaded before the load"
    for pid, versions in answers.items():
        if None in versions:
            line += (
                f"; worker {pid} answered {versions.count(None)} times with NO model loaded "
                f"although /readyz was already 200"
            )
    return line


# --- the report --------------------------------------------------------------------------------


def percentiles(seconds: list[float]) -> tuple[float, float]:
    if not seconds:
        return float("nan"), float("nan")
    p50, p99 = np.percentile(np.array(seconds) * 1000, [50, 99])
    return float(p50), float(p99)


def minutes_table(soak: Soak) -> list[dict]:
    """Per minute of the load; the last row also takes what started after the load's end."""
    rows = []
    count = math.ceil(soak.args.minutes)
    roles = sorted({s["role"] for s in soak.samples if s["role"] != "parent"})
    for m in range(count):
        lo, hi = m * 60, (m + 1) * 60 if m < count - 1 else math.inf
        rs = [r for r in soak.results if lo <= r.start < hi and not r.kind.startswith("admin")]
        p50, p99 = percentiles([r.seconds for r in rs])
        row = {
            "minute": m + 1,
            "requests": len(rs),
            "p50_ms": round(p50, 2),
            "p99_ms": round(p99, 2),
            "errors": sum(r.outcome != "ok" for r in rs),
            "versions": sorted({r.version for r in rs if r.version}),
        }
        for role in ["parent", *roles]:
            inside = [s for s in soak.samples if s["role"] == role and lo <= s["t"] <= hi]
            before = [s for s in soak.samples if s["role"] == role and s["t"] <= lo]
            if inside:
                end = inside[-1]
                start = before[-1] if before else inside[0]
                row[role] = {
                    "pid": end["pid"],
                    "rss": end["rss"],
                    "fds": end["fds"],
                    "cpu": round(end["cpu"] - start["cpu"], 1)
                    if end["pid"] == start["pid"]
                    else None,
                }
        events = []
        for k, job in enumerate(soak.jobs, 1):
            if job.id and lo <= job.requested < hi:
                events.append(f"job {k} started")
            if job.promoted_at is not None and lo <= job.promoted_at < hi:
                events.append(f"job {k} promoted")
        row["events"] = events
        rows.append(row)
    return rows


def trend(soak: Soak, role: str, warmup: float) -> tuple[float, float, list[int]]:
    """Least-squares slope of RSS (MB/min) and max − min, after the warm-up; and the pids seen."""
    points = [s for s in soak.samples if s["role"] == role]
    pids = sorted({s["pid"] for s in points})
    points = [s for s in points if s["t"] >= warmup]
    if len(points) < 3:
        return float("nan"), float("nan"), pids
    t = np.array([s["t"] for s in points]) / 60
    rss = np.array([s["rss"] for s in points])
    return float(np.polyfit(t, rss, 1)[0]), float(rss.max() - rss.min()), pids


def swap_timing(soak: Soak, job: Job, previous: str | None) -> str:
    """When the promoted version was first served, and the last time the old one was served to
    a request sent after the promotion (each worker swaps on its own ~1 s poll)."""
    if job.promoted_at is None:
        return "not promoted"
    p = job.promoted_at
    new = [r.start + r.seconds for r in soak.results if r.version == job.version]
    old = [r.start for r in soak.results if r.start > p and r.version == previous]
    first = f"first served {(min(new) - p) * 1000:+.0f} ms" if new else "never served"
    last = (
        f"old version {previous} still answered {len(old)} requests sent after it, the "
        f"last sent {(max(old) - p) * 1000:+.0f} ms"
        if old
        else "no request sent after it got the old version"
    )
    return f"{first} after promotion; {last}"


def report(soak: Soak, stored: dict[int, int] | None, log: str, elapsed: float) -> dict:
    args = soak.args
    rows = minutes_table(soak)
    roles = sorted({s["role"] for s in soak.samples if s["role"] != "parent"})
    total, bad = len(soak.results), [r for r in soak.results if r.outcome != "ok"]
    print(
        f"\n## Soak: `digits serve --workers {args.workers}`, {args.minutes:g} min, target "
        f"{args.rate:g} req/s at concurrency ≤ {args.concurrency}\n"
    )
    head = (
        "| min | requests | p50 ms | p99 ms | errors | "
        + " | ".join(f"{w} RSS MB | {w} fds | {w} CPU s" for w in roles)
        + " | parent fds | events |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for row in rows:
        cells = [
            str(row["minute"]),
            str(row["requests"]),
            f"{row['p50_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
            str(row["errors"]),
        ]
        for w in roles:
            s = row.get(w)
            cells += (
                [f"{s['rss']:.1f}", str(s["fds"]), "" if s["cpu"] is None else f"{s['cpu']:.1f}"]
                if s
                else ["", "", ""]
            )
        cells.append(str(row["parent"]["fds"]) if "parent" in row else "")
        cells.append(", ".join(row["events"]))
        print("| " + " | ".join(cells) + " |")

    kinds = Counter(r.kind for r in soak.results)
    print(f"\nrequests: {total} in {elapsed:.0f} s ({total / elapsed:.1f} req/s)")
    overall = percentiles([r.seconds for r in soak.results if not r.kind.startswith("admin")])
    worst = max((r["p99_ms"] for r in rows if r["requests"]), default=math.nan)
    print(
        f"latency over the whole run: p50 {overall[0]:.1f} ms, p99 {overall[1]:.1f} ms; "
        f"worst minute p99 {worst:.1f} ms"
    )
    by_kind = {}
    for kind in sorted(kinds):
        p50, p99 = percentiles([r.seconds for r in soak.results if r.kind == kind])
        by_kind[kind] = {"n": kinds[kind], "p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}
    print(
        "by kind (requests, p50/p99 ms): "
        + ", ".join(f"{k} {v['n']} {v['p50_ms']:.1f}/{v['p99_ms']:.1f}" for k, v in by_kind.items())
    )
    errors = Counter((r.kind, r.outcome) for r in bad)
    print(
        f"errors: {len(bad)} (target 0)"
        + (
            ""
            if not bad
            else ": " + ", ".join(f"{k} {o} ×{n}" for (k, o), n in sorted(errors.items()))
        )
    )
    for line in soak.error_details[:10]:
        print(f"  {line}")

    warmup = args.warmup
    print(f"\nRSS after the first {warmup:.0f} s (least-squares slope, max − min; target: flat):")
    trends = {}
    for w in roles:
        slope, spread, pids = trend(soak, w, warmup)
        trends[w] = {"slope_mb_per_min": slope, "range_mb": spread, "pids": pids}
        note = "" if len(pids) == 1 else f"  WORKER REPLACED: pids {pids}"
        print(f"  {w} (pid {pids[-1]}): {slope:+.3f} MB/min, range {spread:.1f} MB{note}")
    first, last = {}, {}
    for s in soak.samples:
        first.setdefault(s["role"], s)
        last[s["role"]] = s
    print(
        "open fds, start → end: "
        + ", ".join(
            f"{role} {first[role]['fds']} → {last[role]['fds']}"
            for role in ["parent", *roles]
            if role in first and role in last
        )
    )

    print(
        f"\nretrains ({json.loads(args.retrain)}; `force: true` because a small network cannot "
        f"pass the gate against the shipped 99.24 % model):"
    )
    previous = next((r.version for r in soak.results if r.version), None)
    for k, job in enumerate(soak.jobs, 1):
        res = job.result
        acc = res.get("mnist_test_accuracy")
        line = f"  job {k} {job.id or ''}: {job.status}"
        if job.id:
            line += f", sent at {job.requested:.0f} s, over after {job.ended - job.requested:.0f} s"
        if acc is not None:
            line += f", trained {res.get('train_seconds')} s, MNIST test {acc:.2%}"
        elif job.reason:
            line += f": {job.reason}"
        print(line)
        if job.version:
            print(f"    {previous} → {job.version}: {swap_timing(soak, job, previous)}")
            previous = job.version
    served = Counter(r.version for r in soak.results if r.version)
    right = Counter(r.version for r in soak.results if r.correct)
    print(
        "  versions served, in order: "
        + ", ".join(f"{v} ({n} predictions, {right[v] / n:.1%} right)" for v, n in served.items())
    )

    if stored is None:
        print("\nfeedback: the store could not be read")
        missing, wrong = list(soak.feedback), []
    else:
        missing = [i for i in soak.feedback if i not in stored]
        wrong = [i for i, label in soak.feedback.items() if i in stored and stored[i] != label]
        print(
            f"\nfeedback: {len(soak.feedback) - len(missing)}/{len(soak.feedback)} posts that "
            f"got 201 are in the store (label as posted: "
            f"{len(soak.feedback) - len(missing) - len(wrong)}); the store holds {len(stored)} "
            f"rows" + (f"; MISSING ids {missing[:10]}" if missing else "")
        )

    # uvicorn prefixes its own lines with INFO:/WARNING:/ERROR:; the app's loggers print bare.
    notable = [line for line in log.splitlines() if line.strip() and not line.startswith("INFO:")]
    tracebacks = log.count("Traceback")
    died = re.findall(r"Child process \[\d+\] died", log)
    server_5xx = len(re.findall(r'^INFO: +\S+ - "(?!GET /readyz)[^"]*" 5\d\d ', log, re.MULTILINE))
    print(
        f"server log: {len(notable)} lines other than INFO ({tracebacks} tracebacks), "
        f"{server_5xx} 5xx in the access log (/readyz left out), {len(died)} workers died"
    )
    for line in notable[:20]:
        print(f"  | {line}")
    print(startup_line(soak.startup, args.workers))

    slope = max((t["slope_mb_per_min"] for t in trends.values()), default=math.nan)
    promoted = sum(1 for j in soak.jobs if j.version)
    print(
        f"\nsoak: requests={total} errors={len(bad)} p99_worst_minute={worst:.1f}ms "
        f"rss_slope_max={slope:+.3f}MB/min "
        f"feedback={len(soak.feedback) - len(missing)}/{len(soak.feedback)} "
        f"retrains_promoted={promoted}/{args.retrains}"
    )
    return {
        "config": {k: v for k, v in vars(args).items() if k != "json"},
        "elapsed_seconds": elapsed,
        "requests": total,
        "errors": {f"{k} {o}": n for (k, o), n in errors.items()},
        "error_details": soak.error_details,
        "minutes": rows,
        "latency_by_kind": by_kind,
        "rss_trend": trends,
        "samples": soak.samples,
        "jobs": [vars(j) for j in soak.jobs],
        "startup": soak.startup,
        "feedback": {
            "posted_201": len(soak.feedback),
            "missing": missing,
            "wrong_label": wrong,
            "stored_rows": None if stored is None else len(stored),
        },
        "server_log": {
            "tracebacks": tracebacks,
            "notable_lines": notable[:200],
            "access_5xx": server_5xx,
            "workers_died": len(died),
        },
    }
