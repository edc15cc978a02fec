#!/usr/bin/env bash
# deploy-receiver under load.
#
# 1. Bad signatures (issue 5): while one valid deploy runs (a command that
#    sleeps a little longer than the load lasts), wrk sends badly signed
#    POSTs over loopback for SECONDS and the run fails unless at least
#    MIN_REQUESTS were answered, all 401. Reports the 401s' throughput and
#    latency percentiles, and the deploy's duration under load against the
#    same deploy alone.
# 2. A flood of unauthenticated clients (issue 12): with `max_body = "1MiB"`,
#    FLOOD_STALLED connections from 127.0.0.2 each send 1 MiB - 1 bytes of a
#    declared 1 MiB body and stall, FLOOD_IDLE more connect and send nothing
#    (each reconnects a second after the receiver closes it), while a signed
#    deploy arrives every second from 127.0.0.1, for FLOOD_SECONDS. Run
#    twice: the per-peer limit on (the default) and off (as behind a
#    proxy). Fails unless every signed deploy got 200 and the receiver's
#    peak RSS stayed under 64 MiB.
#
#   scripts/bench-receiver.sh [seconds] [connections] [min_requests]
#   FLOOD_STALLED=500 FLOOD_IDLE=2000 FLOOD_SECONDS=30 (environment)
# Needs: wrk, openssl, curl; builds the release binary and the `flood`
# example if missing.
set -euo pipefail

seconds="${1:-3}"
connections="${2:-32}"
min_requests="${3:-10000}"
flood_stalled="${FLOOD_STALLED:-500}"
flood_idle="${FLOOD_IDLE:-2000}"
flood_seconds="${FLOOD_SECONDS:-30}"
threads=2
deploy_seconds=$((seconds + 2))
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${DEPLOY_RECEIVER_BIN:-$root/target/release/deploy-receiver}"
flood="${FLOOD_BIN:-$root/target/release/examples/flood}"

for tool in wrk openssl curl; do
  command -v "$tool" >/dev/null || { echo "bench-receiver: '$tool' is missing (apt-get install -y $tool)" >&2; exit 1; }
done
if [[ ! -x "$bin" || ! -x "$flood" ]]; then
  (cd "$root" && cargo build --release -p deploy-receiver --bins --example flood)
fi
# The flood holds FLOOD_STALLED + FLOOD_IDLE sockets at once.
want_fds=$((flood_stalled + flood_idle + 1024))
if (($(ulimit -n) < want_fds)); then
  ulimit -n "$want_fds" || { echo "bench-receiver: raise the open-files limit to $want_fds (ulimit -n)" >&2; exit 1; }
fi

work="$(mktemp -d)"
receiver_pid=""
cleanup() {
  if [[ -n "$receiver_pid" ]]; then kill "$receiver_pid" 2>/dev/null || true; wait "$receiver_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

secret="$(openssl rand -hex 32)"
printf '%s\n' "$secret" > "$work/secret"
cat > "$work/deploy.sh" <<SCRIPT
#!/bin/sh
sleep $deploy_seconds
echo "deployed \$1"
SCRIPT
chmod +x "$work/deploy.sh"
cat > "$work/receiver.toml" <<TOML
listen = "127.0.0.1:0"
secret_file = "$work/secret"
log_format = "json"
# wrk's connections all come from 127.0.0.1: measure the signature check,
# not the per-peer limit (part 2 measures that).
max_connections_per_peer = 0
[[hooks]]
path = "/deploy"
command = ["$work/deploy.sh"]
args = ["image_sha"]
TOML

# Default logging (one JSON line per refusal, to a file) unless BENCH_LOG says otherwise.
DEPLOY_RECEIVER_LOG="${BENCH_LOG:-info}" "$bin" --config "$work/receiver.toml" 2> "$work/log" &
receiver_pid=$!
for _ in $(seq 100); do
  grep -q '"listening"' "$work/log" 2>/dev/null && break
  sleep 0.05
done
addr="$(sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' "$work/log" | head -n1)"
[[ -n "$addr" ]] || { echo "bench-receiver: the receiver did not start" >&2; cat "$work/log" >&2; exit 1; }
url="http://$addr/deploy"

body='{"image_sha":"0123abcd","ref":"refs/heads/main","repository":"acme/app"}'
good_sig="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/.* //')"

# One signed deploy; prints "<http status> <seconds>".
deploy() {
  curl --silent --output "$work/answer-$1" --write-out '%{http_code} %{time_total}\n' \
    -H 'Content-Type: application/json' -H "X-Hub-Signature-256: $good_sig" \
    -H "X-Deploy-Delivery: bench-$1" --data-binary "$body" "$url"
}

read -r alone_status alone_time < <(deploy alone)

cat > "$work/bad.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Hub-Signature-256"] = "sha256=$(printf '%064d' 0)"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) other = 0 end
function response(status, headers, body)
  if status ~= 401 then other = other + 1 end
