#!/usr/bin/env bash
# test_kafka.sh: the Kafka bridge (services/kafka) against librdkafka's mock cluster, with a real
# broker, fetch, parse, enrich and store. kafka_harness owns the mock cluster (3 brokers) and
# plays the newsroom: it produces raw documents into news.in and reads news.out back.
#   1. 40 documents produced into news.in are stored; each stored article appears on news.out
#      with its id as key and its newswire topic as a header; a document fetch refuses (415) is
#      counted, dead-lettered by fetch and committed, not retried for ever.
#   2. 200 more while a mock broker goes down, and the bridge is killed (SIGKILL) mid-stream and
#      restarted: every document is stored exactly once (no lost, no doubled revision), and
#      every stored article is on news.out at least once with its id as key.
#   3. fetch killed: the bridge retries one message, commits nothing, says so on /healthz (and
#      /readyz names the lost connection to fetch); with fetch back, the rest is stored once
#      each and /readyz is 200 again.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HARNESS=$NW_BIN/tests/kafka_harness
KAFKA=$(svc_bin kafka)
[ -x "$KAFKA" ] || skip "newswire-kafka is not built (librdkafka-dev missing)"
require_bins "$HARNESS" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)"

P=$(free_ports 12)
BROKER="tcp://127.0.0.1:$P"
INGEST="tcp://127.0.0.1:$((P + 8))"
API="127.0.0.1:$((P + 9))"
KHTTP="127.0.0.1:$((P + 10))"
DATA=$T/data
DB=$DATA/newswire.db
mkdir -p "$DATA"

start broker "$(svc_bin broker)" --bind "$BROKER"
start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA"
start parse "$(svc_bin parse)" --broker "$BROKER"
start enrich "$(svc_bin enrich)" --broker "$BROKER"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "" --ingest "$INGEST" \
  --name fetch-kafka --spool-dir "$DATA/spool"
wait_until 30 curl -fsS "http://$API/healthz" || fail "fetch did not come up: $(tail -5 "$T/fetch.log")"

coproc HARN { "$HARNESS" 2>"$T/harness.err"; }
NW_PIDS+=("$HARN_PID")
# cmd LINE: send a command to the harness and print its answer (fail on "err" or silence).
cmd() {
  local answer
  echo "$1" >&"${HARN[1]}"
  read -r -t "${2:-180}" answer <&"${HARN[0]}" || fail "harness did not answer '$1': $(cat "$T/harness.err")"
  case $answer in ok*) echo "$answer" ;; *) fail "harness: '$1' -> $answer" ;; esac
}
read -r -t 30 word BOOTSTRAP <&"${HARN[0]}" || fail "harness did not start: $(cat "$T/harness.err")"
[ "$word" = bootstrap ] || fail "harness said '$word $BOOTSTRAP'"
ok "mock cluster at $BOOTSTRAP; services up"

bridge() {
  start kafka "$KAFKA" --broker "$BROKER" --bootstrap "$BOOTSTRAP" --in-topics news.in \
    --ingest "$INGEST" --ingest-timeout 3s --out-topic news.out --data-dir "$DATA" \
    --http "$KHTTP" --check 200ms --session-timeout 6s
}
stored() { db_query "$DB" "select count(*) from revisions" 2>/dev/null || echo 0; }
stored_ge() { [ "$(stored)" -ge "$1" ]; }
wait_stored() {
  wait_until "$2" stored_ge "$1" || fail "store holds $(stored) revisions, want $1: $(tail -5 "$T/kafka.log")"
}
# check_out N: news.out holds every stored article (N of them) with its id as key.
check_out() {
  local answer
  answer=$(cmd "collect $1 120 $T/out.tsv")
  db_query "$DB" "select id from articles" | sort >"$T/ids"
  cut -f1 "$T/out.tsv" | sort -u >"$T/keys"
  [ "$(wc -l <"$T/ids")" -eq "$1" ] || fail "store holds $(wc -l <"$T/ids") articles, want $1"
  diff "$T/ids" "$T/keys" >"$T/keys.diff" || fail "news.out keys differ from stored ids: $(head "$T/keys.diff")"
  awk -F'\t' '$1 != $3 || $2 == "" { bad++ } END { exit bad > 0 }' "$T/out.tsv" \
    || fail "a record's key is not its document's id, or has no topic header: $(head -3 "$T/out.tsv")"
  echo "$answer"
}

bridge
cmd "produce 0 40" >/dev/null
cmd bad >/dev/null
wait_stored 40 120
out=$(check_out 40)
ok "40 produced into news.in are stored and on news.out keyed by id ($out)"
wait_until 20 bash -c "[ \$(curl -fsS http://$KHTTP/metrics | awk '/^nw_kafka_refused_total/ {print \$2}') -ge 1 ]" \
  || fail "the refused document was not counted: $(curl -fsS "http://$KHTTP/metrics" | grep nw_kafka)"
consumed=$(metric "http://$KHTTP" nw_kafka_consumed_total)
[ "$consumed" -eq 41 ] || fail "consumed $consumed, want 41 (the refusal retried?)"
wait_until 20 bash -c "[ \$(curl -fsS http://$KHTTP/metrics | awk '/^nw_kafka_committed_total/ {print \$2}') -ge 41 ]" \
  || fail "offsets not committed: $(curl -fsS "http://$KHTTP/metrics" | grep nw_kafka)"
