#!/usr/bin/env bash
# Cross-check: Google's official JS SDK (@google/genai) talks to the Live API emulator
# (src/VoiceChat.Emulator) over loopback. Proves the emulator speaks the real wire protocol.
# Writes "PASSED FAILED" to $VOICECHAT_RESULTS/20-genai-crosscheck.counts; exits non-zero on any failure.
set -euo pipefail

SUITE=20-genai-crosscheck
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RESULTS="${VOICECHAT_RESULTS:-$(mktemp -d)}"
mkdir -p "$RESULTS"
COUNTS="$RESULTS/$SUITE.counts"
WORK="$(mktemp -d)"
EMULATOR_PID=""

cleanup() {
  if [ -n "$EMULATOR_PID" ] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Until the tests say otherwise, the suite counts as one failure.
echo "0 1" > "$COUNTS"

# Node 20+ (the SDK's floor). Debian's own nodejs is older, so only fall back to apt when nothing is installed.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  dpkg -s nodejs >/dev/null 2>&1 || apt-get install -y -q nodejs >/dev/null
  dpkg -s npm >/dev/null 2>&1 || apt-get install -y -q npm >/dev/null
fi

echo "[$SUITE] building the emulator"
dotnet build "$ROOT/src/VoiceChat.Emulator/VoiceChat.Emulator.csproj" -nologo -v q -o "$WORK/emulator" >"$WORK/build.log" 2>&1 || {
  cat "$WORK/build.log"
  exit 1
}

echo "[$SUITE] starting the emulator (scenario: tools, a tool call when the user mentions the weather)"
# Port 0: the emulator picks a free loopback port and logs it. 'timeout' bounds its life even if this script is killed.
timeout 300 dotnet "$WORK/emulator/VoiceChat.Emulator.dll" --host 127.0.0.1 --port 0 \
  --scenario tools --tool get_weather --tool-when weather --tool-args '{"city":"Paris"}' \
  >"$WORK/emulator.log" 2>&1 &
EMULATOR_PID=$!

URL=""
for _ in $(seq 1 300); do
  URL="$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$WORK/emulator.log" | head -n 1 | sed 's/^listening on //' || true)"
  [ -n "$URL" ] && break
  if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
    cat "$WORK/emulator.log"
    exit 1
  fi
  sleep 0.2
done
if [ -z "$URL" ]; then
  echo "[$SUITE] the emulator did not start listening"
  cat "$WORK/emulator.log"
  exit 1
fi
echo "[$SUITE] emulator at $URL"

cd "$ROOT/tests/genai-crosscheck"
npm ci --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1 || {
  cat "$WORK/npm.log"
  exit 1
}

set +e
VOICECHAT_EMULATOR_URL="$URL" timeout 240 node --test --test-reporter=tap crosscheck.test.mjs | tee "$WORK/node.tap"
NODE_STATUS=${PIPESTATUS[0]}
set -e

PASSED="$(grep -E '^# pass [0-9]+' "$WORK/node.tap" | awk '{print $3}' | tail -n 1)"
FAILED="$(grep -E '^# fail [0-9]+' "$WORK/node.tap" | awk '{print $3}' | tail -n 1)"
CANCELLED="$(grep -E '^# cancelled [0-9]+' "$WORK/node.tap" | awk '{print $3}' | tail -n 1)"
PASSED="${PASSED:-0}"
FAILED=$(( ${FAILED:-0} + ${CANCELLED:-0} ))
if [ "$NODE_STATUS" -ne 0 ] && [ "$FAILED" -eq 0 ]; then
  FAILED=1
fi

echo "$PASSED $FAILED" > "$COUNTS"
echo "[$SUITE] $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
