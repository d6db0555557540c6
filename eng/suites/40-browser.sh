#!/usr/bin/env bash
# End-to-end test of the demo page: Debian's Chromium, a spoken WAV (espeak-ng + sox) as the
# microphone, the sample server in emulator mode on 127.0.0.1. Screenshots go to
# $VOICECHAT_RESULTS/browser/. Writes "PASSED FAILED" to $VOICECHAT_RESULTS/40-browser.counts.
set -uo pipefail
cd "$(dirname "$0")/../.."
name=40-browser
results="${VOICECHAT_RESULTS:-$(mktemp -d)}"
mkdir -p "$results"
export VOICECHAT_RESULTS="$results"

fail() {
  echo "$name: $1" >&2
  echo "0 1" > "$results/$name.counts"
  exit 1
}

missing=()
for pkg in chromium espeak-ng sox fonts-liberation; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "$name: installing ${missing[*]}"
  apt-get update -q >/dev/null || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]} failed"
fi
command -v node >/dev/null 2>&1 || fail "node is not installed"

(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"

dotnet build samples/VoiceChat.Sample/VoiceChat.Sample.csproj -nologo -v:q || fail "building the sample failed"

# The test starts the sample server itself and stops it when done (also on SIGTERM/SIGINT).
tap="$results/$name.tap"
(cd tests/browser && timeout --kill-after=15 280 node --test --test-timeout=240000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap")
status=$?

passed=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
passed=${passed:-0}; failed=${failed:-0}
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed $failed" > "$results/$name.counts"
echo "$name: $passed passed, $failed failed (screenshots in $results/browser)"
exit "$status"
