#!/usr/bin/env bash
# test_ops.sh: what an operator watches, on real processes. /readyz of a worker is 503 while
# its broker is absent and 200 once the broker is up, while /healthz says alive throughout;
# a worker started as a Type=notify unit sends READY=1, watchdog pings and STOPPING=1 to its
# NOTIFY_SOCKET; one config file (`broker = ...`) serves the broker and the others alike;
# every alertable series (dead letters by reason, histograms, CPU, build info) is on /metrics
# at 0 before any event; --log-format json gives one JSON object per line with the event's
# fields as members; with the whole pipeline running and the samples stored, every series the
# Grafana dashboard charts is exported by some service, the latency histograms counted the
# articles, and the broker's in-flight gauge is back to 0 once the pipeline is idle; when the
# broker is killed, /readyz of fetch, the workers and the store turns 503 (query, which needs
# only its database, stays 200), and all are ready again once it is back.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)" "$(svc_bin query)"

P=$(free_ports 16)
BROKER="tcp://127.0.0.1:$P"
DATA=$T/data
mkdir -p "$DATA/inbox"
H() { printf 'http://127.0.0.1:%d' $((P + 8 + $1)); } # http of slot $1
status() { curl -s -o "$T/body" -w '%{http_code}' "$1"; }
ready() { [ "$(status "$1")" = 200 ]; }

# One config file for every program, the broker included (`broker =` is its --bind), naming
# the broker's host as clients do: the broker resolves the name to the address it binds.
printf '# shared by every program\nbroker = tcp://localhost:%s\n' "$P" >"$T/shared.conf"

# systemd's side of sd_notify: a Unix datagram socket; every assignment on a line of its own.
python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        for a in s.recv(4096).decode().split("\n"):
            if a:
                log.write(a + "\n")
PY
NW_PIDS+=($!)
wait_until 10 test -S "$T/notify.sock" || fail "no notify socket"

# A parse worker alone: alive, not ready. Started as a Type=notify unit with WatchdogSec=0.4s.
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 \
  start parse "$(svc_bin parse)" --config "$T/shared.conf" --http "127.0.0.1:$((P + 10))" --log-format json
wait_until 20 curl -fsS "$(H 2)/healthz" || fail "parse /healthz: $(tail -5 "$T/parse.log")"
[ "$(status "$(H 2)/readyz")" = 503 ] || fail "parse /readyz without a broker: $(cat "$T/body")"
grep -q '"broker"' "$T/body" || fail "parse /readyz does not name the broker: $(cat "$T/body")"
ok "parse without a broker: /healthz 200, /readyz 503 naming the broker"

curl -fsS "$(H 2)/metrics" >"$T/parse.metrics"
for s in 'nw_parse_dead_total{reason="bad-json"} 0' 'nw_parse_dead_total{reason="invalid-utf8"} 0' \
  'nw_stage_job_seconds_bucket{stage="parse",le="+Inf"} 0' 'nw_stage_job_seconds_count{stage="parse"} 0' \
  'process_cpu_seconds_total ' 'nw_build_info{version="'; do
  grep -qF "$s" "$T/parse.metrics" || fail "parse /metrics at start lacks '$s'"
done
grep -q '^# TYPE nw_stage_job_seconds histogram$' "$T/parse.metrics" || fail "no histogram TYPE line"
ok "parse /metrics at start: dead letters by reason at 0, job-time histogram, CPU, build info"

wait_until 20 grep -qx READY=1 "$T/notify.log" || fail "parse sent no READY=1: $(cat "$T/notify.log")"
sleep 1
[ "$(grep -cx WATCHDOG=1 "$T/notify.log")" -ge 2 ] ||
  fail "parse pinged no watchdog (WATCHDOG_USEC=400000): $(cat "$T/notify.log")"
ok "sd_notify: READY=1 once set up, WATCHDOG=1 every half interval from the loop"

start broker "$(svc_bin broker)" --config "$T/shared.conf" --http "127.0.0.1:$((P + 8))"
wait_until 20 ready "$(H 2)/readyz" || fail "parse never ready: $(cat "$T/body")"
[ "$(status "$(H 0)/readyz")" = 200 ] || fail "broker /readyz: $(cat "$T/body")"
ok "broker up from the shared config file (broker = ...): parse /readyz turns 200"

python3 - "$T/parse.log" <<'PY' || fail "parse --log-format json: $(head -5 "$T/parse.log")"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
docs = [json.loads(l) for l in lines]  # every line one object
assert docs and all(d["svc"] == "parse" and d["level"] and d["ts"] and "msg" in d for d in docs)
started = [d for d in docs if d["msg"] == "parse started"]
assert started and started[0]["broker"].startswith("tcp://") and started[0]["window"] == 64, started
PY
ok "--log-format json: one object per line, fields as members (broker=, window= a number)"

