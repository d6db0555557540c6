#!/usr/bin/env bash
# Packaging suite: the NuGet packages, the `dotnet new voicechat-host` template, the Dockerfiles
# (their publish command run locally, their ENTRYPOINT started), the Cloud Run deploy script (with a
# stand-in gcloud) and the native AOT build. Loopback traffic only; every wait is bounded.
#   eng/suites/50-packaging.sh            everything
#   eng/suites/50-packaging.sh "deploy|aot"   only the tests whose name matches this regular expression
# Writes "PASSED FAILED" to $VOICECHAT_RESULTS/50-packaging.counts; exits non-zero if a test failed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/eng/suites/packaging"
suite="$(basename "${BASH_SOURCE[0]}" .sh)"
results="${VOICECHAT_RESULTS:-$(mktemp -d)}"
filter="${1:-}"
mkdir -p "$results"
work="$(mktemp -d -t voicechat-packaging.XXXXXX)"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The deploy script reads these; the tests set them where they mean to.
unset GOOGLE_CLOUD_PROJECT REGION SERVICE BACKEND API_KEY_SECRET VERTEX_LOCATION SERVICE_ACCOUNT MAX_SESSIONS \
  MIN_INSTANCES MAX_INSTANCES CPU MEMORY REPOSITORY TAG VOICE_CHECK VOICE_PROBE VOICE_PROBE_TOKEN VOICE_PROBE_TIMEOUT

passed=0
failed=0
app_pids=()

