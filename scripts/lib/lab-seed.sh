# shellcheck shell=bash
# Synthetic studies for the lab: generated with dcmtk's dump2dcm, uploaded to
# the archives, listed in $LAB_DIR/studies.json. Sourced by scripts/lab.
#
# No real patient data: MRNs LAB-MRN-00NN, accessions LAB-ACC-00NN, names
# LAB^SYNTHETIC^NN, 8x8 8-bit Secondary Capture images, UIDs under the
# synthetic root 2.25.4242 built from the study number, so every run makes
# byte-identical files.

LAB_UID_ROOT=2.25.4242

# One row per study:
# key|number|archives (comma-separated)|series|instances per series|InstanceAvailability written in the files ("-" = none)|description
LAB_STUDIES=(
  "vna-single|1|vna|1|1|ONLINE|single-instance study in the VNA"
  "vna-multi|2|vna|3|2|ONLINE|3 series x 2 instances in the VNA"
  "vna-uid-mismatch|3|vna|1|1|ONLINE|VNA study; tests send claimed_study_uid (wrong) plus the right MRN + accession"
  "vna-and-pacs|4|vna,pacs|1|2|ONLINE|same study in the VNA and the PACS"
  "pacs-online|5|pacs|2|1|ONLINE|PACS only; C-FIND answers InstanceAvailability ONLINE"
  "pacs-nearline|6|pacs|1|1|NEARLINE|PACS only; C-FIND answers InstanceAvailability NEARLINE"
  "pacs-unreported|7|pacs|1|1|-|PACS only; C-FIND answers InstanceAvailability present but empty"
  "pacs2-unreported|8|pacs2|1|1|-|dcmqrscp (UCSECONDARYQR2) only; C-FIND answer has no InstanceAvailability at all"
  "raw-untagged|9|raw|1|2|-|pre-loaded in orthanc-raw without the project tag (restored by reset)"
  "vna-shared-acc-a|10|vna|1|1|ONLINE|two VNA studies sharing MRN LAB-MRN-0010 + accession LAB-ACC-0010 (a)"
  "vna-shared-acc-b|11|vna|1|1|ONLINE|two VNA studies sharing MRN LAB-MRN-0010 + accession LAB-ACC-0010 (b)"
  "vna-large|12|vna|3|40|ONLINE|3 series x 40 instances in the VNA: partial copies (scripts/lab partial), series-level requests"
  "pacs2-multi|13|pacs2|2|3|-|dcmqrscp (UCSECONDARYQR2) only, 2 series x 3 instances: SERIES-level answers carry no NumberOfSeriesRelatedInstances"
)

# A UID that no archive holds, sent by tests for vna-uid-mismatch.
LAB_CLAIMED_WRONG_UID="${LAB_UID_ROOT}0039999999"

lab_nn() { printf '%04d' "$1"; }
lab_study_uid() { printf '%s0%03d1000000' "$LAB_UID_ROOT" "$1"; }
lab_series_uid() { printf '%s0%03d2%02d0000' "$LAB_UID_ROOT" "$1" "$2"; }
lab_sop_uid() { printf '%s0%03d3%02d%04d' "$LAB_UID_ROOT" "$1" "$2" "$3"; }
lab_mrn() {
  # vna-shared-acc-b (11) shares the identifiers of vna-shared-acc-a (10).
  local n="$1"
  ((n == 11)) && n=10
  echo "LAB-MRN-$(lab_nn "$n")"
}
lab_acc() {
  local n="$1"
  ((n == 11)) && n=10
  echo "LAB-ACC-$(lab_nn "$n")"
}
lab_study_date() { printf '2024%02d%02d' $(((($1 - 1) % 12) + 1)) $((($1 % 28) + 1)); }

# Orthanc's study id: SHA-1 of "PatientID|StudyInstanceUID" in 5 groups of 8.
lab_orthanc_study_id() {
  local h
  h="$(printf '%s|%s' "$1" "$2" | sha1sum | cut -c1-40)"
  echo "${h:0:8}-${h:8:8}-${h:16:8}-${h:24:8}-${h:32:8}"
}

# 64 bytes of 8x8 pixel data: a gradient that varies with study/series/instance.
lab_pixels() {
  local seed="$1" i out="" byte
  for ((i = 0; i < 64; i++)); do
    printf -v byte '%02x' $(((i * 4 + seed) % 256))
    out+="$byte\\"
  done
  echo "${out%\\}"
}

