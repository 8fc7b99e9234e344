#!/usr/bin/env bash
# test_cli_filters.sh: the one-shot filters of the `newswire` command (extract, parse --jsonl,
# enrich --jsonl) on the fixtures in tests/fixtures/cli/ and, when present, the seeds; the
# ingest client against a scripted HTTP server; and --help of every subcommand. No services:
# the filters run the same library code as newswire-parse and newswire-enrich.
set -u
NW=${NW_BIN:?NW_BIN must point at the build directory}/services/newswire/newswire
FX=${NW_SRC:?NW_SRC must point at the source tree}/tests/fixtures/cli
SEEDS=${NW_SHARED_DATA:-/nonexistent}/seeds
if [ ! -x "$NW" ]; then
  echo "skip: $NW not built"
  exit 77
fi
T=$(mktemp -d)
SRV=""
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$T"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# jcheck FILE PYEXPR MESSAGE: PYEXPR is evaluated with d = the JSON document in FILE (or, for a
# JSON lines file, L = the list of documents); it must be true.
jcheck() {
  if python3 - "$1" "$2" <<'PY'; then ok "$3"; else bad "$3 ($2 on $(head -c 600 "$1"))"; fi
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
L = [json.loads(l) for l in text.splitlines() if l.strip()]
d = L[0] if len(L) == 1 else None
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

# --- help ------------------------------------------------------------------------------------
"$NW" --help >"$T/help" 2>&1 || bad "newswire --help exits 0"
for cmd in up ingest tail search get dlq extract parse enrich feed compare; do
  grep -q "^  $cmd " "$T/help" || bad "newswire --help lists $cmd"
done
check_help() { # CMD OPTION...
  local cmd=$1
  shift
  if ! "$NW" "$cmd" --help >"$T/help.$cmd" 2>&1; then
    bad "newswire $cmd --help exits 0"
    return
  fi
  for opt in "$@"; do
    grep -q -- "--$opt" "$T/help.$cmd" || bad "newswire $cmd --help mentions --$opt"
  done
  grep -q "NEWSWIRE_" "$T/help.$cmd" || bad "newswire $cmd --help names the environment variables"
}
check_help up data-dir broker http parse enrich samples bin-dir
check_help ingest api url content-type
check_help tail broker count
check_help search data-dir db limit json
check_help get data-dir db jsonl
check_help dlq data-dir db limit json
check_help extract url content-type
check_help parse jsonl
check_help enrich jsonl
ok "--help of every subcommand"
"$NW" no-such-command >/dev/null 2>&1
[ $? -eq 2 ] && ok "unknown command exits 2" || bad "unknown command exits 2"
"$NW" extract --no-such-option x >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "no-such-option" "$T/err" && ok "unknown option names itself, exits 2" \
  || bad "unknown option exits 2 naming the option"

# --- extract ---------------------------------------------------------------------------------
if "$NW" extract "$FX/wire.txt" >"$T/wire.json" 2>"$T/err"; then
  jcheck "$T/wire.json" 'd["published"] == "2023-11-14"' "extract: published from the date prefix"
  jcheck "$T/wire.json" 'd["dateline"] == "Oslo, Norway"' "extract: dateline"
  jcheck "$T/wire.json" 'd["text"].startswith("Norway'"'"'s parliament on Tuesday approved")' \
    "extract: dateline cut from the first paragraph"
  jcheck "$T/wire.json" 'len(d["captions"]) == 2' "extract: two captions separated from the text"
  jcheck "$T/wire.json" 'd["captions"][0]["text"].startswith("A ferry leaves") and "Ola Nordmann" in d["captions"][0]["credit"] and d["captions"][0].get("agency") == "Reuters"' \
    "extract: caption credit and agency split out"
  jcheck "$T/wire.json" 'd["captions"][1].get("agency") == "AFP" and d["captions"][1].get("pool") is True and d["captions"][1].get("photographer") == "Per Olsen"' \
    "extract: pool photo credit"
  jcheck "$T/wire.json" '"REUTERS" not in d["text"] and "PHOTO/" not in d["text"] and "capital'"'"'s harbour, ending" in d["text"]' \
    "extract: captions out of the body, space before comma cleaned"
  jcheck "$T/wire.json" 'len(d["id"]) == 32 and d["source"] == "cli" and d["content_type"] == "text/plain" and d["v"] == 2' \
    "extract: id, source, content type"
else
  bad "extract wire.txt failed: $(cat "$T/err")"
fi
"$NW" extract "$FX/headline.txt" >"$T/headline.json" 2>"$T/err" || bad "extract headline.txt: $(cat "$T/err")"
jcheck "$T/headline.json" 'd["title"] == "Lighthouse keepers return to the Lofoten islands" and d["subtitle"].startswith("The coastal administration") and d["dateline"] == "Bodo, Norway"' \
  "extract: headline, teaser and dateline"

# Identity: the same bytes give the same id from a file or stdin; a URL gives the id, with
# tracking parameters stripped.
"$NW" extract - <"$FX/wire.txt" >"$T/stdin.json" 2>"$T/err" || bad "extract - failed: $(cat "$T/err")"
id_file=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/wire.json")
id_stdin=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/stdin.json")
[ -n "$id_file" ] && [ "$id_file" = "$id_stdin" ] && ok "extract: same content, same id (file and stdin)" \
  || bad "extract: file id '$id_file' != stdin id '$id_stdin'"
"$NW" extract --url 'https://example.com/a/story?utm_source=x&utm_campaign=y' "$FX/wire.txt" >"$T/u1.json" 2>"$T/err" \
  || bad "extract --url failed: $(cat "$T/err")"
"$NW" extract --url 'https://example.com/a/story' "$FX/headline.txt" >"$T/u2.json" 2>"$T/err" \
  || bad "extract --url failed: $(cat "$T/err")"
id_u1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/u1.json")
id_u2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/u2.json")
[ -n "$id_u1" ] && [ "$id_u1" = "$id_u2" ] && [ "$id_u1" != "$id_file" ] \
  && ok "extract: id from the canonical URL (tracking parameters stripped)" \
  || bad "extract: url ids '$id_u1' / '$id_u2' (text id '$id_file')"
jcheck "$T/u1.json" 'd["url"] == "https://example.com/a/story"' "extract: url canonicalised"
NEWSWIRE_EXTRACT_URL='https://example.com/a/story' "$NW" extract "$FX/wire.txt" >"$T/u3.json" 2>"$T/err" \
  || bad "extract with NEWSWIRE_EXTRACT_URL failed: $(cat "$T/err")"
jcheck "$T/u3.json" 'd["url"] == "https://example.com/a/story" and d["id"] == "'"$id_u1"'"' \
  "extract: NEWSWIRE_EXTRACT_URL works like --url"
# A generic name meant for another program does not leak into extract's id (issue 13).
NEWSWIRE_URL='https://example.com/a/story' "$NW" extract "$FX/wire.txt" >"$T/u4.json" 2>"$T/err" \
  || bad "extract with NEWSWIRE_URL set failed: $(cat "$T/err")"
jcheck "$T/u4.json" 'd["id"] == "'"$id_file"'"' "extract: NEWSWIRE_URL does not change the id"
grep -q "NEWSWIRE_URL is not an option of newswire extract" "$T/err" \
  && ok "extract: warns about NEWSWIRE_URL" || bad "no warning for NEWSWIRE_URL: $(cat "$T/err")"

# Failures: a binary file, a missing file.
printf 'GIF89a\x01\x00\x01\x00\x00\x00\x00' >"$T/pic.gif"
"$NW" extract "$T/pic.gif" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && grep -qi "binary" "$T/err" && [ ! -s "$T/out" ] && ok "extract: binary input refused with a clear message" \
  || bad "extract binary: rc=$rc err=$(cat "$T/err")"
"$NW" extract "$T/missing.txt" >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q "missing.txt" "$T/err" && ok "extract: missing file named in the error" \
  || bad "extract missing file: $(cat "$T/err")"
printf 'caf\xe9 au lait, une phrase en latin-1 qui n est pas de l UTF-8.\n' >"$T/latin1.txt"
"$NW" extract --content-type text/plain "$T/latin1.txt" >"$T/out" 2>"$T/err"
[ $? -eq 1 ] && [ -s "$T/err" ] && [ ! -s "$T/out" ] && ok "extract: invalid UTF-8 fails with a reason: $(head -1 "$T/err")" \
  || bad "extract invalid utf-8: out=$(cat "$T/out") err=$(cat "$T/err")"

# --- parse --jsonl | enrich --jsonl ------------------------------------------------------------
"$NW" parse --jsonl <"$FX/raw.jsonl" >"$T/articles.jsonl" 2>"$T/err.parse" \
  || bad "parse --jsonl failed: $(cat "$T/err.parse")"
"$NW" enrich --jsonl <"$T/articles.jsonl" >"$T/enriched.jsonl" 2>"$T/err.enrich" \
  || bad "enrich --jsonl failed: $(cat "$T/err.enrich")"
jcheck "$T/articles.jsonl" 'len(L) == 3 and all(len(a["id"]) == 32 and a["source"] == "cli" for a in L)' \
  "parse --jsonl: 3 raw lines, 3 articles with ids"
jcheck "$T/articles.jsonl" 'L[0]["url"] == "https://example.com/news/harbour" and L[0]["title"] == "Harbour vote in Oslo" and L[0]["dateline"] == "Oslo, Norway"' \
  "parse --jsonl: wire text with a canonicalised url"
jcheck "$T/articles.jsonl" 'L[1]["content_type"] == "text/html" and "Museum reopens" in L[1].get("title", "") and "two years of repairs" in L[1]["text"] and "<p>" not in L[1]["text"]' \
  "parse --jsonl: HTML body"
jcheck "$T/enriched.jsonl" 'len(L) == 3 and [e["lang"] for e in L] == ["en", "en", "es"]' \
  "enrich --jsonl: 3 enriched lines with their language"
jcheck "$T/enriched.jsonl" 'all(e["words"] > 10 and e["reading_s"] > 0 and "all" in e["topics"] and "lang." + e["lang"] in e["topics"] for e in L)' \
  "enrich --jsonl: words, reading time, topics"
python3 - "$T/articles.jsonl" "$T/enriched.jsonl" <<'PY' && ok "enrich --jsonl: ids and text passed through" || bad "enrich changed ids or text"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
e = [json.loads(l) for l in open(sys.argv[2])]
sys.exit(0 if [x["id"] for x in a] == [x["id"] for x in e] and [x["text"] for x in a] == [x["text"] for x in e] else 1)
PY

# A bad line is reported with its number, the rest still flows, the exit status says so.
"$NW" parse --jsonl <"$FX/bad.jsonl" >"$T/bad.out" 2>"$T/bad.err"
rc=$?
[ $rc -eq 1 ] && ok "parse --jsonl: exit 1 when a line failed" || bad "parse --jsonl bad lines: rc=$rc"
jcheck "$T/bad.out" 'len(L) == 2 and L[0]["dateline"] == "Lima, Peru" and L[1]["dateline"] == "Nairobi, Kenya"' \
  "parse --jsonl: good lines around bad ones still parsed, in order"
grep -q "line 2: bad-json" "$T/bad.err" && grep -q "line 4: unsupported-content-type" "$T/bad.err" \
  && ok "parse --jsonl: bad lines on stderr with number and reason" \
  || bad "parse --jsonl stderr: $(cat "$T/bad.err")"
echo '{"title":"no id here","text":"x"}' | "$NW" enrich --jsonl >"$T/out" 2>"$T/err"
[ $? -eq 1 ] && grep -q "line 1: bad-article" "$T/err" && [ ! -s "$T/out" ] \
  && ok "enrich --jsonl: an article without id is rejected" || bad "enrich bad line: $(cat "$T/err")"
"$NW" parse <"$FX/raw.jsonl" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q -- "--jsonl" "$T/err" && ok "parse without --jsonl explains itself" \
  || bad "parse without --jsonl: $(cat "$T/err")"

# --- ingest, against a scripted HTTP server ------------------------------------------------------
# The client side of the fetch API without the services: content types sent, --url passed on,
# a 503 retried after its Retry-After, a server error reported with the server's message.
cat >"$T/server.py" <<'PY'
import http.server, json, sys, threading
busy = {"left": 1}
log = open(sys.argv[2], "a")
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        log.write(json.dumps({"path": self.path, "ct": self.headers.get("Content-Type"),
                              "len": len(body)}) + "\n")
        log.flush()
        if b"please-retry" in body and busy["left"] > 0:
            busy["left"] -= 1
            code, reply, extra = 503, {"error": "busy", "message": "queue full"}, {"Retry-After": "1"}
        elif b"please-refuse" in body:
            code, reply, extra = 415, {"error": "unsupported-content-type", "message": "no thanks"}, {}
        else:
            code, reply, extra = 202, {"id": "%032x" % len(body), "status": "accepted"}, {}
        data = json.dumps(reply).encode()
        self.send_response(code)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_address[1]))
