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

dist_script=${DIST_SCRIPT:-$(cd "$(dirname "$0")/.." && pwd)/../shared/tools/run-distribution.sh}
source "$(dirname "$0")/common.sh"
[ "${1:-}" = quick ] && duration=5
dist_port=5003 server_port=5010 gateway_port=5011 auth_server_port=5012 auth_gateway_port=5013
command -v docker-registry >/dev/null || { echo "error: docker-registry not found (apt-get install docker-registry)" >&2; exit 1; }
build_regbench_and_berth

echo "== starting registries" >&2
LOG_LEVEL=error bash "$dist_script" "$dist_port" "$work/dist" >&2
cleanup_hooks+=('[ -f "$work/dist/registry.pid" ] && kill "$(cat "$work/dist/registry.pid")" 2>/dev/null')
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

print_results "$results"
