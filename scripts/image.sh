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
#       targets: one podman build per architecture, both written to an OCI
#       layout with an image index of our own (carrying the
#       `org.opencontainers.image.description` annotation that GHCR shows for
#       a multi-arch image; podman 4.3 here and 4.9 on the runners cannot
#       annotate an index), pushed as <name>:<tag> for each tag by
#       `skopeo copy --all --preserve-digests` (log in to the registry first,
#       `podman login`: skopeo reads the same auth file). Prints
#       <name>@sha256:<digest of the index>. IMAGE_LABELS: more labels and
#       index annotations, `key=value` one per line (the source repository,
#       the commit); IMAGE_PUSH_FLAGS: more `skopeo copy` flags (e.g.
#       --dest-tls-verify=false). ci.yml publishes `main` with it, release.yml
#       the version.
#
#   scripts/image.sh --pull-anonymously <name>@sha256:<digest> [podman pull flags]
#       Pulls both architectures of the image by digest as a stranger does:
#       logged out, with a fresh, empty auth file. Fails with what to do
#       when the registry refuses (a private package). release.yml runs it
#       after publishing, before the release commit names the digest.
#
#   scripts/image.sh --entrypoints
#       The names the image links to `deploy-relay`: every `entrypoint:` of
#       action.yml (the root action) and actions/*/action.yml.
set -euo pipefail
cd "$(dirname "$0")/.."

dist="${DIST_DIR:-dist}"
# One storage driver for every podman call of a job: podman records the
# driver of its first call (a `podman login` too) and refuses any other
# afterwards ("database storage graph driver ... does not match"). Workflows
# set STORAGE_DRIVER job-wide; vfs when unset: works as root and rootless,
# in a container or not, and the image is two files.
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"
podman() { command podman --storage-driver "$STORAGE_DRIVER" "$@"; }

# Says how to fix a storage driver mismatch before anything is built.
check_storage_driver() {
  local err
  if ! err=$(podman info --format '{{.Store.GraphDriverName}}' 2>&1 >/dev/null); then
    if grep -q 'does not match our storage graph driver' <<<"$err"; then
      echo "error: podman's storage was set up with another driver than STORAGE_DRIVER=$STORAGE_DRIVER; hint: set STORAGE_DRIVER once for every podman call (a workflow job's \`env:\`), login included" >&2
    else
      echo "error: podman cannot start: $err" >&2
    fi
    exit 1
  fi
}

