#!/usr/bin/env bash
# Schedule accuracy of monitor-health: the release binary probes N endpoints
# of the scriptable health service; drift and jitter come from the times the
# service recorded, CPU and memory from /usr/bin/time -v.
#   scripts/bench-monitor-health.sh [endpoints] [interval] [duration]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p monitor-health --bin monitor-health --example schedule_bench
exec target/release/examples/schedule_bench target/release/monitor-health "${1:-50}" "${2:-1s}" "${3:-60s}"
