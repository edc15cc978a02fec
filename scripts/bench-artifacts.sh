#!/usr/bin/env bash
# Relays a 1 GiB incompressible blob with relay-artifacts (examples/relay_url)
# from a local HTTP server into azurite, and compares with a raw copy (curl
# download to disk, then curl PUT). Prints wall time and peak RSS of each.
# Needs: python3, curl, /usr/bin/time, node + crates/relay-artifacts/tests/node (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-1024}"
work="$(mktemp -d)"
trap 'kill $http_pid $az_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
head -c "$((size_mib << 20))" /dev/urandom > "$work/src.zip"
cargo build -q --release -p relay-artifacts --example relay_url
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
hp=$(free_port); ap=$(free_port)
python3 -m http.server "$hp" --bind 127.0.0.1 --directory "$work" >/dev/null 2>&1 & http_pid=$!
mkdir -p "$work/az"
crates/relay-artifacts/tests/node/node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort "$ap" --silent --location "$work/az" >/dev/null 2>&1 & az_pid=$!
sas=$(python3 - <<'PY'
import base64, hmac, hashlib, urllib.parse
key = base64.b64decode("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
sp, ss, srt, se, sv = "rwdlac", "b", "sco", "2099-01-01T00:00:00Z", "2023-11-03"
msg = f"devstoreaccount1\n{sp}\n{ss}\n{srt}\n\n{se}\n\n\n{sv}\n\n"
sig = base64.b64encode(hmac.new(key, msg.encode(), hashlib.sha256).digest()).decode()
print(f"sv={sv}&ss={ss}&srt={srt}&sp={sp}&se={se}&sig={urllib.parse.quote(sig, safe='')}")
PY
)
base="http://127.0.0.1:$ap/devstoreaccount1"
for _ in $(seq 50); do curl -sf -o /dev/null -X PUT -H 'x-ms-version: 2023-11-03' "$base/bench?restype=container&$sas" && break; sleep 0.2; done
measure() { # label, command...
  local label="$1"; shift
  /usr/bin/time -v "$@" 2> "$work/time.txt" >/dev/null || { echo "$label: failed"; tail -3 "$work/time.txt"; return; }
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{print $NF}')
  echo "$label: wall $wall, peak RSS $((rss / 1024)) MiB"
}
measure "relay-artifacts relay (${size_mib} MiB)" target/release/examples/relay_url "http://127.0.0.1:$hp/src.zip" "$base/bench/ours.zip?$sas"
raw() { curl -s -o "$1/dl.zip" "$2" && curl -s -o /dev/null -X PUT -H 'x-ms-blob-type: BlockBlob' -H 'x-ms-version: 2023-11-03' -T "$1/dl.zip" "$3"; }
export -f raw
measure "raw curl download then PUT (${size_mib} MiB)" bash -c 'raw "$@"' _ "$work" "http://127.0.0.1:$hp/src.zip" "$base/bench/raw.zip?$sas"
