#!/usr/bin/env bash
# test_spool_store_kill.sh: the store is killed with SIGKILL while articles flow and restarted
# two seconds later. What it had not committed is re-sent by fetch (no ack came within
# resend-after) and redelivered by the broker; the idempotent store keeps each article once.
# Once idle, the broker counts nothing in flight, and killing the store then sends no
# committed job round again (workers used to hold READY back until half their window was
# free, so the broker requeued up to ~500 committed jobs of a killed store).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/spool_lib.sh"

start_pipeline
client 0 200 b
wait_progress 60 180 'client_done b' at_least b 50 || fail "the client got no 202s ($WAIT_WHY): $(tail -3 "$T/client-b.log")"
kill -KILL "$PID_store"
ok "store killed with SIGKILL after $(client_done b) of 200 accepted"
sleep 2 # longer than resend-after: what is accepted now goes unacked and is re-sent
start_store
# Progress-based waits: a saturated machine is slow, not wrong; a stall of a minute fails.
wait_progress 60 240 'client_done b' client_finished b || fail "the client did not finish ($WAIT_WHY): $(tail -3 "$T/client-b.log")"
wait_progress 60 180 stored_n stored_is 200 || fail "store holds $(db_query "$DB" "select count(*) from articles") articles, want 200 ($WAIT_WHY)"
exactly_once 200
ok "200 articles stored exactly once"
wait_progress 60 180 'metric "$FETCH_HTTP" nw_fetch_spool_unacked' unacked_is_zero || fail "spool still holds $(metric "$FETCH_HTTP" nw_fetch_spool_unacked) unacked ($WAIT_WHY)"
resent=$(metric "$FETCH_HTTP" nw_fetch_resent_total)
[ "${resent%.*}" -gt 0 ] || fail "nothing was re-sent while the store was down"
ok "every article acked; $resent re-sends covered the store's absence"

# broker_gauge NAME STAGE: one gauge of the broker for one stage.
broker_gauge() {
  curl -fsS "$BROKER_HTTP/metrics" | awk -v k="$1{stage=\"$2\"}" '$1 == k { print $2 }'
}
idle() { [ "$(broker_gauge nw_broker_inflight enriched)" = 0 ]; }
wait_until 10 idle || fail "idle pipeline, yet the broker counts $(broker_gauge nw_broker_inflight enriched) enriched jobs in flight"
requeued=$(metric "$BROKER_HTTP" nw_broker_requeued_total)
kill -KILL "$PID_store"
gone() { [ "$(broker_gauge nw_broker_workers enriched)" = 0 ]; }
wait_until 20 gone || fail "the broker did not notice the killed store"
[ "$(metric "$BROKER_HTTP" nw_broker_requeued_total)" = "$requeued" ] ||
  fail "killing an idle store requeued $(($(metric "$BROKER_HTTP" nw_broker_requeued_total) - requeued)) committed jobs"
ok "idle: nothing in flight at the broker; killing the store requeues nothing"
