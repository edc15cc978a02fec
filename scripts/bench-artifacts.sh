#!/usr/bin/env bash
# Relays one artifact from a "source run" into the "current run" on the same
# local fakes (crates/relay-fakes/examples/artifact_server: GitHub REST +
# results service + blob store), and prints the median wall time and peak
# RSS of each way, with their spread:
#   ours   - download-and-reupload-artifacts (the static release binary,
#            scripts/dist.sh), extract on
#   node   - @actions/artifact: downloadArtifact (findBy) then uploadArtifact,
#            at upload-artifact's default compression level
#   node0  - the same at compressionLevel 0
#   raw    - curl GET of the blob to a file, then curl PUT of that file
#   unzip  - unzip of the same zip, already on disk, into a fresh directory
# Two artifacts: a zip of one incompressible file of N MiB (stored), and a
# zip of N small files (deflated).
#
# Every run starts its own server (the same binary for all), after `sync`,
# so no run inherits another's server memory or dirty pages; the ways run in
# a rotating order, round after round, so drift on this shared machine hits
# them alike.
#
# Usage: scripts/bench-artifacts.sh [size-mib] [small-files] [rounds]
# Env:   BEFORE=<binary>      also time this build of ours (e.g. an older one)
#        OLD_SERVER=<binary>  also time ours and raw against this server
#        DISCARD=1            also time ours and raw against a server that
#                             counts uploads instead of keeping them
#        ONLY="ours raw"      run only these ways
# Needs: python3, curl, unzip, /usr/bin/time, node + npm ci in
#        crates/relay-artifacts/tests/node.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-1024}"
small="${2:-20000}"
rounds="${3:-5}"
root="$PWD"
work="$(mktemp -d)"
server_pid=""
stop_server() { if [ -n "$server_pid" ]; then exec 3>&-; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi; }
trap 'stop_server; rm -rf "$work"' EXIT
bash scripts/dist.sh x86_64-unknown-linux-gnu >/dev/null
cargo build -q --release -p relay-fakes --example artifact_server
ours_bin="$root/dist/x86_64-unknown-linux-gnu/download-and-reupload-artifacts"
server_bin="$root/target/release/examples/artifact_server"
node_dir="$root/crates/relay-artifacts/tests/node"

python3 - "$work" "$size_mib" "$small" <<'PY'
import os, sys, zipfile, random
work, size_mib, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with zipfile.ZipFile(f"{work}/big.zip", "w", zipfile.ZIP_STORED, allowZip64=True) as z:
    with z.open("payload.bin", "w", force_zip64=True) as f:
        for _ in range(size_mib):
            f.write(os.urandom(1 << 20))
rng = random.Random(7)
words = [f"word{i}" for i in range(500)]
with zipfile.ZipFile(f"{work}/small.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(small):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(150, 600)))
        z.writestr(f"dir{i % 20}/sub{i % 7}/file{i}.txt", text)
PY

measure() { # case way command... -> "case way wall_s rss_kib" or "case way failed"
  local case="$1" way="$2"; shift 2
  sync
  if /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" > "$work/out.txt" 2> "$work/err.txt"; then
    read -r wall rss < "$work/time.txt"
    echo "$case $way $wall $rss"
  else
    echo "$case $way failed"; tail -n 5 "$work/err.txt" "$work/out.txt" >&2
  fi
}

start_server() { # binary zip [discard]
  rm -f "$work/server.json"
  exec 3> >("$1" "$2" build "${3:-}" > "$work/server.json"; true)
  server_pid=$!
  for _ in $(seq 600); do [ -s "$work/server.json" ] && break; sleep 0.1; done
  info="$(cat "$work/server.json")"
}
j() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$info" "$1"; }

ours() { # case way binary
  rm -rf "$work/ws"; mkdir -p "$work/ws"
  measure "$1" "$2" env -i PATH="$PATH" \
    "INPUT_GITHUB-TOKEN=$(j github_token)" "INPUT_RUN-ID=$(j run_id)" "INPUT_REPOSITORY=$(j repository)" \
    "INPUT_PATH=$work/ws/artifacts" "INPUT_EXTRACT=true" "INPUT_REUPLOAD-NAME=ours-{name}" \
    "GITHUB_API_URL=$(j api_url)" "ACTIONS_RESULTS_URL=$(j results_url)" "ACTIONS_RUNTIME_TOKEN=$(j runtime_token)" \
    GITHUB_REPOSITORY=octo/deploy GITHUB_RUN_ID=1 GITHUB_SHA=1111111111111111111111111111111111111111 \
    GITHUB_EVENT_NAME=workflow_dispatch "GITHUB_WORKSPACE=$work/ws" \
    "GITHUB_OUTPUT=$work/ws/output" "GITHUB_STEP_SUMMARY=$work/ws/summary" "$3"
}

node_relay() { # case way [compression-level]
  rm -rf "$work/node-out"
  measure "$1" "$2" env -C "$node_dir" GITHUB_TOKEN="$(j github_token)" GITHUB_API_URL="$(j api_url)" \
    ACTIONS_RESULTS_URL="$(j results_url)/" ACTIONS_RUNTIME_TOKEN="$(j runtime_token)" GITHUB_WORKSPACE="$work" \
    node bench-relay.mjs "$(j artifact_id)" "$(j repository)" "$(j run_id)" "$work/node-out" node-build "${@:3}"
}

raw() { # case way
  rm -f "$work/raw.zip"
  # shellcheck disable=SC2016 # expanded by the inner bash
  measure "$1" "$2" bash -c 'curl -sf -o "$1" "$2" && curl -sf -o /dev/null -X PUT -H "x-ms-blob-type: BlockBlob" -H "x-ms-version: 2023-11-03" -T "$1" "$3"' _ "$work/raw.zip" "$(j download_url)" "$(j raw_upload_url)"
}

one() { # case zip way
  local case="$1" zip="$2" way="$3" server="$server_bin" mode=""
  case "$way" in *-old) server="$OLD_SERVER" ;; *-discard) mode=discard ;; esac
  if [ "$way" = unzip ]; then
    rm -rf "$work/unzipped"
    measure "$case" unzip unzip -q "$zip" -d "$work/unzipped"
    return
  fi
  start_server "$server" "$zip" "$mode"
  case "$way" in
    ours | ours-old | ours-discard) ours "$case" "$way" "$ours_bin" ;;
    before) ours "$case" "$way" "$BEFORE" ;;
    node) node_relay "$case" node ;;
    node0) node_relay "$case" node0 0 ;;
    raw | raw-old | raw-discard) raw "$case" "$way" ;;
  esac
  stop_server
  rm -rf "$work/ws" "$work/node-out" "$work/raw.zip" "$work/unzipped"
}

