#!/usr/bin/env bash
# test_tail_since.sh: Promise 5, late subscribers lose nothing. Starts a broker, fetch, parse,
# enrich and store; ingests 50 articles; then starts several `newswire tail --since ...` and,
# once they have printed their backfill, ingests 50 more. Each tail must print every matching
# article exactly once, in increasing seq order: from seq 0, from the 25th seq, from a time,
# from "now", on two overlapping topics (each article arrives twice live), on one narrow topic,
# as a slow reader with a receive high-water mark of 1, and with every third live message
# discarded (a simulated overflow the database must fill).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)"

P=$(free_ports 12)
BROKER="tcp://127.0.0.1:$P"
API="127.0.0.1:$((P + 8))"
DATA=$T/data
DB=$DATA/newswire.db
mkdir -p "$DATA" "$T/docs1" "$T/docs2"

start broker "$(svc_bin broker)" --bind "$BROKER"
start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA"
start parse "$(svc_bin parse)" --broker "$BROKER"
start enrich "$(svc_bin enrich)" --broker "$BROKER"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "" --ingest "" \
  --name fetch-tail --spool-dir "$DATA/spool"
wait_until 20 curl -fsS "http://$API/healthz" || fail "fetch did not come up: $(tail -5 "$T/fetch.log")"
ok "services up"

python3 - "$T/docs1" "$T/docs2" <<'PY'
import os, random, sys
rng = random.Random(5)
nouns = ("council harbour river minister report budget village railway school market weather "
         "festival bridge station energy water museum court union farmers").split()
for i in range(100):
    topic = " ".join(rng.choice(nouns) for _ in range(2))
    text = (f"Tail report {i:03d} on the {topic}\n\n"
            f"Officials said on Monday that the {topic} plan number {i} would go ahead after a "
            f"long debate in the city council, and residents welcomed the decision.\n\n"
            f"The mayor told reporters that the work would start next spring and that the "
            f"budget had been approved by a large majority. Marker tailmark{i:03d}.\n")
    with open(os.path.join(sys.argv[1] if i < 50 else sys.argv[2], f"t{i:03d}.txt"), "w") as f:
        f.write(text)
PY

stored() { db_query "$DB" "select count(*) from revisions" 2>/dev/null || echo 0; }
"$NW" ingest --api "http://$API" "$T/docs1" >"$T/ingest1.out" || fail "ingest 1 failed"
wait_until 60 bash -c "[ \"\$(python3 -c \"import sqlite3; print(sqlite3.connect('file:$DB?mode=ro', uri=True).execute('select count(*) from revisions').fetchone()[0])\" 2>/dev/null)\" = 50 ]" \
  || fail "store holds $(stored) documents, want 50"
S25=$(db_query "$DB" "select seq from revisions order by seq limit 1 offset 24")
ok "50 articles stored; the 25th has seq $S25"

# name ENV... -- ARGS...: run `newswire tail` with stdout and stderr to $T/name.{out,err}.
TAILS=()
run_tail() {
  local name=$1
  shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" "$NW" tail --broker "$BROKER" --data-dir "$DATA" --check 200ms --stats "$@" \
    >"$T/$name.out" 2>"$T/$name.err" &
  NW_PIDS+=($!)
  eval "TPID_$name=$!"
  TAILS+=("$name")
}
run_tail zero -- --since 0 --count 100 all
run_tail from25 -- --since "$S25" --count $((100 - 25)) all
run_tail hour -- --since 1h --count 100 all
run_tail now -- --since now --count 50 all
run_tail twice -- --since 0 --count 100 all lang.en
run_tail narrow -- --since 0 lang.en
run_tail slow NW_TEST_TAIL_SLOW_MS=40 -- --since 0 --hwm 1 --count 100 all
run_tail lossy NW_TEST_TAIL_DROP_EVERY=3 -- --since 0 --count 100 all

# The second half goes in while they follow: after their backfill, so it reaches them live.
for t in "${TAILS[@]}"; do
  wait_until 30 grep -q "backfill after seq" "$T/$t.err" \
    || fail "tail $t did not finish its backfill: $(cat "$T/$t.err")"
done
ok "every tail printed its backfill"
"$NW" ingest --api "http://$API" "$T/docs2" >"$T/ingest2.out" || fail "ingest 2 failed"
wait_until 60 bash -c "[ \"\$(python3 -c \"import sqlite3; print(sqlite3.connect('file:$DB?mode=ro', uri=True).execute('select count(*) from revisions').fetchone()[0])\" 2>/dev/null)\" = 100 ]" \
  || fail "store holds $(stored) documents, want 100"
