#!/usr/bin/env bash
# Builds this service's container image with Cloud Build and deploys it to Cloud Run with the settings
# a WebSocket voice relay needs (docs/deployment.md explains each one). Then checks /health/ready, has
# voicechat-probe hold one voice turn with the new revision, and prints the wss:// URL for the app.
#
#   deploy/deploy.sh --project my-project --region europe-west1 --secret gemini-api-key --firebase-project my-project
#
# Two layers decide who may connect (docs/deployment.md): Cloud Run IAM (--private: only Google identities
# with run.invoker, for server-to-server callers) and the app's own authentication (Firebase ID tokens or
# another OpenID Connect issuer, for a mobile or web app, whose users have no Google Cloud identity: the
# service is public at the IAM layer and the app requires a signed-in user). A public service without app
# authentication is an open relay on your Google credentials: it needs --allow-anonymous, and is warned about.
#
# Every flag has an environment variable of the same meaning; deploy/deploy.env holds this app's defaults.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
app_dir="$(dirname "$script_dir")"

# App defaults: SERVICE_DEFAULT, BACKEND_DEFAULT, BUILD_CONTEXT (relative to the app folder), VOICE_PATH.
SERVICE_DEFAULT="voicechat"
BACKEND_DEFAULT="DeveloperApi"
BUILD_CONTEXT="."
VOICE_PATH="/voice"
if [ -f "$script_dir/deploy.env" ]; then
  # shellcheck source=/dev/null
  . "$script_dir/deploy.env"
fi

project="${GOOGLE_CLOUD_PROJECT:-}"
region="${REGION:-us-central1}"
service="${SERVICE:-$SERVICE_DEFAULT}"
backend="${BACKEND:-$BACKEND_DEFAULT}"
secret="${API_KEY_SECRET:-gemini-api-key}"
vertex_location="${VERTEX_LOCATION:-}"
service_account="${SERVICE_ACCOUNT:-}"
max_sessions="${MAX_SESSIONS:-80}"
min_instances="${MIN_INSTANCES:-0}"
max_instances="${MAX_INSTANCES:-10}"
cpu="${CPU:-1}"
memory="${MEMORY:-512Mi}"
repository="${REPOSITORY:-voicechat}"
voice_check="${VOICE_CHECK:-1}"
tag="${TAG:-}"
firebase_project="${FIREBASE_PROJECT:-}"
auth_authority="${AUTH_AUTHORITY:-}"
auth_audience="${AUTH_AUDIENCE:-}"
allow_anonymous="${ALLOW_ANONYMOUS:-0}"
build=1
public=1
dry_run=0

usage() {
  cat <<USAGE
Usage: deploy/deploy.sh [options]

  --project ID             Google Cloud project (env GOOGLE_CLOUD_PROJECT; default: gcloud's configured project)
  --region REGION          Cloud Run and Artifact Registry region (env REGION; default us-central1)
  --service NAME           Cloud Run service name (env SERVICE; default $SERVICE_DEFAULT)
  --backend NAME           DeveloperApi or VertexAI (env BACKEND; default $BACKEND_DEFAULT)
  --secret NAME            DeveloperApi: Secret Manager secret holding the Gemini API key (env API_KEY_SECRET; default gemini-api-key)
  --vertex-location LOC    VertexAI: model location (env VERTEX_LOCATION; default: the region)
  --service-account EMAIL  identity of the service (env SERVICE_ACCOUNT); needs secret access or Vertex AI User
  --max-sessions N         voice sessions per instance: Cloud Run concurrency and VoiceChat__MaxConcurrentSessions (env MAX_SESSIONS; default 80)
  --min-instances N        instances kept warm against cold starts (env MIN_INSTANCES; default 0)
  --max-instances N        upper bound on instances (env MAX_INSTANCES; default 10)
  --cpu N / --memory SIZE  per instance (env CPU, MEMORY; default 1 / 512Mi)
  --repository NAME        Artifact Registry Docker repository, created if missing (env REPOSITORY; default voicechat)
  --tag TAG                image tag (env TAG; default: the git commit, else a UTC timestamp)
  --no-voice-check         skip the voice turn with voicechat-probe after the health check (env VOICE_CHECK=0);
                           VOICE_PROBE_TOKEN: a token the app accepts, when its voice endpoint requires one
  --no-build               deploy the image at --tag without building it
  --firebase-project ID    the app's users sign in with Firebase: accept their ID tokens (env FIREBASE_PROJECT)
  --auth-authority URL     or accept JWTs of this OpenID Connect issuer (env AUTH_AUTHORITY) ...
  --auth-audience AUD      ... issued for this audience (env AUTH_AUDIENCE)
  --private                require Cloud Run IAM authentication (run.invoker) instead of public access
  --allow-anonymous        let clients connect without app authentication (env ALLOW_ANONYMOUS=1); public
                           and anonymous is an open relay on your Google credentials
  --dry-run                print the gcloud commands without running them
  -h, --help               this help
USAGE
}

die() { echo "error: $*" >&2; exit 1; }

need_value() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value (see --help)"; fi
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --project) need_value "$@"; project="$2"; shift 2 ;;
    --region) need_value "$@"; region="$2"; shift 2 ;;
    --service) need_value "$@"; service="$2"; shift 2 ;;
    --backend) need_value "$@"; backend="$2"; shift 2 ;;
    --secret) need_value "$@"; secret="$2"; shift 2 ;;
    --vertex-location) need_value "$@"; vertex_location="$2"; shift 2 ;;
    --service-account) need_value "$@"; service_account="$2"; shift 2 ;;
    --max-sessions) need_value "$@"; max_sessions="$2"; shift 2 ;;
    --min-instances) need_value "$@"; min_instances="$2"; shift 2 ;;
    --max-instances) need_value "$@"; max_instances="$2"; shift 2 ;;
    --cpu) need_value "$@"; cpu="$2"; shift 2 ;;
    --memory) need_value "$@"; memory="$2"; shift 2 ;;
    --repository) need_value "$@"; repository="$2"; shift 2 ;;
    --tag) need_value "$@"; tag="$2"; shift 2 ;;
    --no-voice-check) voice_check=0; shift ;;
    --no-build) build=0; shift ;;
    --firebase-project) need_value "$@"; firebase_project="$2"; shift 2 ;;
    --auth-authority) need_value "$@"; auth_authority="$2"; shift 2 ;;
    --auth-audience) need_value "$@"; auth_audience="$2"; shift 2 ;;
    --allow-anonymous) allow_anonymous=1; shift ;;
    --private) public=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

