#!/usr/bin/env bash
# Load smoke: the Gemini Live emulator (benchmark echo mode) and the sample server on free loopback
# ports, then the load generator's --smoke preset (20 real-time sessions for 5 s through the relay).
# Checks: all sessions connected, no frame lost, all ended cleanly (end_session -> session_ended +
# close 1000). The sample runs with its image's environment. Then the preset again as counting clients
# that each cut their connection twice (no close frame) and resume: every cut resumed, no frame lost,
# repeated, skipped or corrupt, all ended cleanly. Then the benchmark's native parts (built
# with gcc): a second sample server with bench/native/gemini_echo.c as its model, the same preset for
# 3 s (all connected, no frame lost, all ended cleanly), and the kernel floor relay
# (bench/native/tcp_floor.c) with its own client and echo, 20 sessions for 3 s (every frame relayed).
# Writes "PASSED FAILED" to $VOICECHAT_RESULTS/60-bench-smoke.counts. Timing is reported, never asserted.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
root=$PWD
name=60-bench-smoke
results="${VOICECHAT_RESULTS:-$(mktemp -d)}"
mkdir -p "$results"
work=$(mktemp -d)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

pids=()
cleanup() {
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

checks=("all sessions connected" "no frame lost" "all ended cleanly" "resume: every cut resumed, no frame lost, repeated, skipped or corrupt" "relay with the C Gemini echo: every session streamed and ended cleanly" "floor relay relayed every frame")
fail_all() {
  echo "$name: $1" >&2
  echo "0 ${#checks[@]}" > "$results/$name.counts"
  exit 1
}

free_port() {
  # Bind port 0 on loopback and report what the kernel picked.
  if command -v /usr/bin/python3 >/dev/null; then
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    echo $(( 20000 + RANDOM % 20000 ))
  fi
}

wait_port() {
  local port=$1 pid=$2
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

build() { # prints the built assembly
  timeout 600 dotnet build "$1" -c Release -nologo -v:q >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; return 1; }
  dotnet msbuild "$1" -getProperty:TargetPath -p:Configuration=Release
}

emulator_dll=$(build "$root/src/VoiceChat.Emulator/VoiceChat.Emulator.csproj") || fail_all "the emulator did not build"
sample_dll=$(build "$root/samples/VoiceChat.Sample/VoiceChat.Sample.csproj") || fail_all "the sample server did not build"
loadgen_dll=$(build "$root/bench/VoiceChat.LoadGen/VoiceChat.LoadGen.csproj") || fail_all "the load generator did not build"

emulator_port=$(free_port)
dotnet "$emulator_dll" --host 127.0.0.1 --port "$emulator_port" --scenario echo >"$work/emulator.log" 2>&1 &
pids+=("$!")
wait_port "$emulator_port" "$!" || { cat "$work/emulator.log" >&2; fail_all "the emulator did not start"; }

start_sample() { # start_sample MODEL_PORT LOG: the sample server as its image runs it; sets relay_port, relay_pid
  relay_port=$(free_port)
  ASPNETCORE_ENVIRONMENT=Production DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 Logging__LogLevel__Default=Warning \
  VoiceChat__AllowAnonymous=true VoiceChat__Gemini__BaseUrl="http://127.0.0.1:$1" VoiceChat__Gemini__ApiKey=bench \
  VoiceChat__MaxSessionStartsPerMinute=1000000 VoiceChat__MaxSessionStartsPerMinutePerAddress=1000000 \
    dotnet "$sample_dll" --urls "http://127.0.0.1:$relay_port" >"$2" 2>&1 &
  relay_pid=$!
  pids+=("$relay_pid")
  wait_port "$relay_port" "$relay_pid"
}
start_sample "$emulator_port" "$work/sample.log" || { cat "$work/sample.log" >&2; fail_all "the sample server did not start"; }

timeout 120 dotnet "$loadgen_dll" --smoke --quiet --url "ws://127.0.0.1:$relay_port/voice" --pid "$relay_pid" \
  --label smoke --json "$results/$name.json" >"$work/loadgen.log" 2>&1
loadgen_status=$?
cat "$work/loadgen.log"

# Resume: counting clients that cut their connections and resume (bench/run.sh --resume-only at small scale).
timeout 120 dotnet "$loadgen_dll" --smoke --duration 4 --resume-cuts 2 --quiet --url "ws://127.0.0.1:$relay_port/voice" --pid "$relay_pid" \
  --label smoke-resume --json "$results/$name-resume.json" >"$work/loadgen-resume.log" 2>&1
cat "$work/loadgen-resume.log"
if [ "$(grep -cx "smoke: \(all sessions connected\|no frame lost\|all ended cleanly\|every cut resumed\|no frame repeated, skipped or corrupt\): yes" "$work/loadgen-resume.log")" = 5 ]; then
  echo "smoke: resume: every cut resumed, no frame lost, repeated, skipped or corrupt: yes" >"$work/resume-check.log"
fi

# The benchmark's native parts.
command -v gcc >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q gcc libc6-dev >/dev/null; }
native_built=yes
for tool in gemini_echo tcp_floor; do
  gcc -O2 -Wall -Werror -o "$work/$tool" "$root/bench/native/$tool.c" 2>>"$work/native-build.log" || native_built=no
