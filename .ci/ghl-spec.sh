#!/usr/bin/env bash
# Fetches GHL's official spec files, which the tests read but the repository does not carry:
# the public repository https://github.com/GoHighLevel/highlevel-api-docs (CC0 1.0) at a pinned
# commit, laid out as the tests expect:
#   apps/*.json, common/       copied unchanged (same relative paths, so `$ref`s resolve)
#   apps/all-v2.json           the v2 families merged into one document, for Prism (.ci/prism.sh)
#   webhook-events/            the JSON blocks of `docs/webhook events/<Event>.md`, verbatim
# Usage: .ci/ghl-spec.sh [DIR]   (default target/ghl-spec, ignored by git; the tests find it there,
# or wherever GHL_SPEC_DIR points). Needs network access to github.com, curl or git, and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

commit="0af86a4cbd48c66a4071c7e509d1079f9f10ed17" # main on 2026-06-19
repo="GoHighLevel/highlevel-api-docs"
events=(ContactCreate ContactUpdate ContactDelete ContactTagUpdate ContactDndUpdate
  NoteCreate NoteUpdate NoteDelete TaskCreate TaskComplete TaskDelete
  AppointmentCreate AppointmentUpdate AppointmentDelete AppInstall AppUninstall CampaignStatusUpdate)
dest="${1:-target/ghl-spec}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
src="$work/src"
mkdir -p "$src"
if curl -fsSL --max-time 120 "https://codeload.github.com/$repo/tar.gz/$commit" -o "$work/src.tgz"; then
  tar -xzf "$work/src.tgz" -C "$src" --strip-components=1
elif git -C "$src" init -q && git -C "$src" fetch -q --depth 1 "https://github.com/$repo" "$commit"; then
  git -C "$src" checkout -q FETCH_HEAD
else
  echo "could not fetch $repo at $commit (no network?): copy its files into a folder and set GHL_SPEC_DIR" >&2
  exit 1
fi

out="$work/out"
mkdir -p "$out"
cp -R "$src/apps" "$src/common" "$out/"
python3 .ci/ghl-spec/merge_v2.py "$out/apps" >"$out/apps/all-v2.json"
python3 .ci/ghl-spec/extract_events.py "$src/docs/webhook events" "$out/webhook-events" "${events[@]}"
printf 'GoHighLevel/highlevel-api-docs at %s, fetched by .ci/ghl-spec.sh\n' "$commit" >"$out/SOURCE"

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$out" "$dest"
echo "GHL spec files in $dest"
