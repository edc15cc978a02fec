#!/usr/bin/env bash
# scripts/image.sh [target] [profile]
#
# Builds the release binary (static; scripts/dist.sh), packages it into the
# final image stage with podman (no Docker engine needed), and reports
# sizes. Prints a markdown table for BENCHMARKS.md. The target defaults to
# x86_64-unknown-linux-gnu; aarch64-unknown-linux-gnu makes an arm64 image
# (`FROM scratch` plus COPY: nothing runs, so no emulation is needed).
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-x86_64-unknown-linux-gnu}"
profile="${2:-release}"
case "$target" in
  x86_64-unknown-linux-gnu) arch=amd64 tag=localhost/deploy-relay:dev ;;
  aarch64-unknown-linux-gnu) arch=arm64 tag=localhost/deploy-relay:dev-arm64 ;;
  *) echo "error: target \`$target\` has no image; hint: x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu" >&2; exit 2 ;;
esac
# dist/<target>/: deploy-relay, its action symlinks, deploy-receiver.
scripts/dist.sh "$target" "$profile" >&2
bin="${DIST_DIR:-dist}/$target/deploy-relay"

# The build context holds only what the `prebuilt` stage copies (./dist:
# deploy-relay and one symlink per action), not the other targets' builds.
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
mkdir "$context/dist"
cp -P "$bin" "$context/dist/"
# One symlink per action: the entrypoints every action.yml names.
for name in $(sed -n 's|^  entrypoint: "/usr/local/bin/\(.*\)"$|\1|p' action.yml actions/*/action.yml); do
  ln -s deploy-relay "$context/dist/$name"
done

podman --storage-driver vfs build --quiet --arch "$arch" --build-arg BINARIES=prebuilt -f "$PWD/Dockerfile" -t "$tag" "$context" >&2
image_bytes=$(podman --storage-driver vfs image inspect "$tag" --format '{{.Size}}')
bin_bytes=$(stat -c %s "$bin")
echo "| binary (all actions, static, stripped) | $bin_bytes bytes ($(numfmt --to=iec-i --suffix=B "$bin_bytes")) |"
echo "| image \`$tag\` | $image_bytes bytes ($(numfmt --to=iec-i --suffix=B "$image_bytes")) |"
