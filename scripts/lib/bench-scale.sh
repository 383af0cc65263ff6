#!/usr/bin/env bash
# scripts/bench --scale: what the service costs against the size of its backlog (issue "Scale"). For each store
# (SQLite, then PostgreSQL), one database is filled to each size in turn (`pixl-bench scale-fill`: nearly all jobs
# deferred to tomorrow, some finished), and at each size:
#
#   store    claim, next-due, counts and a page through the store itself (`pixl-bench scale-store`, p50/p99);
#   idle     the CPU a release `serve` uses in 10 s with nothing due, and its RSS;
#   service  /status and three /messages pages, and the time a newly posted message waits to be claimed
#            (`pixl-bench scale-service`, p50/p99, against the lab's orthanc-raw);
#   intake   10 POSTs of 1,000 new messages, two at a time, to the paused service (`pixl-bench intake`), then
#            5 POSTs of 10,000 each, and the RSS after them against the idle RSS.
#
# Figures go to .lab/bench-scale/scale.json, then into the "Scale" section of docs/benchmarks.md with a plot
# (scripts/lib/bench-scale-report.py).
#
#   scripts/bench --scale                                   1,000, 100,000 and 1,000,000 jobs, both stores
#   BENCH_SCALE_SIZES="1000 20000" BENCH_SCALE_STORES=sqlite scripts/bench --scale
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZES="${BENCH_SCALE_SIZES:-1000 100000 1000000}"
STORES="${BENCH_SCALE_STORES:-sqlite postgres}"
PORT="${BENCH_PORT:-18100}"
URL="http://127.0.0.1:$PORT"
OUT=.lab/bench-scale
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/scale.sqlite*

command -v gnuplot >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox; }

echo "bench --scale: building release" >&2
swift build -c release --product pixl-imaging >&2
swift build -c release --package-path Benchmarks --product pixl-bench >&2
BIN="$(swift build -c release --show-bin-path)/pixl-imaging"
BENCH="$(swift build -c release --package-path Benchmarks --show-bin-path)/pixl-bench"

scripts/lab up >&2
set -a; . .lab/lab.env; set +a
# No secondary archive: a probe message for a study no archive holds ends in the primary lane, so its started_at is the
# one claim timed (with a secondary, it would be the secondary lane's claim, after the primary lane's C-FINDs).
export SECONDARY_DICOM_SOURCE_MODALITY= LOG_LEVEL=warning PIXL_IMAGING_API_PORT="$PORT" PIXL_IMAGING_API_RATE=1000

SERVE_PID=""
stop_serve() {
  if [[ -n "$SERVE_PID" ]]; then kill -TERM "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""; fi
}
trap stop_serve EXIT

start_serve() {
  "$BIN" serve 2>>"$OUT/serve.log" &
  SERVE_PID=$!
  for _ in $(seq 1 1500); do curl -sf "$URL/heart-beat" >/dev/null && return 0; sleep 0.02; done
  echo "bench --scale: serve did not start (see $OUT/serve.log)" >&2
  exit 1
}
# CPU seconds (user + system) the service has used, from /proc (clock ticks).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVE_PID/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$SERVE_PID/status"; }

for store in $STORES; do
  case "$store" in
    sqlite)
      unset PIXL_DB_HOST PIXL_DB_PORT PIXL_DB_USER PIXL_DB_NAME PIXL_DB_SCHEMA
      export PIXL_DB_PATH="$OUT/scale.sqlite"
      ;;
    postgres)
      scripts/postgres up >&2
      unset PIXL_DB_PATH
      set -a; . .lab/postgres.env; set +a
      export PIXL_DB_SCHEMA=scale_bench
      psql -qX -h "$PIXL_DB_HOST" -p "$PIXL_DB_PORT" -U "$PIXL_DB_USER" -d "$PIXL_DB_NAME" -c "DROP SCHEMA IF EXISTS scale_bench CASCADE" >&2
      ;;
    *) echo "bench --scale: unknown store $store" >&2; exit 2 ;;
  esac
  for size in $SIZES; do
    echo "bench --scale: $store, $size jobs: fill" >&2
    fill="$("$BENCH" scale-fill --jobs "$size")"
    echo "bench --scale: $store, $size jobs: store calls" >&2
    calls="$("$BENCH" scale-store --samples 200)"
    start_serve
    echo "bench --scale: $store, $size jobs: idle for 20 s" >&2
    sleep 2
    before="$(cpu_ticks)"
    sleep 20
    idle_cpu="$(awk -v a="$before" -v b="$(cpu_ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz / 20 * 100}')"
    idle_rss="$(rss_kb)"
    echo "bench --scale: $store, $size jobs: HTTP" >&2
    service="$("$BENCH" scale-service --url "$URL")"
    curl -sf -X POST -H 'Content-Type: application/json' -d '{"rate": 0}' "$URL/token-bucket-refresh-rate" >/dev/null
    intake="$("$BENCH" intake --url "$URL" --batch 1000 --count 10000 --connections 2)"
    "$BENCH" intake --url "$URL" --batch 10000 --count 50000 --connections 1 >/dev/null
    loaded_rss="$(rss_kb)"
    peak_rss="$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")"
    stop_serve
    printf '{"store":"%s","jobs":%s,"fill":%s,"calls":%s,"idle_cpu_percent":%s,"idle_rss_kb":%s,"service":%s,"intake":%s,"loaded_rss_kb":%s,"peak_rss_kb":%s}\n' \
      "$store" "$size" "$fill" "$calls" "$idle_cpu" "$idle_rss" "$service" "$intake" "$loaded_rss" "$peak_rss" | tee -a "$OUT/scale.json"
  done
done

python3 scripts/lib/bench-scale-report.py "$OUT" docs/benchmarks.md
echo "bench --scale: figures in docs/benchmarks.md" >&2