case "$backend" in
  DeveloperApi|VertexAI) ;;
  *) die "--backend must be DeveloperApi or VertexAI, not '$backend'" ;;
esac
for number in "$max_sessions" "$min_instances" "$max_instances"; do
  [[ "$number" =~ ^[0-9]+$ ]] || die "'$number' is not a whole number"
done
# Cloud Run allows at most 1000 concurrent requests per instance; every open WebSocket is one.
if [ "$max_sessions" -lt 1 ] || [ "$max_sessions" -gt 1000 ]; then
  die "--max-sessions must be between 1 and 1000"
fi

if [ -n "$firebase_project" ] && [ -n "$auth_authority" ]; then
  die "pass --firebase-project or --auth-authority, not both"
fi
if [ -n "$auth_authority" ] && [ -z "$auth_audience" ]; then
  die "--auth-authority needs --auth-audience"
fi
command -v gcloud >/dev/null 2>&1 \
  || die "gcloud (the Google Cloud CLI) is not installed or not on PATH. Install it (https://cloud.google.com/sdk/docs/install), then run: gcloud auth login"
account="$(gcloud auth list --filter=status:ACTIVE --format='value(account)' 2>/dev/null || true)"
[ -n "$account" ] || die "gcloud is not logged in (no active account). Run: gcloud auth login"
probe="${VOICE_PROBE:-voicechat-probe}"
if [ "$voice_check" = 1 ] && [ "$dry_run" -eq 0 ] && ! command -v "$probe" >/dev/null 2>&1; then
  die "$probe is not installed: dotnet tool install --global VoiceChat.Probe (or set VOICE_PROBE to its path), or pass --no-voice-check"
fi

if [ -z "$project" ]; then
  project="$(gcloud config get-value project 2>/dev/null || true)"
fi
if [ -z "$project" ] || [ "$project" = "(unset)" ]; then
  die "no Google Cloud project: pass --project or run: gcloud config set project PROJECT_ID"
fi

app_auth=0
if [ -n "$firebase_project" ] || [ -n "$auth_authority" ]; then
  app_auth=1
fi
if [ "$public" -eq 1 ] && [ "$app_auth" -eq 0 ] && [ "$allow_anonymous" != 1 ]; then
  die "a public service needs app authentication, or anyone can talk to Gemini on your credentials. Pass --firebase-project ID (Firebase ID tokens) or --auth-authority URL --auth-audience AUD (any OpenID Connect issuer); or --private to admit only callers with Cloud Run IAM access; or --allow-anonymous to deploy an open relay on purpose"
fi

if [ -z "$tag" ]; then
  tag="$(git -C "$app_dir" rev-parse --short=12 HEAD 2>/dev/null || date -u +%Y%m%d-%H%M%S)"
fi
image="$region-docker.pkg.dev/$project/$repository/$service:$tag"

run() {
  echo "+ $*"
  if [ "$dry_run" -eq 0 ]; then
    "$@"
  fi
}

echo "Deploying $service to Cloud Run in $project/$region as $account ($backend backend)"

if [ "$build" -eq 1 ]; then
  if ! gcloud artifacts repositories describe "$repository" --project="$project" --location="$region" >/dev/null 2>&1; then
    run gcloud artifacts repositories create "$repository" --project="$project" --location="$region" \
      --repository-format=docker --description="VoiceChat container images"
  fi
  run gcloud builds submit "$app_dir/$BUILD_CONTEXT" --project="$project" --region="$region" \
    --config="$app_dir/cloudbuild.yaml" --substitutions="_IMAGE=$image"
