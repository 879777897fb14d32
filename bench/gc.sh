#!/usr/bin/env bash
# Garbage-collection benchmark. Fills Berth and CNCF distribution (Debian's
# docker-registry) with the same shape of data through the registry protocol
# (REPOS repositories x MANIFESTS images x BLOBS unique blobs each), untags all
# but the newest KEEP images per repository, then:
# - Berth: measures push/pull/manifest throughput idle, starts an online
#   collection through its API, measures the same throughput while it runs, and
#   reports the collection's duration and blob deletions per minute;
# - distribution: stops it (its collector is offline) and times
#   `docker-registry garbage-collect` on the same shape of data.
#
# Throughput is the median of ROUNDS rounds per phase; during the collection only
# rounds that end before it does count.
#
# Usage: bench/gc.sh
#   REPOS (100) MANIFESTS (200) BLOBS (5) KEEP (40) CONCURRENCY (8) DURATION (10) ROUNDS (3)
set -euo pipefail
source "$(dirname "$0")/common.sh"
rounds=${ROUNDS:-3} repos=${REPOS:-100} manifests=${MANIFESTS:-200} blobs=${BLOBS:-5} keep=${KEEP:-40} concurrency=${CONCURRENCY:-8}
dist_script=${DIST_SCRIPT:-$repo/../shared/tools/run-distribution.sh}
server_port=5020 dist_port=5023
# Long enough that the blobs the throughput load pushes right before the collection are
# still protected, so the collection removes exactly the fill's garbage.
grace=50
command -v docker-registry >/dev/null || { echo "error: docker-registry not found (apt-get install docker-registry)" >&2; exit 1; }
build_regbench_and_berth
dotnet build "$repo/bench/GcFill/GcFill.csproj" -c Release -o "$work/gcfill" --nologo -v quiet >&2
fill() { "$work/gcfill/gcfill" "$1" --repos "$repos" --manifests "$manifests" --blobs "$blobs" --keep "$keep" --concurrency "$concurrency" --untag "$2"; }
# throughput LABEL URL [RUN]: ROUNDS rounds of push, pull and manifest GETs, as JSON lines in
# $work/LABEL.jsonl (a repository per round, so rounds do not share blobs). With RUN, only
# rounds that end while that collection still runs are kept, and the rounds stop with it.
throughput() {
  : >"$work/$1.jsonl"
  for round in $(seq 1 "$rounds"); do
    "$work/regbench" -url "$1=$2" -repo "load/$1$round" -scenario push-blobs,pull-blobs,manifest-get -blobs 64 -blob-size 1MiB -c 4 \
      -duration "${duration}s" -json 2>/dev/null | grep '^{' >"$work/round.jsonl" || true
    if [ -n "${3:-}" ] && ! collection_running "$3"; then
      echo "  (round $round of the $1 phase ended after the collection did: not counted)" >&2
      break
    fi
    cat "$work/round.jsonl" >>"$work/$1.jsonl"
  done
}
collection_running() { # id: true while the run is still going
  curl -fsS -u "admin:$admin_password" "http://127.0.0.1:$server_port/api/v1/collector/runs/$1" |
    python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["status"] == "running" else 1)'
}

echo "== Berth: filling ($repos repositories x $manifests images x $blobs blobs)" >&2
data="$work/berth-data"
start_server berth "$server_port" --Registry:DataDirectory "$data" --Auth:DataDirectory "$data" --AuditLog:DataDirectory "$data" \
  --Collector:DataDirectory "$data" --Registry:Authentication none --Auth:InitialAdminPassword "$admin_password" \
  --Registry:GracePeriod "00:00:$grace" --Collector:DefaultTimeMachineWindow 00:00:00 --Collector:Interval 00:00:00 --Registry:PullEvents false
berth_fill=$(fill "http://127.0.0.1:$server_port" tag)
untagged_at=$(date +%s)
echo "berth fill: $berth_fill"
echo "== Berth: throughput idle" >&2
rounds=1 throughput warmup "http://127.0.0.1:$server_port"
throughput idle "http://127.0.0.1:$server_port"
# The untagged images must be past the grace period; the load's own blobs, pushed just now, are not.
wait=$((untagged_at + grace + 1 - $(date +%s))); [ "$wait" -gt 0 ] && sleep "$wait"
echo "== Berth: online collection" >&2
run=$(curl -fsS -u "admin:$admin_password" -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$server_port/api/v1/collector/runs")
id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$run")
throughput during "http://127.0.0.1:$server_port" "$id"
while :; do
  state=$(curl -fsS -u "admin:$admin_password" "http://127.0.0.1:$server_port/api/v1/collector/runs/$id")
  python3 -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["status"] != "running" else 1)' "$state" && break
  sleep 1
done
python3 - "$state" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
seconds = r.get("durationSeconds", 0) or 1e-9
print(f"berth collection: status {r['status']}, {r.get('manifestsRemoved',0)} manifests, {r.get('blobsRemoved',0)} blobs, "
      f"{r.get('bytesFreed',0)} bytes in {seconds:.1f} s = {r.get('blobsRemoved',0) / seconds * 60:.0f} blob deletions/min")
PY
throughput after "http://127.0.0.1:$server_port"
python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
def medians(label):
    by = {}
    for line in open(f"{work}/{label}.jsonl"):
        r = json.loads(line)
        by.setdefault(r["scenario"], []).append(r["rps"])
    return {k: (statistics.median(v), len(v)) for k, v in by.items()}
idle, during, after = medians("idle"), medians("during"), medians("after")
print("berth throughput, median of rounds (ops/s): scenario | idle before | during collection (rounds) | idle after | during/before | during/mean of idle")
for scenario, (i, _) in idle.items():
    (d, n), (a, _) = during.get(scenario, (0, 0)), after.get(scenario, (0, 0))
    print(f"  {scenario} | {i:.0f} | {d:.0f} ({n}) | {a:.0f} | {d / i:.2f} | {d / ((i + a) / 2):.2f}")
PY

echo "== distribution: filling" >&2
LOG_LEVEL=error bash "$dist_script" "$dist_port" "$work/dist" >&2
cleanup_hooks+=('[ -f "$work/dist/registry.pid" ] && kill "$(cat "$work/dist/registry.pid")" 2>/dev/null')
dist_fill=$(fill "http://127.0.0.1:$dist_port" digest)
echo "distribution fill: $dist_fill"
kill "$(cat "$work/dist/registry.pid")"; sleep 1
count_blobs() { find "$work/dist/data/docker/registry/v2/blobs" -name data | wc -l; }
before=$(count_blobs)
start=$(date +%s.%N)
docker-registry garbage-collect "$work/dist/config.yml" >"$work/dist/gc.log" 2>&1
end=$(date +%s.%N)
after=$(count_blobs)
# distribution stores manifests as blobs too: its count includes the untagged manifests.
python3 -c "import sys; b,a,s=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); print(f'distribution garbage-collect (offline): {b-a} blobs and manifests deleted of {b} in {s:.1f} s = {(b-a)/max(s,1e-9)*60:.0f} deletions/min')" "$before" "$after" "$(echo "$end - $start" | bc)"
