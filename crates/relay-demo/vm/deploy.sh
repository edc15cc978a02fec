#!/usr/bin/env bash
# deploy.sh <image reference> — the demo VM's deploy script: switch the
# demo service to the release an image reference names.
#
# examples/vm/deploy.sh with docker swapped for what the demo has: a
# "registry" directory holds one directory per pushed image, by its
# digest (`ghcr.io/…/api@sha256:<hex>` is `registry/<hex>`), the running
# release is the `current` symlink, and the demo's supervisor (which owns
# the service, as docker owns a container) restarts it on request. Same
# steps, same exit codes (deploy-receiver maps them to HTTP):
#   0  deployed and healthy                                → 200
#   2  nobody pushed that reference (the "pull" failed);
#      nothing was stopped or changed                      → 422
#   3  the new release was not healthy in time; the
#      previous one was started again                      → 503
#   1  anything else (e.g. the rollback itself failed)     → 500
#
# Configuration (env, from the hook's [hooks.env]):
#   DEMO_REGISTRY            directory of pushed images, one per digest
#   DEMO_RELEASES            where pulled releases are kept
#   DEMO_CURRENT             the symlink the service is started from
#   DEMO_SUPERVISOR_URL      the supervisor's control endpoint
#   DEMO_SUPERVISOR_HEADER   a file holding its `Authorization:` header
#   DEMO_HEALTH_URL          the service's health endpoint
#   DEMO_HEALTH_DEADLINE     seconds to wait for health               (30)
set -euo pipefail

readonly image="${1:-}"
readonly registry="${DEMO_REGISTRY:?}"
readonly releases="${DEMO_RELEASES:?}"
readonly current="${DEMO_CURRENT:?}"
readonly supervisor="${DEMO_SUPERVISOR_URL:?}"
readonly auth_header="${DEMO_SUPERVISOR_HEADER:?}"
readonly health_url="${DEMO_HEALTH_URL:?}"
readonly deadline="${DEMO_HEALTH_DEADLINE:-30}"

log() { printf 'deploy.sh: %s\n' "$*"; }

# The receiver validates the reference already; a script can be run by
# hand too. Only a digest: what the build pushed, and nothing else.
if [[ ! "$image" =~ ^[a-z0-9][a-z0-9./_-]*@sha256:([0-9a-f]{64})$ ]]; then
  log "usage: deploy.sh <name@sha256:digest>; got '${image}'"
  exit 2
fi
readonly sha="${BASH_REMATCH[1]}"
short="${sha:0:12}"

# 1. "Pull": copy the image out of the registry. A reference nobody pushed
#    fails here and leaves the running service untouched.
if [[ ! -d "$registry/$sha" ]]; then
  log "nobody pushed ${image}; the pull failed and nothing was changed"
  exit 2
fi
if [[ ! -d "$releases/$sha" ]]; then
  rm -rf "$releases/$sha.partial"
  cp -R "$registry/$sha" "$releases/$sha.partial"
  mv -T "$releases/$sha.partial" "$releases/$sha"
fi
log "pulled ${short}"

# 2. Record what runs now, to roll back to.
previous=""
if [[ -L "$current" ]]; then
  previous="$(basename "$(readlink "$current")")"
fi
previous_short="${previous:0:12}"
log "previous release: ${previous_short:-none}"

# Points `current` at release $1 in one rename, so the service never
# starts from a half-made link.
switch_to() {
  ln -sfn "$releases/$1" "$current.next"
  mv -T "$current.next" "$current"
}

# Asks the supervisor to restart the service from `current`, as a real
# deploy asks docker; the service is the supervisor's child, never ours.
restart() {
  curl --silent --show-error --fail --max-time 30 -X POST \
    -H "@$auth_header" "$supervisor/restart"
}

rollback() {
  if [[ -z "$previous" ]]; then
    log "no previous release to go back to; the service stays on ${short}"
    exit 3
  fi
  log "rolling back to ${previous_short}"
  switch_to "$previous"
  if ! restart; then
    log "rollback failed: the supervisor did not restart ${previous_short}"
    exit 1
  fi
  exit 3
}

# deploy-receiver sends SIGTERM to the whole group on its timeout: put the
# previous release back in the grace period before SIGKILL.
swapped=0
# shellcheck disable=SC2317 # called by the trap
on_term() {
  trap - TERM
  if [[ "$swapped" == 1 ]]; then rollback; fi
  exit 1
}
trap on_term TERM

# 3. Swap: point `current` at the new release and restart.
swapped=1
switch_to "$sha"
restart || rollback

# 4. Wait for health, with a deadline.
start=$SECONDS
# A generous probe timeout: a loaded machine answers late, not wrongly.
until curl --silent --fail --output /dev/null --max-time 15 "$health_url"; do
  if ((SECONDS - start >= deadline)); then
    log "${short} not healthy after ${deadline}s"
    rollback
  fi
  sleep 0.2
done
swapped=0
trap - TERM
log "${short} is healthy"

# 5. Clean up: pulled releases other than this one and the previous go
#    (the registry keeps them, as it keeps tagged images).
shopt -s nullglob
for dir in "$releases"/*; do
  name="$(basename "$dir")"
  if [[ "$name" != "$sha" && "$name" != "$previous" ]]; then
    rm -rf "$dir"
  fi
done
exit 0
