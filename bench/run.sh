#!/usr/bin/env bash
# The VoiceChat relay benchmark: the sample server against the Node and Python baseline relays, with
# a Gemini Live echo as the model (native/gemini_echo.c, or the emulator's echo mode) and a direct-to-model baseline.
#
#   bench/run.sh [--duration SECONDS] [--settle SECONDS] [--steps "100 250 500 750 1000 1500 2000 4000"]
#                [--relays "voicechat node python"] [--frame-ms 40] [--ramp 500] [--memory 1000@100]
#                [--model echo|emulator] [--floor yes|no] [--telemetry off|on|both] [--out DIR]
#   bench/run.sh --resume-only [--memory 1000@100] [--resume 300@40] [--resume-cuts 2] [--ack-every 5]
#                [--repeat 2] [--duration 20] [--settle 10] [--ramp 100] [--out DIR]
#
# "voicechat" is the sample as its container image runs it (Kestrel's socket transport, inline completions).
# For each step N (sessions) it measures the model side directly, then each relay that has carried
# every step so far: a fresh model side and a fresh relay per run, the relay pinned to core 0, the load
# generator and the model side to core 1. A relay carries N when all N sessions stay connected for the
# whole step, no frame is lost and its p99 added latency (relay p99 - direct p99) is under 20 ms.
# --model echo (the default) puts native/gemini_echo.c on the model side: the Live API's setup and
# audio echo in C, cheap enough that the harness keeps real time well past what any relay carries on
# one core. --model emulator uses the Gemini Live emulator's echo mode (voicechat-emulator --scenario
# echo) instead: the same messages, but it and the load generator fill their core at 500-1000 sessions.
# --memory N@MS then measures resident memory at N sessions of MS-millisecond frames, once per target
# (a frame length the harness keeps up with at N; "" skips it).
# --floor (on by default) also measures the kernel floor at every step (before the relays of that step, and
# on through the steps the relays did not reach, until it stops carrying): bench/native/tcp_floor.c, a C relay
# with one recv and one send per message and nothing else, driven by its own C client and echo (which
# carry far more sessions than the .NET harness), pinned the same way. It is what loopback TCP alone
# costs per relayed frame on this machine: a lower bound for any relay that makes one system call per
# message and direction.
# --telemetry (off by default) runs the VoiceChat relay with OpenTelemetry on as "voicechat-otel": the sample's
# OpenTelemetry SDK with every span sampled and the VoiceChat and ASP.NET Core metrics collected, exported over
# OTLP/HTTP every few seconds to otlp_sink.py (a loopback stand-in for a collector, on core 1, which reads
# each export and answers 200). "on" replaces the voicechat relay with it, "both" measures the two side by
# side at every step; the report then gives telemetry's CPU cost per session.
# --resume-only measures what resuming costs the VoiceChat relay instead, --repeat times (default 2) in one go:
# resident memory per session at the --memory load (default 1000@100) without and with a counting client
# (received:0, an ack every --ack-every numbered messages, default 5), in alternating order; then the
# --resume load (default 300 sessions of 40 ms frames) with each session cutting its connection
# --resume-cuts times (default 2; right after a frame, staggered over the sessions) and resuming: the time
# from reconnect to session_started and to the first missed frame, every cut resumed, no audio lost or
# repeated. Results: DIR (default bench/results/resume): results.md, results.json, raw/run-R/*.json, logs/.
# Results: DIR (default bench/results): results.md, results.json, chart.png, raw/*.json, logs/.
# Only loopback is used; every process started here is killed on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
duration=30
settle=5
steps="100 250 500 750 1000 1500 2000 4000"
relays="voicechat node python"
frame_ms=40
ramp=500
memory="1000@100"
model="echo"
floor=yes
out=
added_limit_ms=20
resume_only=no
resume_load="300@40"
resume_cuts=2
ack_every=5
repeat=2
telemetry=off
duration_set=no
ramp_set=no
settle_set=no

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; duration_set=yes; shift 2 ;;
    --settle) settle=$2; settle_set=yes; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --relays) relays=$2; shift 2 ;;
    --frame-ms) frame_ms=$2; shift 2 ;;
    --ramp) ramp=$2; ramp_set=yes; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --floor) floor=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --resume-only) resume_only=yes; shift ;;
    --resume) resume_load=$2; shift 2 ;;
    --resume-cuts) resume_cuts=$2; shift 2 ;;
    --ack-every) ack_every=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --telemetry) telemetry=$2; shift 2 ;;
    -h|--help) sed -n '2,41p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case "$model" in echo|emulator) ;; *) echo "--model is echo or emulator, not $model" >&2; exit 2 ;; esac
