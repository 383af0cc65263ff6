#!/usr/bin/env python3
"""Turns the figures scripts/bench leaves in .lab/bench into the "Service" block of docs/benchmarks.md
and a throughput-versus-concurrency plot (gnuplot). Usage: bench-report.py OUT_DIR STUDIES BENCHMARKS_MD"""
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from datetime import datetime

from markdown_block import replace_block

out, studies, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def rows(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip().startswith("{")]


def one(name):
    found = rows(name)
    return found[0] if found else {}


def orthanc_time(text):
    return datetime.strptime(text, "%Y%m%dT%H%M%S.%f")


def notice_delays(concurrency):
    """Milliseconds from each C-MOVE's completion to the creation of the same study's modify job."""
    path = os.path.join(out, f"orthanc-jobs-{concurrency}.json")
    if not os.path.exists(path):
        return []
    jobs = json.load(open(path))
    messages = json.load(open(".lab/bench-messages.json"))
    uid_of_id = {}
    for m in messages:
        digest = hashlib.sha1(f"{m['mrn']}|{m['study_uid']}".encode()).hexdigest()
        uid_of_id["-".join(digest[i:i + 8] for i in range(0, 40, 8))] = m["study_uid"]
    moved, modified = {}, {}
    for job in jobs:
        content = job.get("Content", {})
        if job["Type"] == "DicomMoveScu" and job.get("CompletionTime"):
            uid = content.get("Query", [{}])[0].get("0020,000d")
            moved[uid] = orthanc_time(job["CompletionTime"])
        elif job["Type"] == "ResourceModification":
            uid = uid_of_id.get(content.get("ID"))
            if uid:
                modified[uid] = orthanc_time(job["CreationTime"])
    return sorted((modified[u] - moved[u]).total_seconds() * 1000 for u in moved if u in modified)


def percentile(values, p):
    if not values:
        return float("nan")
    rank = max(1, -(-int(p * len(values) * 1000) // 1000))
    return values[min(len(values), rank) - 1]


limit = {r["concurrency"]: r for r in rows("limit.json")}
service = {r["concurrency"]: r for r in rows("service.json")}
rss = {r["concurrency"]: r for r in rows("e2e-rss.json")}
lines = []
lines.append("## Service (scripts/bench)")
lines.append("")
lines.append(f"Measured {datetime.utcnow():%Y-%m-%d %H:%M} UTC with `scripts/bench` (N = {studies} single-instance studies in the lab VNA, "
             f"release build, rate unlimited) on {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}. "
             "The limit is `pixl-bench limit`: the same minimal REST sequence per study (query by UID, retrieve, follow the job, "
             "find, tag, follow the job) from a bare task group, no queue and no database, run just before the service at each concurrency.")
lines.append("")
lines.append("| concurrency | limit studies/s | service studies/s | service / limit | limit p50 / p95 ms | service p50 / p95 ms (claim → final) | overhead p50 ms | notice p50 / p95 ms | peak RSS MB |")
lines.append("|---|---|---|---|---|---|---|---|---|")
for c in sorted(set(limit) | set(service)):
    l, s = limit.get(c, {}), service.get(c, {})
    ratio = s.get("studies_per_second", 0) / l["studies_per_second"] if l.get("studies_per_second") else float("nan")
    overhead = s.get("p50_ms", float("nan")) - l.get("p50_ms", float("nan"))
    delays = notice_delays(c)
    lines.append(f"| {c} | {l.get('studies_per_second', float('nan')):.2f} | {s.get('studies_per_second', float('nan')):.2f} | {ratio:.2f} | "
                 f"{l.get('p50_ms', float('nan')):.0f} / {l.get('p95_ms', float('nan')):.0f} | {s.get('p50_ms', float('nan')):.0f} / {s.get('p95_ms', float('nan')):.0f} | "
                 f"{overhead:.1f} | {percentile(delays, 0.5):.0f} / {percentile(delays, 0.95):.0f} | {rss.get(c, {}).get('peak_rss_kb', 0) / 1024:.1f} |")
lines.append("")
lines.append("*Notice* is read from orthanc-raw's own job records: from each C-MOVE's `CompletionTime` to the `CreationTime` of the "
             "same study's modify job. It spans the job poll that sees `Success` (from 20 ms, ×1.25 a poll, to 1 s) plus the find and "
             "tag-reading calls before the modify.")
lines.append("")
lines.append("| intake (`POST /messages`, durable) | batch | messages | messages/s |")
lines.append("|---|---|---|---|")
for r in rows("intake.json"):
    lines.append(f"| {r['backend']} | {r['batch']} | {r['messages']} | {r['messages_per_second']:.0f} |")
lines.append("")
wrk = open(os.path.join(out, "wrk.txt")).read() if os.path.exists(os.path.join(out, "wrk.txt")) else ""
rps = re.search(r"Requests/sec:\s+([\d.]+)", wrk)
p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", wrk)
p99_ms = float("nan")
if p99:
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
startup = one("startup.json")
idle = one("idle.json")
queued = one("queued-rss.json")
lines.append("| figure | measured | target |")
lines.append("|---|---|---|")
lines.append(f"| `GET /heart-beat`, wrk -t2 -c32 -d10s | {float(rps.group(1)) if rps else float('nan'):.0f} requests/s, p99 {p99_ms:.2f} ms | ≥ 30,000/s, p99 ≤ 2 ms (PIXL: 1,550/s, p99 35 ms) |")
lines.append(f"| start-up to first `/heart-beat` answer (median of {startup.get('runs', 0)}) | {startup.get('p50_ms', float('nan')):.0f} ms | ≤ 100 ms (PIXL: 2.4 s) |")
lines.append(f"| RSS idle | {idle.get('idle_rss_kb', 0) / 1024:.1f} MB | ≤ 20 MB (PIXL: 89 MB) |")
lines.append(f"| RSS with 100,000 queued jobs (peak) | {queued.get('rss_kb', 0) / 1024:.1f} MB ({queued.get('peak_rss_kb', 0) / 1024:.1f} MB) | |")
lines.append("")
lines.append("![studies per second versus concurrency](benchmarks-throughput.png)")

# The plot.
data = os.path.join(out, "throughput.dat")
with open(data, "w") as f:
    for c in sorted(set(limit) & set(service)):
        f.write(f"{c} {limit[c]['studies_per_second']} {service[c]['studies_per_second']}\n")
png = os.path.join(os.path.dirname(target), "benchmarks-throughput.png")
subprocess.run(["gnuplot"], input=f"""
set terminal png size 800,480
set output '{png}'
set title 'pixl-imaging: studies per second ({studies} single-instance studies, lab VNA)'
set xlabel 'concurrency (PIXL_MAX_MESSAGES_IN_FLIGHT)' noenhanced
set ylabel 'studies per second'
set logscale x 2
set key left top
set grid
plot '{data}' using 1:2 with linespoints title 'limit (bare REST client)', '{data}' using 1:3 with linespoints title 'service'
""", text=True, check=True)

block = "\n".join(lines)
replace_block(target, "scripts/bench", block)
print(block)
