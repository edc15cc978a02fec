#!/usr/bin/env bash
# deploy.sh <image> — swap one docker compose service to exactly the image
# reference it is given, and back to exactly the one it replaced if the new
# one is not healthy.
#
# <image> is a whole reference, by digest (what the build pushed, which no
# one can move):      ghcr.io/my-org/api@sha256:<64 hex>
# or, where the hook's pattern in receiver.toml allows tags:
#                     ghcr.io/my-org/api:1.4.2
# deploy-receiver passes the payload's validated `image` field as the only
# argument; run by hand it takes the same.
#
# Exit codes (deploy-receiver maps them to HTTP):
#   0  deployed and healthy                               → 200
#   2  bad reference, or the image could not be pulled;
#      nothing was stopped or changed                     → 422
#   3  the new container was not healthy in time; it was
#      stopped and the previous image started again       → 503
#   1  anything else (e.g. the rollback itself failed)    → 500
#
# Configuration (env; set per hook in receiver.toml's [hooks.env]):
#   DEPLOY_SERVICE          compose service to swap                  (app)
#   DEPLOY_COMPOSE_FILE     compose file                             (docker-compose.yml)
#   DEPLOY_IMAGE_VAR        variable the compose file takes the whole
#                           reference from: image: ${IMAGE}          (IMAGE)
#   DEPLOY_IMAGE_REPOSITORY the only repository this service runs,
#                           e.g. ghcr.io/my-org/api (unset: any)
#   DEPLOY_HEALTH_URL       HTTP probe; unset: docker's health status, or
#                           "running" for a service without a healthcheck
#   DEPLOY_HEALTH_DEADLINE  seconds to wait for health             (120)
#   DEPLOY_HEALTH_INTERVAL  seconds between probes                 (2)
#
# The image to roll back to is the reference the running container was
# created from (`docker inspect` .Config.Image): exactly what the previous
# deploy pulled, digest and all.
set -euo pipefail

readonly image="${1:-}"
readonly service="${DEPLOY_SERVICE:-app}"
readonly compose_file="${DEPLOY_COMPOSE_FILE:-docker-compose.yml}"
readonly image_var="${DEPLOY_IMAGE_VAR:-IMAGE}"
readonly repository="${DEPLOY_IMAGE_REPOSITORY:-}"
readonly health_url="${DEPLOY_HEALTH_URL:-}"
readonly deadline="${DEPLOY_HEALTH_DEADLINE:-120}"
readonly interval="${DEPLOY_HEALTH_INTERVAL:-2}"

log() { printf 'deploy.sh: %s\n' "$*"; }

# A reference docker and compose read one way only: a name (an optional
# registry host and port, then lower-case path components; never a
# leading `-`), then `@sha256:<64 hex>` or `:<tag>`.
# https://docs.docker.com/reference/cli/docker/image/tag/
readonly host='[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?/'
readonly component='[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*'
readonly name_re="^(${host})?${component}(/${component})*$"

# The name part of reference $1 (without its digest or tag), or nothing
# when $1 is not a reference.
name_of() {
  local ref="$1" name
  if [[ "$ref" =~ ^(.+)@sha256:[0-9a-f]{64}$ ]]; then
    name="${BASH_REMATCH[1]}"
  elif [[ "$ref" =~ ^(.+):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$ ]]; then
    name="${BASH_REMATCH[1]}"
  else
    return 0
  fi
  # `sha256:<hex>` is an image id to docker, not a name and a tag.
  if [[ ${#ref} -le 512 && "$name" =~ $name_re && "$name" != sha256 ]]; then
    printf '%s' "$name"
  fi
}

# docker compose with the image variable set to reference $1.
compose_at() {
  local ref="$1"
  shift
  env "${image_var}=${ref}" docker compose -f "$compose_file" "$@"
}

if [[ ! "$image_var" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
  log "DEPLOY_IMAGE_VAR '${image_var}' is not a variable name"
  exit 1
fi
# The receiver validates the reference already; a script can be run by hand too.
new_name="$(name_of "$image")"
if [[ -z "$new_name" ]]; then
  log "usage: deploy.sh <image>, e.g. ghcr.io/o/app@sha256:<64 hex>; got '${image}'"
  exit 2
fi
if [[ -n "$repository" && "$new_name" != "$repository" ]]; then
  log "'${image}' is not an image of ${repository}, the only repository ${service} runs"
  exit 2
fi

# 1. Pre-pull exactly that reference: a failure leaves the service untouched.
log "pulling ${service} at ${image}"
if ! compose_at "$image" pull "$service"; then
  log "pull failed; nothing was changed"
  exit 2
fi

# 2. Record what runs now, to roll back to: the whole reference its
# container was created from.
previous=""
running="$(compose_at "$image" ps -q "$service" || true)"
if [[ -n "$running" ]]; then
  was="$(docker inspect --format '{{.Config.Image}}' "${running%%$'\n'*}" || true)"
  if [[ -n "$(name_of "$was")" ]]; then
    previous="$was"
  elif [[ -n "$was" ]]; then
    log "the running ${service} was not started from a reference ('${was}'); there is nothing to roll back to"
  fi
fi
log "previous image: ${previous:-none}"

swapped=0
rollback() {
  log "rolling back ${service} to ${previous:-nothing}"
  compose_at "$image" stop "$service" || true
  if [[ -z "$previous" ]]; then
    log "no previous image to start; ${service} is stopped"
    exit 3
  fi
  # Exactly the previous reference; from the local copy if the registry
  # cannot be reached.
  compose_at "$previous" pull "$service" || log "pull of ${previous} failed; starting the local copy"
  if ! compose_at "$previous" up -d --no-deps "$service"; then
    log "rollback failed: ${service} could not be started at ${previous}"
    exit 1
  fi
  exit 3
}
# deploy-receiver sends SIGTERM to the whole group on its timeout: put the
# previous version back in the grace period it gives before SIGKILL.
# shellcheck disable=SC2317 # called by the trap
on_term() {
  trap - TERM
  if [[ "$swapped" == 1 ]]; then rollback; fi
  exit 1
}
trap on_term TERM

# 3. Swap only this service.
swapped=1
compose_at "$image" stop "$service" || rollback
compose_at "$image" up -d --no-deps "$service" || rollback

# 4. Wait for health, with a deadline.
health() {
  if [[ -n "$health_url" ]]; then
    if curl --silent --fail --output /dev/null --max-time 5 "$health_url"; then
      echo healthy
    else
      echo starting
    fi
    return
  fi
  local id
  id="$(compose_at "$image" ps -q "$service" || true)"
  if [[ -z "$id" ]]; then
    echo missing
    return
  fi
  docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "${id%%$'\n'*}" || echo unknown
}

start=$SECONDS
while :; do
  state="$(health)"
  case "$state" in
    healthy | running) break ;;
    unhealthy | exited | dead | missing)
      log "${service} is ${state}"
      rollback
      ;;
  esac
  if ((SECONDS - start >= deadline)); then
    log "${service} not healthy after ${deadline}s (last: ${state})"
    rollback
  fi
  sleep "$interval"
done
swapped=0
trap - TERM
log "${service} is healthy at ${image}"

# 5. Clean up: dangling images left by the swap; referenced ones stay for a
# manual rollback.
docker image prune -f >/dev/null || log "image prune failed (ignored)"
exit 0
