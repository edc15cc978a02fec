#!/usr/bin/env bash
# scripts/dist.sh <target> [profile]
#
# Builds the static, stripped `deploy-relay` (every action, one binary) and
# `deploy-receiver` for <target> into dist/<target>/, with one symlink per
# action beside them (as the image lays them out), and prints their sizes.
#
#   scripts/dist.sh x86_64-unknown-linux-gnu
#   scripts/dist.sh aarch64-unknown-linux-gnu
#
# [profile] is a cargo profile, `release` by default (fat LTO,
# codegen-units = 1): CI builds both targets with it, so what CI runs is what
# a release ships (BENCHMARKS.md has the build times).
#
# Targets: x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu. Both use the
# gnu target with `+crt-static`: a fully static glibc binary (DNS goes
# through hickory, so no NSS modules are needed at run time). Cross-building
# needs the target's std (`rustup target add <target>`) and a cross linker:
# on Debian/Ubuntu `gcc-aarch64-linux-gnu libc6-dev-arm64-cross`.
#
# Env: CARGO_TARGET_DIR (default target/dist), DIST_DIR (default dist).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/dist.sh <x86_64|aarch64>-unknown-linux-gnu [profile]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
target="$1"
profile="${2:-release}"

case "$target" in
  x86_64-unknown-linux-gnu) arch=x86_64 file_arch='x86-64' gnu=x86_64-linux-gnu ;;
  aarch64-unknown-linux-gnu) arch=aarch64 file_arch='ARM aarch64' gnu=aarch64-linux-gnu ;;
  *) echo "error: target \`$target\` is not one we ship; hint: use x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu" >&2; exit 2 ;;
esac

if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  echo "error: the Rust standard library for \`$target\` is not installed; hint: rustup target add $target" >&2
  exit 1
fi

# Cross-building: name the cross toolchain for rustc (link) and cc (ring's C
# and assembly). A native build uses the host's cc, as cargo does by default.
if [ "$(uname -m)" != "$arch" ]; then
  if ! command -v "$gnu-gcc" >/dev/null; then
    echo "error: the cross linker \`$gnu-gcc\` is not installed; hint: apt-get install gcc-$gnu libc6-dev-${arch/aarch64/arm64}-cross" >&2
    exit 1
  fi
  triple_env=$(echo "$target" | tr 'a-z-' 'A-Z_')
  export "CARGO_TARGET_${triple_env}_LINKER=$gnu-gcc"
  export "CC_${target//-/_}=$gnu-gcc" "AR_${target//-/_}=$gnu-ar"
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/dist}"
out="${DIST_DIR:-dist}/$target"
start=$(date +%s)
# One cargo run per binary: built together, cargo would unify the features
# of their shared dependencies and `deploy-relay` would carry the receiver's
# (about 0.6 MiB more). Dependencies with the same features are reused.
for bin in deploy-relay deploy-receiver; do
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --locked --profile "$profile" -p "$bin" --target "$target" >&2
done
seconds=$(($(date +%s) - start))

rm -rf "$out" && mkdir -p "$out"
for bin in deploy-relay deploy-receiver; do
  built="$CARGO_TARGET_DIR/$target/$profile/$bin"
  described=$(file -b "$built")
  # `file` says "static-pie linked" for a static PIE, "statically linked" otherwise.
  if ! grep -q 'statically linked\|static-pie linked' <<<"$described"; then
    echo "error: \`$built\` is not statically linked: $described" >&2
    exit 1
  fi
  if ! grep -q "$file_arch" <<<"$described" || grep -q 'not stripped' <<<"$described"; then
    echo "error: \`$built\` is not a stripped $arch binary: $described" >&2
    exit 1
  fi
  cp "$built" "$out/$bin"
done
# One symlink per action, as the Dockerfile's builder stage makes them.
# One symlink per action: the entrypoints every action.yml names.
for name in $(sed -n 's|^  entrypoint: "/usr/local/bin/\(.*\)"$|\1|p' action.yml actions/*/action.yml); do
  ln -s deploy-relay "$out/$name"
done

echo "| $target ($profile) build | ${seconds} s |"
for bin in deploy-relay deploy-receiver; do
  bytes=$(stat -c %s "$out/$bin")
  echo "| $target \`$bin\` (static, stripped) | $bytes bytes ($(numfmt --to=iec-i --suffix=B "$bytes")) |"
done