done
[ "$native_built" = yes ] || cat "$work/native-build.log" >&2

# The relay with the C Gemini echo as its model: the model side of the benchmark.
if [ "$native_built" = yes ]; then
  echo_port=$(free_port)
  "$work/gemini_echo" --port "$echo_port" >"$work/gemini-echo.log" 2>&1 &
  echo_pid=$!
  pids+=("$echo_pid")
  if wait_port "$echo_port" "$echo_pid" && start_sample "$echo_port" "$work/sample-echo.log"; then
    timeout 120 dotnet "$loadgen_dll" --smoke --duration 3 --quiet --url "ws://127.0.0.1:$relay_port/voice" --pid "$relay_pid" \
      --label smoke-echo --json "$results/$name-echo.json" >"$work/loadgen-echo.log" 2>&1
    cat "$work/loadgen-echo.log"
    if [ "$(grep -cx "smoke: \(all sessions connected\|no frame lost\|all ended cleanly\): yes" "$work/loadgen-echo.log")" = 3 ]; then
      echo "smoke: relay with the C Gemini echo: every session streamed and ended cleanly: yes" >"$work/echo-check.log"
    fi
  fi
fi

# The floor relay: one recv and one send per message, driven by its own paced client.
if [ "$native_built" = yes ]; then
  floor_bin="$work/tcp_floor"
  echo_port=$(free_port)
  "$floor_bin" echo --port "$echo_port" >"$work/floor-echo.log" 2>&1 &
  pids+=("$!")
  floor_port=$(free_port)
  "$floor_bin" relay --port "$floor_port" --upstream-port "$echo_port" >"$work/floor.log" 2>&1 &
  floor_pid=$!
  pids+=("$floor_pid")
  if wait_port "$echo_port" "${pids[-2]}" && wait_port "$floor_port" "$floor_pid"; then
    timeout 60 "$floor_bin" client --port "$floor_port" --sessions 20 --frame-ms 40 --frame-bytes 1280 --settle 1 --duration 3 \
      --pid "$floor_pid" --json "$results/$name-floor.json" >"$work/floor-client.log" 2>&1
    cat "$work/floor-client.log"
    if grep -q '"passed": true' "$results/$name-floor.json" 2>/dev/null && ! grep -q '"frames_received": 0,' "$results/$name-floor.json"; then
      echo "smoke: floor relay relayed every frame: yes" >"$work/floor-check.log"
    fi
  fi
fi

passed=0; failed=0
for check in "${checks[@]}"; do
  if grep -qxsF "smoke: $check: yes" "$work/loadgen.log" "$work/resume-check.log" "$work/echo-check.log" "$work/floor-check.log"; then
    echo "PASS $check"; passed=$((passed + 1))
  else
    echo "FAIL $check"; failed=$((failed + 1))
  fi
done
if [ "$loadgen_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "FAIL load generator exited with $loadgen_status"; failed=1
fi
if [ "$failed" -ne 0 ]; then
  echo "--- sample server log" >&2; tail -n 50 "$work/sample.log" >&2
  echo "--- emulator log" >&2; tail -n 50 "$work/emulator.log" >&2
  [ -f "$work/sample-echo.log" ] && { echo "--- sample server (C Gemini echo) log" >&2; tail -n 50 "$work/sample-echo.log" >&2; }
fi
echo "$passed $failed" > "$results/$name.counts"
echo "$name: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