# The Dockerfile's description label: the index carries it too.
description() {
  sed -n 's/^ *org\.opencontainers\.image\.description="\([^"]*\)".*/\1/p' Dockerfile | head -n 1
}

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
  local name="$1" work layout arch id tag digest pushed labels=() line annotations
  shift
  for tool in skopeo jq; do
    command -v "$tool" >/dev/null || { echo "error: \`$tool\` is not installed; hint: apt-get install $tool" >&2; exit 1; }
  done
  check_storage_driver
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the trap outlives this function's locals
  trap "rm -rf '$work'" EXIT
  lay_out "$work/context" x86_64-unknown-linux-gnu
  lay_out "$work/context" aarch64-unknown-linux-gnu
  while IFS= read -r line; do [ -z "$line" ] || labels+=(--label "$line"); done <<<"${IMAGE_LABELS:-}"
  layout="$work/layout"
  # One image per architecture, into one OCI layout under its arch's name.
  for arch in amd64 arm64; do
    id=$(podman build --quiet --arch "$arch" --build-arg BINARIES=prebuilt --build-arg TARGETARCH="$arch" "${labels[@]}" \
      -f "$PWD/Dockerfile" "$work/context")
    podman push --quiet --format oci "$id" "oci:$layout:$arch" >&2
    podman rmi --force "$id" >/dev/null 2>&1 || true
  done
  # The index: both manifests with their platform, and the annotations GHCR
  # reads for a multi-arch image (the description) beside the labels.
  annotations=$(jq -n --arg d "$(description)" '{"org.opencontainers.image.description": $d}')
  while IFS= read -r line; do
    [ -z "$line" ] || annotations=$(jq --arg k "${line%%=*}" --arg v "${line#*=}" '. + {($k): $v}' <<<"$annotations")
  done <<<"${IMAGE_LABELS:-}"
  jq -c --argjson annotations "$annotations" '{
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] as $a | $a == "amd64" or $a == "arm64")
        | {mediaType, digest, size, platform: {architecture: .annotations["org.opencontainers.image.ref.name"], os: "linux"}}],
      annotations: $annotations
    }' "$layout/index.json" >"$work/index.json"
  [ "$(jq '.manifests | length' "$work/index.json")" = 2 ] || { echo "error: the OCI layout lacks an architecture: $(cat "$layout/index.json")" >&2; exit 1; }
  digest="sha256:$(sha256sum <"$work/index.json" | cut -d' ' -f1)"
  cp "$work/index.json" "$layout/blobs/sha256/${digest#sha256:}"
  jq --arg d "$digest" --argjson s "$(stat -c %s "$work/index.json")" \
    '.manifests += [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
       annotations: {"org.opencontainers.image.ref.name": "publish"}}]' "$layout/index.json" >"$work/top.json"
  mv "$work/top.json" "$layout/index.json"
  for tag in "$@"; do
    # --preserve-digests: the registry gets these very bytes, or the push fails.
    # shellcheck disable=SC2086 # IMAGE_PUSH_FLAGS: words, e.g. --dest-tls-verify=false for the suite's local registry
    skopeo copy --quiet --all --preserve-digests ${IMAGE_PUSH_FLAGS:-} --digestfile "$work/pushed" \
      "oci:$layout:publish" "docker://$name:$tag" >&2
    pushed=$(cat "$work/pushed")
    if [ "$pushed" != "$digest" ]; then
      echo "error: \`$name:$tag\` got digest $pushed, not the index's $digest" >&2
      exit 1
    fi
  done
  echo "$name@$digest"
}

# Prints text from a server or tool fenced: no line of it starts a workflow command.
fenced() { sed 's/^/    | /; s/::/: :/g'; }

pull_anonymously() {
  local ref="$1" work arch id got err
  shift
  if ! [[ "$ref" =~ ^[a-z0-9][a-z0-9.-]*(:[0-9]+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$ ]]; then
    echo "error: \`$ref\` is not <registry>/<name>@sha256:<digest>; hint: pass what \`scripts/image.sh --publish\` printed" >&2
    exit 2
  fi
  check_storage_driver
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now
  trap "rm -rf '$work'" EXIT
  # Logged out: a fresh auth file, and no docker credentials to fall back on.
  printf '{}\n' >"$work/auth.json"
  mkdir "$work/docker"
  # The host's architecture last: podman keeps one image under the digest
  # reference, the last pulled, and a later `podman run` of that reference
  # (scripts/test.sh's container tests) must get the one this host runs.
  local host others
  host=$(podman info --format '{{.Host.Arch}}')
  others=$(printf '%s\n' amd64 arm64 | grep -vx "$host" || true)
  for arch in $others $host; do
    if ! id=$(REGISTRY_AUTH_FILE="$work/auth.json" DOCKER_CONFIG="$work/docker" \
      podman pull --quiet --authfile "$work/auth.json" --arch "$arch" "$@" "docker://$ref" 2>"$work/err"); then
      err=$(fenced <"$work/err")
      printf '::error title=The image is not public::nobody logged out can pull %s (%s)%%0Ahint: %s\n' "$ref" "$arch" \
        "make the package public (the package's settings, Danger Zone, Change visibility: Public); in an organization, first allow public packages (organization settings, Packages). See RELEASING.md, The first release."
      printf 'podman said:\n%s\n' "$err" >&2
      exit 1
    fi
    got=$(podman image inspect --format '{{.Architecture}}' "$id")
    if [ "$got" != "$arch" ]; then
      echo "error: the $arch image of $ref is $got" >&2
      exit 1
    fi
    echo "$ref: $arch pulled anonymously ($id)" >&2
  done
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
  --pull-anonymously)
    if [ $# -lt 2 ]; then
      echo "usage: scripts/image.sh --pull-anonymously <name>@sha256:<digest> [podman pull flags]" >&2
      exit 2
    fi
    shift
    pull_anonymously "$@"
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

check_storage_driver
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
