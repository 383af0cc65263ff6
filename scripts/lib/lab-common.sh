# shellcheck shell=bash
# Shared settings and helpers for scripts/lab. Sourced, not executed.

LAB_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB_DIR="${LAB_DIR:-$LAB_REPO_ROOT/.lab}"
LAB_HTTP_BASE="${LAB_HTTP_BASE:-18042}"
LAB_DICOM_BASE="${LAB_DICOM_BASE:-14242}"
LAB_START_TIMEOUT="${LAB_START_TIMEOUT:-30}"
LAB_HOST=127.0.0.1

# The four Orthanc servers (pacs2 is dcmtk's dcmqrscp, handled apart).
# shellcheck disable=SC2034 # used by scripts/lab
LAB_ORTHANCS=(vna pacs raw anon)

lab_ae() {
  case "$1" in
    vna) echo VNAQR ;;
    pacs) echo PACSQR ;;
    raw) echo ORTHANCRAW ;;
    anon) echo PIXLANON ;;
    pacs2) echo PACS2QR ;;
    *) lab_die "unknown server $1" ;;
  esac
}

lab_offset() {
  case "$1" in
    vna) echo 0 ;;
    pacs) echo 1 ;;
    raw) echo 2 ;;
    anon) echo 3 ;;
    pacs2) echo 4 ;;
    *) lab_die "unknown server $1" ;;
  esac
}

lab_http_port() { echo $((LAB_HTTP_BASE + $(lab_offset "$1"))); }
lab_dicom_port() { echo $((LAB_DICOM_BASE + $(lab_offset "$1"))); }
lab_url() { echo "http://$LAB_HOST:$(lab_http_port "$1")"; }

# Only orthanc-raw has authentication on.
LAB_RAW_USER=orthanc
LAB_RAW_PASS=orthanc

lab_log() { printf 'lab: %s\n' "$*" >&2; }

# Replaces the current (background) shell with a DICOM server's command line,
# with TCP_NODELAY=1 in its environment when LAB_TCP_NODELAY=true: dcmtk (in
# Orthanc and dcmqrscp) then disables Nagle's algorithm, and a DIMSE exchange on
# loopback takes about 1 ms instead of 90 ms (docs/lab.md). Off by default:
# Debian's Orthanc runs with Nagle on. Call it as `lab_dicom_env CMD... &`, so
# that $! is the server's pid.
#
# Descriptors above 2 are closed first: a server must not hold its caller's open files. A Swift test that runs
# scripts/lab through Foundation's `Process` waits until every holder of the socket it gave the child has closed
# it, so a server keeping that socket made `scripts/lab start` never return to the test.
lab_dicom_env() {
  local fd
  for fd in /proc/self/fd/*; do
    fd="${fd##*/}"
    if ((fd > 2)) && [[ -e "/proc/self/fd/$fd" ]]; then exec {fd}>&-; fi
  done
  if [[ "${LAB_TCP_NODELAY:-false}" == true ]]; then
    export TCP_NODELAY=1
  fi
  exec "$@"
}
lab_die() {
  printf 'lab: ERROR: %s\n' "$*" >&2
  exit 1
}

lab_server_dir() { echo "$LAB_DIR/$1"; }
lab_pid_file() { echo "$LAB_DIR/$1/$1.pid"; }
lab_log_file() { echo "$LAB_DIR/$1/$1.log"; }

# curl against one lab server (adds credentials for raw). Extra args follow.
lab_curl() {
  local server="$1" path="$2"
  shift 2
  local auth=()
  if [[ "$server" == raw ]]; then
    auth=(-u "$LAB_RAW_USER:$LAB_RAW_PASS")
  fi
  curl -sS --fail --max-time 60 "${auth[@]}" "$@" "$(lab_url "$server")$path"
}

# The pid recorded for a server, if that process is alive.
lab_running_pid() {
  local pidf pid
  pidf="$(lab_pid_file "$1")"
  [[ -f "$pidf" ]] || return 1
  pid="$(cat "$pidf")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: the process must be Orthanc or dcmqrscp.
  case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
    Orthanc | dcmqrscp) echo "$pid" ;;
    *) return 1 ;;
  esac
}

lab_require_tools() {
  local missing=()
  command -v Orthanc >/dev/null 2>&1 || missing+=(orthanc)
  command -v dump2dcm >/dev/null 2>&1 || missing+=(dcmtk)
  command -v dcmqrscp >/dev/null 2>&1 || missing+=(dcmtk)
  if ((${#missing[@]})); then
    [[ "$(id -u)" == 0 ]] || lab_die "missing ${missing[*]}: install with apt-get install -y orthanc dcmtk (needs root)"
    lab_log "installing orthanc dcmtk with apt-get"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y orthanc dcmtk
  fi
  if ! command -v jq >/dev/null 2>&1; then
    [[ "$(id -u)" == 0 ]] || lab_die "jq is missing: apt-get install -y jq (needs root)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y jq
  fi
  local t
  for t in curl setsid sha1sum; do
    command -v "$t" >/dev/null 2>&1 || lab_die "$t is required"
  done
}
