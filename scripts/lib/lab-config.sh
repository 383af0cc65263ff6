# shellcheck shell=bash
# Writes one minimal Orthanc configuration per lab server. Sourced by scripts/lab.

# A DicomModalities entry: [AET, host, port].
lab_modality() { printf '["%s", "%s", %s]' "$(lab_ae "$1")" "$LAB_HOST" "$(lab_dicom_port "$1")"; }

lab_write_orthanc_config() {
  local server="$1" dir modalities auth extra
  dir="$(lab_server_dir "$server")"
  mkdir -p "$dir/storage" "$dir/tmp"

  auth='"AuthenticationEnabled": false,'
  extra=''
  case "$server" in
    vna | pacs | anon)
      modalities="\"ORTHANCRAW\": $(lab_modality raw)"
      ;;
    raw)
      modalities="\"UCPRIMARYQR\": $(lab_modality vna),
    \"UCSECONDARYQR\": $(lab_modality pacs),
    \"UCSECONDARYQR2\": $(lab_modality pacs2),
    \"PIXL-Anon\": $(lab_modality anon)"
      auth="\"AuthenticationEnabled\": true,
  \"RegisteredUsers\": { \"$LAB_RAW_USER\": \"$LAB_RAW_PASS\" },"
      # orthanc-raw declares the private creator element 000d,0010 as LO
      # (LAB_RAW_DECLARE_CREATOR=false leaves it out): without it, /modify
      # writes 000d,0010 with VR UN (see docs/lab.md).
      local creator=''
      if [[ "${LAB_RAW_DECLARE_CREATOR:-true}" == true ]]; then
        creator='"000d,0010": [ "LO", "UCLHPIXLPrivateCreator", 1, 1, "UCLH PIXL" ],
    '
      fi
      extra="\"OverwriteInstances\": true,
  \"Dictionary\": {
    $creator\"000d,1001\": [ \"LO\", \"UCLHPIXLProjectName\", 1, 1, \"UCLH PIXL\" ]
  },"
      ;;
  esac

  cat >"$dir/config.json" <<JSON
{
  "Name": "lab-$server",
  "StorageDirectory": "$dir/storage",
  "IndexDirectory": "$dir/storage",
  "TemporaryDirectory": "$dir/tmp",
  "Plugins": [],
  "LuaScripts": [],
  "HttpServerEnabled": true,
  "HttpPort": $(lab_http_port "$server"),
  "RemoteAccessAllowed": false,
  $auth
  "DicomServerEnabled": true,
  "DicomAet": "$(lab_ae "$server")",
  "DicomPort": $(lab_dicom_port "$server"),
  "DicomCheckCalledAet": true,
  "DicomCheckModalityHost": true,
  "DicomAlwaysAllowEcho": true,
  "DicomAlwaysAllowStore": false,
  "DicomScuTimeout": 10,
  "DicomModalitiesInDatabase": false,
  "DicomModalities": {
    $modalities
  },
  "OrthancPeers": {},
  "SaveJobs": false,
  "JobsHistorySize": 50,
  "ConcurrentJobs": 2,
  "StableAge": 2,
  $extra
  "StorageCompression": false
}
JSON
}
