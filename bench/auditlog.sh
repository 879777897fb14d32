#!/usr/bin/env bash
# The audit log's cost and capacity, in one run:
#  1. pull-path overhead: manifest GETs through the Gateway of a Berth that records
#     every pull (the default) against one that publishes no pull events
#     (Registry:PullEvents=false), same regbench load, ROUNDS rounds;
#  2. ingest: a burst of pulls on the recording stack, then how fast its entries
#     reach the log database (entries/s from the first pull to the last entry) and
#     a Splunk HTTP Event Collector (a small counting stand-in started here; the
#     stack ships to it with Berth's Splunk sink).
# JSON lines in bench/out/auditlog.jsonl; the ingest figures are printed at the end.
#
# Usage: bench/auditlog.sh [quick]   (DURATION, ROUNDS, REGBENCH_DIR as for run.sh)
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ "${1:-}" = quick ] && duration=5
on_server=5060 on_gateway=5061 off_server=5062 off_gateway=5063 hec_port=5064
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

echo "== starting a recording and a non-recording stack" >&2
start_stack recording "$on_server" "$on_gateway" --Auth:InitialAdminPassword "$admin_password" \
  --AuditLog:Splunk:Url "http://127.0.0.1:$hec_port" --AuditLog:Splunk:Token bench-token
start_stack quiet "$off_server" "$off_gateway" --Auth:InitialAdminPassword "$admin_password" --Registry:PullEvents false

recording="recording=http://127.0.0.1:$on_gateway" quiet="quiet=http://127.0.0.1:$off_gateway"
results="$out/auditlog.jsonl"
: >"$results"
# The warm-up runs until the JIT has compiled the hot paths at their final tier: on two
# cores a Server still tiering up spends a fifth of its CPU compiling, and the recording
# stack has more code to compile, so a short warm-up measures compilation, not recording.
echo "== warm-up, ${WARMUP:-30} s a stack (not recorded)" >&2
"$work/regbench" -url "$recording,$quiet" -user admin -pass "$admin_password" -scenario manifest-get -duration "${WARMUP:-30}s" -c 32 -repo admin/warmup >/dev/null 2>&1 || true
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds" >&2
  # Each stack goes first every other round: the one measured second shares the
  # machine with whatever the first left to do (the recording stack's backlog).
  order="$recording,$quiet"; [ $((round % 2)) = 0 ] && order="$quiet,$recording"
  "$work/regbench" -url "$order" -user admin -pass "$admin_password" -repo admin/bench -json -scenario manifest-get -duration "${duration}s" -c 32 >>"$results" || true
done
print_results "$results"
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rate = {"recording": [], "quiet": []}
for r in rows:
    if r.get("scenario") == "manifest-get" and r.get("target") in rate: rate[r["target"]].append(r["rps"])
ratios = [a / b for a, b in zip(rate["recording"], rate["quiet"]) if b]
if ratios:
    print()
    print("pull logging on/off, manifest GET requests/s by round: " + ", ".join(f"{x:.3f}" for x in ratios)
          + f"; median {statistics.median(ratios):.3f} (overhead {100 * (1 - statistics.median(ratios)):.1f}%)")
PY

count_pulls() {
  curl -fsS -u "admin:$admin_password" "http://127.0.0.1:$on_gateway/api/v1/auditlog/aggregates?kind=pull_repo" \
    | python3 -c 'import json,sys; print(sum(int(c["count"]) for c in json.load(sys.stdin).get("counts",[])))'
}
# wait_for_log_to_settle VAR: waits until the log stops growing (2 s without change, at most
# 120 s) and sets VAR to its pull entry count.
wait_for_log_to_settle() {
  local last=-1 now
  for _ in $(seq 1 120); do now=$(count_pulls); [ "$now" = "$last" ] && break; last=$now; sleep 2; done
  printf -v "$1" %s "$now"
}

