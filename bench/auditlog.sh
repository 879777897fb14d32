#!/usr/bin/env bash
# The audit log's cost and capacity, in one run:
#  1. pull-path overhead: manifest GETs through the Gateway of a Berth that records
#     every pull (the default), of one that also ships its log to a Splunk HEC
#     stand-in, and of one that publishes no pull events (Registry:PullEvents=false),
#     same regbench load, ROUNDS rounds of bursts, then a sustained run of each;
#  2. ingest (bench/AuditIngest, in one process without serving): entries/s and CPU
#     time an entry into the log database, and on to a Splunk HTTP Event Collector
#     (a small counting stand-in started here, shipped to by Berth's Splunk sink).
# JSON lines in bench/out/auditlog.jsonl; the ingest figures are printed at the end.
#
# Usage: bench/auditlog.sh [quick]   (DURATION, ROUNDS, REGBENCH_DIR as for run.sh)
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ "${1:-}" = quick ] && duration=5
recording_server=5060 recording_gateway=5061 quiet_server=5062 quiet_gateway=5063 hec_port=5064 shipping_server=5065 shipping_gateway=5066
build_regbench_and_berth

# A stand-in HEC: accepts every batch with the right token and counts the events.
cat >"$work/hec.py" <<'PY'
import http.server, json, sys, time
count, first, last = 0, None, None
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        body = json.dumps({"events": count, "first": first, "last": last}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        global count, first, last
        data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Authorization") != "Splunk bench-token":
            self.send_response(401); self.end_headers(); return
        count += data.count(b'"event"')
        now = time.time(); first = first or now; last = now
        body = b'{"text":"Success","code":0}'
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$work/hec.py" "$hec_port" >"$work/hec.log" 2>&1 &
pids+=($!)

echo "== starting three stacks: recording (the default), shipping (recording and shipping to the HEC stand-in), quiet (no pull events)" >&2
start_stack recording "$recording_server" "$recording_gateway" --Auth:InitialAdminPassword "$admin_password"
recording_processes="${pids[*]: -2}"
start_stack shipping "$shipping_server" "$shipping_gateway" --Auth:InitialAdminPassword "$admin_password" \
  --AuditLog:Splunk:Url "http://127.0.0.1:$hec_port" --AuditLog:Splunk:Token bench-token
shipping_processes="${pids[*]: -2}"
start_stack quiet "$quiet_server" "$quiet_gateway" --Auth:InitialAdminPassword "$admin_password" --Registry:PullEvents false
quiet_processes="${pids[*]: -2}"

recording="recording=http://127.0.0.1:$recording_gateway" shipping="shipping=http://127.0.0.1:$shipping_gateway" quiet="quiet=http://127.0.0.1:$quiet_gateway"
results="$out/auditlog.jsonl"
: >"$results"
# The warm-up runs until the JIT has compiled the hot paths at their final tier: on two
# cores a Server still tiering up spends a fifth of its CPU compiling, and the recording
# stacks have more code to compile, so a short warm-up measures compilation, not recording.
echo "== warm-up, ${WARMUP:-30} s a stack (not recorded)" >&2
"$work/regbench" -url "$recording,$shipping,$quiet" -user admin -pass "$admin_password" -scenario manifest-get -duration "${WARMUP:-30}s" -c 32 -repo admin/warmup >/dev/null 2>&1 || true
orders=("$recording,$shipping,$quiet" "$quiet,$recording,$shipping" "$shipping,$quiet,$recording")
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds" >&2
  # Which stack goes first turns with each round: one measured later shares the
  # machine with whatever those before it left to do (a recording stack's backlog).
  "$work/regbench" -url "${orders[$(( (round - 1) % 3 ))]}" -user admin -pass "$admin_password" -repo admin/bench -json -scenario manifest-get -duration "${duration}s" -c 32 >>"$results" || true
done
print_results "$results"
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rate = {"recording": [], "shipping": [], "quiet": []}
for r in rows:
    if r.get("scenario") == "manifest-get" and r.get("target") in rate: rate[r["target"]].append(r["rps"])
print()
for target, label in (("recording", "pull logging on (database)"), ("shipping", "pull logging on, shipped to a sink")):
    ratios = [a / b for a, b in zip(rate[target], rate["quiet"]) if b]
    if ratios:
        print(f"{label} / off, manifest GET requests/s by round: " + ", ".join(f"{x:.3f}" for x in ratios)
              + f"; median {statistics.median(ratios):.3f} (overhead {100 * (1 - statistics.median(ratios)):.1f}%)")
PY

# count_pulls GATEWAY_PORT: pull entries in that stack's log.
count_pulls() {
  curl -fsS -u "admin:$admin_password" "http://127.0.0.1:$1/api/v1/auditlog/aggregates?kind=pull_repo" \
    | python3 -c 'import json,sys; print(sum(int(c["count"]) for c in json.load(sys.stdin).get("counts",[])))'
}
# newest_sequence GATEWAY_PORT: the sequence number of the newest entry in that stack's log
# (entries are numbered in recording order, one after the other). A cheap look, unlike
# count_pulls, whose aggregate scans every entry and would compete with the drain it watches.
newest_sequence() {
  curl -fsS -u "admin:$admin_password" "http://127.0.0.1:$1/api/v1/auditlog/entries?page_size=1" \
    | python3 -c 'import json,sys; e=json.load(sys.stdin).get("entries",[]); print(int(e[0]["sequence"]) if e else 0)'
}
hec_events() { curl -fsS "http://127.0.0.1:$hec_port/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }
# wait_for_log_to_settle GATEWAY_PORT VAR: waits until that log stops growing (2 s without
# change, at most 120 s) and sets VAR to its pull entry count.
wait_for_log_to_settle() {
  local last=-1 now
  for _ in $(seq 1 60); do now=$(count_pulls "$1"); [ "$now" = "$last" ] && break; last=$now; sleep 2; done
  printf -v "$2" %s "$now"
}

# Recording runs in the CPU time serving leaves, so the rounds above (bursts of a few
# seconds) mostly measure pulls served while their recording waits. A long burst
# shows the rest: once half the pull queue waits, recording takes normal priority.
# Each stack runs on its own, and a recording stack's clock stops only once its log
# (and for the shipping stack, the HEC stand-in) holds every pull it served, so the
# backlog a run leaves behind (up to half the queue) is counted rather than lost in
# the pause that follows. Each stack runs twice, in the order quiet, recording,
# shipping, then back: the machine's speed drifts over minutes here (by a tenth and
# more), and the mirrored order gives each stack the same share of a steady drift.
# Each run also counts the CPU its stack's Server and Gateway used, from the start of
# the run to the end of its drain, a request: what recording a pull costs whether or
# not it waited for idle time. It drifts with the machine's speed too (the quiet stack
# measured 94 and 86 us a request in two runs of the same build), so compare several runs.
# The Server and the Gateway are also counted apart. A Gateway relays the same requests
# whatever its Server records, yet under constant load its CPU a request moved between
# 52 and 66 us from one 10 s window to the next here, with the Server's in step: so
# the Server's CPU over its Gateway's is the Server's cost with the machine's speed
# of the moment taken out, and comparing that with the quiet stack's prices recording.
sustained=${SUSTAINED:-30}
echo "== sustained: twice ${sustained} s of manifest GETs on each stack" >&2
: >"$work/sustained.jsonl"
sustained_run() { # NAME GATEWAY_PORT: one run, then the drain; appends its figures to sustained.jsonl
  local name=$1 port=$2 before first hec_before after hec_after served served_at drained_at processes server gateway server_before server_after gateway_before gateway_after
  processes=${name}_processes
  [ "$name" = quiet ] || { wait_for_log_to_settle "$port" before; first=$(newest_sequence "$port"); }
  hec_before=$(hec_events)
  sync; sleep 3
  read -r server gateway <<<"${!processes}"
  server_before=$(cpu_seconds "$server") gateway_before=$(cpu_seconds "$gateway")
  "$work/regbench" -url "$name=http://127.0.0.1:$port" -user admin -pass "$admin_password" -repo admin/sustained -json -scenario manifest-get -duration "${sustained}s" -c 32 >"$work/run.jsonl" || true
  served_at=$(date +%s.%N)
  served=$(python3 -c 'import json,sys; print(next(json.loads(l)["ops"] for l in open(sys.argv[1]) if l.startswith("{")))' "$work/run.jsonl")
  if [ "$name" != quiet ]; then
    # The drain: until the log has grown by an entry for every pull served (and the
    # stand-in has them all), at most about 120 s, looking every 0.1 s. The run's
    # logins are entries too, so that moment may come a pull or two early: the exact
    # count of pull entries afterwards says whether every pull is in the log.
    for _ in $(seq 1 1200); do
      hec_after=$(hec_events)
      [ $(( $(newest_sequence "$port") - first )) -ge "$served" ] && { [ "$name" != shipping ] || [ $((hec_after - hec_before)) -ge "$served" ]; } && break
      sleep 0.1
    done
    drained_at=$(date +%s.%N)
  fi
  drained_at=${drained_at:-$(date +%s.%N)}
  # The stack's CPU is read before the pulls are counted: the count scans every entry
  # in the log, which is the bench's own work, not recording's.
  server_after=$(cpu_seconds "$server") gateway_after=$(cpu_seconds "$gateway")
  [ "$name" = quiet ] || after=$(count_pulls "$port")
  python3 - "$work/run.jsonl" "$served_at" "$drained_at" "$(( ${after:-0} - ${before:-0} ))" "$(( $(hec_events) - hec_before ))" \
    "$server_before" "$server_after" "$gateway_before" "$gateway_after" >>"$work/sustained.jsonl" <<'PY'
import json, sys
run = next(json.loads(l) for l in open(sys.argv[1]) if l.startswith("{"))
server, gateway = float(sys.argv[7]) - float(sys.argv[6]), float(sys.argv[9]) - float(sys.argv[8])
run.update(drain=float(sys.argv[3]) - float(sys.argv[2]), recorded=int(sys.argv[4]), shipped=int(sys.argv[5]),
           server_cpu=server, gateway_cpu=gateway)
print(json.dumps(run))
PY
}
escalations_before=$(cat "$work"/{recording,shipping}-server.log | grep -c "falling behind" || true)
# The bursts above may have left the recording stacks a backlog: it goes first.
wait_for_log_to_settle "$recording_gateway" ignored
wait_for_log_to_settle "$shipping_gateway" ignored
sustained_run quiet "$quiet_gateway"
sustained_run recording "$recording_gateway"
sustained_run shipping "$shipping_gateway"
sustained_run shipping "$shipping_gateway"
sustained_run recording "$recording_gateway"
sustained_run quiet "$quiet_gateway"
escalations=$(( $(cat "$work"/{recording,shipping}-server.log | grep -c "falling behind" || true) - escalations_before ))
python3 - "$work/sustained.jsonl" "$escalations" <<'PY'
import json, sys
runs = {}
for r in (json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")): runs.setdefault(r["target"], []).append(r)
def rate(name):   # requests/s over both runs
    return sum(r["ops"] for r in runs[name]) / sum(r["seconds"] for r in runs[name])
def done(name):   # pulls served and recorded (and shipped) a second: over both runs and the drains after them
    return sum(r["ops"] for r in runs[name]) / sum(r["seconds"] + r["drain"] for r in runs[name])
def each(name, field, form):   # one figure of each run, for the spread
    return ", ".join(format(r[field], form) for r in runs[name])
def cpu(name, *fields):   # CPU of the stack's Server and Gateway (or of the fields named) a request, serving and the drain after it (recording included)
    fields = fields or ("server_cpu", "gateway_cpu")
    return 1e6 * sum(r[f] for r in runs[name] for f in fields) / sum(r["ops"] for r in runs[name])
def server_per_gateway(name):   # the Gateway does the same for every stack, so its CPU a request tracks the machine's speed
    return cpu(name, "server_cpu") / cpu(name, "gateway_cpu")
quiet = rate("quiet")
print()
print(f"sustained, twice {runs['quiet'][0]['seconds']:.0f} s a stack, pull logging off: {quiet:.0f} requests/s ({each('quiet', 'rps', '.0f')}),"
      f" {cpu('quiet'):.1f} us of CPU a request (Server {cpu('quiet', 'server_cpu'):.1f}, Gateway {cpu('quiet', 'gateway_cpu'):.1f})")
for name, label in (("recording", "on (database)"), ("shipping", "on, shipped to the HEC stand-in")):
    served, finished = rate(name), done(name)
    recorded = sum(r["recorded"] for r in runs[name]); ops = sum(r["ops"] for r in runs[name]); shipped = sum(r["shipped"] for r in runs[name])
    print(f"sustained, pull logging {label}: {served:.0f} requests/s ({each(name, 'rps', '.0f')})"
          f" = {served / quiet:.3f} (overhead {100 * (1 - served / quiet):.1f}%); {recorded} of {ops} pulls recorded"
          + (f", {shipped} shipped" if name == "shipping" else "")
          + f", the last {each(name, 'drain', '.1f')} s after each run;"
          f" served and done {finished:.0f}/s = {finished / quiet:.3f} (overhead {100 * (1 - finished / quiet):.1f}%);"
          f" {cpu(name):.1f} us of CPU a request = {cpu(name) / cpu('quiet'):.3f}"
          f" (Server {cpu(name, 'server_cpu'):.1f}, Gateway {cpu(name, 'gateway_cpu'):.1f});"
          f" Server over Gateway CPU {server_per_gateway(name) / server_per_gateway('quiet'):.3f} of the quiet stack's")
print(f"recording went to normal priority {sys.argv[2]} times")
PY

echo "== ingest (bench/AuditIngest): recording alone, from the pull queue, straight from the bus, and from the bus to a sink" >&2
dotnet build "$repo/bench/AuditIngest" -c Release -o "$work/auditingest" --nologo -v quiet >&2
ingest_rounds=${INGEST_ROUNDS:-5}
for from in "" --from-bus "--from-bus --AuditLog:Splunk:Url http://127.0.0.1:$hec_port --AuditLog:Splunk:Token bench-token"; do
  # shellcheck disable=SC2086 # $from is a list of options
  dotnet "$work/auditingest/auditingest.dll" --pulls "${INGEST_PULLS:-100000}" --rounds "$ingest_rounds" $from | tee -a "$results"
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ingest = [r for r in rows if r.get("scenario") == "audit-ingest"]
print()
for label, pick in (("from the pull queue", lambda r: r["from"] == "pull queue"),
                    ("from the bus", lambda r: r["from"] == "bus" and "sinks" not in r),
                    ("from the bus, shipped to the HEC stand-in", lambda r: "sinks" in r)):
    runs = [r for r in ingest if pick(r)]
    if not runs: continue
    line = (f"ingest {label}: median {statistics.median(r['entries_per_s'] for r in runs):.0f} entries/s into the log database,"
            f" {statistics.median(r['cpu_us_per_entry'] for r in runs):.1f} us of CPU an entry")
    if "sinks" in runs[0]:
        line += (f"; {statistics.median(r['shipped_per_s'] for r in runs):.0f} entries/s confirmed by the sink,"
                 f" {statistics.median(r['cpu_us_per_entry_shipped'] for r in runs):.1f} us an entry recorded and shipped")
    print(line)
PY