cleanup() {
  for pid in "${app_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

log() { echo "[$suite] $*"; }

# run_test NAME FUNCTION: runs one test, its output into a log that is shown when it fails.
run_test() {
  local name="$1" fn="$2" started
  if [ -n "$filter" ] && ! [[ "$name" =~ $filter ]]; then
    return 0
  fi
  started=$(date +%s)
  if "$fn" > "$work/$name.log" 2>&1; then
    passed=$((passed + 1))
    log "PASS $name ($(($(date +%s) - started)) s)"
  else
    failed=$((failed + 1))
    log "FAIL $name ($(($(date +%s) - started)) s)"
    tail -n 40 "$work/$name.log" | sed 's/^/    /'
  fi
}

expect() { # expect DESCRIPTION COMMAND...: fails the current test with a message unless COMMAND succeeds
  local what="$1"; shift
  if ! "$@"; then
    echo "expected: $what"
    return 1
  fi
}

refute() { # refute DESCRIPTION COMMAND...: fails the current test with a message if COMMAND succeeds
  local what="$1"; shift
  if "$@"; then
    echo "expected: $what"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Tools: shellcheck for the scripts, clang and lld for native AOT (the ILCompiler packages come from NuGet).
install_tools() {
  local missing=() pkg
  for pkg in shellcheck clang lld zlib1g-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -q >/dev/null 2>&1 || true
    apt-get install -y -q -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
  fi
  command -v node >/dev/null || { log "node is required (voice client)"; return 1; }
}

# ---------------------------------------------------------------------------------------------
# Dockerfile helpers: the test runs exactly what the Dockerfile says.

# The `RUN dotnet ...` lines of the build stage (one line each, as the Dockerfiles promise).
dockerfile_run_lines() { grep -E '^RUN dotnet ' "$1" | sed -E 's/^RUN //'; }

# The folder the final stage copies from the build stage (COPY --from=build /app ./).
dockerfile_publish_dir() { sed -nE 's#^COPY --from=build ([^ ]+) .*#\1#p' "$1" | head -n 1; }

# publish_like_dockerfile DOCKERFILE CONTEXT OUT: runs the Dockerfile's dotnet commands in CONTEXT
# (its WORKDIR in the image) with the publish folder mapped to OUT.
publish_like_dockerfile() {
  local dockerfile="$1" context="$2" out="$3" publish_dir line
  publish_dir="$(dockerfile_publish_dir "$dockerfile")"
  expect "a COPY --from=build of the published app in $dockerfile" test -n "$publish_dir" || return 1
  expect "a RUN dotnet publish in $dockerfile" grep -qE '^RUN dotnet publish .* -o '"$publish_dir"'( |$)' "$dockerfile" || return 1
  while IFS= read -r line; do
    line="${line// -o $publish_dir/ -o $out}"
    echo "+ (cd $context && $line)"
    # shellcheck disable=SC2086 # the Dockerfile's words, split as the shell in the image splits them
    (cd "$context" && timeout 300 $line -nologo) || return 1
  done < <(dockerfile_run_lines "$dockerfile")
}

# start_like_entrypoint DOCKERFILE APPDIR LOG: starts the app as the image's ENTRYPOINT does (in WORKDIR,
# with the Dockerfile's ENV, PORT=0 so the system picks a free port) and sets app_port. Variables in
# the array extra_env are added (credentials); without them the app has no Google credentials.
extra_env=()
start_like_entrypoint() {
  local dockerfile="$1" appdir="$2" logfile="$3" entry env_args=() kv pid
  entry="$(sed -nE 's/^ENTRYPOINT (\[.*\])$/\1/p' "$dockerfile")"
  expect "an exec-form ENTRYPOINT in $dockerfile" test -n "$entry" || return 1
  mapfile -t entry < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$entry")
  expect "ENTRYPOINT runs a dll that the publish produced (${entry[*]})" test -f "$appdir/${entry[1]:-missing}" || return 1
  while IFS= read -r kv; do env_args+=("$kv"); done < <(sed -nE 's/^ENV ([A-Za-z_][A-Za-z0-9_]*=[^ ]*)$/\1/p' "$dockerfile")
  # No Google credentials: the app must fall back to the emulator. PORT=0: a free port, as Cloud Run gives one.
  (cd "$appdir" && exec env -u VoiceChat__Gemini__ApiKey -u GOOGLE_CLOUD_PROJECT -u GOOGLE_APPLICATION_CREDENTIALS \
    -u ASPNETCORE_URLS -u ASPNETCORE_HTTP_PORTS "${env_args[@]}" "${extra_env[@]}" PORT=0 "${entry[@]}") > "$logfile" 2>&1 &
  pid=$!
  app_pids+=("$pid")
  last_app_pid="$pid"
  wait_for_listening "$pid" "$logfile"
}

# wait_for_listening PID LOG: reads the bound port from Kestrel's "Now listening on" line.
wait_for_listening() {
  local pid="$1" logfile="$2"
  app_port=""
  for _ in $(seq 1 120); do
    app_port="$(grep -oE 'Now listening on: https?://[^ ]+:[0-9]+' "$logfile" | head -n 1 | grep -oE '[0-9]+$')"
    [ -n "$app_port" ] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the app exited before listening:"; cat "$logfile"; return 1
    fi
    sleep 0.5
  done
  echo "the app did not report a listening address within 60 s:"; cat "$logfile"; return 1
}

stop_app() {
  local pid="$1"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
}

http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$1"; }

voice_turn() { node --experimental-websocket --no-warnings "$here/voice-turn.mjs" "$1" 60; }

# ---------------------------------------------------------------------------------------------
# Packages: every library under src/ and the template pack, with a version no cache has seen.
version="0.1.0-ci.$(date -u +%Y%m%d%H%M%S).$$"
feed="$root/artifacts/packages/ci"
libraries=()

validation_passed() { grep -A1 '"RunPackageValidation"' <<<"$1" | grep -q '"Result": "Success"'; }

test_pack() {
  local project result
  rm -rf "$feed" && mkdir -p "$feed"
  for project in "$root"/src/*/*.csproj; do
    echo "+ dotnet pack $project"
    # The JSON answer says whether the project is packable and whether package validation ran and passed.
    result="$(timeout 300 dotnet pack "$project" -c Release -o "$feed" -p:Version="$version" -nologo \
      -getProperty:IsPackable -getProperty:PackAsTool -getTargetResult:RunPackageValidation 2>&1)" || { echo "$result"; return 1; }
    echo "$result"
    grep -q '"IsPackable": "true"' <<<"$result" || continue
    # A .NET tool package (the emulator) has no library surface to validate.
    if grep -q '"PackAsTool": "true"' <<<"$result"; then
      expect "the tool package $(basename "$project" .csproj) was packed" test -f "$feed/$(basename "$project" .csproj).$version.nupkg" || return 1
      continue
    fi
    expect "package validation ran and passed for $project" validation_passed "$result" || return 1
    libraries+=("$(basename "$project" .csproj)")
  done
  echo "+ dotnet pack templates"
  timeout 300 dotnet pack "$root/templates/VoiceChat.Templates.csproj" -c Release -o "$feed" -p:Version="$version" -nologo -v q || return 1
  ls -l "$feed"
}

test_package_contents() {
  local id nupkg listing nuspec
  expect "libraries were packed" test "${#libraries[@]}" -ge 3 || return 1
  for id in "${libraries[@]}"; do
    nupkg="$feed/$id.$version.nupkg"
    expect "$nupkg" test -f "$nupkg" || return 1
    listing="$(unzip -Z1 "$nupkg")"
    nuspec="$(unzip -p "$nupkg" "$id.nuspec")"
    expect "$id packs its README" grep -qx 'README.md' <<<"$listing" || return 1
    expect "$id packs its XML documentation" grep -qE "^(lib|tools)/net10\.0/(any/)?$id\.xml$" <<<"$listing" || return 1
    expect "$id nuspec names the readme" grep -q '<readme>README.md</readme>' <<<"$nuspec" || return 1
    expect "$id nuspec has the MIT licence expression" grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || return 1
    expect "$id nuspec has the repository" grep -q '<repository type="git" url="https://github.com/voicechat-dotnet/voicechat"' <<<"$nuspec" || return 1
    expect "$id nuspec has a description" grep -qE '<description>.{20,}</description>' <<<"$nuspec" || return 1
    expect "$id nuspec has tags" grep -qE '<tags>.*gemini.*</tags>' <<<"$nuspec" || return 1
    expect "$id symbols package" test -f "$feed/$id.$version.snupkg" || return 1
    expect "$id symbols package holds the PDB" grep -qE "/$id\.pdb$" <<<"$(unzip -Z1 "$feed/$id.$version.snupkg")" || return 1
    expect "$id tracks its public API" test -f "$root/src/$id/PublicAPI.Shipped.txt" -a -f "$root/src/$id/PublicAPI.Unshipped.txt" || return 1
  done
  nupkg="$feed/VoiceChat.Templates.$version.nupkg"
  listing="$(unzip -Z1 "$nupkg")"
  expect "template package type" grep -q '<packageType name="Template"' <<<"$(unzip -p "$nupkg" VoiceChat.Templates.nuspec)" || return 1
  expect "template.json in the template pack" grep -qx 'content/VoiceChat.Host/.template.config/template.json' <<<"$listing" || return 1
  expect "template.json pinned to $version" grep -q "\"defaultValue\": \"$version\"" <<<"$(unzip -p "$nupkg" content/VoiceChat.Host/.template.config/template.json)" || return 1
  expect "the sample's deploy script in the template pack" cmp -s <(unzip -p "$nupkg" content/VoiceChat.Host/deploy/deploy.sh) "$root/samples/VoiceChat.Sample/deploy/deploy.sh" || return 1
  if [ -f "$root/samples/VoiceChat.Sample/wwwroot/index.html" ]; then
    expect "the sample's demo page in the template pack" cmp -s <(unzip -p "$nupkg" content/VoiceChat.Host/wwwroot/index.html) "$root/samples/VoiceChat.Sample/wwwroot/index.html" || return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Template: install into a throwaway hive, create every combination, check the files.
hive="$work/hive"
generated="$work/generated"

test_template_create() {
  local backend demo dir
  echo "+ dotnet new install VoiceChat.Templates.$version"
  timeout 120 dotnet new install "$feed/VoiceChat.Templates.$version.nupkg" --debug:custom-hive "$hive" || return 1
  for backend in DeveloperApi VertexAI; do
    for demo in true false; do
      dir="$generated/$backend-$demo/Acme.Voice"
      echo "+ dotnet new voicechat-host -n Acme.Voice --backend $backend --demo-page $demo"
      (cd "$work" && timeout 120 dotnet new voicechat-host -n Acme.Voice -o "$dir" --backend "$backend" --demo-page "$demo" \
        --no-restore --debug:custom-hive "$hive") || return 1
      check_generated "$dir" "$backend" "$demo" || return 1
    done
  done
}

# same_opentelemetry_versions CSPROJ: every OpenTelemetry package the generated project references has the
# version Directory.Packages.props gives it (the template's versions are literal; the sample's are central).
same_opentelemetry_versions() {
  local id version central found=0
  while read -r id version; do
    central="$(grep -oE "Include=\"$id\" Version=\"[^\"]+\"" "$root/Directory.Packages.props" | sed -E 's/.*Version="([^"]+)"/\1/')"
    [ "$version" = "$central" ] || { echo "$id $version in the template, ${central:-none} in Directory.Packages.props" >&2; return 1; }
    found=$((found + 1))
  done < <(grep -oE 'Include="OpenTelemetry[^"]*" Version="[^"]+"' "$1" | sed -E 's/Include="([^"]+)" Version="([^"]+)"/\1 \2/')
  [ "$found" -ge 3 ]
}

check_generated() {
  local dir="$1" backend="$2" demo="$3" f
  for f in Acme.Voice.csproj Program.cs appsettings.json Dockerfile .dockerignore cloudbuild.yaml README.md deploy/deploy.sh deploy/deploy.env; do
    expect "$dir/$f" test -f "$dir/$f" || return 1
  done
  expect "deploy.sh is executable" test -x "$dir/deploy/deploy.sh" || return 1
  expect "deploy.sh is the sample's" cmp -s "$dir/deploy/deploy.sh" "$root/samples/VoiceChat.Sample/deploy/deploy.sh" || return 1
  expect "packages pinned to $version" test "$(grep -c "Version=\"$version\"" "$dir/Acme.Voice.csproj")" -ge 2 || return 1
  expect "OpenTelemetry packages at the repository's versions" same_opentelemetry_versions "$dir/Acme.Voice.csproj" || return 1
  expect "ENTRYPOINT runs Acme.Voice.dll" grep -q '^ENTRYPOINT \["dotnet", "Acme.Voice.dll"\]' "$dir/Dockerfile" || return 1
  refute "no template tokens left" grep -rlE 'VOICECHAT_PKG_VERSION|__PACKAGE_VERSION__|VOICECHAT_BACKEND|voicechat-host-service|VoiceChat\.Host' "$dir" || return 1
  expect "service name from the project name" grep -qx 'SERVICE_DEFAULT="acme-voice"' "$dir/deploy/deploy.env" || return 1
  expect "deploy default backend $backend" grep -qx "BACKEND_DEFAULT=\"$backend\"" "$dir/deploy/deploy.env" || return 1
  expect "appsettings backend $backend" grep -q "\"Backend\": \"$backend\"" "$dir/appsettings.json" || return 1
  expect "MapVoiceChat and health endpoints" grep -q 'MapVoiceChat("/voice")' "$dir/Program.cs" || return 1
  if [ "$backend" = VertexAI ]; then
    refute "no API key setting for Vertex AI" grep -q ApiKey "$dir/appsettings.json" || return 1
    expect "README explains Vertex AI" grep -q 'roles/aiplatform.user' "$dir/README.md" || return 1
  else
    expect "README explains the API key secret" grep -q 'gcloud secrets create' "$dir/README.md" || return 1
  fi
  if [ "$demo" = true ]; then
    expect "demo page" test -f "$dir/wwwroot/index.html" || return 1
    expect "static files served" grep -q 'UseStaticFiles' "$dir/Program.cs" || return 1
  else
    expect "no demo page" test ! -e "$dir/wwwroot" || return 1
    refute "no static files" grep -q UseStaticFiles "$dir/Program.cs" || return 1
  fi
  refute "no conditional markers left" grep -rlE '^\s*(//|<!--)?#(if|else|endif)' "$dir" --include=*.cs --include=*.json --include=*.md || return 1
}

# write_feed_config FILE [NUGET_ORG_URL]: a nuget.config whose first source is this run's local feed.
write_feed_config() {
  {
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<configuration>'
    echo '  <packageSources>'
    echo '    <clear />'
    echo "    <add key=\"voicechat-ci\" value=\"$feed\" />"
    if [ -n "${2:-}" ]; then echo "    <add key=\"nuget.org\" value=\"$2\" />"; fi
    echo '  </packageSources>'
    echo '</configuration>'
  } > "$1"
}

# build_and_run_generated BACKEND DEMO: the Dockerfile's publish against the local feed, then the
# ENTRYPOINT: health endpoints, the demo page (or its absence) and one voice turn through the emulator.
build_and_run_generated() {
  local backend="$1" demo="$2" dir out status
  dir="$generated/$backend-$demo/Acme.Voice"
  out="$work/published-$backend-$demo"
  # The packages of this run come from the local feed; everything else from the configured sources.
  write_feed_config "$dir/nuget.config" https://api.nuget.org/v3/index.json
  publish_like_dockerfile "$dir/Dockerfile" "$dir" "$out" || return 1

  # In Production with no authentication configured and anonymous access not chosen, the service refuses to start.
  local refused="$work/app-$backend-$demo-refused.log"
  if start_like_entrypoint "$dir/Dockerfile" "$out" "$refused" >/dev/null; then
    stop_app "$last_app_pid"; echo "expected the service to refuse to start without authentication"; return 1
  fi
  expect "the refusal says what to set" grep -q 'VoiceChat:Authentication:FirebaseProjectId.*VoiceChat:AllowAnonymous' "$refused" || { cat "$refused"; return 1; }

  extra_env=(VoiceChat__AllowAnonymous=true)
  start_like_entrypoint "$dir/Dockerfile" "$out" "$work/app-$backend-$demo.log" || { extra_env=(); return 1; }
  extra_env=()
  echo "listening on port $app_port"
  expect "/health/live answers 200" test "$(http_status "http://127.0.0.1:$app_port/health/live")" = 200 || return 1
  expect "/health/ready answers 200" test "$(http_status "http://127.0.0.1:$app_port/health/ready")" = 200 || return 1
  status="$(http_status "http://127.0.0.1:$app_port/")"
  if [ "$demo" = true ]; then
    expect "demo page at / (got $status)" test "$status" = 200 || return 1
  else
    expect "no demo page at / (got $status)" test "$status" != 200 || return 1
  fi
  voice_turn "ws://127.0.0.1:$app_port/voice" || { cat "$work/app-$backend-$demo.log"; return 1; }
  stop_app "$last_app_pid"

  # With credentials the service must talk to Google (here a closed loopback port), never to the emulator.
  local with_credentials="$work/app-$backend-$demo-credentials.log"
  if [ "$backend" = DeveloperApi ]; then
    extra_env=(VoiceChat__Gemini__ApiKey=not-a-real-key VoiceChat__Gemini__BaseUrl=http://127.0.0.1:9 VoiceChat__AllowAnonymous=true)
  else
    extra_env=(GOOGLE_CLOUD_PROJECT=acme-voice VoiceChat__Gemini__BaseUrl=http://127.0.0.1:9 VoiceChat__AllowAnonymous=true)
  fi
  start_like_entrypoint "$dir/Dockerfile" "$out" "$with_credentials" || { extra_env=(); return 1; }
  extra_env=()
  refute "with credentials, no voice turn is answered by the emulator" voice_turn "ws://127.0.0.1:$app_port/voice" || return 1
  refute "with credentials, no emulator fallback is logged" grep -q 'built-in Gemini Live emulator' "$with_credentials" || return 1
  stop_app "$last_app_pid"
}

test_template_developerapi_demo() { build_and_run_generated DeveloperApi true; }
test_template_vertexai_nodemo() { build_and_run_generated VertexAI false; }

# ---------------------------------------------------------------------------------------------
# The sample: its Dockerfile's publish from the repository root, then its ENTRYPOINT.
test_sample_dockerfile() {
  local dockerfile="$root/samples/VoiceChat.Sample/Dockerfile" out="$work/published-sample" logfile="$work/app-sample.log"
  expect "the Dockerfile builds from the repository root" grep -q '^RUN dotnet publish samples/VoiceChat.Sample/VoiceChat.Sample.csproj ' "$dockerfile" || return 1
  expect "a non-root user" grep -qxF "USER \$APP_UID" "$dockerfile" || return 1
  expect "one port" test "$(grep -c '^EXPOSE ' "$dockerfile")" = 1 || return 1
  publish_like_dockerfile "$dockerfile" "$root" "$out" || return 1
  start_like_entrypoint "$dockerfile" "$out" "$logfile" || return 1
  echo "listening on port $app_port"
  expect "/health/live answers 200" test "$(http_status "http://127.0.0.1:$app_port/health/live")" = 200 || return 1
  expect "/health/ready answers 200" test "$(http_status "http://127.0.0.1:$app_port/health/ready")" = 200 || return 1
  expect "/health/ answers 200" test "$(http_status "http://127.0.0.1:$app_port/health/")" = 200 || return 1
  voice_turn "ws://127.0.0.1:$app_port/voice" || { cat "$logfile"; return 1; }
  voice_turn "ws://127.0.0.1:$app_port/" || { cat "$logfile"; return 1; }
  stop_app "$last_app_pid"
}

# ---------------------------------------------------------------------------------------------
# Deploy script: shellcheck, then runs against a recording gcloud, curl and voicechat-probe.
deploy_script="$root/samples/VoiceChat.Sample/deploy/deploy.sh"

test_deploy_shellcheck() {
  shellcheck "$deploy_script" "$root/eng/update-public-api.sh" "${BASH_SOURCE[0]}" "$here/gcloud-stub" "$here/curl-stub" "$here/probe-stub"
}

# stub_path: a PATH whose gcloud, curl and voicechat-probe are the recording stand-ins.
stub_path() {
  local bin="$work/stub-bin"
  mkdir -p "$bin"
  ln -sf "$here/gcloud-stub" "$bin/gcloud"
  ln -sf "$here/curl-stub" "$bin/curl"
  ln -sf "$here/probe-stub" "$bin/voicechat-probe"
  echo "$bin:$PATH"
}

# calls COMMAND: the recorded calls whose first words are COMMAND (tab-separated arguments).
calls() {
  awk -F'\t' -v command="$1" '{ n = split(command, word, " "); for (i = 1; i <= n; i++) if ($i != word[i]) next; print }' "$STUB_LOG"
}
# has_arg ARG CALLS: one of the calls has exactly this argument.
has_arg() { awk -F'\t' -v arg="$1" '{ for (i = 1; i <= NF; i++) if ($i == arg) found = 1 } END { exit !found }' <<<"$2"; }

test_deploy_developer_api() {
  local out deploy
  export STUB_LOG="$work/deploy-developer.calls"; : > "$STUB_LOG"
  out="$(PATH="$(stub_path)" STUB_PROJECT=my-project "$deploy_script" --region europe-west1 --secret gemini-key \
    --service-account relay@my-project.iam.gserviceaccount.com --max-sessions 50 --min-instances 1 --tag v1 --firebase-project my-firebase 2>&1)" || { echo "$out"; return 1; }
  echo "$out"; cat "$STUB_LOG"
  expect "login checked" test -n "$(calls 'gcloud auth list')" || return 1
  expect "repository created when missing" has_arg "--repository-format=docker" "$(calls 'gcloud artifacts repositories create')" || return 1
  local build; build="$(calls 'gcloud builds submit')"
  expect "Cloud Build of the repository root" has_arg "$root/samples/VoiceChat.Sample/../.." "$build" || return 1
  expect "with the sample's cloudbuild.yaml" has_arg "--config=$root/samples/VoiceChat.Sample/cloudbuild.yaml" "$build" || return 1
  expect "image name" has_arg "--substitutions=_IMAGE=europe-west1-docker.pkg.dev/my-project/voicechat/voicechat-sample:v1" "$build" || return 1
  deploy="$(calls 'gcloud run deploy voicechat-sample')"
  local arg
  for arg in --project=my-project --region=europe-west1 --image=europe-west1-docker.pkg.dev/my-project/voicechat/voicechat-sample:v1 \
    --port=8080 --timeout=3600 --concurrency=50 --session-affinity --no-cpu-throttling --min-instances=1 \
    --service-account=relay@my-project.iam.gserviceaccount.com --set-secrets=VoiceChat__Gemini__ApiKey=gemini-key:latest \
    --set-env-vars=VoiceChat__MaxConcurrentSessions=50,VoiceChat__Gemini__Backend=DeveloperApi,VoiceChat__Authentication__FirebaseProjectId=my-firebase \
    --allow-unauthenticated; do
    expect "gcloud run deploy $arg" has_arg "$arg" "$deploy" || return 1
  done
  refute "no end-to-end HTTP/2 (it breaks WebSockets)" grep -q -- --use-http2 <<<"$deploy" || return 1
  expect "health checked at /health/ready" has_arg "https://voicechat-sample-abc123-uc.a.run.app/health/ready" "$(calls curl)" || return 1
  expect "the wss URL printed" grep -q 'wss://voicechat-sample-abc123-uc.a.run.app/voice' <<<"$out" || return 1
  local probe; probe="$(calls voicechat-probe)"
  expect "a voice turn at the wss URL" has_arg "wss://voicechat-sample-abc123-uc.a.run.app/voice" "$probe" || return 1
  expect "the probe has no token of a public service" has_arg "token=" "$probe" || return 1
  expect "the probe's report printed" grep -q 'OK: a full voice turn completed' <<<"$out" || return 1
  expect "with the Firebase ID token" grep -q 'Firebase ID token in the Authorization: Bearer header' <<<"$out" || return 1
  refute "no open-relay warning" grep -q WARNING <<<"$out" || return 1
}

test_deploy_public_needs_app_authentication() {
  local out deploy
  export STUB_LOG="$work/deploy-anonymous.calls"; : > "$STUB_LOG"
  if out="$(PATH="$(stub_path)" "$deploy_script" --project p --tag v5 2>&1)"; then echo "$out"; echo "expected a failure"; return 1; fi
  echo "$out"
  expect "says what to pass" grep -q -- '--firebase-project ID.*--private.*--allow-anonymous' <<<"$out" || return 1
  expect "nothing built or deployed" test -z "$(calls 'gcloud builds')$(calls 'gcloud run')" || return 1
  out="$(PATH="$(stub_path)" "$deploy_script" --project p --tag v5 --allow-anonymous 2>&1)" || { echo "$out"; return 1; }
  echo "$out"
  expect "an open relay is warned about" grep -q 'WARNING: voicechat-sample will be public with no app authentication' <<<"$out" || return 1
  deploy="$(calls 'gcloud run deploy voicechat-sample')"
  expect "anonymous access set for the app" grep -q 'VoiceChat__AllowAnonymous=true' <<<"$deploy" || return 1
  expect "public at the IAM layer" has_arg "--allow-unauthenticated" "$deploy" || return 1
  out="$(PATH="$(stub_path)" "$deploy_script" --project p --tag v5 --auth-authority https://login.example.com/ --auth-audience voice-api 2>&1)" || { echo "$out"; return 1; }
  expect "any OpenID Connect issuer" grep -q 'VoiceChat__Authentication__Authority=https://login.example.com/,VoiceChat__Authentication__Audience=voice-api' <<<"$(calls 'gcloud run deploy voicechat-sample')" || return 1
}

test_deploy_vertex_ai() {
  local out deploy
  export STUB_LOG="$work/deploy-vertex.calls"; : > "$STUB_LOG"
  out="$(PATH="$(stub_path)" STUB_REPOSITORY_EXISTS=1 GOOGLE_CLOUD_PROJECT=vx-project "$deploy_script" --backend VertexAI \
    --region us-east4 --vertex-location us-central1 --private --tag v2 2>&1)" || { echo "$out"; return 1; }
  echo "$out"; cat "$STUB_LOG"
  deploy="$(calls 'gcloud run deploy voicechat-sample')"
  expect "no repository created when it exists" test -z "$(calls 'gcloud artifacts repositories create')" || return 1
  expect "Vertex settings; behind IAM the app admits the callers IAM let in" has_arg "--set-env-vars=VoiceChat__MaxConcurrentSessions=80,VoiceChat__Gemini__Backend=VertexAI,VoiceChat__Gemini__Project=vx-project,VoiceChat__Gemini__Location=us-central1,VoiceChat__AllowAnonymous=true" "$deploy" || return 1
  refute "no open-relay warning" grep -q WARNING <<<"$out" || return 1
  refute "no API key secret" grep -q -- --set-secrets <<<"$deploy" || return 1
  expect "private service" has_arg "--no-allow-unauthenticated" "$deploy" || return 1
  expect "health check with an identity token" has_arg "Authorization: Bearer stub-identity-token" "$(calls curl)" || return 1
  expect "voice check with the identity token, in the environment" has_arg "token=stub-identity-token" "$(calls voicechat-probe)" || return 1
  # With the app's own token, that token is the bearer and Cloud Run's IAM gets the identity token apart.
  : > "$STUB_LOG"
  out="$(PATH="$(stub_path)" STUB_REPOSITORY_EXISTS=1 VOICE_PROBE_TOKEN=app-token "$deploy_script" --project vx-project --private --no-build --tag v2 2>&1)" || { echo "$out"; return 1; }
  expect "the app's token for the probe" has_arg "token=app-token" "$(calls voicechat-probe)" || return 1
  expect "the identity token for Cloud Run" has_arg "X-Serverless-Authorization: Bearer stub-identity-token" "$(calls voicechat-probe)" || return 1
}

test_template_gcloud_calls() {
  local dir="$generated/VertexAI-false/Acme.Voice" out
  export STUB_LOG="$work/deploy-generated.calls"; : > "$STUB_LOG"
  out="$(PATH="$(stub_path)" STUB_PROJECT=acme "$dir/deploy/deploy.sh" --tag v3 --firebase-project acme 2>&1)" || { echo "$out"; return 1; }
  echo "$out"; cat "$STUB_LOG"
  expect "Cloud Build of the project folder" has_arg "$dir/." "$(calls 'gcloud builds submit')" || return 1
  expect "its own cloudbuild.yaml" has_arg "--config=$dir/cloudbuild.yaml" "$(calls 'gcloud builds submit')" || return 1
  expect "service named after the project, Vertex AI by default" grep -q 'VoiceChat__Gemini__Backend=VertexAI' <<<"$(calls 'gcloud run deploy acme-voice')" || return 1
}

test_deploy_without_gcloud() {
  local bin="$work/no-gcloud-bin" tool out
  mkdir -p "$bin"
  for tool in dirname date git cat; do ln -sf "$(command -v "$tool")" "$bin/$tool"; done
  if out="$(PATH="$bin" "$(command -v bash)" "$deploy_script" --project p 2>&1)"; then
    echo "$out"; echo "expected a failure"; return 1
  fi
  echo "$out"
  expect "a clear message" grep -q 'gcloud (the Google Cloud CLI) is not installed' <<<"$out"
}

# deploy_fails CALLS [VAR=VALUE...] -- ARGS...: runs the deploy script with the stand-ins, the calls recorded
# in $work/CALLS.calls, and the given environment; sets out, and fails unless the script failed.
deploy_fails() {
  local env_args=()
  export STUB_LOG="$work/$1.calls"; : > "$STUB_LOG"
  shift
  while [ "$1" != -- ]; do env_args+=("$1"); shift; done
  shift
  if out="$(env PATH="$(stub_path)" "${env_args[@]}" "$deploy_script" "$@" 2>&1)"; then
    echo "$out"; echo "expected a failure"; return 1
  fi
  echo "$out"
}

test_deploy_not_logged_in() {
  local out
  deploy_fails deploy-logged-out STUB_LOGGED_IN=0 -- --project p || return 1
  expect "a clear message" grep -q 'gcloud is not logged in' <<<"$out" || return 1
  expect "nothing built or deployed" test -z "$(calls 'gcloud builds')$(calls 'gcloud run')" || return 1
}

test_deploy_unhealthy() {
  local out
  deploy_fails deploy-unhealthy STUB_CURL_FAILS=1 -- --project p --tag v4 --firebase-project p || return 1
  expect "names the failing health endpoint" grep -q 'does not answer https://.*/health/ready' <<<"$out"
}

test_deploy_without_probe() {
  local out
  deploy_fails deploy-no-probe VOICE_PROBE="$work/no-such-probe" -- --project p --tag v5 --firebase-project p || return 1
  expect "how to install the probe" grep -q 'dotnet tool install --global VoiceChat.Probe' <<<"$out" || return 1
  expect "nothing built or deployed" test -z "$(calls 'gcloud builds')$(calls 'gcloud run')" || return 1
  out="$(PATH="$(stub_path)" VOICE_PROBE="$work/no-such-probe" "$deploy_script" --project p --tag v5 --firebase-project p --no-voice-check 2>&1)" || { echo "$out"; return 1; }
  expect "--no-voice-check deploys without the probe" test -n "$(calls 'gcloud run deploy')" || return 1
}

test_deploy_probe_refused() {
  local out
  deploy_fails deploy-probe-refused STUB_PROBE_EXIT=3 -- --project p --tag v6 --firebase-project p || return 1
  expect "names the token variable" grep -q 'set VOICE_PROBE_TOKEN' <<<"$out" || return 1
  refute "no address for the app" grep -q 'Ready. Voice endpoint' <<<"$out" || return 1
}

# The real probe, installed from the packed tool, run by the deploy script against the published sample
# (which serves the protocol) and against an HTTP-only server (which answers 200 and nothing else).
test_deploy_voice_check() {
  local tools="$work/probe-tool" config="$work/probe-nuget.config" out
  expect "the sample was published (sample-dockerfile runs first)" test -f "$work/published-sample/VoiceChat.Sample.dll" || return 1
  write_feed_config "$config"
  echo "+ dotnet tool install VoiceChat.Probe $version"
  timeout 120 dotnet tool install VoiceChat.Probe --tool-path "$tools" --version "$version" --configfile "$config" || return 1
  export STUB_LOG="$work/deploy-voice-check.calls"; : > "$STUB_LOG"

  start_like_entrypoint "$root/samples/VoiceChat.Sample/Dockerfile" "$work/published-sample" "$work/app-voice-check.log" || return 1
  out="$(PATH="$(stub_path)" VOICE_PROBE="$tools/voicechat-probe" STUB_SERVICE_URL="http://127.0.0.1:$app_port" \
    "$deploy_script" --project p --no-build --tag v7 --allow-anonymous 2>&1)" || { echo "$out"; cat "$work/app-voice-check.log"; return 1; }
  echo "$out"
  expect "a voice turn completed with the sample" grep -q 'OK: a full voice turn completed' <<<"$out" || return 1
  expect "the address for the app" grep -q "Ready. Voice endpoint for the app" <<<"$out" || return 1
  stop_app "$last_app_pid"

  node -e 'const http = require("http");
    const server = http.createServer((request, response) => response.end("OK"));
    server.on("upgrade", (request, socket) => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"));
    server.listen(0, "127.0.0.1", () => console.log("Now listening on: http://127.0.0.1:" + server.address().port));' \
    > "$work/http-only.log" 2>&1 &
  last_app_pid=$!
  app_pids+=("$last_app_pid")
  wait_for_listening "$last_app_pid" "$work/http-only.log" || return 1
  deploy_fails deploy-http-only VOICE_PROBE="$tools/voicechat-probe" STUB_SERVICE_URL="http://127.0.0.1:$app_port" -- \
    --project p --no-build --tag v7 --allow-anonymous || return 1
  expect "the probe says what the server is" grep -q 'answered HTTP 200 without a WebSocket upgrade: this is not the VoiceChat endpoint' <<<"$out" || return 1
  expect "the deploy names the failed voice check" grep -q 'no voice turn completed' <<<"$out" || return 1
  stop_app "$last_app_pid"
}

test_deploy_rejects_bad_input() {
  local out
  export STUB_LOG="$work/deploy-bad.calls"; : > "$STUB_LOG"
  if out="$(PATH="$(stub_path)" "$deploy_script" --project p --max-sessions 5000 2>&1)"; then echo "$out"; return 1; fi
  expect "concurrency bound" grep -q 'between 1 and 1000' <<<"$out" || return 1
  if out="$(PATH="$(stub_path)" "$deploy_script" --project p --backend Other 2>&1)"; then echo "$out"; return 1; fi
  expect "backend choice" grep -q 'DeveloperApi or VertexAI' <<<"$out" || return 1
  expect "nothing run" test -z "$(calls gcloud)" || return 1
}

# ---------------------------------------------------------------------------------------------
# Native AOT: publish the smoke host (warnings are errors), run the binary, ask /health/live.
# start_native DIR EXE LOG: runs a native binary on a free loopback port with no Google credentials;
# sets app_port and last_app_pid.
start_native() {
  local dir="$1" exe="$2" logfile="$3"
  (cd "$dir" && exec env -u VoiceChat__Gemini__ApiKey -u GOOGLE_CLOUD_PROJECT -u PORT "./$exe" --urls http://127.0.0.1:0) > "$logfile" 2>&1 &
  last_app_pid=$!
  app_pids+=("$last_app_pid")
  wait_for_listening "$last_app_pid" "$logfile"
}

# our_il_warnings LOG: IL warnings that name a VoiceChat assembly or type (the "[project path]" suffix of
# every MSBuild line is left out: it names the sample's project for third-party warnings too).
our_il_warnings() { sed -E 's/ \[[^]]*\]$//' "$1" | grep -E 'warning IL[0-9]+.*VoiceChat\.'; }

# The sample server itself as native AOT (PublishAot=true on the command line): it publishes with no
# trimming or AOT warning that names our assemblies, starts, and completes a voice turn.
test_native_aot_sample() {
  local out="$work/aot-sample" logfile="$work/app-aot-sample.log" publish_log="$work/publish-aot-sample.log"
  timeout 540 dotnet publish "$root/samples/VoiceChat.Sample/VoiceChat.Sample.csproj" -c Release -r linux-x64 \
    -p:PublishAot=true -o "$out" -nologo > "$publish_log" 2>&1 || { tail -n 40 "$publish_log"; return 1; }
  refute "no trimming or AOT warning from our assemblies" our_il_warnings "$publish_log" || { grep -E 'warning IL' "$publish_log" | head -n 20; return 1; }
  expect "a native executable" test -x "$out/VoiceChat.Sample" || return 1
  start_native "$out" VoiceChat.Sample "$logfile" || return 1
  expect "/health/ready answers 200" test "$(http_status "http://127.0.0.1:$app_port/health/ready")" = 200 || return 1
  expect "the demo page at /" test "$(http_status "http://127.0.0.1:$app_port/")" = 200 || return 1
  voice_turn "ws://127.0.0.1:$app_port/voice" || { cat "$logfile"; return 1; }
  stop_app "$last_app_pid"
}

test_native_aot() {
  local out="$work/aot" logfile="$work/app-aot.log"
  timeout 540 dotnet publish "$root/tests/VoiceChat.AotSmoke/VoiceChat.AotSmoke.csproj" -c Release -r linux-x64 -o "$out" -nologo || return 1
  expect "a native executable" test -x "$out/VoiceChat.AotSmoke" || return 1
  expect "no IL in the output" test ! -e "$out/VoiceChat.Core.dll" || return 1
  start_native "$out" VoiceChat.AotSmoke "$logfile" || return 1
  expect "/health/live answers 200" test "$(http_status "http://127.0.0.1:$app_port/health/live")" = 200 || return 1
  voice_turn "ws://127.0.0.1:$app_port/voice" || { cat "$logfile"; return 1; }
  stop_app "$last_app_pid"
}

# ---------------------------------------------------------------------------------------------
started=$(date +%s)
if install_tools; then
  run_test deploy-shellcheck test_deploy_shellcheck
  run_test deploy-developer-api test_deploy_developer_api
  run_test deploy-vertex-ai test_deploy_vertex_ai
  run_test deploy-public-needs-app-authentication test_deploy_public_needs_app_authentication
  run_test deploy-without-gcloud test_deploy_without_gcloud
  run_test deploy-not-logged-in test_deploy_not_logged_in
  run_test deploy-unhealthy test_deploy_unhealthy
  run_test deploy-without-probe test_deploy_without_probe
  run_test deploy-probe-refused test_deploy_probe_refused
  run_test deploy-rejects-bad-input test_deploy_rejects_bad_input
  run_test pack test_pack
  run_test package-contents test_package_contents
  run_test template-create test_template_create
  run_test template-gcloud-calls test_template_gcloud_calls
  run_test template-developerapi-demo test_template_developerapi_demo
  run_test template-vertexai-nodemo test_template_vertexai_nodemo
  run_test sample-dockerfile test_sample_dockerfile
  run_test deploy-voice-check test_deploy_voice_check
  run_test native-aot test_native_aot
  run_test native-aot-sample test_native_aot_sample
else
  failed=$((failed + 1))
  log "FAIL install-tools"
fi

echo "$passed $failed" > "$results/$suite.counts"
log "$passed passed, $failed failed in $(($(date +%s) - started)) s"
[ "$failed" -eq 0 ]
