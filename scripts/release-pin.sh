#!/usr/bin/env bash
# The release's rewrite of main's moving references into fixed ones
# (RELEASING.md). release.yml runs it; crates/deploy-relay/tests/it/release.rs
# runs it on a copy of the tree and checks the result.
#
#   scripts/release-pin.sh image <docker://<registry>/<name>@sha256:<digest>>
#       Writes the image into release.toml. Then render every action.yml
#       from it (UPDATE_ACTION_YML=1 cargo test -p deploy-relay --test it
#       metadata) and commit: that commit (B) runs the image by digest.
#
#   scripts/release-pin.sh workflows <owner/repo> [message]
#       In a git checkout whose HEAD is B, rewrites every
#       `deploy-relay/deploy-relay[/<path>]@main` in .github/workflows/*.yml
#       to `<owner/repo>[/<path>]@<commit>` and commits, in rounds: our
#       actions at B; a reusable workflow at the first commit where it has
#       no `@main` left (pipeline.yml calls deploy.yml, so deploy.yml is
#       pinned first and pipeline.yml names the commit that pinned it).
#       Prints the last commit, the release commit: pinning it pins every
#       byte below it. `deploy-relay/deploy-relay` is how main names our
#       repository; <owner/repo> is the one releasing (a fork names itself,
#       and its own `<owner/repo>/...@main` references are rewritten too).
set -euo pipefail

# `@main` as a whole ref: followed by the end of the value.
end="([\"'[:space:]]|$)"

die() {
  printf 'error: %s\n' "$1" >&2
  [ -z "${2:-}" ] || printf 'hint: %s\n' "$2" >&2
  exit 1
}

image_of_release_toml() {
  sed -n 's/^image = "\(.*\)"$/\1/p' "$1"
}

cmd_image() {
  local image="$1" lines
  if ! [[ "$image" =~ ^docker://[a-z0-9][a-z0-9.-]*(:[0-9]+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$ ]]; then
    die "image \`$image\` is not a docker:// reference by digest" \
      "docker://ghcr.io/<owner>/deploy-relay@sha256:<64 hex digits>, the digest the push reported (lowercase owner)"
  fi
  lines=$(grep -c '^image = ".*"$' release.toml || true)
  [ "$lines" = 1 ] || die "release.toml has $lines \`image = \"...\"\` lines, not one" "restore it from main"
  sed -i "s|^image = \".*\"$|image = \"$image\"|" release.toml
  [ "$(image_of_release_toml release.toml)" = "$image" ] || die "release.toml was not rewritten"
  echo "release.toml: image = \"$image\"" >&2
}

# The action.yml files at HEAD: the root action and actions/*.
action_ymls() {
  git ls-tree -r --name-only HEAD | grep -E '^(action\.yml|actions/[^/]+/action\.yml)$' || true
}

cmd_workflows() {
  local repo="$1" message="$2" image pinned head f w left called
  [[ "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] \
    || die "repository \`$repo\` is not \`owner/repo\`" "pass \${{ github.repository }}"
  git diff --quiet HEAD -- || die "the work tree has uncommitted changes" "commit the rendered action.yml files first (B)"

  # B must run the image by digest, in release.toml and every action.yml.
  image=$(image_of_release_toml <(git show HEAD:release.toml))
  [[ "$image" == *@sha256:* ]] || die "release.toml at HEAD names \`$image\`, not an image by digest" \
    "scripts/release-pin.sh image <ref>, render, commit, then run this"
  local actions
  actions=$(action_ymls)
  [ -n "$actions" ] || die "no action.yml at HEAD"
  for f in $actions; do
    # Read whole, then matched: `git show | grep -q` under pipefail fails when grep stops early.
    grep -qxF "  image: \"$image\"" <<<"$(git show "HEAD:$f")" \
      || die "$f at HEAD does not run \`$image\`" "UPDATE_ACTION_YML=1 cargo test -p deploy-relay --test it metadata, then commit"
  done
  pinned=$(git rev-parse HEAD)

  # Our repository, as main spells it or as the releasing one (a fork that
  # points its workflows at itself), one group either way: `ours` below is
  # \1 in every sed expression.
  local ours="(deploy-relay/deploy-relay|${repo//./\\.})" path="(/[^@[:space:]\"']*)?"
  shopt -s nullglob
  local files=(.github/workflows/*.yml .github/workflows/*.yaml)
  while grep -qiE "$ours$path@main$end" "${files[@]}" /dev/null; do
    head=$(git rev-parse HEAD)
    for f in "${files[@]}"; do
      # Our actions, the root one included: at B.
      sed -E -i "s#$ours(/actions/[A-Za-z0-9._-]+)?@main$end#$repo\\2@$pinned\\3#Ig" "$f"
      # Our reusable workflows: at HEAD, once nothing in them moves.
      mapfile -t called < <(grep -oiE "$ours/\.github/workflows/[A-Za-z0-9._-]+@main$end" "$f" \
        | sed -E "s#^[^/]+/[^/]+/\.github/workflows/([^@]+)@main.*#\\1#" | sort -u)
      for w in "${called[@]}"; do
        git cat-file -e "HEAD:.github/workflows/$w" 2>/dev/null \
          || die "$f calls .github/workflows/$w, which is not in this repository"
        if ! grep -qiE "$ours$path@main$end" <<<"$(git show "HEAD:.github/workflows/$w")"; then
          sed -E -i "s#$ours/\.github/workflows/${w//./\\.}@main$end#$repo/.github/workflows/$w@$head\\2#Ig" "$f"
        fi
      done
    done
    if git diff --quiet; then
      die "$(grep -niE "$ours$path@main$end" "${files[@]}" | head -n 3)" \
        "these workflows call each other in a cycle; a release can pin only a call graph without cycles"
    fi
    git add -- "${files[@]}"
    git commit -q -m "$message: our actions at ${pinned:0:12}, our reusable workflows at ${head:0:12}"
    echo "committed $(git rev-parse --short=12 HEAD)" >&2
  done

  # Anything else naming our repository moves too: `@v1`, a branch, a tag.
  left=$(grep -noiE "$ours$path@[^[:space:]\"']+" "${files[@]}" /dev/null | grep -vE '@[0-9a-f]{40}$' || true)
  [ -z "$left" ] || die "references to our repository the release cannot pin (only \`@main\` is rewritten):
$left" "on main, reference our actions and workflows as deploy-relay/deploy-relay/...@main"
  git rev-parse HEAD
}

case "${1:-}" in
  image)
    [ $# = 2 ] || die "usage: scripts/release-pin.sh image <docker://...@sha256:...>"
    cmd_image "$2"
    ;;
  workflows)
    [ $# = 2 ] || [ $# = 3 ] || die "usage: scripts/release-pin.sh workflows <owner/repo> [message]"
    cmd_workflows "$2" "${3:-release}"
    ;;
  *)
    die "usage: scripts/release-pin.sh image <docker://...@sha256:...> | workflows <owner/repo> [message]"
    ;;
esac
