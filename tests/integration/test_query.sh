#!/usr/bin/env bash
# test_query.sh: newswire-query, the read side over HTTP. Runs the pipeline, ingests 40
# articles (half of them about trains, so the topic and search queries have something to
# tell apart), then checks: GET /v1/articles/ID returns the stored document and 404 for an
# unknown id; /v1/search finds by word; /v1/articles pages through a topic with "next";
# bad arguments get 400 with a JSON error; and /v1/stream (Server-Sent Events) delivers every
# matching article exactly once in seq order, backfilled and then live, to a client following
# everything, one following a narrow topic, a slow client with a tiny buffer (fed from the
# database), and a client that reconnects with Last-Event-ID and resumes without gap or
# duplicate.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)" "$(svc_bin query)"

P=$(free_ports 12)
BROKER="tcp://127.0.0.1:$P"
API="127.0.0.1:$((P + 8))"
Q="127.0.0.1:$((P + 9))"
QS="127.0.0.1:$((P + 10))"
DATA=$T/data
DB=$DATA/newswire.db
mkdir -p "$DATA" "$T/docs1" "$T/docs2"

start broker "$(svc_bin broker)" --bind "$BROKER"
start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA"
start parse "$(svc_bin parse)" --broker "$BROKER"
start enrich "$(svc_bin enrich)" --broker "$BROKER"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "" --ingest "" \
  --name fetch-query --spool-dir "$DATA/spool"
start query "$(svc_bin query)" --broker "$BROKER" --http "$Q" --data-dir "$DATA" --check 200ms
# a second query service whose stream clients get a 4 KiB buffer: they live on the database
start query_small "$(svc_bin query)" --broker "$BROKER" --http "$QS" --data-dir "$DATA" \
  --check 200ms --stream-buffer 4k
wait_until 20 curl -fsS "http://$API/healthz" || fail "fetch did not come up"
wait_until 20 curl -fsS "http://$Q/healthz" || fail "query did not come up: $(tail -5 "$T/query.log")"
wait_until 20 curl -fsS "http://$QS/healthz" || fail "the second query did not come up"
ok "services up"

python3 - "$T/docs1" "$T/docs2" <<'PY'
import os, sys
for i in range(80):
    if i % 2:
        head, body = f"Night trains {i:03d} return", "The rail operator said the sleeper trains"
    else:
        head, body = f"Harbour works {i:03d} begin", "The port authority said the harbour cranes"
    text = (f"{head}\n\n{body} would run again from December, the company said on Monday, "
            f"after a long debate about costs and the number {i} plan. Marker querymark{i:03d}.\n\n"
            f"The mayor told reporters that the work would start next spring.\n")
    with open(os.path.join(sys.argv[1] if i < 40 else sys.argv[2], f"q{i:03d}.txt"), "w") as f:
        f.write(text)
PY
revisions() { db_query "$DB" "select count(*) from revisions" 2>/dev/null || echo 0; }
revisions_are() { [ "$(revisions)" = "$1" ]; }
"$NW" ingest --api "http://$API" "$T/docs1" >/dev/null || fail "ingest 1 failed"
wait_until 60 revisions_are 40 || fail "store holds $(revisions) documents, want 40"
ok "40 articles stored"

# --- the queries ---
ID=$(db_query "$DB" "select id from articles where title like 'Night trains 001%'")
[ -n "$ID" ] || fail "no stored article titled Night trains 001"
code=$(curl -sS -o "$T/get.json" -w '%{http_code}' "http://$Q/v1/articles/$ID")
[ "$code" = 200 ] || fail "GET /v1/articles/$ID: $code $(cat "$T/get.json")"
python3 - "$T/get.json" "$ID" <<'PY' || fail "GET /v1/articles/ID: $(head -c 300 "$T/get.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["id"] == sys.argv[2], d["id"]
assert d["title"].startswith("Night trains 001"), d["title"]
assert d["seq"] > 0 and "all" in d["topics"], d.get("topics")
PY
code=$(curl -sS -o "$T/404.json" -w '%{http_code}' "http://$Q/v1/articles/nosuchid")
[ "$code" = 404 ] && grep -q '"error":"not-found"' "$T/404.json" || fail "unknown id: $code"
ok "GET /v1/articles/ID: the stored document; 404 for an unknown id"

curl -fsS "http://$Q/v1/search?q=querymark007" >"$T/s1.json" || fail "search failed"
python3 - "$T/s1.json" <<'PY' || fail "search querymark007: $(cat "$T/s1.json")"
import json, sys
hits = json.load(open(sys.argv[1]))["hits"]
assert len(hits) == 1 and hits[0]["title"].startswith("Night trains 007"), hits
PY
curl -fsS "http://$Q/v1/search?q=sleeper&limit=5" >"$T/s2.json" || fail "search failed"
python3 -c "import json,sys; h=json.load(open(sys.argv[1]))['hits']; assert len(h)==5 and all('Night trains' in x['title'] for x in h), h" \
  "$T/s2.json" || fail "search sleeper limit 5: $(cat "$T/s2.json")"
ok "GET /v1/search finds by word and honours limit"

