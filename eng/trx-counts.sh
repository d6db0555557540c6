# shellcheck shell=bash
# Sourced by the test scripts: trx_counts DIR prints "PASSED FAILED" summed over DIR/*.trx.
trx_counts() {
  local passed=0 failed=0 trx counters p f
  for trx in "$1"/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$(( passed + ${p:-0} )); failed=$(( failed + ${f:-0} ))
  done
  echo "$passed $failed"
}