# Recording runs in the CPU time serving leaves, so the rounds above (bursts of a few
# seconds) mostly measure pulls served while their recording waits. A long burst
# shows the rest: once half the pull queue waits, recording takes normal priority.
# Each stack runs on its own: the quiet one first, then the recording one, and the
# clock stops for the latter only once its log holds every pull it served, so the
# backlog a run leaves behind (up to half the queue) is counted rather than lost
# in the pause that follows.
sustained=${SUSTAINED:-60}
echo "== sustained: ${sustained} s of manifest GETs on each stack" >&2
escalations_before=$(grep -c "falling behind" "$work/recording-server.log" || true)
wait_for_log_to_settle pulls_before
"$work/regbench" -url "$quiet" -user admin -pass "$admin_password" -repo admin/sustained -json -scenario manifest-get -duration "${sustained}s" -c 32 >"$work/sustained.jsonl" || true
sync; sleep 3
wait_for_log_to_settle pulls_before
"$work/regbench" -url "$recording" -user admin -pass "$admin_password" -repo admin/sustained -json -scenario manifest-get -duration "${sustained}s" -c 32 >>"$work/sustained.jsonl" || true
served_at=$(date +%s.%N)
served=$(python3 -c 'import json,sys; print(next(json.loads(l)["ops"] for l in open(sys.argv[1]) if l.startswith("{") and json.loads(l)["target"] == "recording"))' "$work/sustained.jsonl")
# The drain: until the log holds every pull served (at most about 120 s; each look is one aggregate query).
for _ in $(seq 1 240); do pulls_after=$(count_pulls); [ $((pulls_after - pulls_before)) -ge "$served" ] && break; sleep 0.5; done
drained_at=$(date +%s.%N)
escalations=$(( $(grep -c "falling behind" "$work/recording-server.log" || true) - escalations_before ))
python3 - "$work/sustained.jsonl" "$((pulls_after - pulls_before))" "$escalations" "$sustained" "$served_at" "$drained_at" <<'PY'
import json, sys
rows = {r["target"]: r for r in (json.loads(l) for l in open(sys.argv[1]) if l.startswith("{"))}
recording, quiet = rows["recording"], rows["quiet"]
recorded, escalations, seconds, drain = int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[6]) - float(sys.argv[5])
served_ratio = recording["rps"] / quiet["rps"]
# Pulls served and recorded a second: the recording stack's pulls over its run plus the drain after it.
recorded_rate = recording["ops"] / (recording["seconds"] + drain)
print()
print(f"sustained {seconds:.0f} s: pull logging on/off {recording['rps']:.0f} / {quiet['rps']:.0f} requests/s = {served_ratio:.3f}"
      f" (overhead {100 * (1 - served_ratio):.1f}%); {recorded} of {recording['ops']} pulls recorded, the last {drain:.1f} s after the run;"
      f" served and recorded {recorded_rate:.0f}/s = {recorded_rate / quiet['rps']:.3f} of the quiet rate"
      f" (overhead {100 * (1 - recorded_rate / quiet['rps']):.1f}%); recording went to normal priority {escalations} times")
PY

echo "== ingest: a burst of pulls on the recording stack" >&2
before=$(count_pulls)
hec_before=$(curl -fsS "http://127.0.0.1:$hec_port/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
start=$(date +%s.%N)
"$work/regbench" -url "recording=http://127.0.0.1:$on_gateway" -user admin -pass "$admin_password" -repo admin/ingest -scenario manifest-get -duration "${duration}s" -c 32 >/dev/null 2>&1 || true
# Wait until the log and the sink stop growing (2 s without change), at most 120 s.
last_db=-1 last_hec=-1 db_done=$start hec_done=$start
for _ in $(seq 1 240); do
  db=$(count_pulls); hec=$(curl -fsS "http://127.0.0.1:$hec_port/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
  now=$(date +%s.%N)
  [ "$db" != "$last_db" ] && db_done=$now && last_db=$db
  [ "$hec" != "$last_hec" ] && hec_done=$now && last_hec=$hec
  python3 -c "import sys; sys.exit(0 if $now - max($db_done, $hec_done) > 2 else 1)" && break
  sleep 0.5
done
python3 - "$start" "$db_done" "$hec_done" "$((last_db - before))" "$((last_hec - hec_before))" <<'PY'
import sys
start, db_done, hec_done, entries, shipped = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print()
print(f"ingest: {entries} pull entries recorded in {db_done - start:.1f} s -> {entries / max(db_done - start, 1e-9):.0f} entries/s into the log database")
print(f"ingest: {shipped} entries shipped to the HEC stand-in in {hec_done - start:.1f} s -> {shipped / max(hec_done - start, 1e-9):.0f} entries/s to the sink")
PY

echo "== recording alone (bench/AuditIngest): from the pull queue, then straight from the bus" >&2
dotnet build "$repo/bench/AuditIngest" -c Release -o "$work/auditingest" --nologo -v quiet >&2
for from in "" --from-bus; do
  dotnet "$work/auditingest/auditingest.dll" --pulls "${INGEST_PULLS:-100000}" --rounds "$rounds" $from | tee -a "$results"
done