srv.serve_forever()
PY
python3 "$T/server.py" "$T/port" "$T/requests.log" &
SRV=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
API="http://127.0.0.1:$(cat "$T/port")"
mkdir -p "$T/docs/sub"
echo "plain text document please-retry" >"$T/docs/b.txt"
echo "<html><body><p>an html document</p></body></html>" >"$T/docs/sub/a.html"
printf 'GIF89a\x01\x00\x00\x00' >"$T/docs/c.gif"
"$NW" ingest --api "$API" "$T/docs/" >"$T/ingest.out" 2>"$T/ingest.err"
rc=$?
[ $rc -eq 0 ] && ok "ingest: directory sent, busy answer retried (exit 0)" || bad "ingest dir: rc=$rc $(cat "$T/ingest.err")"
[ "$(cut -f2 "$T/ingest.out" | tr '\n' ' ')" = "$T/docs/b.txt $T/docs/sub/a.html " ] \
  && ok "ingest: one id<TAB>path line per document, sorted, recursive" \
  || bad "ingest output: $(cat "$T/ingest.out")"
grep -q "skipping '$T/docs/c.gif': binary" "$T/ingest.err" && ok "ingest: binary file skipped with a message" \
  || bad "ingest binary skip: $(cat "$T/ingest.err")"
