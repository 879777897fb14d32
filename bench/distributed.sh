#!/usr/bin/env bash
# The distributed topology against the standalone one, both with tokens on, in
# one run: Auth, two registry instances (each with its collector, as the AppHost
# runs them) and the audit log as their own Server processes (PostgreSQL database
# per service, Redis as the shared cache tier, RabbitMQ for events) behind one
# Gateway, next to a single `--services all` Server behind its Gateway. Both
# record every event in their audit log. The same regbench load (logging in at /v2/auth) goes through both
# Gateways; JSON lines in bench/out/distributed.jsonl.
#
# Usage: bench/distributed.sh [quick]   (DURATION, ROUNDS, REGBENCH_DIR as for run.sh; WARMUP_ROUNDS,
# default 5; WARMUP_LOGINS through each Gateway, default 300; SMALL_BLOBS, how many
# 1 MiB blobs a round pushes, default 1024)
# Needs golang-go, postgresql, redis-server and rabbitmq-server installed.
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ "${1:-}" = quick ] && duration=5
standalone_server=5030 standalone_gateway=5031
pg_port=5032 redis_port=5033 rabbit_port=5034 rabbit_dist_port=5035
auth_port=5040 registry_a=5041 registry_b=5042 gateway_port=5043 auditlog_port=5036

pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
for tool in "$pg_bin/initdb" /usr/bin/redis-server /usr/lib/rabbitmq/bin/rabbitmq-server; do
  [ -x "$tool" ] || { echo "error: $tool not found (apt-get install postgresql redis-server rabbitmq-server)" >&2; exit 1; }
done
build_regbench_and_berth

echo "== starting PostgreSQL, Redis and RabbitMQ" >&2
# initdb runs as postgres, which must be able to reach its directory inside the work dir.
chmod o+x "$work" && mkdir -p "$work/pg" && chown postgres "$work/pg"
su postgres -s /bin/sh -c "$pg_bin/initdb -D '$work/pg' -A trust -U postgres >/dev/null"
su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D '$work/pg' -o '-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' -l '$work/pg/server.log' -w start >/dev/null"
cleanup_hooks+=("su postgres -s /bin/sh -c \"$pg_bin/pg_ctl -D '$work/pg' -m fast -w stop\" >/dev/null 2>&1")
for db in berth_auth berth_registry berth_collector berth_auditlog; do
  su postgres -s /bin/sh -c "psql -h 127.0.0.1 -p $pg_port -U postgres -qc 'CREATE DATABASE $db'"
done
pg="Host=127.0.0.1;Port=$pg_port;Username=postgres"

/usr/bin/redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)

mkdir -p "$work/rabbit" && echo "[]." >"$work/rabbit/enabled_plugins"
rabbit_env=(HOME="$work/rabbit" RABBITMQ_NODENAME=berthbench@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  RABBITMQ_NODE_PORT=$rabbit_port RABBITMQ_DIST_PORT=$rabbit_dist_port RABBITMQ_MNESIA_BASE="$work/rabbit/mnesia"
  RABBITMQ_LOG_BASE="$work/rabbit/log" RABBITMQ_ENABLED_PLUGINS_FILE="$work/rabbit/enabled_plugins")
env "${rabbit_env[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server >"$work/rabbit.log" 2>&1 &
pids+=($!)
cleanup_hooks+=("env ${rabbit_env[*]} /usr/lib/rabbitmq/bin/rabbitmqctl stop >/dev/null 2>&1")
for _ in $(seq 1 600); do (echo >"/dev/tcp/127.0.0.1/$rabbit_port") 2>/dev/null && break; sleep 0.1; done
bus=(--Bus:Transport rabbitmq --Bus:RabbitMqUrl "amqp://guest:guest@127.0.0.1:$rabbit_port/")

echo "== starting the standalone and the distributed topology" >&2
start_stack standalone "$standalone_server" "$standalone_gateway" --Auth:InitialAdminPassword "$admin_password"
standalone_processes="${pids[*]: -2}"

# As the AppHost's distributed topology wires them (AppHost/Topologies.cs).
auth_url="http://127.0.0.1:$auth_port"
start_server auth "$auth_port" --services auth --Auth:DataDirectory "$work/auth-data" --Auth:InitialAdminPassword "$admin_password" \
  --Auth:DatabaseProvider postgres --Auth:ConnectionString "$pg;Database=berth_auth" --Auth:Redis "127.0.0.1:$redis_port" "${bus[@]}"
