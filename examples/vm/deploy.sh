#!/usr/bin/env bash
# deploy.sh <image_sha> — swap one docker compose service to a new image tag.
#
# Called by deploy-receiver with the validated sha as its only argument.
# Exit codes (deploy-receiver maps them to HTTP):
#   0  deployed and healthy                               → 200
#   2  bad tag or the image could not be pulled;
#      nothing was stopped or changed                     → 422
#   3  the new container was not healthy in time; it was
#      stopped and the previous tag started again         → 503
#   1  anything else (e.g. the rollback itself failed)    → 500
#
# Configuration (env; set them in the systemd unit or a drop-in):
#   DEPLOY_SERVICE          compose service to swap                (app)
#   DEPLOY_COMPOSE_FILE     compose file                           (docker-compose.yml)
#   DEPLOY_IMAGE_VAR        variable the compose file puts in the
#                           image tag, e.g. image: ghcr.io/o/app:${IMAGE_TAG}  (IMAGE_TAG)
#   DEPLOY_HEALTH_URL       HTTP probe; unset: docker's health status, or
#                           "running" for a service without a healthcheck
#   DEPLOY_HEALTH_DEADLINE  seconds to wait for health             (120)
#   DEPLOY_HEALTH_INTERVAL  seconds between probes                 (2)
set -euo pipefail

readonly new_tag="${1:-}"
readonly service="${DEPLOY_SERVICE:-app}"
readonly compose_file="${DEPLOY_COMPOSE_FILE:-docker-compose.yml}"
readonly image_var="${DEPLOY_IMAGE_VAR:-IMAGE_TAG}"
readonly health_url="${DEPLOY_HEALTH_URL:-}"
readonly deadline="${DEPLOY_HEALTH_DEADLINE:-120}"
readonly interval="${DEPLOY_HEALTH_INTERVAL:-2}"

log() { printf 'deploy.sh: %s\n' "$*"; }

# docker compose with the image tag variable set to $1.
compose_at() {
  local tag="$1"
  shift
  env "${image_var}=${tag}" docker compose -f "$compose_file" "$@"
}

# The receiver validates the sha already; a script can be run by hand too.
if [[ ! "$new_tag" =~ ^[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}$ ]]; then
  log "usage: deploy.sh <image tag>; got '${new_tag}'"
  exit 2
fi
if [[ ! "$image_var" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
  log "DEPLOY_IMAGE_VAR '${image_var}' is not a variable name"
  exit 1
fi

# 1. Pre-pull: a failure here leaves the running service untouched.
log "pulling ${service} at ${new_tag}"
if ! compose_at "$new_tag" pull "$service"; then
  log "pull failed; nothing was changed"
  exit 2
fi

# 2. Record what runs now, to roll back to.
previous_tag=""
running="$(compose_at "$new_tag" ps -q "$service" || true)"
if [[ -n "$running" ]]; then
  previous_image="$(docker inspect --format '{{.Config.Image}}' "${running%%$'\n'*}" || true)"
  # The tag is what follows the last ':' after the last '/' (a registry
  # host may carry a port).
  last_part="${previous_image##*/}"
  if [[ "$last_part" == *:* ]]; then
    previous_tag="${last_part##*:}"
  fi
fi
log "previous tag: ${previous_tag:-none}"

swapped=0
rollback() {
  log "rolling back ${service} to ${previous_tag:-nothing}"
  compose_at "$new_tag" stop "$service" || true
  if [[ -z "$previous_tag" ]]; then
    log "no previous tag to start; ${service} is stopped"
    exit 3
  fi
  if ! compose_at "$previous_tag" up -d --no-deps "$service"; then
    log "rollback failed: ${service} could not be started at ${previous_tag}"
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
compose_at "$new_tag" stop "$service" || rollback
compose_at "$new_tag" up -d --no-deps "$service" || rollback

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
  id="$(compose_at "$new_tag" ps -q "$service" || true)"
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
log "${service} is healthy at ${new_tag}"

# 5. Clean up: dangling images left by the swap; tagged ones stay for a
# manual rollback.
docker image prune -f >/dev/null || log "image prune failed (ignored)"
exit 0
