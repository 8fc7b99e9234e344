#!/usr/bin/env bash
# test_pipeline_pg.sh: the pipeline with TWO store processes sharing one PostgreSQL database
# (a real server started for the test). 200 articles go in through a spooling fetch; both
# stores take batches; one store is killed with SIGKILL mid-run and restarted. Every article is
# stored exactly once (nothing lost, nothing twice), `newswire search` finds them and
# `newswire get` prints one, both pointed at the database by its URI. A `newswire tail --since
# 0` that drops every third live message follows the whole run: the two stores commit seqs out
# of order, and it still prints every stored revision once, in seq order, from the live
# stream and the database together. newswire-query, given the URI, serves an article, a
# search and an SSE stream of every revision once in seq order, and never logs the URI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
pg_start
. "$(dirname "$0")/spool_lib.sh"

STORE_A_HTTP=127.0.0.1:$((P + 10))
STORE_B_HTTP=127.0.0.1:$((P + 11))
# spool_lib's checks read the database through db_query: here it is PostgreSQL.
db_query() { pg_sql "$2"; }
start_store_a() { start store_a "$(svc_bin store)" --broker "$BROKER" --db "$NW_PG" --batch-ms 5 --http "$STORE_A_HTTP"; }
start_store_b() { start store_b "$(svc_bin store)" --broker "$BROKER" --db "$NW_PG" --batch-ms 5 --http "$STORE_B_HTTP"; }
start_store() { start_store_a; start_store_b; }
stored_by() { [ "$(metric "http://$1" nw_store_articles_total)" -gt 0 ] 2>/dev/null; }

start_pipeline
wait_until 20 curl -fsS "http://$STORE_A_HTTP/healthz" || fail "store a did not come up: $(tail -3 "$T/store_a.log")"
wait_until 20 curl -fsS "http://$STORE_B_HTTP/healthz" || fail "store b did not come up: $(tail -3 "$T/store_b.log")"
NW_TEST_TAIL_DROP_EVERY=3 "$NW" tail --broker "$BROKER" --db "$NW_PG" --check 200ms --stats --since 0 --count 200 all \
  >"$T/tail.out" 2>"$T/tail.err" &
TAIL_PID=$!
NW_PIDS+=($TAIL_PID)
wait_until 30 grep -q "backfill after seq" "$T/tail.err" || fail "tail did not start: $(cat "$T/tail.err")"
client 0 200 b
# Both stores take part before one of them dies.
wait_until 60 stored_by "$STORE_A_HTTP" || fail "store a stored nothing: $(tail -3 "$T/store_a.log")"
wait_until 60 stored_by "$STORE_B_HTTP" || fail "store b stored nothing: $(tail -3 "$T/store_b.log")"
kill -KILL "$PID_store_a"
ok "both stores wrote; store a killed with SIGKILL after $(client_done b) of 200 accepted"
sleep 2 # what store a held unacked is re-sent by fetch and redelivered by the broker
start_store_a
# Progress-based waits: a saturated machine is slow, not wrong; a stall of a minute fails.
wait_progress 60 240 'client_done b' client_finished b || fail "the client did not finish ($WAIT_WHY): $(tail -3 "$T/client-b.log")"
wait_progress 60 180 stored_n stored_is 200 || fail "the database holds $(db_query "" "select count(*) from articles") articles, want 200 ($WAIT_WHY)"
exactly_once 200
ok "200 articles stored exactly once by two stores"
wait_progress 60 180 'metric "$FETCH_HTTP" nw_fetch_spool_unacked' unacked_is_zero || fail "spool still holds $(metric "$FETCH_HTTP" nw_fetch_spool_unacked) unacked ($WAIT_WHY)"
ok "every article acked"

wait_until 60 bash -c "! kill -0 $TAIL_PID 2>/dev/null" \
  || fail "tail did not finish: $(wc -l <"$T/tail.out") lines; $(cat "$T/tail.err")"
wait "$TAIL_PID" || fail "tail exited with $?: $(cat "$T/tail.err")"
pg_sql "select seq from revisions order by seq" >"$T/tail.want"
python3 - "$T/tail.out" "$T/tail.want" <<'PY' || fail "tail: see above; stderr: $(cat "$T/tail.err")"
import json, sys
seqs = [json.loads(line)["seq"] for line in open(sys.argv[1])]
want = [int(x) for x in open(sys.argv[2]).read().split()]
assert len(seqs) == len(set(seqs)), f"{len(seqs) - len(set(seqs))} duplicate seqs"
assert seqs == sorted(seqs), "not in seq order"
assert seqs == want, f"printed {len(seqs)} seqs, want {len(want)}; missing {sorted(set(want) - set(seqs))[:10]}"
PY
ok "tail --since 0: all 200 once, in seq order ($(tail -1 "$T/tail.err" | sed 's/^newswire tail: //'))"

# The CLI reads the same database by its URI.
hits=$("$NW" search --db "$NW_PG" --limit 500 --json harbour council | wc -l)
[ "$hits" -eq 200 ] || fail "search found $hits articles, want 200"
hit=$("$NW" search --db "$NW_PG" --limit 1 "\"item 17 of the plan\"") || fail "search failed"
id=$(printf '%s\n' "$hit" | awk 'NR == 1 { print $1 }')
[ -n "$id" ] || fail "no hit for a phrase: $hit"
"$NW" get --db "$NW_PG" "$id" >"$T/get.json" || fail "newswire get $id failed"
grep -q '"Spool test article 0017"' "$T/get.json" || fail "get $id: $(head -c 300 "$T/get.json")"
ok "newswire search finds all 200 and get prints article $id"

# newswire-query reads the same database by its URI: one article, a search, and the SSE
# stream from seq 0, which must deliver every stored revision once and in seq order (the
# same settled horizon as tail, through follow.c).
QUERY_HTTP=127.0.0.1:$((P + 9))
start query "$(svc_bin query)" --broker "$BROKER" --db "$NW_PG" --http "$QUERY_HTTP" --check 200ms
wait_until 20 curl -fsS "http://$QUERY_HTTP/healthz" || fail "query did not come up: $(tail -3 "$T/query.log")"
grep -q 'postgresql://' "$T/query.log" && fail "query logged the database URI: $(grep -m1 'postgresql://' "$T/query.log")"
curl -fsS "http://$QUERY_HTTP/v1/articles/$id" >"$T/q-get.json" || fail "GET /v1/articles/$id failed"
grep -q '"Spool test article 0017"' "$T/q-get.json" || fail "GET /v1/articles/$id: $(head -c 300 "$T/q-get.json")"
curl -fsS "http://$QUERY_HTTP/v1/search?q=harbour%20council&limit=500" >"$T/q-search.json" || fail "GET /v1/search failed"
python3 -c "import json,sys; h=json.load(open(sys.argv[1]))['hits']; assert len(h)==200, len(h)" \
  "$T/q-search.json" || fail "GET /v1/search: $(head -c 300 "$T/q-search.json")"
curl -sSN "http://$QUERY_HTTP/v1/stream?since=0" >"$T/q.sse" 2>"$T/q-sse.err" &
SSE_PID=$!
NW_PIDS+=($SSE_PID)
sse_ids() { awk '/^id: / { id = $2 } /^data: / && id { print id; id = "" }' "$T/q.sse"; }
sse_count_is() { [ "$(sse_ids | wc -l)" -ge "$1" ]; }
wait_until 30 sse_count_is "$(wc -l <"$T/tail.want")" || fail "stream delivered $(sse_ids | wc -l) events: $(cat "$T/q-sse.err")"
kill "$SSE_PID"
sse_ids | diff - "$T/tail.want" >/dev/null || fail "stream ids differ from the stored seqs: $(sse_ids | diff - "$T/tail.want" | head -5)"
ok "newswire-query on PostgreSQL: GET, search, and the stream of all 200 once in seq order"