registry=(--services registry,collector --Registry:AuthUrl "$auth_url"
  --Registry:DatabaseProvider postgres --Registry:ConnectionString "$pg;Database=berth_registry"
  --Collector:DatabaseProvider postgres --Collector:ConnectionString "$pg;Database=berth_collector" --Collector:AuthUrl "$auth_url"
  --Registry:StorageDirectory "$work/shared-storage" --Registry:BlobHandoff true --Registry:Redis "127.0.0.1:$redis_port" "${bus[@]}")
start_server registry-a "$registry_a" --Registry:DataDirectory "$work/registry-a" --Collector:DataDirectory "$work/registry-a" "${registry[@]}"
start_server registry-b "$registry_b" --Registry:DataDirectory "$work/registry-b" --Collector:DataDirectory "$work/registry-b" "${registry[@]}"
start_server auditlog "$auditlog_port" --services auditlog --AuditLog:DataDirectory "$work/auditlog-data" --AuditLog:AuthUrl "$auth_url" \
  --AuditLog:DatabaseProvider postgres --AuditLog:ConnectionString "$pg;Database=berth_auditlog" "${bus[@]}"
start_gateway distributed "$gateway_port" \
  --ReverseProxy:Clusters:registry:Destinations:server:Address "http://127.0.0.1:$registry_a" \
  --ReverseProxy:Clusters:registry:Destinations:second:Address "http://127.0.0.1:$registry_b" \
  --ReverseProxy:Clusters:auth:Destinations:server:Address "$auth_url" \
  --ReverseProxy:Clusters:auditlog:Destinations:server:Address "http://127.0.0.1:$auditlog_port" \
  --Gateway:BlobHandoffRoot "$work/shared-storage"
# Redis, RabbitMQ, Auth, both registries, the audit log, the Gateway and PostgreSQL (with their children).
distributed_processes="${pids[*]:0:2} ${pids[*]: -5} $(head -1 "$work/pg/postmaster.pid")"

standalone="standalone=http://127.0.0.1:$standalone_gateway" distributed="distributed=http://127.0.0.1:$gateway_port"
targets=("$standalone" "$distributed")
results="$out/distributed.jsonl"
: >"$results"
# Each topology on its own, after the work the other left (events published and recorded
# at idle priority after a burst, page-cache writeback) is done: measured back to back,
# 1 MiB pushes ran at 0.72x when the standalone went first and 0.97x when it went second.
settle() { sync; sleep "${SETTLE_BETWEEN:-3}"; }

# Each run's JSON lines get the CPU its topology used per request over the whole run
# (a blob round's push and pull together): throughput drifts with the machine's speed,
# CPU per request much less, so it says whether a gap is work or waiting.
run() {
  local status
  for target in "${targets[@]}"; do
    settle
    echo "== regbench $target $*" >&2
    local processes=$standalone_processes
    [ "$target" = "$distributed" ] && processes=$distributed_processes
    local before after
    before=$(cpu_seconds $processes)
    status=0
    "$work/regbench" -url "$target" -user admin -pass "$admin_password" -repo admin/bench -json "$@" >"$work/run.jsonl" || status=$?
    after=$(cpu_seconds $processes)
    python3 - "$work/run.jsonl" "$before" "$after" >>"$results" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
requests = sum(r["requests"] for r in lines)
for r in lines:
    if requests:
        r["run_cpu_us_per_request"] = round((float(sys.argv[3]) - float(sys.argv[2])) * 1e6 / requests, 1)
    print(json.dumps(r))
PY
    [ "$status" = 0 ] || return "$status"
  done
}

