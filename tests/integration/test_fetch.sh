#!/usr/bin/env bash
# test_fetch.sh: newswire-fetch as a real process against a real broker over tcp. Covers the
# HTTP API (ids, URL canonicalisation, every rejection reason and its status), the inbox
# (renamed-in files to done/, a binary file to rejected/, ignored dot- and .tmp files), the
# ZeroMQ ingest socket (when a C compiler is at hand to build a tiny client), /healthz,
# /metrics counters, and a clean exit 0 on SIGTERM. Without parse and store running the broker
# just queues the raw messages.
# Env: NW_BIN (build dir), NW_SRC (source dir). Exit 77 = skipped.
set -u

BIN=${NW_BIN:-}
FETCH=$BIN/services/fetch/newswire-fetch
BROKER_BIN=$BIN/services/broker/newswire-broker
for b in "$FETCH" "$BROKER_BIN"; do
  if [ -z "$BIN" ] || [ ! -x "$b" ]; then
    echo "skip: $b not built (set NW_BIN to the build directory)"
    exit 77
  fi
done
command -v curl >/dev/null || { echo "skip: curl not installed"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/nw-fetch-test.XXXXXX")
PIDS=()
cleanup() {
  exec 2>/dev/null # no "Killed" job notices for the processes ended here
  for p in "${PIDS[@]}"; do kill -9 "$p"; done
  wait
  rm -rf "$T"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for l in "$T"/*.log; do
    [ -f "$l" ] && { echo "--- $(basename "$l") (last 20 lines)"; tail -20 "$l"; }
  done
  exit 1
}
ok() { echo "ok: $*"; }
# wait_until SECONDS CMD...: poll CMD until it succeeds or the deadline passes.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# Eleven consecutive free ports: eight for the broker's derived endpoints, fetch's HTTP,
# ingest, the broker's HTTP.
free_base() {
  if command -v python3 >/dev/null; then
    python3 - <<'PY'
import random, socket
for _ in range(200):
    base = random.randint(20000, 60000)
    socks = []
    try:
        for p in range(base, base + 11):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break
PY
  else
    echo $((20000 + RANDOM % 40000))
  fi
}
P=$(free_base)
BROKER="tcp://127.0.0.1:$P"
API="http://127.0.0.1:$((P + 8))"
INGEST="tcp://127.0.0.1:$((P + 9))"
INBOX=$T/inbox
mkdir -p "$T/stage" "$INBOX"
# Already waiting when fetch starts: the initial scan must find it.
printf 'Porto, Portugal - Filed before fetch started.\n' >"$INBOX/early.txt"

BROKER_HTTP="http://127.0.0.1:$((P + 10))"
(cd "$T" && exec "$BROKER_BIN" --bind "$BROKER" --http "127.0.0.1:$((P + 10))") \
  >"$T/broker.log" 2>&1 &
PIDS+=($!)
# No store runs here, so nothing is ever acked: keep spool re-sends out of the broker's counts.
(cd "$T" && exec "$FETCH" --broker "$BROKER" --http "127.0.0.1:$((P + 8))" \
  --inbox-dir "$INBOX" --ingest "$INGEST" --max-body 1m --name fetch-test --resend-after 60m) \
  >"$T/fetch.log" 2>&1 &
FETCH_PID=$!
PIDS+=($FETCH_PID)
wait_until 20 curl -fsS "$API/healthz" || fail "fetch did not come up"
ok "fetch up (http $API, broker $BROKER)"

# post CONTENT_TYPE FILE [curl args...]: prints "STATUS BODY".
post() {
  local ct=$1 file=$2
  shift 2
  curl -sS -o "$T/resp" -w '%{http_code}' -H "Content-Type: $ct" --data-binary "@$file" \
    "$@" "$API/v1/articles" >"$T/code" || return 1
  echo "$(cat "$T/code") $(cat "$T/resp")"
}
json_field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\)\".*/\\1/p" <<<"$2"; }
expect() { # expect STATUS REASON "STATUS BODY"
  local got=${3%% *} body=${3#* }
  [ "$got" = "$1" ] || fail "want $1 $2, got: $3"
  [ "$(json_field error "$body")" = "$2" ] || fail "want error \"$2\", got: $body"
  [ -n "$(json_field message "$body")" ] || fail "no message in: $body"
}

# Accept and identity.
printf 'Cairo, Egypt - Talks resumed on Tuesday, officials said.\n' >"$T/a.txt"
r=$(post text/plain "$T/a.txt") || fail "post failed"
[ "${r%% *}" = 202 ] || fail "text/plain not accepted: $r"
id1=$(json_field id "$r")
[[ "$id1" =~ ^[0-9a-f]{32}$ ]] || fail "id is not 32 hex: $r"
[ "$(json_field status "$r")" = accepted ] || fail "no status accepted: $r"
r=$(post 'text/plain; charset=utf-8' "$T/a.txt")
[ "$(json_field id "$r")" = "$id1" ] || fail "same text, different id: $r vs $id1"
printf 'Lima, Peru - A different story entirely.\n' >"$T/b.txt"
r=$(post text/plain "$T/b.txt")
[ "${r%% *}" = 202 ] && [ "$(json_field id "$r")" != "$id1" ] || fail "different text, same id: $r"
ok "text/plain accepted with a stable 32-hex id"

r=$(post text/plain "$T/a.txt" --url-query 'url=https://Example.com/a?utm_source=x&b=1#frag')
[ "${r%% *}" = 202 ] || fail "post with url: $r"
idu1=$(json_field id "$r")
r=$(post text/plain "$T/b.txt" --url-query 'url=https://example.com/a?b=1')
idu2=$(json_field id "$r")
[ -n "$idu1" ] && [ "$idu1" = "$idu2" ] || fail "canonical URL ids differ: $idu1 vs $idu2"
[ "$idu1" != "$id1" ] || fail "URL id equals the text id"
r=$(post text/plain "$T/a.txt" -H 'X-Newswire-URL: https://EXAMPLE.com/a?b=1&utm_medium=y')
[ "$(json_field id "$r")" = "$idu1" ] || fail "X-Newswire-URL id differs: $r"
printf '{"url":"https://example.com/a?b=1","title":"T","text":"Body."}' >"$T/a.json"
r=$(post application/json "$T/a.json")
[ "$(json_field id "$r")" = "$idu1" ] || fail "JSON url id differs: $r"
r=$(post text/plain "$T/a.txt" --url-query 'url=https://example.com/other')
[ "${r%% *}" = 202 ] && [ "$(json_field id "$r")" != "$idu1" ] || fail "other URL, same id: $r"
ok "URL ids: tracking params, fragment and host case ignored; query, header and JSON agree"

printf '<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head><body>Caf\xe9</body></html>' >"$T/latin1.html"
r=$(post text/html "$T/latin1.html")
[ "${r%% *}" = 202 ] || fail "latin-1 HTML declaring its charset refused: $r"
r=$(post 'text/html; charset=ISO-8859-1' "$T/latin1.html")
[ "${r%% *}" = 202 ] || fail "latin-1 HTML with a charset parameter refused: $r"
ok "HTML in a declared non-UTF-8 charset accepted"

# One id derivation (nw_id_for_document): the same non-UTF-8 bytes get the same id from fetch
# and from `newswire extract`, with the charset in <meta> and with none at all (read as
# Latin-1). Before, extract read each bad byte as U+FFFD and disagreed with fetch.
NW_CLI=$BIN/services/newswire/newswire
if [ -x "$NW_CLI" ]; then
  printf '<html><head><title>Caf\xe9</title></head><body>Cr\xe8me br\xfbl\xe9e</body></html>' >"$T/latin1-bare.html"
  for f in latin1.html latin1-bare.html; do
    r=$(post text/html "$T/$f")
    idf=$(json_field id "$r")
    "$NW_CLI" extract --content-type text/html "$T/$f" >"$T/cli.json" 2>"$T/cli.err" ||
      fail "newswire extract $f: $(cat "$T/cli.err")"
    idc=$(json_field id "$(tr -d '\n' <"$T/cli.json")")
    [ -n "$idf" ] && [ "$idf" = "$idc" ] || fail "$f: fetch id '$idf', newswire extract id '$idc'"
  done
  ok "non-UTF-8 HTML: fetch and newswire extract derive the same id"
fi

# Rejections.
: >"$T/empty"
expect 400 empty-body "$(post text/plain "$T/empty")"
expect 415 unsupported-content-type "$(post image/png "$T/a.txt")"
printf 'caf\xe9 \xff\xfe broken\n' >"$T/bad.txt"
expect 400 invalid-utf8 "$(post text/plain "$T/bad.txt")"
# HTML is taken in any charset: parse reads undeclared non-UTF-8 as windows-1252.
r=$(post text/html "$T/bad.txt")
[ "${r%% *}" = 202 ] || fail "undeclared non-UTF-8 HTML refused: $r"
printf '{"title": "unterminated' >"$T/bad.json"
expect 400 bad-json "$(post application/json "$T/bad.json")"
printf '["an","array"]' >"$T/arr.json"
expect 400 bad-json "$(post application/json "$T/arr.json")"
head -c $((1024 * 1024)) /dev/zero | tr '\0' 'a' >"$T/max.txt"
r=$(post text/plain "$T/max.txt")
[ "${r%% *}" = 202 ] || fail "a body of exactly max-body refused: ${r:0:200}"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$T/big.txt"
r=$(post text/plain "$T/big.txt") || fail "oversized post failed"
[ "${r%% *}" = 413 ] || fail "max-body + 1 not refused with 413: ${r:0:200}"
ok "rejections: empty 400, type 415, UTF-8 400, JSON 400, max-body+1 413"

# JSON objects that can never become an article are refused at the door (422, with parse's
# reason in the message), not accepted with 202 and dead-lettered by parse later.
n422=0
for body in '{"title":"No text at all"}' '{"text":5}' '{"html":["<p>x</p>"]}' \
  '{"text":null,"html":null}' '{"text":"   \n\n  "}' '{"title":7,"text":"Body."}'; do
  printf '%s' "$body" >"$T/noart.json"
  r=$(post application/json "$T/noart.json")
  expect 422 no-article "$r"
  n422=$((n422 + 1))
done
printf '{"title":"T","html":"<html><body><p>A paragraph of text.</p></body></html>"}' >"$T/h.json"
r=$(post application/json "$T/h.json")
[ "${r%% *}" = 202 ] || fail "JSON with an html string refused: $r"
ok "JSON without usable text: $n422 of $n422 refused with 422 no-article"

# Inbox: files renamed in go to done/, a binary one to rejected/, dot- and .tmp files stay.
for i in 1 2 3; do printf 'Oslo, Norway - Inbox story number %d.\n' "$i" >"$T/stage/story$i.txt"; done
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1' >"$T/stage/photo.png"
cp "$T/bad.txt" "$T/stage/latin1.txt"
cp "$T/big.txt" "$T/stage/huge.txt"
printf 'half written' >"$INBOX/.partial"
printf 'half written' >"$INBOX/next.tmp"
for f in "$T"/stage/*; do mv "$f" "$INBOX/"; done
wait_until 15 bash -c "[ \$(ls '$INBOX/done' | wc -l) -eq 4 ] && [ \$(ls '$INBOX/rejected' | wc -l) -eq 3 ]" \
  || fail "inbox: done=[$(ls "$INBOX/done")] rejected=[$(ls "$INBOX/rejected")]"
for f in early.txt story1.txt story2.txt story3.txt; do
  [ -f "$INBOX/done/$f" ] || fail "$f not in done/"
done
for f in photo.png latin1.txt huge.txt; do
  [ -f "$INBOX/rejected/$f" ] || fail "$f not in rejected/"
done
[ -f "$INBOX/.partial" ] && [ -f "$INBOX/next.tmp" ] || fail "dot-file or .tmp file was taken"
ok "inbox: 4 files to done/ (one there before start); binary, invalid UTF-8 and oversized files to rejected/; dot- and .tmp files left alone"

# ZeroMQ ingest, through a tiny REQ client built here (libzmq is a build dependency anyway).
CC=$(command -v cc || command -v gcc || true)
if [ -n "$CC" ] && cat <<'C' | "$CC" -x c -o "$T/zreq" - -lzmq 2>"$T/cc.err"; then
#include <stdio.h>
#include <string.h>
#include <zmq.h>
/* zreq ENDPOINT FRAME...: send the frames as one request, print "STATUS JSON". */
int main(int argc, char **argv)
{
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_REQ);
    int t = 5000, linger = 0;
    char status[16] = {0}, json[1024] = {0};
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &t, sizeof t);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (argc < 3 || zmq_connect(s, argv[1]) < 0)
        return 2;
    for (int i = 2; i < argc; i++)
        zmq_send(s, argv[i], strlen(argv[i]), i + 1 < argc ? ZMQ_SNDMORE : 0);
    if (zmq_recv(s, status, sizeof status - 1, 0) < 0)
        return 3;
    int n = zmq_recv(s, json, sizeof json - 1, 0);
    printf("%s %s\n", status, n > 0 ? json : "");
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}
C
  r=$("$T/zreq" "$INGEST" text/plain "$(cat "$T/a.txt")") || fail "zmq request failed"
  [ "${r%% *}" = 202 ] && [ "$(json_field id "$r")" = "$id1" ] || fail "zmq text id: $r (want $id1)"
  r=$("$T/zreq" "$INGEST" text/plain "other body" 'https://example.com/a?b=1&utm_campaign=z')
  [ "$(json_field id "$r")" = "$idu1" ] || fail "zmq url id: $r (want $idu1)"
  expect 400 bad-request "$("$T/zreq" "$INGEST" text/plain)"
  expect 400 bad-request "$("$T/zreq" "$INGEST" text/plain a b c)"
  expect 415 unsupported-content-type "$("$T/zreq" "$INGEST" image/gif GIF89a)"
  expect 400 empty-body "$("$T/zreq" "$INGEST" text/plain '')"
  ok "zmq ingest: same ids as HTTP, bad frame counts 400, bad type 415"
  ZMQ_TESTED=1
else
  echo "note: no C compiler could build the ZeroMQ client; ingest socket not tested"
  ZMQ_TESTED=0
fi

# Health and metrics.
curl -fsS "$API/healthz" >/dev/null || fail "/healthz"
curl -fsS "$API/metrics" >"$T/metrics" || fail "/metrics"
metric() { # metric NAME LABELS -> value (0 when absent)
  awk -v k="$1{$2}" '$1 == k { v = $2 } END { print v + 0 }' "$T/metrics"
}
for reason in empty-body unsupported-content-type invalid-utf8 bad-json binary-file body-too-large; do
  [ "$(metric nw_fetch_rejected_total "reason=\"$reason\"")" -ge 1 ] \
    || fail "no nw_fetch_rejected_total for $reason: $(grep nw_fetch_rejected "$T/metrics")"
done
[ "$(metric nw_fetch_rejected_total 'reason="invalid-utf8"')" -eq 2 ] || fail "invalid-utf8 count"
[ "$(metric nw_fetch_rejected_total 'reason="bad-json"')" -eq 2 ] || fail "bad-json count"
[ "$(metric nw_fetch_rejected_total 'reason="no-article"')" -eq 6 ] || fail "no-article count"
# One oversized HTTP body (refused by the server before the handler) and one oversized file.
[ "$(metric nw_fetch_rejected_total 'reason="body-too-large"')" -eq 2 ] || fail "body-too-large count"
[ "$(metric nw_fetch_accepted_total 'source="inbox"')" -eq 4 ] || fail "inbox accepted count"
[ "$(metric nw_fetch_accepted_total 'source="http"')" -ge 11 ] || fail "http accepted count"
if [ "$ZMQ_TESTED" = 1 ]; then
  [ "$(metric nw_fetch_accepted_total 'source="zmq"')" -eq 2 ] || fail "zmq accepted count"
  [ "$(metric nw_fetch_rejected_total 'reason="bad-request"')" -eq 2 ] || fail "bad-request count"
fi
grep -q 'level=warn.*reason=invalid-utf8' "$T/fetch.log" || fail "no warn line for invalid-utf8"
ok "/healthz and /metrics answer; rejected counters by reason"

# What fetch answered 202 for is in the broker's raw queue, each rejection is a dead letter in
# the queue that feeds the store, and the broker found nothing malformed.
sum() { awk -v n="$1" 'index($1, n "{") == 1 { s += $2 } END { print s + 0 }' "$2"; }
accepted=$(sum nw_fetch_accepted_total "$T/metrics")
rejected=$(sum nw_fetch_rejected_total "$T/metrics")
bm() { # bm KEY -> value of the broker's metric KEY (0 when absent)
  curl -fsS "$BROKER_HTTP/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}
raw_is() { [ "$(bm 'nw_broker_received_total{stage="raw"}')" = "$1" ]; }
wait_until 10 raw_is "$accepted" \
  || fail "broker raw queue received $(bm 'nw_broker_received_total{stage="raw"}'), fetch accepted $accepted"
dead_is() { [ "$(bm 'nw_broker_received_total{stage="enriched"}')" = "$1" ]; }
wait_until 10 dead_is "$rejected" \
  || fail "broker got $(bm 'nw_broker_received_total{stage="enriched"}') dead letters, fetch rejected $rejected"
[ "$(bm nw_broker_bad_messages_total)" -eq 0 ] || fail "broker saw malformed messages"
ok "broker holds $accepted raw messages and $rejected dead letters"

# Backpressure: with the broker gone the pushes fill up to their high-water mark; then the
# inbox leaves files in place and HTTP answers 503 with Retry-After. When a broker is back
# every file is handed on and moved, none lost.
kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null
N=1500 # more than the push high-water mark (1000)
for i in $(seq 1 $N); do printf 'Hanoi, Vietnam - Queued story %d.\n' "$i" >"$T/stage/q$i.txt"; done
mv "$T"/stage/q*.txt "$INBOX/"
wait_until 20 grep -q 'inbox: broker queue full' "$T/fetch.log" || fail "inbox never paused"
r=$(curl -sS -D "$T/busy.headers" -o "$T/resp" -w '%{http_code}' -H 'Content-Type: text/plain' \
  --data-binary 'Busy now.' "$API/v1/articles")
[ "$r" = 503 ] || fail "a full queue did not give 503: $r $(cat "$T/resp")"
[ "$(json_field error "$(cat "$T/resp")")" = busy ] || fail "503 without error busy: $(cat "$T/resp")"
grep -qi '^Retry-After: 1' "$T/busy.headers" || fail "503 without Retry-After: $(cat "$T/busy.headers")"
left=$(ls "$INBOX" | grep -c '^q')
[ "$left" -gt 0 ] || fail "the inbox did not keep files while the queue was full"
ok "queue full: inbox paused with $left files left in place, HTTP 503 busy with Retry-After: 1"
(cd "$T" && exec "$BROKER_BIN" --bind "$BROKER" --http "127.0.0.1:$((P + 10))") \
  >"$T/broker2.log" 2>&1 &
PIDS+=($!)
inbox_empty() { ! ls "$INBOX" | grep -q '^q'; }
wait_until 60 inbox_empty || fail "inbox did not drain: $(ls "$INBOX" | grep -c '^q') files left"
[ "$(ls "$INBOX/done" | grep -c '^q')" -eq $N ] || fail "not all queued files are in done/"
wait_until 10 raw_is $N || fail "new broker received $(bm 'nw_broker_received_total{stage="raw"}') raw, want $N"
ok "broker back: all $N queued files handed on and moved to done/"

# Still alive after all of that; SIGTERM drains and exits 0.
kill -0 "$FETCH_PID" 2>/dev/null || fail "fetch died"
kill -TERM "$FETCH_PID"
# A deadline, not a timing assert. An exited child stays a zombie (kill -0 still succeeds)
# until waited for, so look at its state.
gone() { [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
wait_until 20 gone "$FETCH_PID" || fail "fetch did not exit within 20 s of SIGTERM"
wait "$FETCH_PID"
rc=$?
[ "$rc" -eq 0 ] || fail "fetch exited $rc after SIGTERM"
grep -qE 'level=error|Sanitizer|runtime error' "$T/fetch.log" && fail "error output in the log"
ok "SIGTERM: fetch exited 0"

# Without a spool (--spool-dir "", for benchmarks) a drain has nothing to sync: exit 0 too.
# (the port of the fetch that just exited)
(cd "$T" && exec "$FETCH" --broker "$BROKER" --http "127.0.0.1:$((P + 8))" --inbox-dir "" \
  --ingest "" --spool-dir "" --name fetch-nospool) >"$T/nospool.log" 2>&1 &
NOSPOOL_PID=$!
PIDS+=($NOSPOOL_PID)
wait_until 20 curl -fsS "$API/healthz" || fail "fetch without a spool did not start"
printf 'No spool\n\nOslo, Norway - An article accepted at most once.\n' |
  curl -fsS -H 'Content-Type: text/plain' --data-binary @- "$API/v1/articles" >/dev/null ||
  fail "fetch without a spool refused an article"
kill -TERM "$NOSPOOL_PID"
wait_until 20 gone "$NOSPOOL_PID" || fail "fetch without a spool did not exit"
rc=0
wait "$NOSPOOL_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "fetch without a spool exited $rc after SIGTERM: $(tail -3 "$T/nospool.log")"
ok "SIGTERM without a spool: fetch exited 0"
echo "PASS test_fetch"
