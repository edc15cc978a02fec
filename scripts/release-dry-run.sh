#!/usr/bin/env bash
# scripts/release-dry-run.sh [command args...]
#
# The release (.github/workflows/release.yml) on this machine, against a
# local registry instead of GHCR, from the binaries scripts/dist.sh built
# for both targets:
#
#   1. two docker-registry processes over one storage directory: the push
#      side asks for a login (htpasswd, bcrypt) on every request, as GHCR
#      does for a push; the public side serves the same images read-only
#      to anyone, as GHCR serves a public package (distribution's htpasswd
#      auth covers reads too, and it has no "anonymous pull" switch, so the
#      public face is a second process, not a second port of one)
#   2. `podman login` to the push side, with the job's one storage driver
#      (STORAGE_DRIVER, vfs when unset), into an auth file of this run only
#   3. `scripts/image.sh --publish`: the index pushed as vX.Y.Z and vX, its
#      digest the one reported, both architectures and the description
#      annotation in it
#   4. the release commit made on a copy of the tree with that digest
#      (release::push::dry_run_when_asked: scripts/release-pin.sh, the
#      action.yml files rendered, the pin check), bundled and pushed to a
#      local bare repository by release.yml's own bundle and push scripts
#   5. `podman logout`, then the image pulled by digest with a fresh auth
#      file: from the push side it must fail with release.yml's "not
#      public" error (a private package), from the public side it must
#      succeed for both architectures
#
# Then, with the registries still up, runs `command args... <public ref>`
# when given (scripts/test.sh runs each action's container from the image
# pulled by digest). Prints the public reference by digest.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  printf 'error: %s\n' "$1" >&2
  [ -z "${2:-}" ] || printf 'hint: %s\n' "$2" >&2
  exit 1
}
step() { printf '\n-- dry run: %s\n' "$*" >&2; }

for tool in podman skopeo jq docker-registry htpasswd curl git; do
  command -v "$tool" >/dev/null || die "\`$tool\` is not installed" "apt-get install podman skopeo jq docker-registry apache2-utils curl git"
done
for target in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu; do
  [ -x "${DIST_DIR:-dist}/$target/deploy-relay" ] || die "\`${DIST_DIR:-dist}/$target/deploy-relay\` is missing" "scripts/dist.sh $target"
done

# As release.yml's jobs: one storage driver for every podman call.
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# Our login alone, never the machine's.
export REGISTRY_AUTH_FILE="$work/auth.json"

step "registries (push: htpasswd; public: the same storage, read-only, anonymous)"
user=release
password=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
# -B: bcrypt, the only hash docker-registry's htpasswd accepts; -i: the
# password from stdin, never on a command line.
htpasswd -B -i -c "$work/htpasswd" "$user" <<<"$password" 2>/dev/null
push_port=$((20000 + RANDOM % 20000))
public_port=$((push_port + 1))
cat >"$work/push.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: "127.0.0.1:$push_port"
auth:
  htpasswd:
    realm: release-dry-run
    path: $work/htpasswd
EOF
cat >"$work/public.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/data
  maintenance:
    readonly:
      enabled: true
http:
  addr: "127.0.0.1:$public_port"
EOF
mkdir -p "$work/data"
# Without REGISTRY_AUTH_FILE: the registry reads REGISTRY_* variables as
# configuration (REGISTRY_AUTH_FILE would be its `auth: file:`).
env -u REGISTRY_AUTH_FILE docker-registry serve "$work/push.yml" >"$work/push.log" 2>&1 &
pids+=($!)
env -u REGISTRY_AUTH_FILE docker-registry serve "$work/public.yml" >"$work/public.log" 2>&1 &
pids+=($!)
status() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/" || true; }
for _ in $(seq 100); do
  [ "$(status "$push_port")" = 401 ] && [ "$(status "$public_port")" = 200 ] && break
  sleep 0.1
done
[ "$(status "$push_port")" = 401 ] || die "the push registry does not ask for a login: $(cat "$work/push.log")"
[ "$(status "$public_port")" = 200 ] || die "the public registry does not answer: $(cat "$work/public.log")"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
tag="v$version"
major="${tag%%.*}"
name="deploy-relay/deploy-relay"

step "podman login (STORAGE_DRIVER=$STORAGE_DRIVER), publish $tag and $major"
podman login --tls-verify=false -u "$user" --password-stdin "127.0.0.1:$push_port" <<<"$password" >&2
ref=$(IMAGE_PUSH_FLAGS=--dest-tls-verify=false \
  IMAGE_LABELS="org.opencontainers.image.revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
org.opencontainers.image.version=$version" \
  scripts/image.sh --publish "127.0.0.1:$push_port/$name" "$tag" "$major")
digest="${ref#*@}"

# The index as the registry serves it, read with the login (curl's config
# file: the password stays off the command line).
printf 'user = "%s:%s"\n' "$user" "$password" >"$work/curlrc"
for t in "$tag" "$major"; do
  curl -fsS -K "$work/curlrc" -o "$work/index.json" -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://127.0.0.1:$push_port/v2/$name/manifests/$t"
  [ "sha256:$(sha256sum <"$work/index.json" | cut -d' ' -f1)" = "$digest" ] \
    || die "the registry's $t is not $digest, the digest image.sh reported"
done
[ "$(jq -r .mediaType "$work/index.json")" = application/vnd.oci.image.index.v1+json ] \
  || die "the image is not an OCI index: $(cat "$work/index.json")"
[ "$(jq -r '[.manifests[].platform.architecture] | sort | join(",")' "$work/index.json")" = amd64,arm64 ] \
  || die "the index does not hold amd64 and arm64: $(cat "$work/index.json")"
description=$(sed -n 's/^ *org\.opencontainers\.image\.description="\([^"]*\)".*/\1/p' Dockerfile | head -n 1)
if [ -z "$description" ] || [ "$(jq -r '.annotations["org.opencontainers.image.description"]' "$work/index.json")" != "$description" ]; then
  die "the index lacks the description annotation GHCR shows: $(jq -c .annotations "$work/index.json")"
fi
echo "$ref: amd64 and arm64, described" >&2

public="127.0.0.1:$public_port/$name@$digest"
step "the release commit on a copy of the tree, bundled, pushed to a local bare repository"
DEPLOY_RELAY_DRY_RUN_IMAGE="docker://$public" DEPLOY_RELAY_DRY_RUN_TAG="$tag" \
  scripts/cargo-test-filtered.sh --locked -p deploy-relay --test it -- release::push::dry_run_when_asked >&2

step "podman logout; pulled by digest with a fresh auth file"
podman logout "127.0.0.1:$push_port" >&2
if [ "$(jq '.auths | length' "$REGISTRY_AUTH_FILE" 2>/dev/null || echo 0)" != 0 ]; then
  die "still logged in after podman logout: $(jq -c '.auths | keys' "$REGISTRY_AUTH_FILE")"
fi
# A registry that wants a login is what a private GHCR package is to a stranger.
if scripts/image.sh --pull-anonymously "$ref" --tls-verify=false >"$work/private.out" 2>&1; then
  die "pulled $ref with no login from a registry that asks for one: the check would pass a private package"
fi
grep -q '^::error title=The image is not public::' "$work/private.out" \
  || die "the refused pull did not say what to do: $(cat "$work/private.out")"
echo "$ref: refused logged out, with release.yml's error" >&2
scripts/image.sh --pull-anonymously "$public" --tls-verify=false

if [ $# -gt 0 ]; then
  step "$* $public"
  "$@" "$public"
fi
echo "$public"
