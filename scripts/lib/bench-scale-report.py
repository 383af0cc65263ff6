#!/usr/bin/env python3
"""Turns .lab/bench-scale/scale.json (scripts/bench --scale) into the "Scale" block of docs/benchmarks.md: per store,
each figure at each backlog size and its ratio largest/smallest size, and a plot of the latencies against the backlog.
Usage: bench-scale-report.py OUT_DIR BENCHMARKS_MD"""
import json
import os
import platform
import subprocess
import sys
from datetime import datetime

from markdown_block import replace_block

out, target = sys.argv[1], sys.argv[2]
runs = [json.loads(line) for line in open(os.path.join(out, "scale.json")) if line.startswith("{")]
stores = sorted({r["store"] for r in runs}, key=["sqlite", "postgres"].index)
STORE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

# (label, value from a run, unit, lower is better)
FIGURES = [
    ("claim p50 / p99", lambda r: (r["calls"]["claim_ms"]["p50"], r["calls"]["claim_ms"]["p99"]), "ms"),
    ("next due p50 / p99", lambda r: (r["calls"]["next_due_ms"]["p50"], r["calls"]["next_due_ms"]["p99"]), "ms"),
    ("counts p50 / p99", lambda r: (r["calls"]["counts_ms"]["p50"], r["calls"]["counts_ms"]["p99"]), "ms"),
    ("newly queued job claimed after, p50 / p99", lambda r: (r["service"]["time_to_claim_ms"]["p50"], r["service"]["time_to_claim_ms"]["p99"]), "ms"),
    ("`GET /status` p50 / p99", lambda r: (r["service"]["status_ms"]["p50"], r["service"]["status_ms"]["p99"]), "ms"),
    ("`GET /messages?limit=100` p50 / p99", lambda r: (r["service"]["messages_newest_ms"]["p50"], r["service"]["messages_newest_ms"]["p99"]), "ms"),
    ("… `?project=scale-2&state=deferred` p50 / p99", lambda r: (r["service"]["messages_filtered_ms"]["p50"], r["service"]["messages_filtered_ms"]["p99"]), "ms"),
    ("… `?before=` half-way down p50 / p99", lambda r: (r["service"]["messages_deep_ms"]["p50"], r["service"]["messages_deep_ms"]["p99"]), "ms"),
    ("idle CPU (20 s, nothing due)", lambda r: (r["idle_cpu_percent"],), "% of a core"),
    ("intake, 10 × 1,000 messages, 2 at a time", lambda r: (r["intake"]["messages_per_second"],), "messages/s"),
    ("RSS idle / after intake (+ 5 POSTs of 10,000) / peak", lambda r: (r["idle_rss_kb"] / 1024, r["loaded_rss_kb"] / 1024, r["peak_rss_kb"] / 1024), "MB"),
]


def cell(values, unit):
    if unit == "messages/s":
        return f"{values[0]:,.0f}"
    return " / ".join(f"{v:.2f}" if v < 10 else f"{v:.0f}" for v in values)


lines = ["## Scale (scripts/bench --scale)", ""]
lines.append(f"Measured {datetime.utcnow():%Y-%m-%d %H:%M} UTC with `scripts/bench --scale` (release build) on {platform.machine()}, "
             f"{os.cpu_count()} cores, {platform.platform()}: one database per store filled in turn to each size by "
             "`pixl-bench scale-fill` (94 % deferred to tomorrow, 5 % succeeded, 1 % discarded, in four projects), "
             "then the store's own calls (200 samples), the idle service, HTTP against `serve` (100 samples), the time a newly "
             "posted message waits for its claim (10 messages, the service's own `started_at − created_at`), and intake.")
for store in stores:
    rows = sorted((r for r in runs if r["store"] == store), key=lambda r: r["jobs"])
    lines += ["", f"### {STORE_NAMES[store]}", ""]
    lines.append("| figure | unit | " + " | ".join(f"{r['jobs']:,} jobs" for r in rows) + " | largest / smallest |")
    lines.append("|---|---|" + "---|" * len(rows) + "---|")
    for label, value, unit in FIGURES:
        values = [value(r) for r in rows]
        first, last = values[0][0], values[-1][0]
        ratio = f"{last / first:.2f}" if first else "—"
        lines.append(f"| {label} | {unit} | " + " | ".join(cell(v, unit) for v in values) + f" | {ratio} |")
lines += ["", "![latency against backlog size](benchmarks-scale.png)"]

data = os.path.join(out, "scale.dat")
with open(data, "w") as f:
    for store in stores:
        for r in sorted((r for r in runs if r["store"] == store), key=lambda r: r["jobs"]):
            f.write(f"{r['jobs']} {r['calls']['claim_ms']['p50']} {r['calls']['next_due_ms']['p50']} "
                    f"{r['service']['status_ms']['p50']} {r['service']['messages_filtered_ms']['p50']} "
                    f"{r['service']['time_to_claim_ms']['p50']}\n")
        f.write("\n\n")
png = os.path.join(os.path.dirname(target), "benchmarks-scale.png")
plots = []
for index, store in enumerate(stores):
    for column, name in [(2, "claim"), (3, "next due"), (4, "GET /status"), (5, "GET /messages filtered"), (6, "time to claim")]:
        plots.append(f"'{data}' index {index} using 1:{column} with linespoints dashtype {index + 1} title '{STORE_NAMES[store]}: {name}'")
subprocess.run(["gnuplot"], input=f"""
set terminal png size 900,520
set output '{png}'
set title 'pixl-imaging: p50 latency against backlog size (release build)'
set xlabel 'jobs in the store'
set ylabel 'milliseconds'
set logscale x 10
set xrange [500:2000000]
set format x '%.0s%c'
set logscale y 10
set key outside right
set grid
plot {", ".join(plots)}
""", text=True, check=True)

block = "\n".join(lines)
replace_block(target, "scripts/bench --scale", block)
print(block)
