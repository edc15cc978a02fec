#!/usr/bin/env bash
# Runs every fuzz target for a short while (CI): fuzz/run-short.sh [seconds per target]
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Longer local runs: cargo +nightly fuzz run <target> -- -max_total_time=3600
# Targets: signature_headers, receiver_request, receiver_config (the
# receiver's config parser and start), zip_extract, webhook_response
# (sign-and-call-webhook's reading of an answer).
set -euo pipefail

seconds="${1:-30}"
cd "$(dirname "$0")"
for target in $(cargo +nightly fuzz list); do
  echo "fuzz: ${target} for ${seconds}s"
  # corpus/<target> collects what the fuzzer finds (ignored by git);
  # seeds/<target> holds committed starting points past the signature check.
  mkdir -p "corpus/${target}"
  seeds=()
  if [[ -d "seeds/${target}" ]]; then seeds=("seeds/${target}"); fi
  # dicts/<target>.dict: the tokens of a text format (config keys, JSON fields).
  dict=()
  if [[ -f "dicts/${target}.dict" ]]; then dict=("-dict=dicts/${target}.dict"); fi
  cargo +nightly fuzz run "$target" "corpus/${target}" "${seeds[@]}" -- -max_total_time="$seconds" -rss_limit_mb=2048 "${dict[@]}"
done
