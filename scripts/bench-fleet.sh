#!/usr/bin/env bash
# The bounded cost of fleet-deploy: the release binary deploys to N simulated
# targets on loopback (each its own listener; a deploy answered after 100 ms
# as deploy-receiver answers, health 200) in waves, against the fake GitHub;
# wall time against the sum of the health windows, peak RSS and CPU from
# /usr/bin/time -v. Figures in BENCHMARKS.md ("fleet-deploy").
#   scripts/bench-fleet.sh                     # the table's rows
#   scripts/bench-fleet.sh N WAVE PARALLEL [window] [interval] [deploy-ms]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p fleet-deploy --bin fleet-deploy --example fleet_bench
bench=target/release/examples/fleet_bench
bin=target/release/fleet-deploy
echo "| targets | wave | max-parallel | waves | wall | health windows | floor | wall / windows | over the floor, per wave | peak RSS | CPU user + sys | GitHub requests | probes |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
if [ "$#" -ge 3 ]; then
  exec "$bench" "$bin" "$@"
fi
for row in "10 20 20" "100 20 20" "1000 20 20" "1000 100 100" "1000 100 25"; do
  # shellcheck disable=SC2086 # the row is three numbers
  "$bench" "$bin" $row
done