fi

env_vars="VoiceChat__MaxConcurrentSessions=$max_sessions"
deploy_args=(
  run deploy "$service"
  --project="$project"
  --region="$region"
  --image="$image"
  --port=8080
  --timeout=3600
  --concurrency="$max_sessions"
  --session-affinity
  --no-cpu-throttling
  --min-instances="$min_instances"
  --max-instances="$max_instances"
  --cpu="$cpu"
  --memory="$memory"
)
if [ "$backend" = "VertexAI" ]; then
  env_vars="$env_vars,VoiceChat__Gemini__Backend=VertexAI,VoiceChat__Gemini__Project=$project,VoiceChat__Gemini__Location=${vertex_location:-$region}"
else
  env_vars="$env_vars,VoiceChat__Gemini__Backend=DeveloperApi"
  deploy_args+=(--set-secrets="VoiceChat__Gemini__ApiKey=$secret:latest")
fi
if [ -n "$firebase_project" ]; then
  env_vars="$env_vars,VoiceChat__Authentication__FirebaseProjectId=$firebase_project"
elif [ -n "$auth_authority" ]; then
  env_vars="$env_vars,VoiceChat__Authentication__Authority=$auth_authority,VoiceChat__Authentication__Audience=$auth_audience"
elif [ "$allow_anonymous" = 1 ] || [ "$public" -eq 0 ]; then
  # Without app authentication the app starts only with anonymous access allowed; behind --private,
  # Cloud Run IAM has already checked the caller.
  env_vars="$env_vars,VoiceChat__AllowAnonymous=true"
fi
if [ "$public" -eq 1 ] && [ "$app_auth" -eq 0 ]; then
  echo "WARNING: $service will be public with no app authentication: anyone who finds its URL can use your Gemini credentials, and every user_id is unverified." >&2
fi
deploy_args+=(--set-env-vars="$env_vars")
if [ -n "$service_account" ]; then
  deploy_args+=(--service-account="$service_account")
fi
if [ "$public" -eq 1 ]; then
  deploy_args+=(--allow-unauthenticated)
else
  deploy_args+=(--no-allow-unauthenticated)
fi
run gcloud "${deploy_args[@]}"

if [ "$dry_run" -eq 1 ]; then
  exit 0
fi

url="$(gcloud run services describe "$service" --project="$project" --region="$region" --format='value(status.url)')"
[ -n "$url" ] || die "Cloud Run did not report a URL for $service"

curl_auth=()
if [ "$public" -eq 0 ]; then
  curl_auth=(-H "Authorization: Bearer $(gcloud auth print-identity-token)")
fi
echo "Checking $url/health/ready"
if ! curl -fsS --max-time 10 --retry 6 --retry-delay 5 --retry-all-errors "${curl_auth[@]}" "$url/health/ready" >/dev/null; then
  die "the service does not answer $url/health/ready; read its logs: gcloud run services logs read $service --project=$project --region=$region"
fi

case "$url" in
  http://*) voice_url="ws://${url#http://}$VOICE_PATH" ;;
  *) voice_url="wss://${url#https://}$VOICE_PATH" ;;
esac
# A health check passes on any HTTP server; only a voice turn shows that the revision serves the voice
# protocol and reaches the model. The probe reads its token from the environment, not the command line.
if [ "$voice_check" = 1 ]; then
  probe_token="${VOICE_PROBE_TOKEN:-}"
  probe_args=("$voice_url" --text "Say that the voice service is ready." --timeout "${VOICE_PROBE_TIMEOUT:-60}")
  if [ "$public" -eq 0 ]; then
    # Cloud Run's IAM reads X-Serverless-Authorization when Authorization carries the app's own token.
    if [ -n "$probe_token" ]; then
      probe_args+=(--header "X-Serverless-Authorization: Bearer $(gcloud auth print-identity-token)")
    else
      probe_token="$(gcloud auth print-identity-token)"
    fi
  fi
  echo "Checking a voice turn at $voice_url"
  probe_status=0
  VOICECHAT_PROBE_TOKEN="$probe_token" "$probe" "${probe_args[@]}" || probe_status=$?
  if [ "$probe_status" -eq 3 ]; then
    die "the voice endpoint refused the probe's credentials (above): set VOICE_PROBE_TOKEN to a token the app accepts, or pass --no-voice-check (docs/deployment.md, Troubleshooting)"
  elif [ "$probe_status" -ne 0 ]; then
    die "no voice turn completed at $voice_url (above: what failed); read the logs: gcloud run services logs read $service --project=$project --region=$region"
  fi
fi

echo "Ready. Voice endpoint for the app:"
echo "  $voice_url"
if [ -n "$firebase_project" ]; then
  echo "  with the user's Firebase ID token in the Authorization: Bearer header"
elif [ -n "$auth_authority" ]; then
  echo "  with the user's token from $auth_authority in the Authorization: Bearer header"
fi
