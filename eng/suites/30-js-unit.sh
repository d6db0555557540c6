#!/usr/bin/env bash
# Unit tests of the JavaScript client library (clients/js) with Node's built-in test runner.
# Writes "PASSED FAILED" to $VOICECHAT_RESULTS/30-js-unit.counts.
set -uo pipefail
cd "$(dirname "$0")/../.."
name=30-js-unit
results="${VOICECHAT_RESULTS:-$(mktemp -d)}"
mkdir -p "$results"

if ! command -v node >/dev/null 2>&1; then
  echo "$name: node is not installed" >&2
  echo "0 1" > "$results/$name.counts"
  exit 1
fi

tap="$results/$name.tap"
(cd clients/js && timeout --kill-after=10 180 node --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap")
status=$?

passed=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
passed=${passed:-0}; failed=${failed:-0}
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed $failed" > "$results/$name.counts"
echo "$name: $passed passed, $failed failed"
exit "$status"
