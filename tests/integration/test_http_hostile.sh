#!/usr/bin/env bash
# test_http_hostile.sh: hostile HTTP clients against the real fetch and newswire-query
# (issue 16, findings 2 and 4). Each check failed on the code before the hardening:
#   - slowloris: heads trickled a byte at a time are cut at --http-header-timeout (each byte
#     used to reset MHD's 60 s timeout), and another client is served meanwhile;
#   - idle connections: one address holds at most --http-per-ip, and they are closed at the
#     head deadline; a client from another address is served;
#   - held uploads: a body is refused from its head when the route, method or token is wrong
#     (404, 405, 413 on GET, 401) without waiting for it; bodies buffered at once share one
#     cap (503 past it), so 20 held 15 MB uploads leave fetch's memory nearly flat;
#   - smuggling: two Content-Length headers, or Content-Length with chunked, get 400 and the
#     connection closes, with no second answer from the surplus bytes;
#   - stream clients that never read are dropped after --http-stream-stall;
#   - tokens: off loopback the services refuse to start without --http-tokens; with tokens,
#     401 without one, 403 without the scope, /healthz open; HTTPS with --http-cert.
# Bounded time: the deadlines are set to seconds and every wait has a limit.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)" "$(svc_bin query)"
H="python3 $NW_SRC/tests/integration/hostile.py"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))' "$1" "$2"; }

P=$(free_ports 12)
BROKER="tcp://127.0.0.1:$P"
API_PORT=$((P + 8))
Q_PORT=$((P + 9))
API="127.0.0.1:$API_PORT"
Q="127.0.0.1:$Q_PORT"
DATA=$T/data
mkdir -p "$DATA" "$T/docs"
HARD=(--http-header-timeout 2s --http-body-timeout 3s --http-stream-stall 2s --http-per-ip 16
  --http-buffered-max 16m)

start broker "$(svc_bin broker)" --bind "$BROKER"
start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA"
start parse "$(svc_bin parse)" --broker "$BROKER"
start enrich "$(svc_bin enrich)" --broker "$BROKER"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "" --ingest "" \
  --name fetch-hostile --spool-dir "$DATA/spool" --max-body 32m "${HARD[@]}"
start query "$(svc_bin query)" --broker "$BROKER" --http "$Q" --data-dir "$DATA" --check 200ms \
  --stream-buffer 4k "${HARD[@]}"
wait_until 20 curl -fsS "http://$API/healthz" || fail "fetch did not come up: $(tail -5 "$T/fetch.log")"
wait_until 30 curl -fsS "http://$Q/healthz" || fail "query did not come up: $(tail -5 "$T/query.log")"
ok "services up"

python3 - "$T/docs" <<'PY'
import os, sys
for i in range(30):
    text = (f"Harbour works {i:03d} begin\n\n" + "The port authority said the harbour cranes "
            f"would run again from December, the company said on Monday, plan {i}. " * 40 + "\n")
    open(os.path.join(sys.argv[1], f"h{i:03d}.txt"), "w").write(text)
PY
"$NW" ingest --api "http://$API" "$T/docs" >/dev/null || fail "ingest failed"
stored() { db_query "$DATA/newswire.db" "select count(*) from articles" 2>/dev/null || echo 0; }
stored_is() { [ "$(stored)" = "$1" ]; }
wait_until 60 stored_is 30 || fail "store holds $(stored) articles, want 30"
ok "30 articles stored"

# --- slowloris ---
for port in $API_PORT $Q_PORT; do
  r=$($H slowloris 127.0.0.1 $port n=20 interval=0.2 limit=15)
  [ "$(jget "$r" still_open)" = 0 ] || fail "slowloris connections outlived the head deadline: $r"
  [ "$(jget "$r" 'all_closed_after_s < 6')" = True ] || fail "slowloris cut too late: $r"
  [ "$(jget "$r" healthz_status)" = 200 ] || fail "healthz during slowloris: $r"
done
ok "slowloris: heads cut at the deadline on fetch and query, others served"

# --- idle connections from one address ---
r=$($H idle 127.0.0.1 $Q_PORT n=200 limit=15)
[ "$(jget "$r" 'held_after_1s <= 16')" = True ] || fail "one address held more than --http-per-ip: $r"
[ "$(jget "$r" still_held)" = 0 ] || fail "idle connections were not closed: $r"
[ "$(jget "$r" other_client_healthz)" = 200 ] || fail "another client was not served: $r"
ok "idle: $(jget "$r" held_after_1s) of 200 held, closed after $(jget "$r" all_closed_after_s) s"

