#!/usr/bin/env bash
# The image: every action (`deploy-relay` and one symlink per action's
# entry point) and `deploy-receiver`, in a `scratch` image (Dockerfile).
#
#   scripts/image.sh [target] [profile]
#       Builds the static binaries (scripts/dist.sh), packages them into the
#       final image stage with podman (no Docker engine needed), and prints
#       a size table for BENCHMARKS.md. The target defaults to
#       x86_64-unknown-linux-gnu; aarch64-unknown-linux-gnu makes an arm64
#       image (`FROM scratch` plus COPY: nothing runs, so no emulation).
#       The image ID is written to dist/image-<arch>.id (the tag is shared
#       by every checkout on the machine; the ID is this build's).
#
#   scripts/image.sh --context <dir> <target>...
#       Lays out the build context of the `prebuilt` stage from binaries
#       scripts/dist.sh already built: <dir>/dist/<arch>/, the image's file
#       system, per target. CI and
#       the release build the multi-arch image from it with
#       `docker buildx build --platform linux/amd64,linux/arm64`.
#
#   scripts/image.sh --publish <name> <tag>...
#       The multi-arch image from binaries scripts/dist.sh built for both
#       targets: one podman build per architecture into one manifest list,
#       pushed as <name>:<tag> for each tag (log in to the registry first).
#       Prints <name>@sha256:<digest of the list>. IMAGE_LABELS: more
#       labels, `key=value` one per line (the source repository, the commit);
#       IMAGE_PUSH_FLAGS: more `podman manifest push` flags.
#       ci.yml publishes `main` with it, release.yml the version.
#
#   scripts/image.sh --entrypoints
#       The names the image links to `deploy-relay`: every `entrypoint:` of
#       action.yml (the root action) and actions/*/action.yml.
set -euo pipefail
cd "$(dirname "$0")/.."

dist="${DIST_DIR:-dist}"
# vfs: works as root and rootless, in a container or not; the image is two files.
podman() { command podman --storage-driver vfs "$@"; }

entrypoints() {
  local files=() names
  for f in action.yml actions/*/action.yml; do [ -f "$f" ] && files+=("$f"); done
  names=$(sed -n 's|^  entrypoint: "/usr/local/bin/\([a-z0-9-]*\)"$|\1|p' "${files[@]}" | sort -u)
  if [ -z "$names" ]; then
    echo "error: no \`entrypoint: \"/usr/local/bin/<name>\"\` in ${files[*]}; hint: UPDATE_ACTION_YML=1 cargo test -p deploy-relay" >&2
    exit 1
  fi
  echo "$names"
}

arch_of() {
  case "$1" in
    x86_64-unknown-linux-gnu) echo amd64 ;;
    aarch64-unknown-linux-gnu) echo arm64 ;;
    *) echo "error: target \`$1\` has no image; hint: x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu" >&2; exit 2 ;;
  esac
}

# <context>/dist/<arch>/: the image's whole file system for <target>. Both
# binaries and one symlink per entry point in usr/local/bin/, and a /tmp:
# `scratch` has none, and an action that spools a download to the temp dir
# would fail without it (tests/it/container.rs).
lay_out() {
  local context="$1" target="$2" arch out bin name
  arch=$(arch_of "$target")
  out="$context/dist/$arch/usr/local/bin"
  mkdir -p "$out" "$context/dist/$arch/tmp"
  chmod 1777 "$context/dist/$arch/tmp"
  for bin in deploy-relay deploy-receiver; do
    if [ ! -f "$dist/$target/$bin" ]; then
      echo "error: \`$dist/$target/$bin\` is missing; hint: scripts/dist.sh $target" >&2
      exit 1
    fi
    cp "$dist/$target/$bin" "$out/"
  done
  for name in $(entrypoints); do
    case "$name" in
      deploy-relay | deploy-receiver) ;;
      *) ln -sfn deploy-relay "$out/$name" ;;
    esac
  done
}

publish() {
  local name="$1" context list tag digest labels=() line
  shift
  context=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the trap outlives this function's locals
  trap "rm -rf '$context'" EXIT
  lay_out "$context" x86_64-unknown-linux-gnu
  lay_out "$context" aarch64-unknown-linux-gnu
  while IFS= read -r line; do [ -z "$line" ] || labels+=(--label "$line"); done <<<"${IMAGE_LABELS:-}"
  list="localhost/deploy-relay:publish-$$"
  podman manifest rm "$list" >/dev/null 2>&1 || true
  podman manifest create "$list" >/dev/null
  for arch in amd64 arm64; do
    podman build --quiet --arch "$arch" --build-arg BINARIES=prebuilt --build-arg TARGETARCH="$arch" "${labels[@]}" \
      --manifest "$list" -f "$PWD/Dockerfile" "$context" >&2
  done
  digest=""
  for tag in "$@"; do
    # shellcheck disable=SC2086 # IMAGE_PUSH_FLAGS: words, e.g. --tls-verify=false for the suite's local registry
    podman manifest push --all --format v2s2 ${IMAGE_PUSH_FLAGS:-} --digestfile "$context/digest" \
      "$list" "docker://$name:$tag" >&2
    if [ -n "$digest" ] && [ "$digest" != "$(cat "$context/digest")" ]; then
      echo "error: \`$name:$tag\` got digest $(cat "$context/digest"), the tags before it $digest" >&2
      exit 1
    fi
    digest=$(cat "$context/digest")
  done
  podman manifest rm "$list" >/dev/null
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "error: podman reported digest \`$digest\`" >&2; exit 1; }
  echo "$name@$digest"
}

case "${1:-}" in
  --publish)
    if [ $# -lt 3 ]; then
      echo "usage: scripts/image.sh --publish <name> <tag>..." >&2
      exit 2
    fi
    name="$2"
    shift 2
    publish "$name" "$@"
    exit 0
    ;;
  --entrypoints)
    entrypoints
    exit 0
    ;;
  --context)
    if [ $# -lt 3 ]; then
      echo "usage: scripts/image.sh --context <dir> <target>..." >&2
      exit 2
    fi
    context="$2"
    shift 2
    for target in "$@"; do lay_out "$context" "$target"; done
    exit 0
    ;;
esac

target="${1:-x86_64-unknown-linux-gnu}"
profile="${2:-release}"
arch=$(arch_of "$target")
tag="localhost/deploy-relay:dev"
[ "$arch" = amd64 ] || tag="$tag-$arch"

scripts/dist.sh "$target" "$profile" >&2

# The build context holds only what the `prebuilt` stage copies, not the
# other targets' builds.
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
lay_out "$context" "$target"

id=$(podman build --quiet --arch "$arch" --build-arg BINARIES=prebuilt --build-arg TARGETARCH="$arch" \
  -f "$PWD/Dockerfile" -t "$tag" "$context")
echo "$id" >"$dist/image-$arch.id"
image_bytes=$(podman image inspect "$id" --format '{{.Size}}')
relay_bytes=$(stat -c %s "$dist/$target/deploy-relay")
receiver_bytes=$(stat -c %s "$dist/$target/deploy-receiver")
iec() { numfmt --to=iec-i --suffix=B "$1"; }
echo "| $arch \`deploy-relay\` (all actions, static, stripped) | $relay_bytes bytes ($(iec "$relay_bytes")) |"
echo "| $arch \`deploy-receiver\` (static, stripped) | $receiver_bytes bytes ($(iec "$receiver_bytes")) |"
echo "| image \`$tag\` | $image_bytes bytes ($(iec "$image_bytes")) |"
