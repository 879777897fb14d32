#!/usr/bin/env bash
# Side-by-side registry benchmark: Berth's Server (direct), Berth through its
# Gateway, and CNCF distribution (Debian's docker-registry), with the same
# load from regbench in one run. Prints regbench's table per scenario group
# and keeps the JSON lines in bench/out/results.jsonl.
#
# Those three run without authentication (as distribution does by default).
# A second Berth stack with tokens on (the shipped default) runs beside them,
# and manifest and blob scenarios are measured through both Gateways in one
# regbench call: regbench logs in at /v2/auth by itself and re-uses its token,
# so the difference is what token checks cost per request.
#
# Usage: bench/run.sh [quick]
#   REGBENCH_DIR  regbench source (default: ../shared/tools/regbench beside the repo)
#   DIST_SCRIPT   script that starts distribution (default: ../shared/tools/run-distribution.sh)
#   DURATION      seconds per timed scenario (default 10; "quick" uses 5)
#   ROUNDS        how many times to run the whole set (default 1); this machine is
#                 noisy, so compare medians of several rounds
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/bench/out"
regbench_dir=${REGBENCH_DIR:-$repo/../shared/tools/regbench}
dist_script=${DIST_SCRIPT:-$repo/../shared/tools/run-distribution.sh}
duration=${DURATION:-10}
rounds=${ROUNDS:-1}
[ "${1:-}" = quick ] && duration=5
dist_port=5003 server_port=5010 gateway_port=5011 auth_server_port=5012 auth_gateway_port=5013
admin_password=bench-admin-password
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/dist/registry.pid" ] && kill "$(cat "$work/dist/registry.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # url, seconds
  for _ in $(seq 1 $(($2 * 10))); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "error: $1 did not answer within $2 s" >&2; return 1
}

mkdir -p "$out"
command -v go >/dev/null || { echo "error: go not found (apt-get install golang-go)" >&2; exit 1; }
command -v docker-registry >/dev/null || { echo "error: docker-registry not found (apt-get install docker-registry)" >&2; exit 1; }
(cd "$regbench_dir" && GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local go build -o "$work/regbench" .)

echo "== publishing Berth (Release)" >&2
dotnet publish "$repo/src/Server/Server.csproj" -c Release -o "$work/server" --nologo -v quiet >&2
dotnet publish "$repo/src/Gateway/Gateway.csproj" -c Release -o "$work/gateway" --nologo -v quiet >&2

echo "== starting registries" >&2
LOG_LEVEL=error bash "$dist_script" "$dist_port" "$work/dist" >&2
# start_stack NAME SERVER_PORT GATEWAY_PORT [server options...]: a Berth Server with its
# data in $work/NAME-data and a Gateway in front of it sending whole blobs from that storage.
start_stack() {
  local name=$1 server=$2 gateway=$3; shift 3
  local data="$work/$name-data"
  (cd "$work/server" && exec env ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning \
    ./Berth.Server --urls "http://127.0.0.1:$server" --Registry:DataDirectory "$data" --Auth:DataDirectory "$data" \
    --Registry:BlobHandoff true "$@" >"$work/$name-server.log" 2>&1) &
  pids+=($!)
  wait_for "http://127.0.0.1:$server/health" 60
  (cd "$work/gateway" && exec env ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning \
    ./Berth.Gateway --urls "http://127.0.0.1:$gateway" \
    --ReverseProxy:Clusters:registry:Destinations:server:Address "http://127.0.0.1:$server" \
    --ReverseProxy:Clusters:auth:Destinations:server:Address "http://127.0.0.1:$server" \
    --Gateway:BlobHandoffRoot "$data/storage" >"$work/$name-gateway.log" 2>&1) &
  pids+=($!)
  wait_for "http://127.0.0.1:$gateway/health" 60
}
start_stack berth "$server_port" "$gateway_port" --Registry:Authentication none
start_stack berth-auth "$auth_server_port" "$auth_gateway_port" --Auth:InitialAdminPassword "$admin_password"

auth_targets="berth-gw=http://127.0.0.1:$gateway_port,berth-gw-auth=http://127.0.0.1:$auth_gateway_port"
# The open stack ignores the credentials; the secured one is challenged and logs in.
run_auth() { echo "== regbench (auth on/off) $*" >&2; "$work/regbench" -url "$auth_targets" -user admin -pass "$admin_password" -repo admin/bench -json "$@" >>"$results"; }

targets="dist=http://127.0.0.1:$dist_port,berth=http://127.0.0.1:$server_port,berth-gw=http://127.0.0.1:$gateway_port"
results="$out/results.jsonl"
: >"$results"
run() { echo "== regbench $*" >&2; "$work/regbench" -url "$targets" -json "$@" >>"$results"; }

# A short unrecorded pass first: .NET compiles hot paths again with
# optimizations after their first calls (tiered JIT), distribution is compiled
# ahead of time; measuring the first seconds would time the JIT.
echo "== warm-up (not recorded)" >&2
"$work/regbench" -url "$targets" -scenario push-blobs,pull-blobs,manifest-get,manifest-head -blobs 32 -blob-size 4MiB -duration 3s -c 8 -repo bench/warmup >/dev/null 2>&1 || true
"$work/regbench" -url "$auth_targets" -user admin -pass "$admin_password" -scenario push-blobs,pull-blobs,manifest-get,manifest-head -blobs 32 -blob-size 4MiB -duration 3s -c 8 -repo admin/warmup >/dev/null 2>&1 || true

# regbench exits 1 when any target had errors, distribution included (it answers
# some concurrent manifest reads with 500); Berth's own errors are judged below.
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds" >&2
  run -scenario push-blobs,pull-blobs -blobs 64 -blob-size 16MiB -c 8 || true
  run -scenario push-blobs -blobs 64 -blob-size 16MiB -chunk 4MiB -c 8 || true
  run -scenario push-blobs,pull-blobs -blobs 256 -blob-size 1MiB -c 8 || true
  run -scenario manifest-put -repo bench/put -duration "${duration}s" -c 8 || true
  run -scenario manifest-get -duration "${duration}s" -c 32 || true
  run -scenario manifest-head -duration "${duration}s" -c 32 || true
  run -scenario tags-list -repo bench/tags -tags 1000 -duration "${duration}s" -c 8 || true
  run -scenario tags-list -repo bench/tags -tags 1000 -page 0 -duration "${duration}s" -c 8 || true
  run -scenario catalog -repos 100 -page 100 -duration "${duration}s" -c 8 || true
  run -scenario mixed -blobs 16 -blob-size 1MiB -duration "${duration}s" -c 16 || true
  run_auth -scenario manifest-get -duration "${duration}s" -c 32 || true
  run_auth -scenario manifest-head -duration "${duration}s" -c 32 || true
  run_auth -scenario push-blobs,pull-blobs -blobs 64 -blob-size 16MiB -c 8 || true
done

echo
echo "| scenario | params | target | c | MB/s | ops/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
python3 - "$results" <<'PY'
import json, sys
berth_errors = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    if r["target"].startswith("berth"):
        berth_errors += r["errors"]
    mbps = f"{r['mbps']:.0f}" if r.get("mbps") else "–"
    print(f"| {r['scenario']} | {r.get('params','')} | {r['target']} | {r['concurrency']} | {mbps} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |")
print(f"\nBerth errors: {berth_errors}")
sys.exit(1 if berth_errors else 0)
PY