end
function done(summary, latency, requests)
  local others = 0
  for _, t in ipairs(threads) do others = others + t:get("other") end
  io.write(string.format("BENCH requests=%d seconds=%.3f rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f non401=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, others,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

deploy loaded > "$work/loaded" &
deploy_pid=$!
sleep 0.3 # the deploy is running (it sleeps ${deploy_seconds}s)
wrk --threads "$threads" --connections "$connections" --duration "${seconds}s" --script "$work/bad.lua" "$url" > "$work/wrk.out"
wait "$deploy_pid"
read -r loaded_status loaded_time < "$work/loaded"
bench="$(grep '^BENCH' "$work/wrk.out")"

echo "receiver: $bin ($(uname -m), $(nproc) cores)"
echo "bad-signature load: $bench"
echo "deploy alone:      status=$alone_status seconds=$alone_time"
echo "log lines written: $(wc -l < "$work/log") (filter ${BENCH_LOG:-info})"
echo "deploy under load: status=$loaded_status seconds=$loaded_time ($(cat "$work/answer-loaded"))"
[[ "$alone_status" == 200 && "$loaded_status" == 200 ]] || { echo "bench-receiver: the real deploy failed" >&2; exit 1; }
grep -q ' non401=0 errors=0$' <<< "$bench" || { echo "bench-receiver: some bad requests were not answered 401" >&2; exit 1; }
sent="${bench#*requests=}"
sent="${sent%% *}"
((sent >= min_requests)) || { echo "bench-receiver: only $sent requests in ${seconds}s (wanted $min_requests)" >&2; exit 1; }

# --- 2. the flood of unauthenticated clients ---------------------------------
kill "$receiver_pid" 2>/dev/null || true
wait "$receiver_pid" 2>/dev/null || true
receiver_pid=""
cat > "$work/quick.sh" <<'SCRIPT'
#!/bin/sh
echo "deployed $1"
SCRIPT
chmod +x "$work/quick.sh"

# Starts a receiver with the flood config plus "$1"; sets receiver_pid and url.
start_flood_receiver() {
  cat > "$work/flood.toml" <<TOML
listen = "127.0.0.1:0"
secret_file = "$work/secret"
log_format = "json"
max_body = "1MiB"
$1
[[hooks]]
path = "/deploy"
command = ["$work/quick.sh"]
args = ["image_sha"]
TOML
  : > "$work/flood-log"
  DEPLOY_RECEIVER_LOG="${BENCH_LOG:-info}" "$bin" --config "$work/flood.toml" 2> "$work/flood-log" &
  receiver_pid=$!
  for _ in $(seq 100); do
    grep -q '"listening"' "$work/flood-log" 2>/dev/null && break
    sleep 0.05
  done
  local addr
  addr="$(sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' "$work/flood-log" | head -n1)"
  [[ -n "$addr" ]] || { echo "bench-receiver: the flood receiver did not start" >&2; cat "$work/flood-log" >&2; exit 1; }
  url="http://$addr/deploy"
}

flood_run() {
  local label="$1" extra="$2"
  start_flood_receiver "$extra"
  local line
  line="$("$flood" --url "$url" --secret-file "$work/secret" --pid "$receiver_pid" \
    --stalled "$flood_stalled" --idle "$flood_idle" --seconds "$flood_seconds" | tee "$work/flood.out" | grep '^FLOOD ')"
  echo "flood, $label: $line"
  grep '^FLOOD-FAILURES' "$work/flood.out" || true
  kill "$receiver_pid" 2>/dev/null || true
  wait "$receiver_pid" 2>/dev/null || true
  receiver_pid=""
  local deploys ok peak
  deploys="${line#* deploys=}"; deploys="${deploys%% *}"
  ok="${line#* ok=}"; ok="${ok%% *}"
  peak="${line#* hwm_kib=}"; peak="${peak%% *}"
  ((deploys > 0 && ok == deploys)) || { echo "bench-receiver: only $ok of $deploys signed deploys answered 200 ($label)" >&2; exit 1; }
  ((peak < 64 * 1024)) || { echo "bench-receiver: peak RSS ${peak} KiB is over 64 MiB ($label)" >&2; exit 1; }
}

flood_run "per-peer limit on (default)" ""
flood_run "per-peer limit off (as behind a proxy)" "max_connections_per_peer = 0"