ways="${ONLY:-ours node node0 raw unzip}"
[ -n "${BEFORE:-}" ] && [ -z "${ONLY:-}" ] && ways="$ways before"
[ -n "${OLD_SERVER:-}" ] && [ -z "${ONLY:-}" ] && ways="$ways ours-old raw-old"
[ -n "${DISCARD:-}" ] && [ -z "${ONLY:-}" ] && ways="$ways ours-discard raw-discard"
read -r -a list <<< "$ways"
{
  for r in $(seq 0 $((rounds - 1))); do
    for case in big small; do
      n=${#list[@]}
      for k in $(seq 0 $((n - 1))); do
        one "$case" "$work/$case.zip" "${list[$(((k + r) % n))]}"
      done
    done
  done
} | tee "$work/results.txt"

python3 - "$work/results.txt" "$size_mib" "$small" "$rounds" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 4:
        runs.setdefault((p[0], p[1]), []).append((float(p[2]), int(p[3])))
    elif len(p) == 3:
        runs.setdefault((p[0], p[1]), []).append(None)
titles = {"big": f"{sys.argv[2]} MiB incompressible, 1 file, stored", "small": f"{sys.argv[3]} small files, deflated"}
labels = {
    "ours": "ours: download-and-reupload-artifacts",
    "before": "ours, the build given as BEFORE",
    "node": "@actions/artifact, default compression",
    "node0": "@actions/artifact, compressionLevel 0",
    "raw": "raw copy: curl GET, then curl PUT",
    "unzip": "unzip of the same zip (extraction only)",
    "ours-old": "ours, against OLD_SERVER",
    "raw-old": "raw copy, against OLD_SERVER",
    "ours-discard": "ours, against the server that drops uploads",
    "raw-discard": "raw copy, against the server that drops uploads",
}
print(f"\nmedians of {sys.argv[4]} rounds (spread: min–max)")
for case in ("big", "small"):
    med = {}
    print(f"\n{titles[case]}:\n")
    print("| way | wall (median) | spread | peak RSS (median) | spread |")
    print("|---|--:|--:|--:|--:|")
    for way, label in labels.items():
        got = runs.get((case, way))
        if not got:
            continue
        if any(g is None for g in got):
            print(f"| {label} | failed in {sum(g is None for g in got)} of {len(got)} | | | |")
            continue
        walls, rss = [g[0] for g in got], [g[1] / 1024 for g in got]
        med[way] = (statistics.median(walls), statistics.median(rss))
        print(f"| {label} | {med[way][0]:.2f} s | {min(walls):.2f}–{max(walls):.2f} s | {med[way][1]:.1f} MiB | {min(rss):.1f}–{max(rss):.1f} MiB |")
    o = med.get("ours")
    if o:
        print()
        for way, what in (("node", "official client (default) / ours"), ("node0", "official client (level 0) / ours"), ("before", "before / ours")):
            if way in med:
                print(f"- {what}: {med[way][0] / o[0]:.1f}x the wall time, {med[way][1] / o[1]:.1f}x the memory")
        for way, what in (("raw", "ours / raw copy"), ("unzip", "ours / unzip")):
            if way in med:
                print(f"- {what}: {o[0] / med[way][0]:.2f}x the wall time")
    if "ours-discard" in med and "raw-discard" in med:
        print(f"- against the server that drops uploads, ours / raw copy: {med['ours-discard'][0] / med['raw-discard'][0]:.2f}x the wall time")
PY