# lab_make_instance n series instance availability out_file
lab_make_instance() {
  local n="$1" se="$2" in="$3" avail="$4" out="$5" dump avail_line=""
  dump="$out.dump"
  [[ "$avail" != "-" ]] && avail_line="(0008,0056) CS [$avail]"
  cat >"$dump" <<DUMP
(0008,0005) CS [ISO_IR 100]
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [$(lab_sop_uid "$n" "$se" "$in")]
(0008,0020) DA [$(lab_study_date "$n")]
(0008,0030) TM [120000]
(0008,0050) SH [$(lab_acc "$n")]
$avail_line
(0008,0060) CS [OT]
(0008,0064) CS [WSD]
(0008,1030) LO [PIXL LAB STUDY $(lab_nn "$n")]
(0008,103e) LO [PIXL LAB SERIES $se]
(0010,0010) PN [LAB^SYNTHETIC^$(lab_nn "$n")]
(0010,0020) LO [$(lab_mrn "$n")]
(0010,0030) DA [19700101]
(0010,0040) CS [O]
(0020,000d) UI [$(lab_study_uid "$n")]
(0020,000e) UI [$(lab_series_uid "$n" "$se")]
(0020,0010) SH [LAB$(lab_nn "$n")]
(0020,0011) IS [$se]
(0020,0013) IS [$in]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 8
(0028,0011) US 8
(0028,0100) US 8
(0028,0101) US 8
(0028,0102) US 7
(0028,0103) US 0
(7fe0,0010) OB $(lab_pixels $((n * 16 + se * 4 + in)))
DUMP
  dump2dcm -q +te "$dump" "$out" || lab_die "dump2dcm failed on $dump"
  rm -f "$dump"
}

# Generates (once) the files of study row $1 into $LAB_DIR/dicom/<key>/.
lab_generate_study() {
  local key n archives nse nin avail desc dir se in
  IFS='|' read -r key n archives nse nin avail desc <<<"$1"
  dir="$LAB_DIR/dicom/$key"
  [[ -f "$dir/.complete" ]] && return 0
  rm -rf "$dir"
  mkdir -p "$dir"
  for ((se = 1; se <= nse; se++)); do
    for ((in = 1; in <= nin; in++)); do
      lab_make_instance "$n" "$se" "$in" "$avail" "$dir/s${se}_i${in}.dcm"
    done
  done
  touch "$dir/.complete"
}

