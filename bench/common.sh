# Shared by the bench scripts: the work directory and its cleanup, waiting for
# a URL, regbench, the Release build of Berth, and starting Server + Gateway.
# Sourced, not run; the sourcing script sets `set -euo pipefail`.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$repo/bench/out"
regbench_dir=${REGBENCH_DIR:-$repo/../shared/tools/regbench}
duration=${DURATION:-10}
rounds=${ROUNDS:-1}
admin_password=bench-admin-password
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
pids=()
cleanup_hooks=()

cleanup() {
  for hook in "${cleanup_hooks[@]}"; do eval "$hook" || true; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # url, seconds
  for _ in $(seq 1 $(($2 * 10))); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "error: $1 did not answer within $2 s" >&2; return 1
}

build_regbench_and_berth() {
  mkdir -p "$out"
  command -v go >/dev/null || { echo "error: go not found (apt-get install golang-go)" >&2; exit 1; }
  (cd "$regbench_dir" && GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local go build -o "$work/regbench" .)
  # ReadyToRun: code compiled ahead of time, as a deployment would ship it, so the
  # figures measure serving rather than the JIT warming up (on two cores every
  # extra process of the distributed topology would otherwise JIT the same code again).
  echo "== publishing Berth (Release, ReadyToRun)" >&2
  local rid=linux-$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')
  dotnet publish "$repo/src/Server/Server.csproj" -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o "$work/server" --nologo -v quiet >&2
  dotnet publish "$repo/src/Gateway/Gateway.csproj" -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o "$work/gateway" --nologo -v quiet >&2
}

# start_server NAME PORT [options...]: a Berth Server (Release) logging to $work/NAME-server.log.
start_server() {
  local name=$1 port=$2; shift 2
  (cd "$work/server" && exec env ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning \
    ./Berth.Server --urls "http://127.0.0.1:$port" "$@" >"$work/$name-server.log" 2>&1) &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/health" 60
}

# start_gateway NAME PORT [options...]: a Berth Gateway (Release) logging to $work/NAME-gateway.log.
start_gateway() {
  local name=$1 port=$2; shift 2
  (cd "$work/gateway" && exec env ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning \
    ./Berth.Gateway --urls "http://127.0.0.1:$port" "$@" >"$work/$name-gateway.log" 2>&1) &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/health" 60
}

# start_stack NAME SERVER_PORT GATEWAY_PORT [server options...]: a Berth Server with its
# data in $work/NAME-data and a Gateway in front of it sending whole blobs from that storage.
start_stack() {
  local name=$1 server=$2 gateway=$3; shift 3
  local data="$work/$name-data"
  start_server "$name" "$server" --Registry:DataDirectory "$data" --Auth:DataDirectory "$data" --AuditLog:DataDirectory "$data" \
    --Collector:DataDirectory "$data" --Registry:BlobHandoff true "$@"
  start_gateway "$name" "$gateway" \
    --ReverseProxy:Clusters:registry:Destinations:server:Address "http://127.0.0.1:$server" \
    --ReverseProxy:Clusters:auth:Destinations:server:Address "http://127.0.0.1:$server" \
    --ReverseProxy:Clusters:auditlog:Destinations:server:Address "http://127.0.0.1:$server" \
    --Gateway:BlobHandoffRoot "$data/storage"
}

# CPU seconds (user and system) the given processes and all their descendants have used,
# including descendants that have exited since (PostgreSQL's backends come and go with the
# connection pools): the kernel adds a reaped child's time to its parent's.
cpu_seconds() {
  python3 - "$@" <<'PY'
import os, sys
parent, used = {}, {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    parent[int(pid)], used[int(pid)] = int(fields[1]), sum(int(f) for f in fields[11:15])
roots = {int(p) for p in sys.argv[1:]}
def belongs(pid):
    while pid > 1:
        if pid in roots:
            return True
        pid = parent.get(pid, 0)
    return False
print(sum(ticks for pid, ticks in used.items() if belongs(pid)) / os.sysconf("SC_CLK_TCK"))
PY
}

# print_results FILE: the regbench JSON lines as a table; exits 1 if a Berth target had errors.
print_results() {
  echo
  echo "| scenario | params | target | c | MB/s | ops/s | p50 ms | p99 ms | errors |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
  python3 - "$1" <<'PY'
import json, sys
berth_errors = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    if r["target"] != "dist":
        berth_errors += r["errors"]
    mbps = f"{r['mbps']:.0f}" if r.get("mbps") else "–"
    print(f"| {r['scenario']} | {r.get('params','')} | {r['target']} | {r['concurrency']} | {mbps} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |")
print(f"\nBerth errors: {berth_errors}")
sys.exit(1 if berth_errors else 0)
PY
}