# Rounds of every measured scenario, unrecorded, warm both topologies up the way
# their own traffic would: the runtime recompiles each hot path once it has run it
# enough times, in every process separately, and on two cores that recompiling
# would otherwise land inside the measured round of the topology with more processes.
# Each registry instance sees half the traffic, so it needs more of it: in the first
# 512 pushes of 1 MiB after a short warm-up, the registries' compiler threads took a
# fifth of the CPU (perf) and the distributed push ran at 0.59x of standalone; in the
# second and third 512, at 0.84x. After three short warm-up runs of manifest GET, the
# compiler threads still took 8.8%, 6.5%, 3.5% and 2.3% of the machine in four more
# 8 s runs on the distributed topology (perf), so five rounds are the default.
round() { # runner
  "$1" -scenario manifest-get -duration "${duration}s" -c 32 || true
  "$1" -scenario manifest-head -duration "${duration}s" -c 32 || true
  "$1" -scenario push-blobs,pull-blobs -blobs 64 -blob-size 16MiB -c 8 || true
  # 1 GiB in 1 MiB blobs: a round of 256 took about a second, short enough for the
  # odd background compile in one process to move its figure by a tenth.
  "$1" -scenario push-blobs,pull-blobs -blobs "${SMALL_BLOBS:-1024}" -blob-size 1MiB -c 8 || true
}
warm() { "$work/regbench" -url "$standalone,$distributed" -user admin -pass "$admin_password" -repo "admin/warmup-$RANDOM" "$@" >/dev/null 2>&1; }
for warmup_round in $(seq 1 "${WARMUP_ROUNDS:-5}"); do
  echo "== warm-up round $warmup_round (not recorded)" >&2
  round warm
done
# regbench logs in once or twice a run, so the token endpoint reaches the call counts
# that make the runtime recompile it only in the measured rounds: in one measured
# distributed round of 1 MiB pushes (5 s), the Auth process compiled 352 methods and
# used 0.32 s of CPU. A registry's clients log in all the time; a few hundred logins
# through each Gateway warm that path as they would: 0 to 38 methods and at most
# 0.08 s a round after.
warm_logins() {
  for _ in $(seq 1 "${WARMUP_LOGINS:-300}"); do
    curl -fsS -o /dev/null -u "admin:$admin_password" "$1/v2/auth?service=berth&scope=repository:admin/bench:pull,push"
  done
}
warm_logins "http://127.0.0.1:$standalone_gateway"
warm_logins "http://127.0.0.1:$gateway_port"
sleep "${SETTLE:-10}"

# Rounds alternate which topology goes first in each scenario.
for round_number in $(seq 1 "$rounds"); do
  echo "== round $round_number of $rounds" >&2
  if ((round_number % 2)); then targets=("$standalone" "$distributed"); else targets=("$distributed" "$standalone"); fi
  round run
done

# Distributed over standalone, round by round, and the median: the machine's speed
# drifts by tens of percent within minutes, so one round's ratio says little alone.
python3 - "$results" <<'PY'
import collections, json, statistics, sys
figures = collections.defaultdict(lambda: collections.defaultdict(list))
cpu = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        blob = r["scenario"].endswith("-blobs")
        figures[(r["scenario"], r.get("params", ""), "MB/s" if blob else "requests/s")][r["target"]].append(r["mbps"] if blob else r["rps"])
        # A blob round's pull line carries the same run figure as its push line.
        if "run_cpu_us_per_request" in r and r["scenario"] != "pull-blobs":
            name = "push and pull" if blob else r["scenario"]
            cpu[(name, r.get("params", ""))][r["target"]].append(r["run_cpu_us_per_request"])
print("\ndistributed / standalone by round (target: manifest GET and HEAD at least 1.0, blobs at least 0.9):")
for (scenario, params, unit), by_target in figures.items():
    ratios = [d / s for d, s in zip(by_target["distributed"], by_target["standalone"]) if s]
    if ratios:
        print(f"  {scenario} {params} ({unit}): " + ", ".join(f"{x:.2f}" for x in ratios) + f"; median {statistics.median(ratios):.2f}")
print("\nCPU per request over each run (all of a topology's processes; a blob round's push and pull together), distributed / standalone:")
for (scenario, params), by_target in cpu.items():
    ratios = [d / s for d, s in zip(by_target["distributed"], by_target["standalone"]) if s]
    if ratios:
        medians = {t: statistics.median(v) for t, v in by_target.items()}
        print(f"  {scenario} {params}: " + ", ".join(f"{x:.2f}" for x in ratios) + f"; median {statistics.median(ratios):.2f}"
              + f" (standalone {medians['standalone']:.0f} us, distributed {medians['distributed']:.0f} us)")
PY
print_results "$results"