python3 - "$T/requests.log" <<'PY' && ok "ingest: content types sniffed; the 503 was retried" || bad "requests seen: $(cat "$T/requests.log")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
# Posts run in parallel: the retried text/plain may come after the HTML.
assert sorted(x["ct"] for x in r) == ["text/html", "text/plain", "text/plain"], r
assert all(x["path"] == "/v1/articles" for x in r), r
PY
echo "a refused document please-refuse" | "$NW" ingest --api "$API" --url 'https://example.com/x?a=1' - >"$T/out" 2>"$T/err"
[ $? -eq 1 ] && grep -q "HTTP 415 unsupported-content-type: no thanks" "$T/err" && [ ! -s "$T/out" ] \
  && ok "ingest: server error reported with its message, exit 1" || bad "ingest refused: $(cat "$T/err")"
tail -1 "$T/requests.log" | grep -q '"path": "/v1/articles?url=https%3A%2F%2Fexample.com%2Fx%3Fa%3D1"' \
  && ok "ingest: --url passed as the url query parameter" || bad "ingest --url: $(tail -1 "$T/requests.log")"
kill "$SRV"
wait "$SRV" 2>/dev/null
SRV=""
"$NW" ingest --api "$API" "$T/docs/b.txt" >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q "cannot reach" "$T/err" && ok "ingest: unreachable API is a clear error" \
  || bad "ingest unreachable: $(cat "$T/err")"

