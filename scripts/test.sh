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
check-jsonschema --builtin-schema vendor.github-actions actions/*/action.yml

step "Dockerfile (hadolint)"
hadolint Dockerfile

if compgen -G ".github/workflows/*.yml" >/dev/null; then
  step "workflows (actionlint, zizmor, check-jsonschema)"
  check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
  actionlint .github/workflows/*.yml
  zizmor --offline .github/workflows/
fi

if [ -x fuzz/run-short.sh ]; then
  step "fuzz (short runs)"
  fuzz/run-short.sh
fi

if [ "${SKIP_IMAGE:-}" != 1 ] && command -v podman >/dev/null; then
  step "image (podman, from the static release binary)"
  scripts/image.sh | tee /tmp/deploy-relay-image.txt
  bytes=$(sed -n 's/^| image [^|]*| \([0-9]*\) bytes.*/\1/p' /tmp/deploy-relay-image.txt)
  if [ "$bytes" -ge $((16 * 1024 * 1024)) ]; then
    echo "error: the image is $bytes bytes, over the 16 MiB budget" >&2
    exit 1
  fi
fi
