#!/usr/bin/env bash
# Allocation counts: the tests marked [AllocationFact] (trait Category=Allocations) on a Release
# build. A Debug build, which the main .NET pass uses, makes every async state machine a class
# allocated per call, so there those tests skip themselves. Writes "PASSED FAILED" to
# $VOICECHAT_RESULTS/10-allocations.counts.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
name=10-allocations
results="${VOICECHAT_RESULTS:-$(mktemp -d)}"
out="$results/$name"
rm -rf "$out"
mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# shellcheck source=eng/trx-counts.sh
source eng/trx-counts.sh

status=0
for project in tests/VoiceChat.Core.Tests tests/VoiceChat.AspNetCore.Tests; do
  dotnet test "$project" -c Release -nologo -v:q --filter "Category=Allocations" \
    --logger "trx" --logger "console;verbosity=normal" --results-directory "$out" || status=1
done

read -r passed failed < <(trx_counts "$out")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "$name: no allocation test ran" >&2
  failed=1; status=1
fi
echo "$passed $failed" > "$results/$name.counts"
exit "$status"
