#!/usr/bin/env bash
# test_ingest_wait.sh: `newswire ingest` tells the truth, against a real `newswire up`.
# - 40 documents posted 8 at a time: every id printed once, in input order, all stored;
# - --progress always: a progress line (count, rate) and a summary (accepted);
# - --wait on a directory with two good documents, one that fetch accepts but parse turns into
#   a dead letter (blank text) and one fetch refuses (invalid UTF-8): exit 1, the summary says
#   2 stored, 1 dead letter with its stage and reason, 1 refused with its reason;
# - --wait again on the good ones: exit 0, both "already known (unchanged)";
# - --wait with no acks reaching it: the database says the document is an article; exit 0.
. "$(dirname "$0")/lib.sh"
require_bins "$NW" "$(svc_bin fetch)" "$(svc_bin store)" "$(svc_bin parse)" "$(svc_bin enrich)"
P=$(free_ports 20)
API=http://127.0.0.1:$((P + 8))
start up "$NW" up --data-dir "$T/data" --broker "tcp://127.0.0.1:$P" --http "127.0.0.1:$((P + 8))" \
  --ingest "" --metrics-port 0 --parse 1 --enrich 1 --query ""
wait_until 60 curl -fsS "$API/healthz" || fail "fetch never became healthy"
DB=$T/data/newswire.db
WAIT=(--wait --api "$API" --broker "tcp://127.0.0.1:$P" --data-dir "$T/data" --wait-timeout 60s)

mkdir -p "$T/many"
for i in $(seq -w 1 40); do
  printf 'Parallel story %s\n\nOslo, Norway - Story %s of the parallel ingest test says that ferries ran late because of ice on the fjord.\n' "$i" "$i" >"$T/many/doc$i.txt"
done
"$NW" ingest --api "$API" --parallel 8 --progress always "$T/many" >"$T/many.out" 2>"$T/many.err" ||
  fail "ingest of 40 documents: $(cat "$T/many.err")"
[ "$(cut -f2 "$T/many.out" | tr '\n' ' ')" = "$(ls "$T"/many/*.txt | tr '\n' ' ')" ] ||
  fail "ids not printed once each in input order: $(cat "$T/many.out")"
[ "$(cut -f1 "$T/many.out" | sort -u | wc -l)" = 40 ] || fail "40 distinct ids expected"
grep -q '40/40 .*/s' "$T/many.err" || fail "no progress line: $(tr '\r' '\n' <"$T/many.err")"
grep -q 'newswire ingest: 40 documents in .* s: 40 accepted$' "$T/many.err" ||
  fail "no summary: $(tr '\r' '\n' <"$T/many.err")"
stored() { [ "$(db_query "$DB" "select count(*) from articles where title like 'Parallel story%'")" = 40 ]; }
wait_until 90 stored || fail "not all 40 parallel documents were stored"
ok "40 documents posted 8 at a time: ids in input order, progress line, summary, all stored"

mkdir -p "$T/mixed"
printf 'Good story one\n\nBergen, Norway - The first good story of the wait test reports a record catch of mackerel at the market.\n' >"$T/mixed/a-good.txt"
printf 'Good story two\n\nLyon, France - The second good story of the wait test reports that the old bridge reopened on Sunday.\n' >"$T/mixed/b-good.txt"
printf '   \n\n   \n' >"$T/mixed/c-blank.txt"
printf 'Broken \xff\xfe bytes\n\nnot UTF-8.\n' >"$T/mixed/d-broken.txt"
rc=0
"$NW" ingest "${WAIT[@]}" "$T/mixed" >"$T/mixed.out" 2>"$T/mixed.err" || rc=$?
[ $rc -eq 1 ] || fail "--wait with a dead letter and a refusal: rc=$rc $(cat "$T/mixed.err")"
[ "$(wc -l <"$T/mixed.out")" = 3 ] || fail "three accepted ids expected: $(cat "$T/mixed.out")"
grep -q ': 3 accepted, 1 refused (invalid-utf8 1)$' "$T/mixed.err" ||
  fail "summary of the posts: $(cat "$T/mixed.err")"
grep -q 'outcomes: 2 stored as new articles or revisions, 0 already known (unchanged), 1 dead letters (parse: empty 1)$' "$T/mixed.err" ||
  fail "summary of the outcomes: $(cat "$T/mixed.err")"
grep -q "'$T/mixed/c-blank.txt' (.*) became a dead letter: parse: empty" "$T/mixed.err" ||
  fail "the dead letter is not named: $(cat "$T/mixed.err")"
ok "--wait: 2 stored, 1 dead letter with stage and reason, 1 refused with reason; exit 1"

rc=0
"$NW" ingest "${WAIT[@]}" "$T/mixed/a-good.txt" "$T/mixed/b-good.txt" >/dev/null 2>"$T/again.err" || rc=$?
[ $rc -eq 0 ] || fail "--wait on documents already stored: rc=$rc $(cat "$T/again.err")"
grep -q 'outcomes: 0 stored as new articles or revisions, 2 already known (unchanged)$' "$T/again.err" ||
  fail "already known: $(cat "$T/again.err")"
ok "--wait: the same documents again are already known (unchanged); exit 0"

# No acks at all (a broker that keeps them for fetch's key, or none: here a port nothing
# listens on): the database still says the document is an article; exit 0, and it says why.
rc=0
"$NW" ingest --wait --api "$API" --broker "tcp://127.0.0.1:$((P + 19))" --data-dir "$T/data" \
  --wait-timeout 2s "$T/mixed/a-good.txt" >/dev/null 2>"$T/noack.err" || rc=$?
[ $rc -eq 0 ] || fail "--wait without acks on a stored document: rc=$rc $(cat "$T/noack.err")"
grep -q '1 articles whose ack was not seen' "$T/noack.err" || fail "no-ack fallback: $(cat "$T/noack.err")"
ok "--wait without acks: the database says it is an article; exit 0"
