#!/usr/bin/env bash
# Runs every test suite: the .NET test projects of VoiceChat.Core.sln (after installing Debian's
# redis-server, which the resume tests start themselves), then each eng/suites/*.sh
# (allocation counts on a Release build, browser, JavaScript, SDK cross-check, packaging, load
# smoke), which install what they need.
# The last line is "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export VOICECHAT_RESULTS="${VOICECHAT_RESULTS:-$root/artifacts/test-results}"
rm -rf "$VOICECHAT_RESULTS"
mkdir -p "$VOICECHAT_RESULTS"

# shellcheck source=eng/trx-counts.sh
source eng/trx-counts.sh

status=0
started=$(date +%s)

section() { printf '\n=== %s (%ss)\n' "$1" "$(( $(date +%s) - started ))"; }

section "tools"
# The resume tests start a real redis-server of their own on a free loopback port.
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends redis-server >/dev/null) || echo "could not install redis-server" >&2
  else
    echo "redis-server is missing: install Debian's redis-server (the resume tests need it)" >&2
  fi
fi

section "dotnet build"
if dotnet build VoiceChat.Core.sln -nologo -v:q; then
  section "dotnet test"
  dotnet test VoiceChat.Core.sln --no-build -nologo -v:q \
    --logger "trx" --logger "console;verbosity=normal" \
    --results-directory "$VOICECHAT_RESULTS/dotnet" \
    --blame-hang-timeout 5m || status=1
  read -r passed failed < <(trx_counts "$VOICECHAT_RESULTS/dotnet")
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  echo "$passed $failed" > "$VOICECHAT_RESULTS/dotnet.counts"
else
  status=1
  echo "0 1" > "$VOICECHAT_RESULTS/dotnet.counts"
fi

for suite in eng/suites/*.sh; do
  [ -f "$suite" ] || continue
  name=$(basename "$suite" .sh)
  section "suite $name"
  rm -f "$VOICECHAT_RESULTS/$name.counts"
  if ! bash "$suite"; then
    status=1
  fi
  if [ ! -s "$VOICECHAT_RESULTS/$name.counts" ]; then
    echo "suite $name reported no counts" >&2
    echo "0 1" > "$VOICECHAT_RESULTS/$name.counts"
    status=1
  fi
done

section "summary"
total_passed=0; total_failed=0
for counts in "$VOICECHAT_RESULTS"/*.counts; do
  read -r p f < "$counts"
  printf '  %-24s %4s passed, %4s failed\n' "$(basename "$counts" .counts)" "$p" "$f"
  total_passed=$(( total_passed + p )); total_failed=$(( total_failed + f ))
done
if [ "$status" -ne 0 ] && [ "$total_failed" -eq 0 ]; then total_failed=1; fi
echo "${total_passed} passed, ${total_failed} failed"
exit "$status"