start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA" --http "127.0.0.1:$((P + 9))"
start enrich "$(svc_bin enrich)" --broker "$BROKER" --http "127.0.0.1:$((P + 11))"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "127.0.0.1:$((P + 12))" \
  --inbox-dir "$DATA/inbox" --ingest "" --name fetch-ops --spool-dir "$DATA/spool"
start query "$(svc_bin query)" --broker "$BROKER" --data-dir "$DATA" --http "127.0.0.1:$((P + 13))"
for slot in 1 3 4; do
  wait_until 60 ready "$(H $slot)/readyz" ||
    fail "slot $slot never ready: $(cat "$T/body")"
done
ok "store, enrich, fetch ready"

# written elsewhere and renamed in, as inbox writers are told to (a half-copied file is empty)
mkdir -p "$T/stage" && cp "$NW_SRC"/samples/*.txt "$T/stage/" && mv "$T"/stage/*.txt "$DATA/inbox/"
n=$(ls "$NW_SRC"/samples/*.txt | wc -l)
stored() { [ "$(metric "$(H 1)" nw_store_articles_total)" -ge "$n" ]; }
wait_until 120 stored || fail "samples not stored: $(metric "$(H 1)" nw_store_articles_total) of $n"
idle() { [ "$(metric "$(H 0)" nw_broker_inflight)" -eq 0 ] && [ "$(metric "$(H 0)" nw_broker_queued)" -eq 0 ]; }
wait_until 20 idle || fail "broker in flight stays $(metric "$(H 0)" nw_broker_inflight) when idle"
ok "$n samples stored; broker in flight and queued back to 0"

# The broker dies: every service that needs it says so on /readyz (fetch hears nothing more on
# the acks' socket; the workers and the store miss its heartbeats) while /healthz stays 200;
# the query service, which needs only the database, stays ready. The broker comes back (its
# --bind this time) and they are all ready again.
kill -KILL "$PID_broker"
unready() { [ "$(status "$1/readyz")" = 503 ] && contains '"broker"' <"$T/body"; }
for slot in 1 2 3 4; do
  wait_until 30 unready "$(H $slot)" || fail "slot $slot still ready without a broker: $(cat "$T/body")"
  [ "$(status "$(H $slot)/healthz")" = 200 ] || fail "slot $slot /healthz without a broker: $(cat "$T/body")"
done
[ "$(status "$(H 5)/readyz")" = 200 ] || fail "query unready without a broker: $(cat "$T/body")"
ok "broker killed: store, parse, enrich and fetch /readyz 503 naming the broker, /healthz 200; query ready"
start broker2 "$(svc_bin broker)" --bind "$BROKER" --http "127.0.0.1:$((P + 8))"
for slot in 0 1 2 3 4 5; do
  wait_until 30 ready "$(H $slot)/readyz" || fail "slot $slot not ready again: $(cat "$T/body")"
done
ok "broker back (--bind): every /readyz 200 again"

# A refused item's log line: reason, source and bytes as keys of their own, not inside msg.
printf 'bin\000\001\002\003ary' >"$T/stage/junk.txt" && mv "$T/stage/junk.txt" "$DATA/inbox/"
wait_until 30 grep -Eq 'msg="rejected: .*" source=inbox reason=[a-z0-9-]+ bytes=10$' "$T/fetch.log" ||
  fail "no logfmt rejection line with its fields: $(grep -i reject "$T/fetch.log" | tail -3)"
ok "a rejection logs source=, reason= and bytes= as fields"

for slot in 0 1 2 3 4 5; do curl -fsS "$(H $slot)/metrics"; done >"$T/all.metrics"
[ "$(metric "$(H 1)" nw_store_accept_to_commit_seconds_count)" -ge "$n" ] ||
  fail "acceptance-to-commit histogram did not count the samples"
[ "$(metric "$(H 1)" nw_store_commit_seconds_count)" -ge 1 ] || fail "commit histogram empty"
[ "$(metric "$(H 3)" nw_stage_job_seconds_count)" -ge "$n" ] || fail "enrich job histogram empty"
python3 - "$NW_SRC/deploy/grafana/newswire.json" "$T/all.metrics" <<'PY' || fail "dashboard vs running system"
import json, re, sys
dash = json.load(open(sys.argv[1]))
exported = {re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", l).group(0)
            for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")}
missing = {}
for p in dash["panels"]:
    for t in p["targets"]:
        for name in re.findall(r"\b((?:nw|process)_[a-z0-9_]+)\b", t["expr"]):
            if name not in exported:
                missing.setdefault(p["title"], set()).add(name)
assert not missing, f"panels chart series no running service exports: {missing}"
print(f"{len(dash['panels'])} panels, every series exported")
PY
ok "every series of every Grafana panel is exported by the running system"

kill -TERM "$PID_parse"
wait_until 30 grep -qx STOPPING=1 "$T/notify.log" || fail "parse sent no STOPPING=1: $(tail -3 "$T/notify.log")"
ok "sd_notify: STOPPING=1 on SIGTERM"
