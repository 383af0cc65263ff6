"""Helpers of scripts/chaos (standard library only): prepare the messages, watch a phase, collect its jobs, report.

  chaos.py prepare --bench FILE [--sized FILE...] --phases P,Q --weights 3,1 --seed S --out DIR
  chaos.py monitor --urls URL[,URL] --raw URL --project P --out FILE   (until SIGTERM)
  chaos.py collect --urls URL[,URL] --project P --out FILE
  chaos.py report --run DIR

Patient identifiers (MRN, accession number) are never printed: the lab's are synthetic, and the report names studies
by StudyInstanceUID only where it must.
"""
import argparse
import base64
import json
import os
import random
import signal
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

FINAL = ("succeeded", "discarded", "failed")


def write_json(path, value):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as file:
        json.dump(value, file)
    os.replace(tmp, path)


def read_json(path, default=None):
    try:
        with open(path) as file:
            return json.load(file)
    except (OSError, ValueError):
        return default


def get(url, timeout=2.0, auth=None):
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def raw_auth():
    return f"{os.environ.get('ORTHANC_RAW_USERNAME', '')}:{os.environ.get('ORTHANC_RAW_PASSWORD', '')}"


def first_answer(urls, path, timeout=2.0):
    """The answer of the first service that answers (a killed or frozen replica does not)."""
    for url in urls:
        try:
            return get(url + path, timeout)
        except (OSError, ValueError, urllib.error.URLError):
            continue
    return None


def all_jobs(urls, project):
    """Every job of the project, following the pages; None when no service answers."""
    jobs, path = [], f"/messages?project={urllib.parse.quote(project)}&limit=1000"
    while path:
        page = first_answer(urls, path, timeout=10.0)
        if page is None:
            return None
        jobs += page["jobs"]
        path = page.get("next")
        if path and path.startswith("http"):
            path = urllib.parse.urlsplit(path)._replace(scheme="", netloc="").geturl()
    return jobs


# prepare: shuffle the messages (seeded) and share them among the phases, each with its own project name.
def prepare(args):
    rng = random.Random(args.seed)
    with open(args.bench) as file:
        messages = [(m, 1) for m in json.load(file)]
    for path in args.sized or []:
        with open(path) as file:
            study = json.load(file)
        message = {
            "mrn": study["mrn"], "accession_number": study["accession_number"], "study_uid": study["study_uid"],
            "study_date": "2024-01-02", "procedure_occurrence_id": 1, "project_name": "",
            "extract_generated_timestamp": "2026-11-29T09:00:00+00:00",
        }
        messages.append((message, study["instance_count"]))
    rng.shuffle(messages)
    phases = args.phases.split(",")
    weights = [int(w) for w in args.weights.split(",")]
    shares, start = [], 0
    for index, weight in enumerate(weights):
        end = len(messages) if index == len(weights) - 1 else start + round(len(messages) * weight / sum(weights))
        shares.append(messages[start:end])
        start = end
    for phase, share in zip(phases, shares):
        directory = os.path.join(args.out, phase)
        os.makedirs(os.path.join(directory, "amqp"), exist_ok=True)
        bodies = []
        for index, (message, _) in enumerate(share):
            message = dict(message, project_name=f"chaos-{phase}")
            bodies.append(message)
            with open(os.path.join(directory, "amqp", f"{index:04d}.json"), "w") as file:
                json.dump(message, file)
        write_json(os.path.join(directory, "messages.json"), bodies)
        write_json(os.path.join(directory, "expected.json"), {m["study_uid"]: count for m, count in share})
        print(f"{phase}:{len(share)}")


