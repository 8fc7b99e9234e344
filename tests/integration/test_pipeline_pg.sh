#!/usr/bin/env bash
# test_pipeline_pg.sh: the pipeline with TWO store processes sharing one PostgreSQL database
# (a real server started for the test). 200 articles go in through a spooling fetch; both
# stores take batches; one store is killed with SIGKILL mid-run and restarted. Every article is
# stored exactly once (nothing lost, nothing twice), `newswire search` finds them and
# `newswire get` prints one, both pointed at the database by its URI.
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
client 0 200 b
# Both stores take part before one of them dies.
wait_until 60 stored_by "$STORE_A_HTTP" || fail "store a stored nothing: $(tail -3 "$T/store_a.log")"
wait_until 60 stored_by "$STORE_B_HTTP" || fail "store b stored nothing: $(tail -3 "$T/store_b.log")"
kill -KILL "$PID_store_a"
ok "both stores wrote; store a killed with SIGKILL after $(client_done b) of 200 accepted"
sleep 2 # what store a held unacked is re-sent by fetch and redelivered by the broker
start_store_a
wait_until 120 client_finished b || fail "the client did not finish: $(tail -3 "$T/client-b.log")"
wait_until 60 stored_is 200 || fail "the database holds $(db_query "" "select count(*) from articles") articles, want 200"
exactly_once 200
ok "200 articles stored exactly once by two stores"
wait_until 30 unacked_is_zero || fail "spool still holds $(metric "$FETCH_HTTP" nw_fetch_spool_unacked) unacked"
ok "every article acked"

# The CLI reads the same database by its URI.
hits=$("$NW" search --db "$NW_PG" --limit 500 --json harbour council | wc -l)
[ "$hits" -eq 200 ] || fail "search found $hits articles, want 200"
hit=$("$NW" search --db "$NW_PG" --limit 1 "\"item 17 of the plan\"") || fail "search failed"
id=$(printf '%s\n' "$hit" | awk 'NR == 1 { print $1 }')
[ -n "$id" ] || fail "no hit for a phrase: $hit"
"$NW" get --db "$NW_PG" "$id" >"$T/get.json" || fail "newswire get $id failed"
grep -q '"Spool test article 0017"' "$T/get.json" || fail "get $id: $(head -c 300 "$T/get.json")"
ok "newswire search finds all 200 and get prints article $id"
