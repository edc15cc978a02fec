#!/usr/bin/env bash
# scripts/cargo-test-filtered.sh <cargo test args>... -- <filter>...
#
# `cargo test <args> -- <filter>...`, failing when a filter matches no test.
# libtest exits 0 on "running 0 tests", so a renamed module or a typo in a
# filter (`container::`, `aarch64::`, `metadata::`) would pass forever
# while testing nothing. Every filter is matched (as libtest matches: a
# substring of the test's path) against `--list` before the run, and the
# run must report as many tests as the filters chose.
#
#   scripts/cargo-test-filtered.sh --locked -p deploy-relay --test it -- container::
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/cargo-test-filtered.sh <cargo test args>... -- <filter>..." >&2
  exit 2
}

args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  args+=("$1")
  shift
done
[ "${1:-}" = -- ] || usage
shift
[ $# -gt 0 ] || usage
filters=("$@")
for f in "${filters[@]}"; do
  case "$f" in -*) echo "error: \`$f\` is a flag; hint: this script takes filters after --, nothing else" >&2; exit 2 ;; esac
done

# Every test of the chosen targets, one `path: test` line each.
names=$(cargo test "${args[@]}" -- --list --format terse | sed -n 's/: test$//p')
chosen=0
for f in "${filters[@]}"; do
  n=$(grep -cF -- "$f" <<<"$names" || true)
  if [ "$n" = 0 ]; then
    echo "::error title=Test filter::\`$f\` matches no test of \`cargo test ${args[*]}\`%0Ahint: a test module was renamed or moved; fix the filter, it would otherwise pass by testing nothing"
    exit 1
  fi
done
chosen=$(grep -cF "${filters[@]/#/-e}" <<<"$names" || true)

out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo test "${args[@]}" -- "${filters[@]}" | tee "$out"
ran=$(sed -n 's/^running \([0-9]*\) tests\{0,1\}$/\1/p' "$out" | awk '{ s += $1 } END { print s + 0 }')
if [ "$ran" != "$chosen" ]; then
  echo "::error title=Test filter::cargo test ran $ran tests, the filters ${filters[*]} chose $chosen"
  exit 1
fi