# --- seeds -------------------------------------------------------------------------------------
if [ -d "$SEEDS" ]; then
  "$NW" extract "$SEEDS"/000_*.txt >"$T/s0.json" 2>"$T/err" || bad "extract seed 000: $(cat "$T/err")"
  "$NW" extract "$SEEDS"/002_*.txt >"$T/s2.json" 2>"$T/err" || bad "extract seed 002: $(cat "$T/err")"
  jcheck "$T/s0.json" 'd["dateline"] == "Cairo, Egypt" and d["published"] == "2024-02-06"' \
    "seed 000: dateline and published"
  jcheck "$T/s0.json" 'd["text"].startswith("US Secretary of State Antony Blinken") and "Schiefelbein" in d["captions"][0]["credit"]' \
    "seed 000: text and caption credit"
  jcheck "$T/s2.json" 'd["title"] == "Blinken will travel to Saudi Arabia and Egypt to discuss the Gaza truce"' \
    "seed 002: title"
  jcheck "$T/s2.json" 'len(d["captions"]) == 2 and all(c.get("agency") == "AFP" for c in d["captions"])' \
    "seed 002: both captions (Spanish and English) with their AFP credit"
  cat "$T/s0.json" "$T/s2.json" | "$NW" enrich --jsonl >"$T/seeds.enriched" 2>"$T/err" \
    || bad "enrich seeds: $(cat "$T/err")"
  jcheck "$T/seeds.enriched" 'L[0]["lang"] == "en" and L[1]["lang"] == "en" and sorted(c["lang"] for c in L[1]["captions"]) == ["en", "es"]' \
    "seeds: article and caption languages"
else
  echo "note: $SEEDS absent; seed checks skipped"
fi

# feed: the same feed reader fetch polls with, as a filter.
FEEDS=$NW_SRC/tests/fixtures/feeds
"$NW" feed "$FEEDS/rss20.xml" >"$T/feed.json" 2>"$T/err" || bad "feed rss20: $(cat "$T/err")"
jcheck "$T/feed.json" 'd["type"] == "rss" and d["title"] == "World Wire" and not d["bozo"] and len(d["items"]) == 2 and d["items"][0]["title"] == "Talks resume in Cairo"' \
  "feed: RSS 2.0 read into the unified model"
