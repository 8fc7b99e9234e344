#!/usr/bin/env bash
# test_store_disk.sh: disk trouble on the store's side. A file-size limit of one byte is put on
# the running store (prlimit --fsize), so every write to the database and its WAL fails with
# EFBIG: each commit is rolled back, logged and retried with backoff, nothing is acknowledged,
# so fetch keeps the articles in its spool. The store keeps running; once the limit is raised
# the batch commits and every accepted article is stored exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/spool_lib.sh"
command -v prlimit >/dev/null || skip "prlimit (util-linux) not installed"

# The store's log goes through a pipe so the limit hits the database, not the log file.
start_store() {
  "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA" --batch-ms 5 \
    > >(cat >>"$T/store.log") 2>&1 &
  PID_store=$!
  NW_PIDS+=($PID_store)
}
start_pipeline
client 0 5 c1
wait_until 30 client_finished c1 || fail "the first 5 were not accepted"
wait_until 30 stored_is 5 || fail "the first 5 were not stored"
ok "5 articles stored"

prlimit --pid "$PID_store" --fsize=1:unlimited || fail "prlimit failed"
client 5 3 c2
wait_until 30 client_finished c2 || fail "fetch did not accept while the store's disk was full"
wait_until 30 grep -q 'File too large\|disk is full\|disk I/O error\|database or disk is full' "$T/store.log" \
  || fail "the store did not report the failed commit: $(tail -5 "$T/store.log")"
sleep 2 # let it retry at least once more
kill -0 "$PID_store" || fail "the store died on EFBIG"
[ "$(db_query "$DB" "select count(*) from articles")" = 5 ] || fail "an article was stored while the disk was full?"
unacked=$(metric "$FETCH_HTTP" nw_fetch_spool_unacked)
[ "${unacked%.*}" -ge 3 ] || fail "fetch's spool holds $unacked unacked, want the 3 not yet stored"
ok "disk full: 3 accepted by fetch, commits failing and retried, kept unacked in the spool"

prlimit --pid "$PID_store" --fsize=unlimited:unlimited || fail "prlimit failed"
wait_until 60 stored_is 8 || fail "store holds $(db_query "$DB" "select count(*) from articles") articles after the limit was raised, want 8"
exactly_once 8
wait_until 30 unacked_is_zero || fail "spool still holds $(metric "$FETCH_HTTP" nw_fetch_spool_unacked) unacked"
ok "limit raised: all 8 stored once; nothing unacked"
