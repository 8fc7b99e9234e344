#!/usr/bin/env bash
# test_spool_disk.sh: disk trouble. A file-size limit is put on the running fetch (prlimit
# --fsize), so spool appends fail with EFBIG: items get 503 {"error":"spool-unavailable"} with
# Retry-After, the episode is logged once and counted, fetch keeps running and nothing it
# accepted before is lost. With the limit raised again the same items are accepted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/spool_lib.sh"
command -v prlimit >/dev/null || skip "prlimit (util-linux) not installed"

start_pipeline
client 0 5 c1
wait_until 30 client_finished c1 || fail "the first 5 were not accepted"
ok "5 articles accepted"
size=$(du -cb "$SPOOL"/*.spool | tail -1 | cut -f1)
# Only the soft limit: raising it back needs no privilege.
prlimit --pid "$PID_fetch" --fsize="$size:unlimited" || fail "prlimit failed"

post() {
  printf 'Spool test article 01%02d\n\nLisbon, Portugal - Refused while the disk was full, then accepted.\n' \
    "$1" >"$T/article.txt"
  curl -sS -D "$T/headers" -o "$T/resp" -w '%{http_code}' -H 'Content-Type: text/plain' \
    --data-binary "@$T/article.txt" "$FETCH_HTTP/v1/articles"
}
for i in 1 2 3; do
  r=$(post $i)
  [ "$r" = 503 ] || fail "an append over the file-size limit gave $r: $(cat "$T/resp")"
  grep -q '"error":"spool-unavailable"' "$T/resp" || fail "503 without spool-unavailable: $(cat "$T/resp")"
  grep -qi '^Retry-After:' "$T/headers" || fail "503 without Retry-After"
done
grep -q 'File too large' "$T/resp" || fail "the message does not name the error: $(cat "$T/resp")"
[ "$(grep -c 'spool append failed' "$T/fetch.log")" = 1 ] || fail "the episode was not logged exactly once"
errors=$(metric "$FETCH_HTTP" nw_fetch_spool_errors_total)
[ "${errors%.*}" -ge 3 ] || fail "nw_fetch_spool_errors_total is $errors"
kill -0 "$PID_fetch" || fail "fetch died on EFBIG"
ok "file-size limit: 3 items refused with 503 spool-unavailable, logged once, counted"

prlimit --pid "$PID_fetch" --fsize=unlimited:unlimited || fail "prlimit failed"
for i in 1 2 3; do
  r=$(post $i)
  [ "$r" = 202 ] || fail "after the limit was raised: $r $(cat "$T/resp")"
done
grep -q 'spool writable again' "$T/fetch.log" || fail "the end of the episode was not logged"
ok "limit raised: the same 3 accepted"
wait_until 30 stored_is 8 || fail "store holds $(db_query "$DB" "select count(*) from articles") articles, want 8"
exactly_once 8
wait_until 20 unacked_is_zero || fail "spool still holds $(metric "$FETCH_HTTP" nw_fetch_spool_unacked) unacked"
ok "all 8 accepted articles stored once; nothing unacked"
