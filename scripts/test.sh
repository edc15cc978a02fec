#!/usr/bin/env bash
# The whole test suite: formatting, lints, every crate's tests, and the
# metadata/Dockerfile linters. `.ci/run` installs what this needs, then runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked --no-fail-fast

step "action metadata (check-jsonschema vendor.github-actions)"
metadata=(actions/*/action.yml)
[ ! -f action.yml ] || metadata+=(action.yml)
check-jsonschema --builtin-schema vendor.github-actions "${metadata[@]}"

step "Dockerfile (hadolint)"
hadolint Dockerfile

step "workflows and examples (actionlint, zizmor, check-jsonschema)"
workflows=(.github/workflows/*.yml examples/*/.github/workflows/*.y*ml)
check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
actionlint "${workflows[@]}"
# Zero findings; .github/zizmor.yml holds the one policy (our own actions at
# @main, rewritten at release) and inline ignores say why where they stand.
zizmor --offline .github/workflows/ examples/
# The auditor persona too on the workflows this repository runs for itself
# (every finding, low confidence included); ignores only inline, with a reason.
zizmor --offline --persona auditor .github/workflows/release.yml .github/workflows/ci.yml
# What release.yml and ci.yml run besides cargo.
shellcheck scripts/image.sh scripts/release-pin.sh scripts/release-dry-run.sh scripts/cargo-test-filtered.sh

if [ -x fuzz/run-short.sh ]; then
  step "fuzz (short runs)"
  fuzz/run-short.sh
fi

# One storage driver for every podman call below (image.sh, the registry
# login, each action's container): podman refuses a second driver once its
# database has a first. ci.yml sets it for the job; vfs works as root and
# rootless, in a container or not.
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"

# tests/it/container.rs against <image>, with podman; [run flags].
# runc: crun cannot start containers under a hybrid cgroup hierarchy (as on
# our CI machines). Explicit ulimits: podman's defaults ask for more than an
# unprivileged sandbox may set. Neither changes what is tested.
container_tests() {
  DEPLOY_RELAY_IMAGE="$1" \
    DEPLOY_RELAY_CONTAINER_ENGINE="podman --storage-driver $STORAGE_DRIVER --runtime runc" \
    DEPLOY_RELAY_CONTAINER_RUN_FLAGS="--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 ${2:-}" \
    scripts/cargo-test-filtered.sh --locked -p deploy-relay --test it -- container::
}
export -f container_tests

# What release.yml publishes, on this machine: scripts/release-dry-run.sh
# builds both architectures into one index, pushes it logged in to an
# htpasswd registry, makes the release commit from its digest on a copy of
# the tree and pushes it as release.yml's push job does, logs out and pulls
# the image anonymously by digest; then each action runs from the image
# pulled by that digest, as the runner pulls an action.yml's.
publish_through_a_registry() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  scripts/release-dry-run.sh bash -c 'container_tests "$1" --tls-verify=false' container_tests
}

if [ "${SKIP_IMAGE:-}" != 1 ] && command -v podman >/dev/null; then
  step "image (podman, from the static release binaries: every action and deploy-receiver)"
  scripts/image.sh | tee /tmp/deploy-relay-image.txt
  bytes=$(sed -n 's/^| image [^|]*| \([0-9]*\) bytes.*/\1/p' /tmp/deploy-relay-image.txt)
  if [ "$bytes" -ge $((16 * 1024 * 1024)) ]; then
    echo "error: the image is $bytes bytes, over the 16 MiB budget" >&2
    exit 1
  fi

  step "the image, each action's container run as the runner runs it (podman, fake GitHub)"
  if command -v runc >/dev/null || [ "${CI:-}" = true ]; then
    container_tests "$(cat dist/image-amd64.id)"
  else
    echo "skipped: runc is not installed (apt-get install runc)"
  fi
fi

# Under CI every tool below is installed by .ci/run and a missing one fails;
# elsewhere a step whose tools are missing says so and is skipped.
have_or_ci() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} = 0 ] && return 0
  if [ "${CI:-}" = true ]; then
    echo "error: ${missing[*]} missing under CI; .ci/run installs them" >&2
    exit 1
  fi
  echo "skipped: ${missing[*]} not installed"
  return 1
}

if [ "${SKIP_DIST:-}" != 1 ]; then
  step "aarch64: static cross-build, run under qemu-aarch64-static against the fake GitHub"
  start=$SECONDS
  if have_or_ci aarch64-linux-gnu-gcc qemu-aarch64-static; then
    scripts/dist.sh aarch64-unknown-linux-gnu
    # Set, the variable makes these tests required: a missing binary or qemu fails them.
    DEPLOY_RELAY_AARCH64_BIN="$PWD/dist/aarch64-unknown-linux-gnu/deploy-relay" \
      scripts/cargo-test-filtered.sh --locked -p deploy-relay --test it -- aarch64::
    if [ "${SKIP_IMAGE:-}" != 1 ] && command -v podman >/dev/null; then
      scripts/image.sh aarch64-unknown-linux-gnu | tee /tmp/deploy-relay-image-arm64.txt
      bytes=$(sed -n 's/^| image [^|]*| \([0-9]*\) bytes.*/\1/p' /tmp/deploy-relay-image-arm64.txt)
      if [ "$bytes" -ge $((16 * 1024 * 1024)) ]; then
        echo "error: the arm64 image is $bytes bytes, over the 16 MiB budget" >&2
        exit 1
      fi
      step "the release, dry run: published logged in, pinned, pushed, pulled anonymously by digest"
      if have_or_ci docker-registry runc curl skopeo jq htpasswd; then
        publish_through_a_registry
      fi
    fi
  fi
  echo "took $((SECONDS - start)) s"

  step "deploy-receiver .deb: build (amd64, arm64); install, --check, verify, purge (CI, root)"
  start=$SECONDS
  if have_or_ci cargo-deb; then
    deb=$(scripts/deb.sh x86_64-unknown-linux-gnu)
    if command -v qemu-aarch64-static >/dev/null && [ -x dist/aarch64-unknown-linux-gnu/deploy-receiver ]; then
      arm_deb=$(scripts/deb.sh aarch64-unknown-linux-gnu)
      [ "$(dpkg-deb -f "$arm_deb" Architecture)" = arm64 ] || { echo "error: $arm_deb is not arm64" >&2; exit 1; }
      unpacked=$(mktemp -d)
      dpkg-deb -x "$arm_deb" "$unpacked"
      qemu-aarch64-static "$unpacked/usr/bin/deploy-receiver" --version
      rm -rf "$unpacked"
    fi
    # Installing a package changes the machine: only under CI, or when asked.
    if [ "${CI:-}" = true ] || [ "${DEB_CHECK:-}" = 1 ]; then
      sudo=""
      [ "$(id -u)" = 0 ] || sudo="sudo"
      $sudo scripts/deb-check.sh "$deb"
    else
      echo "skipped: the install check (dpkg -i) runs under CI=true or DEB_CHECK=1"
    fi
  fi
  echo "took $((SECONDS - start)) s"
fi
