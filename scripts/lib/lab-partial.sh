# shellcheck shell=bash
# Partial copies in orthanc-raw, for the completeness tests. Sourced by scripts/lab.

# The manifest entry of a study: studies.json, else sized-KEY.json (seed-sized).
lab_study_entry() {
  local key="$1" entry
  entry="$(jq -ce --arg k "$key" '.[$k] // empty' "$LAB_DIR/studies.json" 2>/dev/null)" && { echo "$entry"; return 0; }
  [[ -f "$LAB_DIR/sized-$key.json" ]] && { jq -c . "$LAB_DIR/sized-$key.json"; return 0; }
  return 1
}

# scripts/lab partial KEY SERIES KEEP: in orthanc-raw's copy of study KEY, keep
# the first KEEP instances (by InstanceNumber) of its series number SERIES and
# delete the others; KEEP 0 deletes the whole series. Prints what is left.
lab_partial() {
  local key="${1:-}" se="${2:-}" keep="${3:-}" entry oid suid sid id left
  [[ -n "$key" && "$se" =~ ^[0-9]+$ && "$keep" =~ ^[0-9]+$ ]] || lab_die "usage: scripts/lab partial KEY SERIES KEEP"
  entry="$(lab_study_entry "$key")" || lab_die "no study $key in $LAB_DIR/studies.json or sized-$key.json"
  oid="$(jq -r .orthanc_study_id <<<"$entry")"
  suid="$(jq -r --argjson s "$se" '.series_uids[$s - 1] // empty' <<<"$entry")"
  [[ -n "$suid" ]] || lab_die "$key has no series $se"
  sid="$(lab_curl raw "/studies/$oid/series" 2>/dev/null | jq -r --arg u "$suid" '.[] | select(.MainDicomTags.SeriesInstanceUID == $u) | .ID')"
  [[ -n "$sid" ]] || lab_die "series $se of $key is not in orthanc-raw (pull the study first)"
  if ((keep == 0)); then
    lab_curl raw "/series/$sid" -X DELETE -o /dev/null
  else
    for id in $(lab_curl raw "/series/$sid/instances" | jq -r --argjson k "$keep" 'sort_by(.MainDicomTags.InstanceNumber | tonumber) | .[$k:] | .[].ID'); do
      lab_curl raw "/instances/$id" -X DELETE -o /dev/null
    done
  fi
  left="$(lab_curl raw "/studies/$oid/series" 2>/dev/null | jq -c '[.[] | {(.MainDicomTags.SeriesInstanceUID): (.Instances | length)}] | add // {}')"
  lab_log "$key in orthanc-raw: instances per series $left"
}
