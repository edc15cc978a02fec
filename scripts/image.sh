#!/usr/bin/env bash
# Builds the release binary (static), packages it into the final image stage
# with podman (no Docker engine needed), and reports sizes. Prints a
# markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-gnu
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/image}"
RUSTFLAGS="-C target-feature=+crt-static" cargo build --locked --release -p deploy-relay --target "$target" >&2
bin="$CARGO_TARGET_DIR/$target/release/deploy-relay"

rm -rf dist && mkdir -p dist
cp "$bin" dist/deploy-relay
# One symlink per action, as the Dockerfile's builder stage makes them.
for d in actions/*/; do ln -s deploy-relay "dist/$(basename "$d")"; done

if ! file "$bin" | grep -q 'statically linked\|static-pie linked'; then
  echo "error: $bin is not statically linked" >&2
  exit 1
fi

tag=localhost/deploy-relay:dev
podman --storage-driver vfs build --quiet --build-arg BINARIES=prebuilt -t "$tag" . >&2
image_bytes=$(podman --storage-driver vfs image inspect "$tag" --format '{{.Size}}')
bin_bytes=$(stat -c %s "$bin")
echo "| binary (all actions, static, stripped) | $bin_bytes bytes ($(numfmt --to=iec-i --suffix=B "$bin_bytes")) |"
echo "| image \`$tag\` | $image_bytes bytes ($(numfmt --to=iec-i --suffix=B "$image_bytes")) |"
