#!/usr/bin/env bash
# test_up.sh: `newswire up` runs the whole system as supervised children. With a temporary
# data dir, free ports and a samples directory: the sample is stored; `newswire ingest` sends
# two fixtures that `newswire search` then finds; `newswire tail lang.en --count 1` receives a
# published article; `newswire get` prints one; a dead letter shows in `newswire dlq list`; a
# parse worker killed with SIGKILL is restarted (new pid) and the pipeline still stores; SIGTERM
# to `up` stops every child and exits 0.
set -u
NW=${NW_BIN:?NW_BIN must point at the build directory}/services/newswire/newswire
FX=${NW_SRC:?NW_SRC must point at the source tree}/tests/fixtures/cli
missing=""
for svc in broker store enrich parse fetch; do
  [ -x "$NW_BIN/services/$svc/newswire-$svc" ] || missing="$missing newswire-$svc"
done
[ -x "$NW" ] || missing="$missing newswire"
if [ -n "$missing" ]; then
  echo "skip: not built:$missing"
  exit 77
fi

T=$(mktemp -d)
DATA=$T/data
UP_PID=""
fail() {
  echo "FAIL: $*"
  echo "--- up.log (last 40 lines)"
  tail -40 "$T/up.log" 2>/dev/null
  exit 1
}
ok() { echo "ok: $*"; }
cleanup() {
  if [ -n "$UP_PID" ] && kill -0 "$UP_PID" 2>/dev/null; then
    kill -TERM "$UP_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$UP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$UP_PID" 2>/dev/null
  fi
  # Children that outlived a failed test (they run in their own session).
  for f in "$DATA"/run/*.pid; do
    [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
  done
  [ -n "${TAIL_PID:-}" ] && kill -KILL "$TAIL_PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

# wait_until SECONDS CMD...: poll CMD every 0.2 s until it succeeds or the deadline passes.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $deadline ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  "$@" >/dev/null 2>&1
}

# A block of 20 free consecutive ports: broker base (+0..+7), API (+8), ingest (+9), metrics.
P=$(python3 - <<'PY'
import random, socket
rng = random.Random()
for _ in range(200):
    base = rng.randrange(20000, 60000)
    socks = []
    try:
        for p in range(base, base + 20):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
        print(base)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
)
[ -n "$P" ] || fail "no free port block"
BROKER=tcp://127.0.0.1:$P
API=http://127.0.0.1:$((P + 8))
mkdir -p "$T/samples" "$T/docs"
cat >"$T/samples/sample.txt" <<'TXT'
Sample day at the Bergen fish market

Bergen, Norway - Fishmongers at the Bergen market sold a record catch of mackerel on Saturday, the market board said, as tourists crowded the quay.
TXT

"$NW" up --data-dir "$DATA" --broker "$BROKER" --http "127.0.0.1:$((P + 8))" \
  --ingest "tcp://127.0.0.1:$((P + 9))" --metrics-port $((P + 10)) --parse 2 --enrich 1 \
  --query "127.0.0.1:$((P + 17))" --samples "$T/samples" >"$T/up.log" 2>&1 &
UP_PID=$!
wait_until 30 curl -fsS "$API/healthz" || fail "fetch API never became healthy"
ok "up: fetch API healthy"
grep -q "newswire is up: API $API/v1/articles" "$T/up.log" || fail "up did not print its ready line"
for name in up broker store enrich-1 parse-1 parse-2 fetch query; do
  [ -s "$DATA/run/$name.pid" ] || fail "no pid file for $name"
  kill -0 "$(cat "$DATA/run/$name.pid")" 2>/dev/null || fail "$name (pid file) is not running"
done
ok "up: pid files for every child, all alive"
"$NW" up --data-dir "$DATA" --broker "tcp://127.0.0.1:$((P + 12))" --http "127.0.0.1:$((P + 13))" \
  >"$T/up2.log" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "already running" "$T/up2.log" || fail "second up on the same data dir: rc=$rc $(cat "$T/up2.log")"
ok "up: a second supervisor on the same data dir refuses to start"
wait_until 10 curl -fsS "http://127.0.0.1:$((P + 11))/metrics" || fail "store metrics not served on port base+1"
ok "up: children serve /metrics on consecutive ports"

found() { "$NW" search --data-dir "$DATA" "$1" | grep -q "$2"; }
wait_until 30 found mackerel "Sample day at the Bergen fish market" || fail "sample from --samples never searchable"
ok "up: --samples copied into the inbox and stored"
curl -fsS "http://127.0.0.1:$((P + 17))/v1/search?q=mackerel" | grep -q "Bergen fish market" ||
  fail "the query service started by up does not find the sample"
ok "up: the query service answers over HTTP"

# tail first; then ingest probe articles until it has received one (no publication is promised
# to a subscriber that is still connecting).
"$NW" tail --broker "$BROKER" --count 1 lang.en >"$T/tail.out" 2>"$T/tail.err" &
TAIL_PID=$!
i=0
deadline=$((SECONDS + 30))
while kill -0 "$TAIL_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
  i=$((i + 1))
  printf 'Probe number %d for the tail test\n\nOslo, Norway - This is probe article number %d, sent so that the subscriber sees an English article published on its topic.\n' "$i" "$i" >"$T/docs/probe-$i.txt"
  "$NW" ingest --api "$API" "$T/docs/probe-$i.txt" >>"$T/probe.ids" 2>>"$T/ingest.err" || fail "ingest probe: $(cat "$T/ingest.err")"
  sleep 0.3
done
wait "$TAIL_PID" || fail "tail exited with an error: $(cat "$T/tail.err")"
TAIL_PID=""
python3 - "$T/tail.out" "$T/probe.ids" <<'PY' || fail "tail output: $(cat "$T/tail.out")"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
ids = {l.split("\t")[0] for l in open(sys.argv[2])}
assert len(lines) == 1, lines
d = json.loads(lines[0])
assert d["topic"] == "lang.en" and d["lang"] == "en", d
assert d["id"] in ids and d["title"].startswith("Probe number"), d
assert d["seq"] > 0 and d["rev"] >= 1, d
PY
ok "tail: lang.en subscriber got one published article as JSON with its topic"

"$NW" ingest --api "$API" "$FX/article-a.txt" "$FX/article-b.txt" >"$T/ingest.out" 2>"$T/ingest.err" \
  || fail "ingest: $(cat "$T/ingest.err")"
[ "$(wc -l <"$T/ingest.out")" -eq 2 ] || fail "ingest printed $(cat "$T/ingest.out")"
ID_A=$(awk -F'\t' '$2 ~ /article-a/ {print $1}' "$T/ingest.out")
[ ${#ID_A} -eq 32 ] || fail "ingest: no id for article-a: $(cat "$T/ingest.out")"
ok "ingest: one id<TAB>path line per document"
wait_until 30 found whetstones "$ID_A" || fail "article-a never searchable"
wait_until 30 found Nigardsbreen "Glacier tours suspended" || fail "article-b never searchable"
ok "search: both ingested articles found"
NEWSWIRE_DATA_DIR=$DATA "$NW" search --json --limit 1 Trondheim >"$T/search.json" || fail "search via NEWSWIRE_DATA_DIR"
python3 - "$T/search.json" "$ID_A" <<'PY' || fail "search --json: $(cat "$T/search.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1 and rows[0]["id"] == sys.argv[2] and "[Trondheim]" in rows[0]["snippet"], rows
assert set(rows[0]) == {"id", "title", "published", "lang", "url", "snippet", "rank"}, rows
PY
ok "search --json with NEWSWIRE_DATA_DIR: the best hit with a bracketed snippet"
"$NW" get --data-dir "$DATA" "$ID_A" >"$T/get.json" || fail "get $ID_A failed"
python3 - "$T/get.json" "$ID_A" <<'PY' || fail "get output: $(head -c 500 "$T/get.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["id"] == sys.argv[2] and d["title"] == "Quarrymen find Viking whetstones near Trondheim", d
assert d["dateline"] == "Trondheim, Norway" and d["lang"] == "en" and "whetstones" in d["text"], d
PY
"$NW" get --data-dir "$DATA" 0123456789abcdef0123456789abcdef >/dev/null 2>"$T/err" \
  && fail "get of an unknown id succeeded"
grep -q "no article" "$T/err" || fail "get unknown id message: $(cat "$T/err")"
ok "get: stored document as JSON; unknown id is an error"

# Invalid UTF-8 declared as text: whichever stage refuses it, it must end up a dead letter.
printf 'Broken text \xff\xfe with invalid bytes in it.\n' >"$T/docs/broken.txt"
"$NW" ingest --api "$API" --content-type text/plain "$T/docs/broken.txt" >/dev/null 2>&1
dlq_has() { "$NW" dlq list --data-dir "$DATA" --json | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
sys.exit(0 if any(r["stage"] and r["reason"] and r["size"] > 0 for r in rows) else 1)'; }
wait_until 30 dlq_has || fail "no dead letter for invalid UTF-8: $("$NW" dlq list --data-dir "$DATA" 2>&1)"
"$NW" dlq list --data-dir "$DATA" | grep -q "bytes" || fail "dlq list text view"
ok "dlq list: the refused document is a dead letter with stage, reason and bytes"

# Kill a worker hard: up restarts it, and the pipeline keeps storing.
OLD=$(cat "$DATA/run/parse-1.pid")
kill -KILL "$OLD"
new_pid() { [ -s "$DATA/run/parse-1.pid" ] && [ "$(cat "$DATA/run/parse-1.pid")" != "$OLD" ] && kill -0 "$(cat "$DATA/run/parse-1.pid")"; }
wait_until 20 new_pid || fail "parse-1 was not restarted"
grep -q 'restarting \\"parse-1\\"' "$T/up.log" || fail "no restart log line"
ok "up: killed parse-1 ($OLD) restarted as $(cat "$DATA/run/parse-1.pid")"
cat >"$T/docs/after.txt" <<'TXT'
Ferry timetable changes after the restart test

Tromso, Norway - The coastal ferry company published a new winter timetable on Monday with fewer sailings to the northern fjords.
TXT
"$NW" ingest --api "$API" "$T/docs/after.txt" >/dev/null || fail "ingest after restart"
wait_until 30 found timetable "Ferry timetable changes" || fail "article after restart never stored"
ok "pipeline still stores after a worker was killed"

CHILDREN=$(cat "$DATA"/run/*.pid | grep -v "^$UP_PID\$")
kill -TERM "$UP_PID"
deadline=$((SECONDS + 30))
while kill -0 "$UP_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
kill -0 "$UP_PID" 2>/dev/null && fail "up still running 30 s after SIGTERM"
wait "$UP_PID"
rc=$?
UP_PID=""
[ $rc -eq 0 ] || fail "up exited with $rc after SIGTERM"
for pid in $CHILDREN; do
  kill -0 "$pid" 2>/dev/null && fail "child $pid still alive after up exited"
done
ls "$DATA"/run/*.pid >/dev/null 2>&1 && fail "pid files left behind: $(ls "$DATA/run")"
ok "up: SIGTERM stopped every child ($(echo $CHILDREN | wc -w)) and exited 0"
echo "all checks passed"
