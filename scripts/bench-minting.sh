#!/usr/bin/env bash
# The added latency of minting GitHub App installation tokens per step,
# against the fake GitHub on loopback (release build; the fake checks each
# JWT with PyJWT, so `pip install 'PyJWT[crypto]'` first). Figures in
# BENCHMARKS.md. Usage: scripts/bench-minting.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_ROUNDS="${1:-41}" cargo test --release -q -p relay-github --test client \
  bench_minting_latency -- --ignored --nocapture 2>&1 | grep -E '^(\||rounds)'