# topic paging: every stored article is on lang.en; pages of 15 with the next cursor
python3 - "http://$Q" <<'PY' || fail "topic paging"
import json, sys, urllib.request
base, seen, cursor = sys.argv[1], [], ""
while True:
    page = json.load(urllib.request.urlopen(
        f"{base}/v1/articles?topic=lang.en&since=0&limit=15&cursor={cursor}"))
    seen += [a["seq"] for a in page["articles"]]
    assert page["total"] == 40, page["total"]
    if not page["has_more"]:
        assert page["next"] is None, page["next"]
        break
    cursor = page["next"]
assert len(seen) == 40 and seen == sorted(set(seen)), seen
none = json.load(urllib.request.urlopen(f"{base}/v1/articles?topic=lang.xx&since=0"))
assert none["articles"] == [], none
# since as a time: everything was stored within the last hour, nothing after "now"
hour = json.load(urllib.request.urlopen(f"{base}/v1/articles?since=1h&limit=100"))
assert len(hour["articles"]) == 40, len(hour["articles"])
later = json.load(urllib.request.urlopen(f"{base}/v1/articles?since=2999-01-01T00:00:00Z"))
assert later["articles"] == [], later
PY
ok "GET /v1/articles?topic= pages through a topic in seq order; since= takes a time too"

bad() { # URL-PATH ERROR
  local c
  c=$(curl -sS -o "$T/bad.json" -w '%{http_code}' "http://$Q$1")
  [ "$c" = 400 ] && grep -q "\"error\":\"$2\"" "$T/bad.json" ||
    fail "GET $1: $c $(cat "$T/bad.json"), want 400 $2"
}
bad "/v1/search" bad-query
bad "/v1/search?q=x&limit=0" bad-limit
bad "/v1/articles?since=yesterday" bad-since
bad "/v1/stream?since=-3" bad-since
bad "/v1/articles?topic=,,," bad-topic
ok "bad arguments get 400 with a JSON error"

# --- the stream ---
# name URL [EXTRA-CURL-ARGS...]: read the SSE stream into $T/name.sse until killed
SSE=()
sse() {
  local name=$1 url=$2
  shift 2
  curl -sSN "$@" "$url" >"$T/$name.sse" 2>"$T/$name.err" &
  NW_PIDS+=($!)
  eval "SPID_$name=$!"
  SSE+=("$name")
}
sse all "http://$Q/v1/stream?since=0"
sse narrow "http://$Q/v1/stream?since=0&topic=lang.en,lang.fr"
sse slow "http://$QS/v1/stream?since=0" --limit-rate 20k
sse resume "http://$Q/v1/stream?since=0"
# events NAME: the ids of complete events in the stream file
events() { awk '/^id: / { id = $2 } /^data: / && id { print id; id = "" }' "$T/$1.sse"; }
count_is() { [ "$(events "$1" | wc -l)" = "$2" ]; }
for s in all narrow slow resume; do
  wait_until 30 count_is "$s" 40 || fail "stream $s backfilled $(events "$s" | wc -l) of 40"
done
ok "every stream backfilled 40 articles"

# the resume client goes away after the backfill and comes back with Last-Event-ID
kill "$SPID_resume"
LAST=$(events resume | tail -1)
mv "$T/resume.sse" "$T/resume1.sse"
"$NW" ingest --api "http://$API" "$T/docs2" >/dev/null || fail "ingest 2 failed"
sleep 0.5
sse resume "http://$Q/v1/stream" -H "Last-Event-ID: $LAST"
wait_until 60 revisions_are 80 || fail "store holds $(revisions) documents, want 80"
for s in all narrow slow; do
  wait_until 30 count_is "$s" 80 || fail "stream $s delivered $(events "$s" | wc -l) of 80"
done
wait_until 30 count_is resume 40 || fail "resumed stream delivered $(events resume | wc -l) of 40"
sleep 1 # anything extra (a duplicate) would arrive now
mv "$T/resume.sse" "$T/resume2.sse"
cat "$T/resume1.sse" "$T/resume2.sse" >"$T/resume.sse"
want=$(db_query "$DB" "select seq from revisions order by seq" | tr '\n' ' ')
for s in all narrow slow resume; do
  got=$(events "$s" | tr '\n' ' ')
  [ "$got" = "$want" ] || fail "stream $s: ids $got; want $want"
done
python3 - "$T/all.sse" <<'PY' || fail "stream data is not the stored documents"
import json, sys
ev = [json.loads(l[6:]) for l in open(sys.argv[1]) if l.startswith("data: ")]
assert all(e["seq"] > 0 and e["id"] and "lang.en" in e["topics"] for e in ev), ev[0]
assert len({e["id"] for e in ev}) == 80
PY
[ "$(metric "$QS" 'nw_query_stream_sources_total{source="database"}')" -gt 40 ] ||
  fail "the slow client was not fed from the database"
ok "streams: 80 articles each, exactly once, in seq order (all, narrow, slow, resumed)"

kill -TERM "$PID_query"
wait "$PID_query" 2>/dev/null || fail "query did not exit cleanly on SIGTERM"
ok "query drains and exits on SIGTERM with streams open"