# monitor: what the phase did over time, from the service (job counts, job states) and orthanc-raw (its jobs).
class Monitor:
    def __init__(self, args):
        self.urls = args.urls.split(",")
        self.raw = args.raw
        self.project = args.project
        self.out = args.out
        self.timeline = []  # [time, finished jobs] whenever the count changes
        self.seen = {}  # job id -> [state, attempts, updated_at]
        self.backwards = []  # what went backwards: {"job", "from", "to", "at"}
        self.orthanc_jobs = {}  # raw's C-MOVE and modify jobs by id, since the monitor started
        self.baseline = None  # raw's jobs before the phase: not the phase's
        self.stop = False

    def status(self):
        status = first_answer(self.urls, "/status", timeout=1.0)
        if status is None:
            return
        finished = sum(status["counts"].get(state, 0) for state in FINAL)
        if not self.timeline or self.timeline[-1][1] != finished:
            self.timeline.append([time.time(), finished])

    def job_states(self):
        jobs = all_jobs(self.urls, self.project)
        for job in jobs or []:
            now = [job["state"], job["attempts"], job["updated_at"]]
            before = self.seen.get(job["id"])
            if before and (
                (before[0] in FINAL and now[0] != before[0]) or now[1] < before[1] or now[2] < before[2]
            ):
                self.backwards.append({"job": job["id"], "from": before, "to": now, "at": time.time()})
            if not before or now[2] >= before[2]:
                self.seen[job["id"]] = now

    def raw_jobs(self):
        try:
            jobs = get(self.raw + "/jobs?expand", timeout=2.0, auth=raw_auth())
        except (OSError, ValueError, urllib.error.URLError):
            return
        if self.baseline is None:
            self.baseline = {job["ID"] for job in jobs}
        for job in jobs:
            if job.get("Type") not in ("DicomMoveScu", "ResourceModification") or job["ID"] in self.baseline:
                continue
            query = (job.get("Content") or {}).get("Query") or []
            self.orthanc_jobs[job["ID"]] = {
                "type": job["Type"], "state": job.get("State"), "created": job.get("CreationTime"),
                "level": query[0].get("0008,0052") if query else None,
                "studies": sorted({q.get("0020,000d") for q in query if q.get("0020,000d")}),
                "resources": len(query),
            }

    def save(self):
        write_json(self.out, {
            "timeline": self.timeline, "backwards": self.backwards, "orthanc_jobs": self.orthanc_jobs,
            "jobs_seen": len(self.seen),
        })

    def run(self):
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stop", True))
        while self.baseline is None and not self.stop:
            self.raw_jobs()
            time.sleep(0.1)
        self.save()  # the driver sends the messages once this file exists
        tick = 0
        while not self.stop:
            self.status()
            self.raw_jobs()
            if tick % 4 == 0:
                self.job_states()
            if tick % 8 == 0:
                self.save()
            tick += 1
            time.sleep(0.25)
        self.status()
        self.raw_jobs()
        self.job_states()
        self.save()


def collect(args):
    jobs = all_jobs(args.urls.split(","), args.project)
    if jobs is None:
        sys.exit("chaos: no service answered to list the jobs")
    write_json(args.out, jobs)


# report: the table, from what each phase recorded and what orthanc-raw holds now.
def raw_copies(raw):
    """StudyInstanceUID -> Orthanc ids of raw's copies."""
    copies = {}
    for study in get(raw + "/studies?expand", timeout=60.0, auth=raw_auth()):
        copies.setdefault(study["MainDicomTags"].get("StudyInstanceUID"), []).append(study["ID"])
    return copies


def check_raw(raw, expected, project, copies):
    """Studies not in raw exactly once, complete, tagged with the project: {uid: what is wrong}."""
    problems = {}
    for uid, count in expected.items():
        ids = copies.get(uid, [])
        if len(ids) != 1:
            problems[uid] = f"{len(ids)} copies"
            continue
        present = get(f"{raw}/studies/{ids[0]}/statistics", auth=raw_auth())["CountInstances"]
        tag = (get(f"{raw}/studies/{ids[0]}/shared-tags?short", auth=raw_auth()).get("000d,1001") or "").strip()
        if present != count or tag != project:
            problems[uid] = f"{present} of {count} instances, tag {tag or 'none'}"
    return problems


def seconds(value):
    return "-" if value is None else f"{value:.1f}"


