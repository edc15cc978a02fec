#!/usr/bin/env bash
# Relays one artifact from a "source run" into the "current run" on the same
# local fakes (crates/relay-testkit/examples/artifact_server: GitHub REST +
# results service + blob store) three ways, and prints wall time and peak
# RSS of each:
#   ours  - download-and-reupload-artifacts (release build), extract on
#   node  - @actions/artifact: downloadArtifact (findBy) then uploadArtifact
#   raw   - curl download of the blob to a file, then curl PUT of that file
# Two artifacts: a zip of one incompressible file of N MiB (stored), and a
# zip of 20,000 small files (deflated).
# Usage: scripts/bench-artifacts.sh [size-mib] [small-files]
# Needs: python3, curl, node + crates/relay-artifacts/tests/node (npm ci), /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-1024}"
small="${2:-20000}"
root="$PWD"
work="$(mktemp -d)"
server_pid=""
stop_server() { if [ -n "$server_pid" ]; then exec 3>&-; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi; }
trap 'stop_server; rm -rf "$work"' EXIT
cargo build -q --release -p download-and-reupload-artifacts
cargo build -q --release -p relay-testkit --example artifact_server
ours_bin="$root/target/release/download-and-reupload-artifacts"
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

measure() { # label, command... -> "label wall_s rss_mib" or "label failed"
  local label="$1"; shift
  if /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" > "$work/out.txt" 2> "$work/err.txt"; then
    read -r wall rss < "$work/time.txt"
    echo "$label $wall $((rss / 1024))"
  else
    echo "$label failed" ; tail -n 5 "$work/err.txt" "$work/out.txt" >&2
  fi
}

run_case() { # case-name zip-file
  local name="$1" zip="$2" info
  exec 3> >("$server_bin" "$zip" build > "$work/server.json"; true)
  server_pid=$!
  for _ in $(seq 600); do [ -s "$work/server.json" ] && break; sleep 0.1; done
  info="$(cat "$work/server.json")"
  j() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$info" "$1"; }
  local api results gh_token rt_token repo run_id art_id dl raw
  api=$(j api_url); results=$(j results_url); gh_token=$(j github_token); rt_token=$(j runtime_token)
  repo=$(j repository); run_id=$(j run_id); art_id=$(j artifact_id); dl=$(j download_url); raw=$(j raw_upload_url)
  rm -rf "$work/ws" "$work/node-out" "$work/raw.zip"; mkdir -p "$work/ws"
  measure "$name ours" env -i PATH="$PATH" \
    "INPUT_GITHUB-TOKEN=$gh_token" "INPUT_RUN-ID=$run_id" "INPUT_REPOSITORY=$repo" \
    "INPUT_PATH=$work/ws/artifacts" "INPUT_EXTRACT=true" "INPUT_REUPLOAD-NAME=ours-{name}" \
    "GITHUB_API_URL=$api" "ACTIONS_RESULTS_URL=$results" "ACTIONS_RUNTIME_TOKEN=$rt_token" \
    GITHUB_REPOSITORY=octo/deploy GITHUB_RUN_ID=1 GITHUB_SHA=1111111111111111111111111111111111111111 \
    GITHUB_EVENT_NAME=workflow_dispatch "GITHUB_WORKSPACE=$work/ws" \
    "GITHUB_OUTPUT=$work/ws/output" "GITHUB_STEP_SUMMARY=$work/ws/summary" "$ours_bin"
  node_relay() { # label new-name [compression-level]
    rm -rf "$work/node-out"
    measure "$1" env -C "$node_dir" GITHUB_TOKEN="$gh_token" GITHUB_API_URL="$api" \
      ACTIONS_RESULTS_URL="$results/" ACTIONS_RUNTIME_TOKEN="$rt_token" GITHUB_WORKSPACE="$work" \
      node bench-relay.mjs "$art_id" "$repo" "$run_id" "$work/node-out" "${@:2}"
  }
  # upload-artifact's default compression level (6), and level 0, which
  # spares the official client deflating incompressible bytes.
  node_relay "$name node" node-build
  [ "$name" = big ] && node_relay "$name node0" node-build-0 0
  # shellcheck disable=SC2016 # expanded by the inner bash
  measure "$name raw" bash -c 'curl -sf -o "$1" "$2" && curl -sf -o /dev/null -X PUT -H "x-ms-blob-type: BlockBlob" -H "x-ms-version: 2023-11-03" -T "$1" "$3"' _ "$work/raw.zip" "$dl" "$raw"
  stop_server
}

{
  run_case big "$work/big.zip"
  run_case small "$work/small.zip"
} | tee "$work/results.txt"

python3 - "$work/results.txt" "$size_mib" "$small" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 4:
        rows[(p[0], p[1])] = (float(p[2]), int(p[3]))
titles = {"big": f"{sys.argv[2]} MiB incompressible, 1 file", "small": f"{sys.argv[3]} small files"}
print()
for case in ("big", "small"):
    print(f"{titles[case]}:")
    print("| relay | wall | peak RSS |")
    print("|---|--:|--:|")
    for who, label in (("ours", "download-and-reupload-artifacts"), ("node", "@actions/artifact, default compression"), ("node0", "@actions/artifact, compressionLevel 0"), ("raw", "raw copy: curl GET then curl PUT")):
        if who == "node0" and case != "big":
            continue
        if (case, who) in rows:
            w, r = rows[(case, who)]
            print(f"| {label} | {w:.2f} s | {r} MiB |")
        else:
            print(f"| {label} | failed | — |")
    o, n, r = rows.get((case, "ours")), rows.get((case, "node")), rows.get((case, "raw"))
    for key, what in (("node", "default compression"), ("node0", "compressionLevel 0")):
        n = rows.get((case, key))
        if o and n:
            print(f"official client ({what}) / ours: {n[0] / o[0]:.1f}x the wall time, {n[1] / max(o[1], 1):.1f}x the memory")
    n = rows.get((case, "node"))
    if o and r:
        print(f"ours / raw copy: {o[0] / r[0]:.2f}x the wall time")
    print()
PY
