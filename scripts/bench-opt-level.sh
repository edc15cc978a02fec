#!/usr/bin/env bash
# Builds the release binary at several opt-levels and reports size and
# start-up time for each, so the release profile's choice is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-gnu
echo "| opt-level | binary size | start → first request (median of 30) |"
echo "|---|---|---|"
for level in ${LEVELS:-s z 3}; do
  dir="target/opt-$level"
  CARGO_PROFILE_RELEASE_OPT_LEVEL=$level CARGO_TARGET_DIR=$dir RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --locked --release -p deploy-relay --target $target >/dev/null 2>&1
  rm -rf "$dir/bin" && mkdir -p "$dir/bin"
  cp "$dir/$target/release/deploy-relay" "$dir/bin/deploy-relay"
  ln -sf deploy-relay "$dir/bin/dispatch-deploy"
  size=$(stat -c %s "$dir/bin/deploy-relay")
  startup=$(python3 scripts/bench-startup.py "$dir/bin/dispatch-deploy" 30 | sed -n 's/^| `dispatch-deploy`[^|]*| \([0-9.]* ms\).*/\1/p')
  echo "| $level | $(numfmt --to=iec-i --suffix=B "$size") ($size bytes) | $startup |"
done