def report(args):
    run = read_json(os.path.join(args.run, "run.json"))
    faults = [json.loads(line) for line in open(os.path.join(args.run, "faults.jsonl"))] if os.path.exists(
        os.path.join(args.run, "faults.jsonl")) else []
    raw = os.environ["ORTHANC_RAW_URL"]
    copies = raw_copies(raw)
    rows, totals, reasons, problems = [], dict.fromkeys(
        ["sent", "jobs", "succeeded", "discarded", "failed", "lost", "duplicated", "backwards", "raw"], 0), {}, []
    moves_by_study = {}
    for phase in run["phases"]:
        directory = os.path.join(args.run, phase["name"])
        expected = read_json(os.path.join(directory, "expected.json"), {})
        sent = read_json(os.path.join(directory, "sent.json"), {"sent": 0})["sent"]
        jobs = read_json(os.path.join(directory, "jobs.json"), [])
        monitor = read_json(os.path.join(directory, "monitor.json"), {})
        counts = {state: sum(1 for j in jobs if j["state"] == state) for state in FINAL}
        done = {d["study_uid"] for j in jobs if j["state"] == "succeeded" for d in j.get("study_details", [])}
        lost = max(sent - len(done & set(expected)) - counts["discarded"] - counts["failed"], 0)
        for job in jobs:
            if job["state"] in ("discarded", "failed"):
                key = f"{job['state']}: {job.get('reason') or '?'}"
                reasons[key] = reasons.get(key, 0) + 1
        for job in (monitor.get("orthanc_jobs") or {}).values():
            if job["type"] == "DicomMoveScu" and job["level"] == "STUDY":
                for uid in job["studies"]:
                    moves_by_study.setdefault(uid, []).append(job["state"])
        duplicated = sum(1 for uid in expected if moves_by_study.get(uid, []).count("Success") > 1)
        wrong = check_raw(raw, expected, f"chaos-{phase['name']}", copies)
        problems += [f"{phase['name']}: {uid}: {what}" for uid, what in sorted(wrong.items())[:10]]
        backwards = len(monitor.get("backwards") or [])
        problems += [f"{phase['name']}: job {b['job']} went from {b['from']} to {b['to']}" for b in (monitor.get("backwards") or [])[:10]]
        row = {
            "sent": sent, "jobs": len(jobs), **counts, "lost": lost, "duplicated": duplicated, "backwards": backwards,
            "raw": len(wrong),
        }
        for key in totals:
            totals[key] += row[key]
        kinds = {}
        for fault in faults:
            if fault["phase"] == phase["name"]:
                kinds[fault["fault"]] = kinds.get(fault["fault"], 0) + 1
        rows.append((phase["name"], phase["backend"], phase["intake"], row, " ".join(f"{k}:{v}" for k, v in kinds.items()) or "none"))

    header = f"{'phase':<10} {'store':<9} {'intake':<7} {'sent':>5} {'jobs':>5} {'ok':>5} {'discarded':>9} {'failed':>6} " \
             f"{'lost':>5} {'2x pulled':>9} {'backwards':>9} {'raw wrong':>9}  faults"
    print()
    print(f"chaos: seed {run['seed']}, {run['messages']} messages, {run['build']} build, {time.time() - run['started']:.0f} s")
    print(header)
    for name, backend, intake, row, kinds in rows + [("total", "", "", totals, "")]:
        print(f"{name:<10} {backend:<9} {intake:<7} {row['sent']:>5} {row['jobs']:>5} {row['succeeded']:>5} {row['discarded']:>9} "
              f"{row['failed']:>6} {row['lost']:>5} {row['duplicated']:>9} {row['backwards']:>9} {row['raw']:>9}  {kinds}")
    attempts = [j["attempts"] for phase in run["phases"] for j in read_json(os.path.join(args.run, phase["name"], "jobs.json"), [])]
    print(f"attempts: {sum(1 for a in attempts if a > 1)} of {len(attempts)} jobs needed more than one, "
          f"at most {max(attempts, default=0)}")
    repeated = sum(1 for states in moves_by_study.values() if len(states) > 1)
    print(f"study-level C-MOVEs: {sum(len(s) for s in moves_by_study.values())} for {len(moves_by_study)} studies; "
          f"{repeated} studies moved at study level more than once (after a move that failed or was cut off)")
    for key, count in sorted(reasons.items()):
        print(f"  {count} x {key}")
    print()
    print(f"{'fault':<22} {'phase':<10} {'at (s)':>7} {'down (s)':>8} {'recovery (s)':>12}  detail")
    recoveries = {}
    for fault in faults:
        monitor = read_json(os.path.join(args.run, fault["phase"], "monitor.json"), {})
        timeline = monitor.get("timeline") or []
        before = [n for t, n in timeline if t <= fault["end"]]
        baseline = before[-1] if before else 0
        after = [t for t, n in timeline if t > fault["end"] and n > baseline]
        recovery = after[0] - fault["end"] if after else None
        if recovery is not None:
            recoveries.setdefault(fault["fault"], []).append(recovery)
        print(f"{fault['fault']:<22} {fault['phase']:<10} {fault['start'] - run['started']:>7.1f} "
              f"{fault['end'] - fault['start']:>8.1f} {seconds(recovery):>12}  {fault.get('detail', '')}")
    if recoveries:
        print("recovery by fault (median / max, s): " + ", ".join(
            f"{kind} {statistics.median(v):.1f} / {max(v):.1f}" for kind, v in sorted(recoveries.items())))
    for phase in run["phases"]:
        notes = os.path.join(args.run, phase["name"], "notes.txt")
        if os.path.exists(notes):
            for line in open(notes):
                print(f"  {phase['name']}: {line.strip()}")
    for problem in problems:
        print(f"  problem: {problem}")
    ok = totals["lost"] == totals["discarded"] == totals["failed"] == totals["duplicated"] == totals["backwards"] == totals["raw"] == 0
    write_json(os.path.join(args.run, "report.json"), {"totals": totals, "ok": ok, "recoveries": recoveries, "reasons": reasons})
    print("chaos: " + ("PASS" if ok else "FAIL: messages lost, discarded or failed, a study pulled whole twice, a job state "
                       "gone backwards, or raw not holding each study once, complete and tagged"))
    sys.exit(0 if ok else 1)


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("--bench", required=True)
    p.add_argument("--sized", nargs="*")
    p.add_argument("--phases", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)
    p = commands.add_parser("monitor")
    p.add_argument("--urls", required=True)
    p.add_argument("--raw", required=True)
    p.add_argument("--project", required=True)
    p.add_argument("--out", required=True)
    p = commands.add_parser("collect")
    p.add_argument("--urls", required=True)
    p.add_argument("--project", required=True)
    p.add_argument("--out", required=True)
    p = commands.add_parser("report")
    p.add_argument("--run", required=True)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args)
    elif args.command == "monitor":
        Monitor(args).run()
    elif args.command == "collect":
        collect(args)
    else:
        report(args)


if __name__ == "__main__":
    main()
