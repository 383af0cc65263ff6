"""scripts/bench --lanes: the lanes never hold each other back (issue 13).

A release `serve` on the lab, SQLite, primary lane at 10 jobs/s, secondary at 2 jobs/s with a breaker of 3 faults, is
given the same work three times: VNA studies (project lanes-vna) and studies no archive has (lanes-pacs, each a
C-FIND for the PACS in the secondary lane). Scenarios, side by side in one run:

  healthy      both archives up;
  pacs-killed  the PACS killed (SIGKILL) before the work is posted;
  pacs-paused  the secondary lane paused (POST /lanes) before the work is posted.

For each: how long the VNA's jobs take (from the POST to the last success, polling /status) and their rate against
healthy's; the secondary lane's achieved claims per second (healthy: it must not exceed its 2/s, beyond the bucket's
burst of 5); its claims while the PACS is killed (its breaker must cap them) or paused (none). Prints one JSON line per
scenario; the report goes into docs/benchmarks.md (block "scripts/bench --lanes").

  python3 scripts/lib/bench-lanes.py BIN OUT_DIR   (run by scripts/bench --lanes)
"""
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from markdown_block import replace_block  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
PORT = int(os.environ.get("BENCH_PORT", "18100"))
URL = f"http://127.0.0.1:{PORT}"
VNA_JOBS = int(os.environ.get("BENCH_LANES_VNA", "60"))
PACS_JOBS = int(os.environ.get("BENCH_LANES_PACS", "20"))
PRIMARY_RATE, SECONDARY_RATE, BURST = 10.0, 2.0, 5


def request(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read() or b"null")


def until(what, condition, limit=300):
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench --lanes: timed out waiting until {what}")
        time.sleep(0.02)


def project_counts(name):
    return request("GET", "/status")["projects"].get(name, {})


def messages():
    vna = json.load(open(".lab/bench-messages.json"))[:VNA_JOBS]
    for message in vna:
        message["project_name"] = "lanes-vna"
    nowhere = [
        {"mrn": f"LANES-MRN-{i}", "accession_number": f"LANES-ACC-{i}", "study_uid": f"2.25.770000{i}", "study_date": "2024-01-02",
         "procedure_occurrence_id": 9000 + i, "project_name": "lanes-pacs", "extract_generated_timestamp": "2026-11-29T09:00:00+00:00"}
        for i in range(PACS_JOBS)
    ]
    return nowhere + vna


def secondary_claims():
    """Claims the secondary lane made: every lanes-pacs job's attempts beyond its one primary claim."""
    jobs = request("GET", "/messages?project=lanes-pacs&limit=1000")["jobs"]
    return sum(max(job["attempts"] - 1, 0) for job in jobs if job["lane"] == "secondary")


def scenario(name):
    subprocess.run(["scripts/lab", "reset"], check=True, stdout=subprocess.DEVNULL)
    if name == "pacs-killed":
        subprocess.run(["scripts/lab", "stop", "pacs", "--kill"], check=True, stdout=subprocess.DEVNULL)
    database = os.path.join(OUT, f"lanes-{name}.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    env = dict(os.environ, PIXL_DB_PATH=database, PIXL_PRIMARY_RATE=str(PRIMARY_RATE), PIXL_SECONDARY_RATE=str(SECONDARY_RATE),
               PIXL_SECONDARY_BREAKER_FAULTS="3", PIXL_SECONDARY_BREAKER_BACKOFF="30", LOG_LEVEL="warning")
    log = open(os.path.join(OUT, "serve.log"), "a")
    serve = subprocess.Popen([os.path.join(BIN, "pixl-imaging"), "serve"], env=env, stderr=log)
    try:
        until("serve answers", lambda: _answers())
        if name == "pacs-paused":
            request("POST", "/lanes", {"lane": "secondary", "paused": True})
        started = time.monotonic()
        request("POST", "/messages", messages())
        until("the VNA's jobs succeed", lambda: project_counts("lanes-vna").get("succeeded", 0) == VNA_JOBS)
        vna_seconds = time.monotonic() - started
        result = {"scenario": name, "vna_jobs": VNA_JOBS, "vna_seconds": round(vna_seconds, 3),
                  "vna_per_second": round(VNA_JOBS / vna_seconds, 2)}
        if name == "healthy":
            until("the PACS lane's jobs end", lambda: project_counts("lanes-pacs").get("discarded", 0) == PACS_JOBS)
            seconds = time.monotonic() - started
            # The first claims come out of the bucket's burst; the rest at the lane's rate at most.
            result.update(pacs_jobs=PACS_JOBS, pacs_seconds=round(seconds, 3), pacs_per_second_after_burst=round((PACS_JOBS - BURST) / seconds, 2))
        lanes = {lane["lane"]: lane for lane in request("GET", "/lanes")["lanes"]}
        result.update(secondary_claims=secondary_claims(), secondary_breaker=lanes["secondary"]["breaker"]["state"],
                      secondary_queued=lanes["secondary"]["queued"] + lanes["secondary"]["retry"])
        print(json.dumps(result), flush=True)
        return result
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        if name == "pacs-killed":
            subprocess.run(["scripts/lab", "start", "pacs"], check=True, stdout=subprocess.DEVNULL)


def _answers():
    try:
        return request("GET", "/heart-beat") == "OK"
    except OSError:
        return False


def report(results):
    healthy = results[0]
    rows = []
    for result in results:
        ratio = result["vna_per_second"] / healthy["vna_per_second"]
        if result["scenario"] == "healthy":
            pacs = (f"{result['pacs_jobs']} jobs in {result['pacs_seconds']:.1f} s: {result['pacs_per_second_after_burst']:.2f}/s after the "
                    f"burst of {BURST} (configured {SECONDARY_RATE:g}/s)")
        elif result["scenario"] == "pacs-killed":
            pacs = f"{result['secondary_claims']} claims in all (the breaker's 3 faults), breaker {result['secondary_breaker']}, {result['secondary_queued']} jobs waiting"
        else:
            pacs = f"{result['secondary_claims']} claims, {result['secondary_queued']} jobs waiting"
        rows.append(f"| {result['scenario']} | {result['vna_seconds']:.2f} s | {result['vna_per_second']:.2f} | {ratio:.2f} | {pacs} |")
    block = "\n".join([
        "## Lanes (scripts/bench --lanes)",
        "",
        f"Measured {datetime.date.today().isoformat()} on this machine (2 cores), release build, SQLite, the lab's Orthanc servers. "
        f"{VNA_JOBS} VNA studies and {PACS_JOBS} studies no archive has (each a C-FIND for the PACS) posted in one batch, the PACS's "
        f"first; primary lane at {PRIMARY_RATE:g} jobs/s, secondary at {SECONDARY_RATE:g} jobs/s with a breaker of 3 faults. The VNA's "
        f"rate is its jobs over the time from the POST to its last success; the ratio is against the healthy run, measured in the same run. The primary lane claims all {VNA_JOBS + PACS_JOBS} jobs (the PACS's first, which it hands to the secondary lane), so {VNA_JOBS + PACS_JOBS} claims at {PRIMARY_RATE:g}/s bound the VNA's figure: its own lane's rate, whatever the PACS does.",
        "",
        "| scenario | VNA jobs done in | VNA jobs/s | ratio | secondary lane |",
        "|---|---|---|---|---|",
        *rows,
    ])
    replace_block("docs/benchmarks.md", "scripts/bench --lanes", block)


results = [scenario(name) for name in ("healthy", "pacs-killed", "pacs-paused")]
with open(os.path.join(OUT, "lanes.json"), "w") as out:
    json.dump(results, out)
report(results)