# --- bodies refused from the head, before a byte is read ---
expect_early() { # STATUS METHOD PORT PATH
  local r
  r=$($H early 127.0.0.1 "$3" method="$2" path="$4")
  [ "$(jget "$r" status)" = "$1" ] && [ "$(jget "$r" 'answered_s < 2')" = True ] ||
    fail "$2 $4 with an unsent 10 MB body: want $1 at once, got $r"
}
expect_early 404 POST $API_PORT /nope
expect_early 405 PUT $API_PORT /v1/articles
expect_early 413 GET $Q_PORT /v1/search
expect_early 413 GET $API_PORT /healthz
ok "bodies refused from the head: 404, 405, 413 for a body on GET"

# --- held uploads: one cap on buffered bytes ---
FPID=$PID_fetch
r=$($H uploads 127.0.0.1 $API_PORT pid=$FPID n=20 declared=$((15 << 20)) sent=$((4 << 20)) hold=1)
echo "uploads: $r"
[ "$(jget "$r" 'statuses.get("503", 0) >= 17')" = True ] || fail "uploads past the cap were not refused 503: $r"
[ "$(jget "$r" 'rss_growth_mb < 40')" = True ] || fail "held uploads grew fetch by $(jget "$r" rss_growth_mb) MB: $r"
wait_until 10 curl -fsS "http://$API/healthz" || fail "fetch unhealthy after held uploads"
ok "held uploads: $(jget "$r" statuses) answers, fetch grew $(jget "$r" rss_growth_mb) MB"

# --- smuggling ---
for kind in two-cl cl-chunked; do
  r=$($H smuggle 127.0.0.1 $API_PORT kind=$kind)
  [ "$(jget "$r" statuses)" = "[400]" ] && [ "$(jget "$r" closed)" = True ] ||
    fail "$kind: want one 400 and a closed connection, got $r"
done
ok "smuggling: two Content-Lengths and Content-Length with chunked get 400, connection closed"

