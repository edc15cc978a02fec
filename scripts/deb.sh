#!/usr/bin/env bash
# scripts/deb.sh <target> [profile]
#
# The `deploy-receiver` .deb for <target> (x86_64 → amd64, aarch64 → arm64),
# made by cargo-deb from `[package.metadata.deb]` in
# crates/deploy-receiver/Cargo.toml around the static binary scripts/dist.sh
# builds (run first; a no-op when it is up to date). Writes
# dist/deploy-receiver_<version>_<arch>.deb; prints its path (stdout) and
# size (stderr).
#
# Needs cargo-deb: cargo install cargo-deb --locked
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: scripts/deb.sh <target> [profile]" >&2
  exit 2
fi
target="$1"
profile="${2:-release}"

if ! command -v cargo-deb >/dev/null; then
  echo "error: cargo-deb is not installed; hint: cargo install cargo-deb --locked" >&2
  exit 1
fi

scripts/dist.sh "$target" "$profile" >&2
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/dist}"
out="${DIST_DIR:-dist}"
# --no-build: package exactly the binary dist.sh built and checked (static,
# stripped); cargo-deb finds it under $CARGO_TARGET_DIR/<target>/<profile>/.
deb=$(cargo deb --locked --no-build --no-strip -p deploy-receiver \
  --target "$target" --profile "$profile" --output "$out/" | tail -n 1)
if [ ! -f "$deb" ]; then
  echo "error: cargo-deb reported \`$deb\`, which is not a file" >&2
  exit 1
fi
# The package must hold the binary dist.sh checked, byte for byte.
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$deb" "$unpacked"
if ! cmp -s "$unpacked/usr/bin/deploy-receiver" "$out/$target/deploy-receiver"; then
  echo "error: $deb does not hold dist/$target/deploy-receiver" >&2
  exit 1
fi

bytes=$(stat -c %s "$deb")
# The size on stderr, the path alone on stdout: `deb=$(scripts/deb.sh …)`.
echo "| \`$(basename "$deb")\` ($(dpkg-deb -f "$deb" Architecture)) | $bytes bytes ($(numfmt --to=iec-i --suffix=B "$bytes")) |" >&2
echo "$deb"