"$NW" feed - <"$FEEDS/atom10.xml" >"$T/feed2.json" 2>"$T/err" || bad "feed atom from stdin: $(cat "$T/err")"
jcheck "$T/feed2.json" 'd["type"] == "atom" and len(d["items"]) >= 1' "feed: Atom from stdin"
"$NW" feed "$FEEDS/malformed.xml" >"$T/feed3.json" 2>"$T/err" || bad "feed malformed: $(cat "$T/err")"
jcheck "$T/feed3.json" 'd["bozo"] is True and d["bozo_reason"] and len(d["items"]) >= 1' \
  "feed: a malformed feed is read as far as it goes and flagged bozo"
if printf '\x00\x01binary' | "$NW" feed - >/dev/null 2>"$T/err"; then
  bad "feed: binary input accepted"
else
  grep -q "not a feed" "$T/err" && ok "feed: binary input refused with a clear error" || bad "feed error: $(cat "$T/err")"
fi

# --- compare: the store's same-story score, across languages --------------------------------
EN="Flooding in Valencia: Spanish Prime Minister Pedro Sanchez visited Valencia on Tuesday after \
floods killed 214 people. Sanchez promised 10,600 million euros in aid to Valencia, and the \
European Union offered help through Ursula von der Leyen."
ES="Inundaciones en Valencia: el presidente del Gobierno, Pedro Sanchez, visito Valencia el \
martes tras las riadas que causaron 214 muertos. Sanchez prometio 10.600 millones de euros de \
ayuda para Valencia y Ursula von der Leyen ofrecio el apoyo de la Union Europea."
RATES="The central bank raised interest rates by a quarter point on Wednesday, citing stubborn \
inflation in services and a tight labour market."
"$NW" compare --text "$EN" "$ES" >"$T/cmp1.json" 2>"$T/err" || bad "compare: $(cat "$T/err")"
jcheck "$T/cmp1.json" 'd["same_story"] is True and d["duplicate"] is False and d["cross_language"] is True and d["anchors"] > 0' \
  "compare: one story in English and Spanish is the same story, not a duplicate"
"$NW" compare --text "$EN" "$RATES" >"$T/cmp2.json" 2>"$T/err" || bad "compare: $(cat "$T/err")"
jcheck "$T/cmp2.json" 'd["same_story"] is False and d["similarity"] < d["story_threshold"]' \
  "compare: unrelated texts are not one story"
"$NW" compare --text "$EN" "$EN" >"$T/cmp3.json" 2>"$T/err" || bad "compare: $(cat "$T/err")"
jcheck "$T/cmp3.json" 'd["duplicate"] is True and d["similarity"] == 1.0' "compare: a text is its own duplicate"
SEED_FILES=("$SEEDS"/*.txt)
if [ -f "${SEED_FILES[0]}" ] && [ -f "${SEED_FILES[1]:-}" ]; then
  "$NW" compare "${SEED_FILES[0]}" "${SEED_FILES[1]}" >"$T/cmp4.json" 2>"$T/err" || bad "compare seeds: $(cat "$T/err")"
  jcheck "$T/cmp4.json" 'd["same_story"] is True and d["duplicate"] is False' \
    "compare: the two seeds are the same story, not duplicates"
else
  echo "skip: compare of the seeds, no seeds under $SEEDS"
fi

# newswire config check: the program's own loader judges a --config file, naming every bad line.
printf '# fetch\nspool-dir = %s/spool\nspool-maxx = 2g\nresend-after = 10ms\nmax-body = lots\n' "$T" >"$T/fetch.conf"
"$NW" config check fetch "$T/fetch.conf" >"$T/cc.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "fetch.conf:3: unknown key 'spool-maxx'" "$T/cc.out" &&
  grep -q "fetch.conf:4: key 'resend-after' is 10ms, must be within 100ms..1h" "$T/cc.out" &&
  grep -q "fetch.conf:5: key 'max-body'" "$T/cc.out" &&
  ok "config check: exit 2, every bad key named with file:line, bounds in the units written" ||
  bad "config check of a bad file: rc=$rc $(cat "$T/cc.out")"
printf 'spool-dir = %s/spool\nresend-after = 30s\n' "$T" >"$T/good.conf"
"$NW" config check fetch "$T/good.conf" >"$T/cc.out" 2>&1 && grep -q "options ok" "$T/cc.out" &&
  ok "config check: a good fetch file passes" || bad "config check of a good file: $(cat "$T/cc.out")"
printf 'limit = 2\n' >"$T/search.conf"
"$NW" config check search "$T/search.conf" >"$T/cc.out" 2>&1 &&
  ok "config check: commands too (search)" || bad "config check search: $(cat "$T/cc.out")"

if [ $fails -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all checks passed"
