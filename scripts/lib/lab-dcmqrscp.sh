# shellcheck shell=bash
# The lab's fifth archive: dcmtk's dcmqrscp (AE PACS2QR). Sourced by scripts/lab.

lab_dcmqrscp_db() { echo "$(lab_server_dir pacs2)/db"; }

lab_write_dcmqrscp_config() {
  local dir db
  dir="$(lab_server_dir pacs2)"
  db="$(lab_dcmqrscp_db)"
  mkdir -p "$db"
  cat >"$dir/dcmqrscp.cfg" <<CFG
# Written by scripts/lab. dcmtk dcmqrscp configuration.
NetworkTCPPort  = $(lab_dicom_port pacs2)
MaxPDUSize      = 16384
MaxAssociations = 16

# Only orthanc-raw (AE ORTHANCRAW from 127.0.0.1) may associate.
HostTable BEGIN
orthancraw = (ORTHANCRAW, $LAB_HOST, $(lab_dicom_port raw))
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
$(lab_ae pacs2)  $db  RW  (100, 64mb)  orthancraw
AETable END
CFG
}

start_dcmqrscp() {
  local dir port
  dir="$(lab_server_dir pacs2)"
  lab_running_pid pacs2 >/dev/null && return 0
  port="$(lab_dicom_port pacs2)"
  port_busy "$port" && lab_die "port $port for dcmqrscp is already in use by another process (set LAB_DICOM_BASE)"
  lab_write_dcmqrscp_config
  # Forking mode (the default): dcmqrscp 3.6.7 in single-process mode (-s)
  # segfaults after the first association is released.
  # -dhl: no reverse DNS, so the HostTable's 127.0.0.1 matches the peer.
  lab_dicom_env setsid dcmqrscp -v -dhl -c "$dir/dcmqrscp.cfg" "$port" >>"$(lab_log_file pacs2)" 2>&1 </dev/null &
  echo $! >"$(lab_pid_file pacs2)"
}

dcmqrscp_answers() {
  echoscu -q -aet "$(lab_ae raw)" -aec "$(lab_ae pacs2)" "$LAB_HOST" "$(lab_dicom_port pacs2)" >/dev/null 2>&1
}

wait_dcmqrscp() {
  local deadline
  deadline=$((SECONDS + LAB_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! lab_running_pid pacs2 >/dev/null; then
      tail -n 25 "$(lab_log_file pacs2)" >&2 || true
      lab_die "dcmqrscp (pacs2) exited during start-up"
    fi
    dcmqrscp_answers && return 0
    sleep 0.2
  done
  tail -n 25 "$(lab_log_file pacs2)" >&2 || true
  lab_die "dcmqrscp (pacs2) did not answer C-ECHO from ORTHANCRAW within ${LAB_START_TIMEOUT}s (log: $(lab_log_file pacs2))"
}