# --- stream clients that never read ---
wait_until 10 curl -fsS "http://$Q/healthz" || fail "query is down: $(tail -5 "$T/query.log")"
r=$($H stream_readers 127.0.0.1 $Q_PORT n=5 hold=8)
[ "$(jget "$r" closed_by_server)" = 5 ] || fail "stream clients that never read were not dropped: $r"
stalled=$(curl -fsS "http://$Q/metrics" | awk '/^nw_http_dropped_total\{reason="stream-stalled"\}/ { print $2 }')
[ "${stalled:-0}" -ge 5 ] || fail "dropped streams not counted as stalled: ${stalled:-none}"
[ "$(metric "http://$Q" nw_query_streams)" = 0 ] || fail "stream clients still counted"
ok "stream clients that never read dropped ($r)"

# --- queries that cannot take newswire-query down ---
THE100=$(python3 -c 'print("the%20" * 100)')
r=$(curl -s -o "$T/q.json" -w '%{http_code} %{time_total}' "http://$Q/v1/search?q=$THE100")
[ "${r% *}" = 400 ] && grep -q query-too-long "$T/q.json" || fail "q='the '*100: want 400 query-too-long, got $r $(cat "$T/q.json")"
LONG=$(python3 -c 'print("x" * 300)')
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$Q/v1/search?q=$LONG")" = 400 ] || fail "a 300-byte query was not 400"
THE16=$(python3 -c 'print("%20".join(["the"] * 16))')
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$Q/v1/search?q=$THE16")" = 200 ] || fail "16 terms were refused"
[ "$(metric "http://$Q" nw_query_searches_total)" -ge 1 ] || fail "searches did not run on the worker"
ok "queries: 100 terms or 300 bytes refused 400, 16 terms answered off the loop"
# a topic nothing matches, since 0: the page is read from that topic's (empty) index range
r=$(curl -fsS "http://$Q/v1/articles?topic=nomatch.at.all&since=0")
[ "$(jget "$r" 'len(articles)')" = 0 ] && [ "$(jget "$r" 'next is None and total == 0')" = True ] ||
  fail "topic page: $r"
ok "a topic nothing matches: an empty last page from one empty index range"

# --- tokens ---
TOK=$T/tokens
READ=$("$NW" token new --scope read --name reader --file "$TOK")
INGEST=$("$NW" token new --scope ingest --name writer --file "$TOK")
grep -q "$READ" "$TOK" && fail "the token file holds a token in clear"
[ "$(grep -c '^sha256:[0-9a-f]\{64\} ' "$TOK")" = 2 ] || fail "token file: $(cat "$TOK")"
P2=$(free_ports 4)
if "$(svc_bin query)" --broker "$BROKER" --http "0.0.0.0:$P2" --data-dir "$DATA" >"$T/open.log" 2>&1; then
  fail "query served 0.0.0.0 without --http-tokens"
fi
grep -q "without --http-tokens" "$T/open.log" || fail "no reason given: $(cat "$T/open.log")"
start query_tok "$(svc_bin query)" --broker "$BROKER" --http "0.0.0.0:$P2" --data-dir "$DATA" \
  --http-tokens "$TOK"
start fetch_tok "$(svc_bin fetch)" --broker "$BROKER" --http "127.0.0.1:$((P2 + 1))" \
  --inbox-dir "" --ingest "" --name fetch-tok --spool-dir "$DATA/spool-tok" --http-tokens "$TOK"
QT="http://127.0.0.1:$P2"
FT="http://127.0.0.1:$((P2 + 1))"
wait_until 30 curl -fsS "$QT/healthz" || fail "query with tokens did not come up: $(tail -3 "$T/query_tok.log")"
wait_until 20 curl -fsS "$FT/healthz" || fail "fetch with tokens did not come up: $(tail -3 "$T/fetch_tok.log")"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$QT/v1/search?q=harbour")" = 401 ] || fail "search without a token was not 401"
[ "$(code -H "Authorization: Bearer nwt_0000" "$QT/v1/search?q=harbour")" = 401 ] || fail "unknown token not 401"
[ "$(code -H "Authorization: Bearer $INGEST" "$QT/v1/search?q=harbour")" = 403 ] || fail "ingest token read"
[ "$(code -H "Authorization: Bearer $READ" "$QT/v1/search?q=harbour")" = 200 ] || fail "read token refused"
[ "$(code -H "Authorization: Bearer $READ" "$QT/metrics")" = 200 ] || fail "read token refused on /metrics"
[ "$(code "$QT/metrics")" = 401 ] || fail "/metrics open with tokens"
post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary @- "$@"; }
[ "$(echo "Anonymous rewrite of harbour story" | post "$FT/v1/articles?url=https://example.com/h001")" = 401 ] ||
  fail "anonymous POST was not 401"
[ "$(echo "Reader rewrite" | post -H "Authorization: Bearer $READ" "$FT/v1/articles")" = 403 ] ||
  fail "read token could POST"
r=$($H early 127.0.0.1 $((P2 + 1)) method=POST path=/v1/articles)
[ "$(jget "$r" status)" = 401 ] && [ "$(jget "$r" 'answered_s < 2')" = True ] ||
  fail "an anonymous 10 MB upload was not refused from its head: $r"
[ "$(echo "Night trains return to the valley, the operator said." |
  post -H "Authorization: Bearer $INGEST" "$FT/v1/articles")" = 202 ] || fail "ingest token refused"
NEWSWIRE_TOKEN=$INGEST "$NW" ingest --api "$FT" "$T/docs/h001.txt" >/dev/null ||
  fail "newswire ingest with NEWSWIRE_TOKEN was refused"
"$NW" ingest --api "$FT" "$T/docs/h002.txt" >/dev/null 2>&1 && fail "newswire ingest without a token got in"
ok "tokens: 401 without, 403 without the scope, 200/202 with; /healthz open; 0.0.0.0 refused without"

# --- HTTPS ---
if command -v openssl >/dev/null 2>&1; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
  start query_tls "$(svc_bin query)" --broker "$BROKER" --http "127.0.0.1:$((P2 + 2))" \
    --data-dir "$DATA" --http-cert "$T/cert.pem" --http-key "$T/key.pem" --http-tokens "$TOK"
  QS="https://127.0.0.1:$((P2 + 2))"
  wait_until 30 curl -fsS --cacert "$T/cert.pem" "$QS/healthz" ||
    fail "HTTPS query did not come up: $(tail -3 "$T/query_tls.log")"
  n=$(curl -fsS --cacert "$T/cert.pem" -H "Authorization: Bearer $READ" "$QS/v1/search?q=harbour" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["hits"]))')
  [ "$n" -gt 0 ] || fail "no hits over HTTPS"
  curl -fsS "http://127.0.0.1:$((P2 + 2))/healthz" >/dev/null 2>&1 && fail "plain HTTP answered on the TLS port"
  ok "HTTPS with --http-cert: $n hits with a read token, plain HTTP refused"
else
  echo "note: openssl not installed; HTTPS not checked"
fi