ok "another 50 ingested while the tails ran"

for t in zero from25 hour now twice slow lossy; do
  pid_var=TPID_$t
  wait_until 120 bash -c "! kill -0 ${!pid_var} 2>/dev/null" \
    || fail "tail $t did not finish: $(wc -l <"$T/$t.out") lines; $(cat "$T/$t.err")"
  wait "${!pid_var}" || fail "tail $t exited with $?: $(cat "$T/$t.err")"
done
ok "every tail with --count exited by itself"

# The narrow tail runs until it has every English article; CLD2 decides which those are.
N_EN=$(db_query "$DB" "select count(*) from articles where lang = 'en'")
[ "$N_EN" -ge 90 ] || fail "only $N_EN of 100 articles are English"
wait_until 60 bash -c "[ \$(wc -l <'$T/narrow.out') -ge $N_EN ]" \
  || fail "tail narrow printed $(wc -l <"$T/narrow.out") of $N_EN: $(cat "$T/narrow.err")"
# A duplicate would arrive with the live stream or the next check (every 200 ms): give it
# several checks' time before stopping, so the exactly-once assertion below can see it.
sleep 1
kill -TERM "$TPID_narrow"
wait "$TPID_narrow" || fail "tail narrow exited with $? on SIGTERM"

# check NAME SQL: the tail printed exactly the seqs the query selects, each once, in order,
# each line the stored document with a topic it was subscribed to.
check() {
  local name=$1 sql=$2 topics=$3
  db_query "$DB" "$sql" >"$T/$name.want"
  python3 - "$T/$name.out" "$T/$name.want" "$topics" <<'PY' || fail "tail $name: see above; stderr: $(cat "$T/$1.err")"
import json, sys
out, want, topics = sys.argv[1], sys.argv[2], sys.argv[3].split()
seqs = []
for n, line in enumerate(open(out), 1):
    d = json.loads(line)
    assert d["topic"] in topics, f"line {n}: topic {d['topic']!r} not subscribed"
    assert d["topic"] in d["topics"], f"line {n}: topic {d['topic']!r} not the article's"
    assert d["title"].startswith("Tail report"), f"line {n}: {d['title']!r}"
    seqs.append(d["seq"])
want = [int(x) for x in open(want).read().split()]
dups = len(seqs) - len(set(seqs))
assert dups == 0, f"{dups} duplicate seqs"
assert seqs == sorted(seqs), f"not in seq order: {seqs}"
assert seqs == want, f"printed {len(seqs)} seqs, want {len(want)}; missing {sorted(set(want) - set(seqs))[:10]}, extra {sorted(set(seqs) - set(want))[:10]}"
PY
  ok "tail $name: $(wc -l <"$T/$name.out") articles, each once, in seq order ($(tail -1 "$T/$name.err" | sed 's/^newswire tail: //'))"
}
check zero "select seq from revisions order by seq" "all"
check from25 "select seq from revisions where seq > $S25 order by seq" "all"
check hour "select seq from revisions order by seq" "all"
check now "select seq from revisions order by seq limit -1 offset 50" "all"
check twice "select seq from revisions order by seq" "all lang.en"
check narrow "select a.seq from articles a where a.lang = 'en' order by a.seq" "lang.en"
check slow "select seq from revisions order by seq" "all"
check lossy "select seq from revisions order by seq" "all"

# The lossy tail discarded live messages and still printed everything: the holes were filled
# from the database (or the messages were duplicates of what a check had already read).
grep -Eq ' [1-9][0-9]* test drops' "$T/lossy.err" || fail "lossy tail dropped nothing: $(cat "$T/lossy.err")"
ok "lossy: $(grep -Eo '[0-9]+ test drops' "$T/lossy.err") and still exactly once"

# Bad --since values are usage errors that say what is expected.
for bad in yesterday 10x 2024-13-01 -5; do
  set +e
  "$NW" tail --data-dir "$DATA" --since "$bad" all >/dev/null 2>"$T/bad.err"
  rc=$?
  set -e
  [ $rc -eq 2 ] && grep -q "ISO 8601" "$T/bad.err" || fail "--since $bad: exit $rc, $(cat "$T/bad.err")"
done
set +e
"$NW" tail --data-dir "$T/nowhere" --since 0 all >/dev/null 2>"$T/nodb.err"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "no database" "$T/nodb.err" || fail "--since without a database: exit $rc"
ok "bad --since values and a missing database are refused clearly"

for p in $PID_fetch $PID_parse $PID_enrich $PID_store $PID_broker; do
  kill -0 "$p" 2>/dev/null || fail "a service exited during the test"
done