relays_given=$relays
case "$telemetry" in
  off) ;;
  on|both)
    with_otel=()
    for relay in $relays; do
      [ "$relay" = voicechat ] && [ "$telemetry" = both ] && with_otel+=(voicechat)
      [ "$relay" = voicechat ] && relay=voicechat-otel
      with_otel+=("$relay")
    done
    relays="${with_otel[*]}"
    ;;
  *) echo "--telemetry is off, on or both, not $telemetry" >&2; exit 2 ;;
esac

if [ "$resume_only" = yes ]; then
  [ -n "$out" ] || out="$here/results/resume"
  [ "$duration_set" = yes ] || duration=20
  # A gentler ramp and a longer settle: a counting client's messages are kept until its ack gets through,
  # so a backlog left by the ramp would be held in memory and stay resident.
  [ "$ramp_set" = yes ] || ramp=100
  [ "$settle_set" = yes ] || settle=10
  [ -n "$memory" ] || { echo "--resume-only needs --memory N@MS" >&2; exit 2; }
else
  [ -n "$out" ] || out="$here/results"
fi
command_line="bench/run.sh --duration $duration --settle $settle --steps \"$steps\" --relays \"$relays_given\" --frame-ms $frame_ms --ramp $ramp --memory \"$memory\" --model $model --floor $floor --telemetry $telemetry"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# ---------------------------------------------------------------- processes, cleaned up on any exit
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local kept=()
  for i in "${pids[@]:-}"; do [ "$i" != "$pid" ] && [ -n "$i" ] && kept+=("$i"); done
  pids=("${kept[@]:-}")
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {
  local port=$1 pid=$2 i
  for i in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- machine limits for thousands of sockets
# Each session is two sockets in the relay (app + model side) and one each in the generator and emulator.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n); ephemeral ports: $(cat /proc/sys/net/ipv4/ip_local_port_range | tr '\t' '-')"

# ---------------------------------------------------------------- tools and builds
need_apt=()
/usr/bin/python3 -c 'import websockets' 2>/dev/null || need_apt+=(python3-websockets)
command -v gnuplot >/dev/null || need_apt+=(gnuplot-nox)
command -v taskset >/dev/null || need_apt+=(util-linux)
command -v gcc >/dev/null || need_apt+=(gcc libc6-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -q >/dev/null && apt-get install -y -q "${need_apt[@]}" >/dev/null
fi
[ "$resume_only" = yes ] || (cd "$here/peers/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

echo "building (Release)..."
build() { dotnet build "$1" -c Release -nologo -v:q >/dev/null && dotnet msbuild "$1" -getProperty:TargetPath -p:Configuration=Release; }
loadgen_dll=$(build "$here/VoiceChat.LoadGen/VoiceChat.LoadGen.csproj")
emulator_dll=$(build "$root/src/VoiceChat.Emulator/VoiceChat.Emulator.csproj")
sample_dll=$(build "$root/samples/VoiceChat.Sample/VoiceChat.Sample.csproj")
native_bin="$root/artifacts/bin/bench-native"
mkdir -p "$native_bin"
floor_bin="$native_bin/tcp_floor"
echo_bin="$native_bin/gemini_echo"
gcc -O2 -Wall -o "$floor_bin" "$here/native/tcp_floor.c"
gcc -O2 -Wall -o "$echo_bin" "$here/native/gemini_echo.c"

mkdir -p "$out/raw/memory" "$out/raw/floor" "$out/logs"
rm -f "$out"/raw/*.json "$out"/raw/memory/*.json "$out"/raw/floor/*.json "$out"/logs/*.log

# The harness (emulator and load generator) runs with the runtime settings of the sample's image, so
# that its own warm-up and thread hops stay out of the relays' numbers.
harness_env=(DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_TC_CallCountingDelayMs=0)

# ---------------------------------------------------------------- one measured run
# The model side: the C echo or the emulator's echo mode (--model), on core 1.
emulator_pid=
emulator_port=
start_emulator() {
  emulator_port=$(free_port)
  if [ "$model" = echo ]; then
    taskset -c 1 "$echo_bin" --port "$emulator_port" >"$out/logs/model-$1.log" 2>&1 &
  else
    env "${harness_env[@]}" taskset -c 1 dotnet "$emulator_dll" --host 127.0.0.1 --port "$emulator_port" --scenario echo \
      >"$out/logs/model-$1.log" 2>&1 &
  fi
  emulator_pid=$!
  pids+=("$emulator_pid")
  wait_port "$emulator_port" "$emulator_pid" || { echo "the model side did not start" >&2; cat "$out/logs/model-$1.log" >&2; exit 1; }
}

# The OTLP sink of a voicechat-otel run, on core 1 with the rest of the harness.
sink_pid=
start_sink() {
  local port
  port=$(free_port)
  taskset -c 1 /usr/bin/python3 "$here/otlp_sink.py" --port "$port" >"$out/logs/$1-otlp-sink.log" 2>&1 &
  sink_pid=$!
  pids+=("$sink_pid")
  wait_port "$port" "$sink_pid" || { echo "the OTLP sink did not start" >&2; exit 1; }
  # What the sample reads to turn OpenTelemetry on (samples/VoiceChat.Sample/Program.cs), every span
  # sampled, and the metrics exported every 5 s so that a measured step exports several times.
  otel_env=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
    OTEL_TRACES_SAMPLER=always_on OTEL_METRIC_EXPORT_INTERVAL=5000 OTEL_BSP_SCHEDULE_DELAY=1000 OTEL_SERVICE_NAME=voicechat-bench)
}

stop_sink() {
  [ -z "$sink_pid" ] || stop_pid "$sink_pid"
  sink_pid=
}

relay_pid=
relay_port=
otel_env=()
start_relay() {
  local relay=$1 tag=$2
  relay_port=$(free_port)
  local log="$out/logs/$tag.log"
  otel_env=()
  [ "$relay" = voicechat-otel ] && start_sink "$tag"
  case "$relay" in
    voicechat|voicechat-otel)
      # The environment of the sample's container image (samples/VoiceChat.Sample/Dockerfile).
      env ${otel_env[@]+"${otel_env[@]}"} ASPNETCORE_ENVIRONMENT=Production DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 \
      Logging__LogLevel__Default=Warning VoiceChat__AllowAnonymous=true \
      VoiceChat__Gemini__BaseUrl="http://127.0.0.1:$emulator_port" VoiceChat__Gemini__ApiKey=bench \
      VoiceChat__MaxConcurrentSessions=20000 VoiceChat__MaxPendingConnections=20000 VoiceChat__MaxSessionStartsPerMinute=1000000 \
      VoiceChat__MaxSessionStartsPerMinutePerAddress=1000000 \
        taskset -c 0 dotnet "$sample_dll" --urls "http://127.0.0.1:$relay_port" >"$log" 2>&1 &
      ;;
    node)
      (cd "$here/peers/node" && exec taskset -c 0 node relay.mjs --host 127.0.0.1 --port "$relay_port" \
        --gemini-base-url "http://127.0.0.1:$emulator_port") >"$log" 2>&1 &
      ;;
    python)
      taskset -c 0 /usr/bin/python3 "$here/peers/python/relay.py" --host 127.0.0.1 --port "$relay_port" \
        --gemini-base-url "http://127.0.0.1:$emulator_port" >"$log" 2>&1 &
      ;;
    *) echo "unknown relay $relay" >&2; exit 2 ;;
  esac
  relay_pid=$!
  pids+=("$relay_pid")
  wait_port "$relay_port" "$relay_pid" || { echo "$relay did not start" >&2; cat "$log" >&2; exit 1; }
}

# run_step TARGET N [FRAME_MS] [DIR] [TAG]: TARGET is "direct" or a relay name; the result is DIR/TARGET-N.json.
run_step() {
  local target=$1 n=$2 frames=${3:-$frame_ms} dir=${4:-$out/raw} tag=${5:-$1-$2}
  local result="$dir/$target-$n.json"
  local load=(--sessions "$n" --ramp "$ramp" --settle "$settle" --duration "$duration" --frame-ms "$frames" --label "$tag" --json "$result")
  start_emulator "$tag"
  if [ "$target" = direct ]; then
    env "${harness_env[@]}" taskset -c 1 dotnet "$loadgen_dll" --gemini --url "ws://127.0.0.1:$emulator_port" --pid "$emulator_pid" \
      "${load[@]}" >"$out/logs/$tag-loadgen.log" 2>"$out/logs/$tag-progress.log" || true
  else
    start_relay "$target" "$tag"
    sleep 1 # let the relay finish starting up (JIT, first allocations) before it is measured
    env "${harness_env[@]}" taskset -c 1 dotnet "$loadgen_dll" --url "ws://127.0.0.1:$relay_port/voice" --pid "$relay_pid" \
      "${load[@]}" >"$out/logs/$tag-loadgen.log" 2>"$out/logs/$tag-progress.log" || true
    stop_pid "$relay_pid"
    stop_sink
  fi
  stop_pid "$emulator_pid"
  sleep 1 # sockets of the previous run leave TIME_WAIT behind; give the kernel a moment
  [ -s "$result" ] || echo '{"passed": false, "missing": true}' >"$result"
}

# run_floor N: the C floor relay on core 0, its client and echo on core 1; the result is raw/floor/floor-N.json.
run_floor() {
  local n=$1 echo_port floor_port echo_pid floor_pid
  echo_port=$(free_port)
  taskset -c 1 "$floor_bin" echo --port "$echo_port" >"$out/logs/floor-echo-$n.log" 2>&1 &
  echo_pid=$!; pids+=("$echo_pid")
  floor_port=$(free_port)
  taskset -c 0 "$floor_bin" relay --port "$floor_port" --upstream-port "$echo_port" >"$out/logs/floor-$n.log" 2>&1 &
  floor_pid=$!; pids+=("$floor_pid")
  wait_port "$echo_port" "$echo_pid" && wait_port "$floor_port" "$floor_pid" || { echo "floor relay did not start" >&2; exit 1; }
  timeout $(( settle + duration + 60 )) taskset -c 1 "$floor_bin" client --port "$floor_port" --sessions "$n" --frame-ms "$frame_ms" \
    --frame-bytes $(( 32 * frame_ms )) --settle "$settle" --duration "$duration" --pid "$floor_pid" --json "$out/raw/floor/floor-$n.json" >/dev/null 2>>"$out/logs/floor-$n.log" || true
  stop_pid "$floor_pid"
  stop_pid "$echo_pid"
  sleep 1
  local result="$out/raw/floor/floor-$n.json"
  [ -s "$result" ] || echo '{"passed": false, "missing": true}' >"$result"
}

# floor_step N: measures the floor at N once, unless it is off or has stopped carrying.
floor_done=" "
floor_failed=
floor_step() {
  local n=$1 v
  [ "$floor" != no ] && [ -z "$floor_failed" ] || return 0
  case "$floor_done" in *" $n "*) return 0 ;; esac
  floor_done="$floor_done$n "
  run_floor "$n"
  v=$(/usr/bin/python3 "$here/report.py" floor-verdict "$out/raw/floor/floor-$n.json" "$added_limit_ms")
  echo "   floor: $(/usr/bin/python3 "$here/report.py" floor-line "$out/raw/floor/floor-$n.json") -> $v"
  [ "$v" = carried ] || floor_failed=$n
}

verdict() { # verdict RESULT DIRECT_RESULT → "carried" or a reason
  /usr/bin/python3 "$here/report.py" verdict "$1" "$2" "$added_limit_ms"
}

# ---------------------------------------------------------------- what resuming costs (--resume-only)
# run_resume_load TAG RESULT N FRAME_MS [LOADGEN OPTIONS...]: the VoiceChat relay with a fresh model side.
run_resume_load() {
  local tag=$1 result=$2 n=$3 frames=$4
  shift 4
  start_emulator "$tag"
  start_relay voicechat "$tag"
  sleep 1
  env "${harness_env[@]}" taskset -c 1 dotnet "$loadgen_dll" --url "ws://127.0.0.1:$relay_port/voice" --pid "$relay_pid" \
    --sessions "$n" --ramp "$ramp" --settle "$settle" --duration "$duration" --frame-ms "$frames" --label "$tag" --json "$result" "$@" \
    >"$out/logs/$tag-loadgen.log" 2>"$out/logs/$tag-progress.log" || true
  stop_pid "$relay_pid"
  stop_sink
  stop_pid "$emulator_pid"
  sleep 1
  [ -s "$result" ] || echo '{"passed": false, "missing": true}' >"$result"
}

if [ "$resume_only" = yes ]; then
  command_line="bench/run.sh --resume-only --memory $memory --resume $resume_load --resume-cuts $resume_cuts --ack-every $ack_every --repeat $repeat --duration $duration --settle $settle --ramp $ramp --model $model"
  mem_n=${memory%@*} mem_frame_ms=${memory#*@}
  res_n=${resume_load%@*} res_frame_ms=${resume_load#*@}
  rm -rf "$out/raw"
  started=$(date +%s)
  for r in $(seq 1 "$repeat"); do
    dir="$out/raw/run-$r"
    mkdir -p "$dir"
    # Alternate which goes first, so that a drift of the machine's speed does not favour one.
    order="plain counting"
    [ $(( r % 2 )) = 0 ] && order="counting plain"
    for mode in $order; do
      echo "== run $r: memory, $mem_n sessions of $mem_frame_ms ms frames, $mode ($(( $(date +%s) - started ))s)"
      counting=()
      [ "$mode" = counting ] && counting=(--counting --ack-every "$ack_every")
      run_resume_load "resume-$r-memory-$mode" "$dir/memory-$mode.json" "$mem_n" "$mem_frame_ms" "${counting[@]}"
      echo "   $(/usr/bin/python3 "$here/report.py" line "$dir/memory-$mode.json" "$dir/memory-$mode.json")"
    done
    echo "== run $r: resume, $res_n sessions of $res_frame_ms ms frames, $resume_cuts cuts each ($(( $(date +%s) - started ))s)"
    run_resume_load "resume-$r-cuts" "$dir/resume.json" "$res_n" "$res_frame_ms" --resume-cuts "$resume_cuts" --ack-every "$ack_every"
    echo "   $(/usr/bin/python3 "$here/report.py" resume-line "$dir/resume.json")"
  done
  /usr/bin/python3 "$here/report.py" resume-report "$out" "$command_line" "$model"
  echo "results: $out/results.md"
  exit 0
fi

# ---------------------------------------------------------------- the steps
declare -A failed_at=()
echo "steps: $steps; relays: $relays; ${settle}s settling then ${duration}s measured per step; ${frame_ms} ms frames; ramp ${ramp}/s"
started=$(date +%s)
for n in $steps; do
  alive=0
  for relay in $relays; do [ -z "${failed_at[$relay]:-}" ] && alive=1; done
  [ "$alive" = 1 ] || break

  echo "== $n sessions ($(( $(date +%s) - started ))s)"
  # The floor first, so that it and the relays at this step see the machine in the same state.
  floor_step "$n"
  run_step direct "$n"
  direct="$out/raw/direct-$n.json"
  echo "   direct: $(/usr/bin/python3 "$here/report.py" line "$direct" "$direct")"
  if [ "$(verdict "$direct" "$direct")" != carried ]; then
    echo "   the load generator and emulator alone cannot carry $n sessions on one core: stopping here"
    break
  fi
  for relay in $relays; do
    [ -z "${failed_at[$relay]:-}" ] || continue
    run_step "$relay" "$n"
    v=$(verdict "$out/raw/$relay-$n.json" "$direct")
    echo "   $relay: $(/usr/bin/python3 "$here/report.py" line "$out/raw/$relay-$n.json" "$direct") -> $v"
    [ "$v" = carried ] || failed_at[$relay]=$n
  done
done
echo "steps done in $(( $(date +%s) - started ))s"

# ---------------------------------------------------------------- the floor's steps beyond the relays'
for n in $steps; do floor_step "$n"; done

# ---------------------------------------------------------------- resident memory at a larger count
if [ -n "$memory" ]; then
  mem_n=${memory%@*} mem_frame_ms=${memory#*@}
  echo "== memory: $mem_n sessions of ${mem_frame_ms} ms frames ($(( $(date +%s) - started ))s)"
  for target in direct $relays; do
    run_step "$target" "$mem_n" "$mem_frame_ms" "$out/raw/memory" "memory-$target-$mem_n"
    echo "   $target: $(/usr/bin/python3 "$here/report.py" line "$out/raw/memory/$target-$mem_n.json" "$out/raw/memory/direct-$mem_n.json")"
  done
fi

# ---------------------------------------------------------------- report
/usr/bin/python3 "$here/report.py" report "$out" "$command_line" "$added_limit_ms" "$relays" "$memory" "$model"
echo "results: $out/results.md"
