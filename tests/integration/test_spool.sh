#!/usr/bin/env bash
# test_spool.sh: nothing lost, nothing doubled when fetch dies. The whole pipeline runs; a
# client posts 200 articles, retrying whatever did not get a 202; fetch is killed with SIGKILL
# in the middle of the stream and restarted. The store must end with exactly the 200
# articles, once each, and fetch's spool with nothing unacked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/spool_lib.sh"

start_pipeline
client 0 200 a
wait_progress 60 180 'client_done a' at_least a 60 || fail "the client got no 202s ($WAIT_WHY): $(tail -3 "$T/client-a.log")"
kill -KILL "$PID_fetch"
ok "fetch killed with SIGKILL after $(client_done a) of 200 accepted"
sleep 0.5 # the client keeps trying meanwhile
start_fetch
grep -q 'spool .*unacked' "$T/fetch.log" || fail "the restarted fetch did not report its spool"
# Progress-based waits: a saturated machine is slow, not wrong; a stall of a minute fails.
wait_progress 60 240 'client_done a' client_finished a || fail "the client did not finish ($WAIT_WHY): $(tail -3 "$T/client-a.log")"
wait_progress 60 180 stored_n stored_is 200 || fail "store holds $(db_query "$DB" "select count(*) from articles") articles, want 200 ($WAIT_WHY)"
exactly_once 200
ok "200 articles stored exactly once"
wait_progress 60 180 'metric "$FETCH_HTTP" nw_fetch_spool_unacked' unacked_is_zero || fail "spool still holds $(metric "$FETCH_HTTP" nw_fetch_spool_unacked) unacked ($WAIT_WHY)"
acked=$(metric "$FETCH_HTTP" nw_fetch_acked_total)
[ "${acked%.*}" -gt 0 ] || fail "the restarted fetch saw no acks"
ok "spool compacted: nothing unacked, $acked acks after the restart"
for p in $PID_broker $PID_store $PID_parse $PID_enrich $PID_fetch; do
  kill -0 "$p" 2>/dev/null || fail "a service exited"
done
