#!/usr/bin/env bash
# Rewrites PublicAPI.Unshipped.txt of every shipped library (src/*) from its current public surface.
#   ./eng/update-public-api.sh            regenerate (run after adding, changing or removing public API, or after a merge)
#   ./eng/update-public-api.sh --check    fail if the files do not match the code (what the build's RS0016/RS0017 errors say)
# Shipped files are only changed by hand at a release: move the Unshipped lines into PublicAPI.Shipped.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-update}"
status=0
for unshipped in src/*/PublicAPI.Unshipped.txt; do
  dir="$(dirname "$unshipped")"
  project="$(find "$dir" -maxdepth 1 -name '*.csproj' | head -n 1)"
  [ -n "$project" ] || continue
  if [ "$mode" = "--check" ]; then
    if ! dotnet format analyzers "$project" --diagnostics RS0016 RS0017 --severity warn --verify-no-changes >/dev/null 2>&1; then
      echo "public API of $project differs from $unshipped: run eng/update-public-api.sh" >&2
      status=1
    fi
    continue
  fi
  # Start from an empty Unshipped file so that removed or renamed members disappear from it too,
  # then let the analyzer's code fix declare every public symbol that Shipped does not hold.
  printf '#nullable enable\n' > "$unshipped"
  dotnet format analyzers "$project" --diagnostics RS0016 --severity warn
  echo "updated $unshipped ($(($(wc -l < "$unshipped") - 1)) entries)"
done
exit "$status"
