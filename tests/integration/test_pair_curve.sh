#!/usr/bin/env bash
# test_pair_curve.sh: a broker pair with CURVE and roles (ha.h: both brokers hold the one
# broker key pair and know each other by it). `newswire up --broker A,B --keys DIR` runs both
# brokers and every service over CURVE with the roles tree; the primary serves and the backup
# is passive (so the pair's link got through the ZAP handler as role "broker"), an article is
# stored. The primary is then frozen (SIGSTOP: a hung broker, or a host that vanished without
# closing its connections; `up` would restart a killed one within two heartbeats, and a
# primary back that soon simply serves again): the backup takes over (the clients' probes got
# through too) and a second article is stored through it. The primary is thawed (SIGCONT): two
# actives, and the backup steps down; a third article is stored. Nothing on the bus was
# refused.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for svc in broker store enrich parse fetch; do require_bins "$(svc_bin "$svc")"; done
require_bins "$NW"

P=$(free_ports 30)
PAIR="tcp://127.0.0.1:$P,tcp://127.0.0.1:$((P + 10))"
API="http://127.0.0.1:$((P + 20))"
DATA=$T/data
"$NW" keygen --set "$T/keys" >/dev/null || fail "keygen --set"
# children's metrics: broker P+21, broker-backup P+22, then the others
start up "$NW" up --data-dir "$DATA" --broker "$PAIR" --http "127.0.0.1:$((P + 20))" --query "" \
  --ingest "" --parse 1 --enrich 1 --metrics-port $((P + 21)) --keys "$T/keys"
state() {
  curl -fsS --max-time 2 "http://127.0.0.1:$1/healthz" 2>/dev/null |
    sed -n 's/.*"state":"\([a-z]*\)".*/\1/p' || true
}
is_state() { [ "$(state "$1")" = "$2" ]; }
wait_until 60 curl -fsS "$API/healthz" || fail "fetch did not come up"
wait_until 30 is_state $((P + 21)) active || fail "the primary is not active: $(state $((P + 21)))"
wait_until 30 is_state $((P + 22)) passive || fail "the backup is not passive: $(state $((P + 22)))"
ok "CURVE pair: primary active, backup passive"

post() {
  curl -fsS -H "Content-Type: text/plain" --data-binary "$1

Oslo, Norway - $2 said on Monday that the work on the harbour would go on all winter." \
    "$API/v1/articles" >/dev/null
}
found() { "$NW" search --data-dir "$DATA" "$1" | grep -q "$2"; }
post "Harbour works begin" "The harbour master" || fail "first POST refused"
wait_until 60 found harbour "Harbour works begin" || fail "the first article was not stored"
ok "CURVE pair: an article stored through the primary"

PRIMARY_PID=$(cat "$DATA/run/broker.pid")
kill -STOP "$PRIMARY_PID"
wait_until 30 is_state $((P + 22)) active || fail "the backup did not take over: $(state $((P + 22)))"
ok "CURVE pair: primary frozen, backup active"
post "Harbour works go on" "The port authority" || fail "second POST refused"
wait_until 60 found authority "Harbour works go on" || fail "the second article was not stored"
ok "CURVE pair: an article stored through the backup"
kill -CONT "$PRIMARY_PID"
wait_until 30 is_state $((P + 22)) passive || fail "the backup did not step down: $(state $((P + 22)))"
is_state $((P + 21)) active || fail "the thawed primary is not active: $(state $((P + 21)))"
ok "CURVE pair: primary thawed, two actives for a moment, the backup stepped down"
post "Harbour works end" "The mayor" || fail "third POST refused"
wait_until 60 found mayor "Harbour works end" || fail "the third article was not stored"
ok "CURVE pair: an article stored through the primary again"

! grep -q "curve: refused" "$T/up.log" || fail "a peer was refused: $(grep "curve: refused" "$T/up.log" | head -3)"
grep -q 'roles on" fetch=1 worker=1 store=1 subscriber=1' "$T/up.log" || fail "the brokers ran without roles"
ok "CURVE pair: nothing refused on the bus, roles on"
kill -TERM "$PID_up"
rc=0
wait "$PID_up" || rc=$?
[ $rc = 0 ] || fail "up exited $rc after SIGTERM"