# Uploads a study's files to one Orthanc unless the study is already there
# (so a tagged copy in raw is never overwritten by "up").
lab_upload_study() {
  local server="$1" dir="$2" oid="$3" f
  if lab_curl "$server" "/studies/$oid" -o /dev/null 2>/dev/null; then
    return 0
  fi
  for f in "$dir"/*.dcm; do
    lab_curl "$server" /instances -X POST -H 'Expect:' --data-binary "@$f" -o /dev/null ||
      lab_die "upload of $f to $server failed"
  done
}

# Copies a study's files into dcmqrscp's storage and index, once.
lab_index_dcmqrscp_study() {
  local dir="$1" key="$2" db dest f
  db="$(lab_dcmqrscp_db)"
  dest="$db/lab-$key"
  [[ -f "$dest/.indexed" ]] && return 0
  mkdir -p "$dest"
  for f in "$dir"/*.dcm; do
    cp "$f" "$dest/"
    dcmqridx -q "$db" "$dest/$(basename "$f")" || lab_die "dcmqridx failed on $f"
  done
  touch "$dest/.indexed"
}

lab_archive_modality() {
  case "$1" in
    vna) echo UCPRIMARYQR ;;
    pacs) echo UCSECONDARYQR ;;
    pacs2) echo UCSECONDARYQR2 ;;
    raw) echo "" ;;
  esac
}

lab_seed() {
  local row key n archives nse nin avail desc dir uid mrn oid a
  local manifest="$LAB_DIR/studies.json.tmp" first=1
  mkdir -p "$LAB_DIR/dicom"
  printf '{\n' >"$manifest"
  for row in "${LAB_STUDIES[@]}"; do
    IFS='|' read -r key n archives nse nin avail desc <<<"$row"
    lab_generate_study "$row"
    dir="$LAB_DIR/dicom/$key"
    uid="$(lab_study_uid "$n")"
    mrn="$(lab_mrn "$n")"
    oid="$(lab_orthanc_study_id "$mrn" "$uid")"
    IFS=',' read -r -a archive_list <<<"$archives"
    for a in "${archive_list[@]}"; do
      case "$a" in
        pacs2) lab_index_dcmqrscp_study "$dir" "$key" ;;
        *) lab_upload_study "$a" "$dir" "$oid" ;;
      esac
    done
    ((first)) || printf ',\n' >>"$manifest"
    first=0
    lab_manifest_entry "$key" "$n" "$archives" "$nse" "$nin" "$avail" "$desc" "$oid" >>"$manifest"
  done
  printf '\n}\n' >>"$manifest"
  jq . "$manifest" >"$LAB_DIR/studies.json" || lab_die "bad manifest $manifest"
  rm -f "$manifest"
}

lab_manifest_entry() {
  local key="$1" n="$2" archives="$3" nse="$4" nin="$5" avail="$6" desc="$7" oid="$8"
  local first_archive="${archives%%,*}" reported answer se series_json=""
  # What a study-level C-FIND through orthanc-raw (Normalize false, with
  # InstanceAvailability as a return key) answers, as measured (docs/lab.md).
  case "$first_archive:$avail" in
    raw:*) reported=null answer=null ;;
    pacs2:*) reported=false answer=null ;;
    *:-) reported=false answer='""' ;;
    *) reported=true answer="\"$avail\"" ;;
  esac
  for ((se = 1; se <= nse; se++)); do
    series_json+="${series_json:+, }\"$(lab_series_uid "$n" "$se")\""
  done
  local archives_json="" a
  IFS=',' read -r -a alist <<<"$archives"
  for a in "${alist[@]}"; do archives_json+="${archives_json:+, }\"$a\""; done
  local extra=""
  [[ "$key" == vna-uid-mismatch ]] && extra=", \"claimed_study_uid\": \"$LAB_CLAIMED_WRONG_UID\""
  cat <<JSON
  "$key": {
    "description": "$desc",
    "mrn": "$(lab_mrn "$n")",
    "accession_number": "$(lab_acc "$n")",
    "study_uid": "$(lab_study_uid "$n")",
    "study_date": "$(lab_study_date "$n")",
    "orthanc_study_id": "$oid",
    "archive": "$first_archive",
    "archives": [$archives_json],
    "modality": "$(lab_archive_modality "$first_archive")",
    "ae_title": "$(lab_ae "$first_archive")",
    "availability": $answer,
    "availability_reported": $reported,
    "series_count": $nse,
    "instance_count": $((nse * nin)),
    "series_uids": [$series_json]$extra
  }
JSON
}

# Empties orthanc-raw and anon, then re-seeds (restores the untagged study in
# raw, and anything missing in the archives).
lab_reset_servers() {
  local s id
  for s in raw anon; do
    for id in $(lab_curl "$s" /patients | jq -r '.[]'); do
      lab_curl "$s" "/patients/$id" -X DELETE -o /dev/null
    done
  done
  lab_seed
}

# Generates (once) and uploads to the VNA the study of row $1; prints its Orthanc id.
lab_seed_vna_row() {
  local key n oid
  IFS='|' read -r key n _ <<<"$1"
  lab_generate_study "$1"
  oid="$(lab_orthanc_study_id "$(lab_mrn "$n")" "$(lab_study_uid "$n")")"
  lab_upload_study vna "$LAB_DIR/dicom/$key" "$oid"
  echo "$oid"
}

# scripts/lab seed-sized KEY N SERIES INSTANCES: one more VNA study, number N
# (20 to 99, outside the rows above and seed-bench's 100 and up), of SERIES x
# INSTANCES; its manifest entry goes to $LAB_DIR/sized-KEY.json. Generated once.
lab_seed_sized() {
  local key="$1" n="$2" nse="$3" nin="$4" row oid
  [[ "$key" =~ ^[a-z0-9-]+$ ]] || lab_die "seed-sized: KEY must be lower-case letters, digits and dashes"
  [[ "$n" =~ ^[0-9]+$ ]] && ((n >= 20 && n <= 99)) || lab_die "seed-sized: N must be from 20 to 99"
  [[ "$nse" =~ ^[0-9]+$ ]] && ((nse >= 1 && nse <= 99)) || lab_die "seed-sized: SERIES must be from 1 to 99"
  [[ "$nin" =~ ^[0-9]+$ ]] && ((nin >= 1 && nin <= 9999)) || lab_die "seed-sized: INSTANCES must be from 1 to 9999"
  row="$key|$n|vna|$nse|$nin|ONLINE|$nse x $nin instances in the VNA (seed-sized)"
  oid="$(lab_seed_vna_row "$row")"
  { printf '{\n'; lab_manifest_entry "$key" "$n" vna "$nse" "$nin" ONLINE "$nse x $nin instances in the VNA" "$oid"; printf '\n}\n'; } |
    jq ".\"$key\"" >"$LAB_DIR/sized-$key.json" || lab_die "bad manifest entry for $key"
}

# Benchmark studies: N single-instance studies in the VNA only, numbered from
# 100 (the UID scheme allows up to 999), and $LAB_DIR/bench-messages.json, a
# JSON array of plain messages naming them, for scripts/bench.
lab_seed_bench() {
  local count="$1" n row key uid mrn first=1
  ((count >= 1 && count <= 899)) || lab_die "seed-bench takes a count from 1 to 899, not $count"
  local messages="$LAB_DIR/bench-messages.json"
  printf '[\n' >"$messages.tmp"
  for ((n = 100; n < 100 + count; n++)); do
    key="bench-$n"
    row="$key|$n|vna|1|1|ONLINE|benchmark study $n"
    lab_seed_vna_row "$row" >/dev/null
    uid="$(lab_study_uid "$n")"
    mrn="$(lab_mrn "$n")"
    ((first)) || printf ',\n' >>"$messages.tmp"
    first=0
    printf '  {"mrn": "%s", "accession_number": "%s", "study_uid": "%s", "study_date": "2024-01-02", "procedure_occurrence_id": %d, "project_name": "bench", "extract_generated_timestamp": "2026-11-29T09:00:00+00:00"}' \
      "$mrn" "$(lab_acc "$n")" "$uid" "$n" >>"$messages.tmp"
  done
  printf '\n]\n' >>"$messages.tmp"
  mv "$messages.tmp" "$messages"
}