ok "the refused document was counted and committed ($(grep -c 'refused by fetch' "$T/kafka.log") log line)"
curl -fsS "http://$KHTTP/healthz" | contains '"ok"' || fail "healthz: $(curl -sS "http://$KHTTP/healthz")"

# Faults: a mock broker down while 200 more arrive, and the bridge killed mid-stream.
# Progress decides when the bridge dies (not a clock): 10 documents into the new stream, while
# broker 2 is still down when that comes fast, or just after it is back when it blocked the
# partitions it leads. The stream's second half is produced only after the kill, so the bridge
# dies mid-stream however fast it runs (a loaded machine once let it read all 200 between the
# progress check and the kill).
cmd "down 2" >/dev/null
cmd "send 40 140" >/dev/null
consumed_ge() { [ "$(metric "http://$KHTTP" nw_kafka_consumed_total)" -ge "$1" ]; }
# kill_bridge: read its counters, then SIGKILL at once (the stream goes on meanwhile).
kill_bridge() {
  committed=$(metric "http://$KHTTP" nw_kafka_committed_total)
  consumed=$(metric "http://$KHTTP" nw_kafka_consumed_total)
  kill -KILL "$PID_kafka"
  wait "$PID_kafka" 2>/dev/null || true
}
if wait_until 5 consumed_ge 51; then
  kill_bridge
  cmd "up 2" >/dev/null
  when="while broker 2 was down"
else
  cmd "up 2" >/dev/null
  wait_until 120 consumed_ge 51 || fail "the bridge consumed nothing after broker 2 came back"
  kill_bridge
  when="after broker 2, which held it up, came back"
fi
cmd "send 140 240" >/dev/null
ok "bridge killed mid-stream (SIGKILL) $when, after consuming $consumed of 241 messages, $committed committed"
cmd flush >/dev/null
bridge
wait_stored 240 180
sleep 1
out=$(check_out 240)
reread=$(metric "http://$KHTTP" nw_kafka_consumed_total)
[ "$reread" -ge $((241 - committed)) ] \
  || fail "the restarted bridge consumed $reread messages, fewer than the $((241 - committed)) not committed at the kill"
ok "the restarted bridge consumed $reread messages (at least the $((241 - committed)) not committed at the kill)"
revs=$(stored)
arts=$(db_query "$DB" "select count(*) from articles")
[ "$revs" -eq 240 ] && [ "$arts" -eq 240 ] || fail "store holds $arts articles, $revs revisions, want 240 and 240"
ok "after the faults: 240 articles, 240 revisions (nothing lost or doubled); news.out: $out (distinct, total)"

# fetch gone: no answer within --ingest-timeout, so the bridge sends again with backoff and
# commits nothing; /healthz says why. fetch back (same spool): the rest goes in, once each.
kill -KILL "$PID_fetch"
wait "$PID_fetch" 2>/dev/null || true
cmd "produce 240 250" >/dev/null
retried() { [ "$(metric "http://$KHTTP" nw_kafka_in_retries_total)" -ge 1 ]; }
wait_until 30 retried || fail "no retry while fetch was down: $(curl -fsS "http://$KHTTP/metrics" | grep nw_kafka)"
health=$(curl -fsS "http://$KHTTP/healthz")
case $health in *fetch\ ingest*) ;; *) fail "healthz while fetch is down: $health" ;; esac
# /readyz names the connection itself (the socket's monitor), not only the missing answers.
ready=$(curl -sS "http://$KHTTP/readyz")
case $ready in *'"fetch":"no connection to the fetch ingest"'*) ;; *) fail "readyz while fetch is down: $ready" ;; esac
before=$(metric "http://$KHTTP" nw_kafka_committed_total)
held=$(( $(metric "http://$KHTTP" nw_kafka_consumed_total) - before ))
[ "$held" -eq 1 ] || fail "$held messages consumed and not committed while fetch is down, want 1 (in order, one in flight)"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "" --ingest "$INGEST" \
  --name fetch-kafka --spool-dir "$DATA/spool"
wait_stored 250 120
[ "$(stored)" -eq 250 ] || fail "store holds $(stored) revisions after fetch came back, want 250"
wait_until 10 bash -c "curl -fsS http://$KHTTP/healthz | grep -q '\"ok\"'" \
  || fail "healthz after fetch came back: $(curl -sS "http://$KHTTP/healthz")"
wait_until 10 bash -c "curl -fsS http://$KHTTP/readyz | grep -q '\"ready\"'" \
  || fail "readyz after fetch came back: $(curl -sS "http://$KHTTP/readyz")"
ok "fetch killed: retried ($(metric "http://$KHTTP" nw_kafka_in_retries_total) times), healthz $health, readyz 503 naming fetch, nothing committed meanwhile ($before before); 250 stored once fetch was back"
echo "kafka: $(curl -fsS "http://$KHTTP/metrics" | grep '^nw_kafka' | tr '\n' ' ')"
echo quit >&"${HARN[1]}"
