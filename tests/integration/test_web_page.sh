#!/usr/bin/env bash
# test_web_page.sh: the web page newswire-query serves at /, in a real browser. Starts a real
# `newswire up` (temporary data dir, free ports), checks that / and its vendored map files are
# served with their Content-Types and that a path out of data/web/ is refused, then runs
# tests/browser/web_page.mjs: Debian's chromium, headless, driven by puppeteer-core (installed
# into tests/browser/node_modules from its package-lock.json by scripts/setup.sh). It ingests
# through the fetch API and checks the live list, a search, a facet filter and the map marker
# of the dateline city; the screenshot is kept in <build>/artifacts/web-page.png.
# Skips only when node, puppeteer-core or chromium is missing or chromium cannot start.
. "$(dirname "$0")/lib.sh"
require_bins "$NW" "$(svc_bin query)" "$(svc_bin fetch)" "$(svc_bin store)"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || skip "no chromium (apt-get install chromium; scripts/setup.sh lists it)"
command -v node >/dev/null || skip "no node (apt-get install nodejs)"
[ -d "$NW_SRC/tests/browser/node_modules/puppeteer-core" ] ||
  skip "puppeteer-core is not installed: (cd tests/browser && npm ci), as ./test.sh does"

P=$(free_ports 20)
FETCH=http://127.0.0.1:$((P + 8))
QUERY=http://127.0.0.1:$((P + 17))
start up "$NW" up --data-dir "$T/data" --broker "tcp://127.0.0.1:$P" --http "127.0.0.1:$((P + 8))" \
  --ingest "" --metrics-port 0 --parse 1 --enrich 1 --query "127.0.0.1:$((P + 17))"
wait_until 60 curl -fsS "$QUERY/healthz" || fail "query never became healthy: $(tail -20 "$T/up.log")"
wait_until 60 curl -fsS "$FETCH/healthz" || fail "fetch never became healthy: $(tail -20 "$T/up.log")"

# The static files: types by extension, and nothing outside data/web/.
ctype() { curl -sS -o /dev/null -w '%{http_code} %{content_type}' "$QUERY$1"; }
[ "$(ctype /)" = "200 text/html; charset=utf-8" ] || fail "GET /: $(ctype /)"
[ "$(ctype /app.js)" = "200 text/javascript; charset=utf-8" ] || fail "GET /app.js: $(ctype /app.js)"
[ "$(ctype /vendor/countries-110m.json)" = "200 application/json" ] ||
  fail "GET /vendor/countries-110m.json: $(ctype /vendor/countries-110m.json)"
code=$(curl -sS --path-as-is -o "$T/out" -w '%{http_code}' "$QUERY/../../CMakeLists.txt")
[ "$code" = 404 ] && ! grep -q project "$T/out" || fail "a path out of data/web/ answered $code"
code=$(curl -sS --path-as-is -o /dev/null -w '%{http_code}' "$QUERY/%2e%2e/ner/model.bin")
[ "$code" = 404 ] || fail "an escaped path out of data/web/ answered $code"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "$QUERY/metrics")" = 200 ] ||
  fail "the page's catch-all route shadows /metrics"
ok "/ serves the page and its vendored files with their types, and nothing outside data/web/"

# A second newswire-query on the same database and hub that asks for a bearer token: the page
# reads its stream with fetch() then (EventSource cannot send one).
TOKEN=$("$NW" token new --scope read --name page --file "$T/tokens" 2>/dev/null) ||
  fail "newswire token new"
start query-token "$(svc_bin query)" --data-dir "$T/data" --broker "tcp://127.0.0.1:$P" \
  --http "127.0.0.1:$((P + 18))" --http-tokens "$T/tokens"
QUERY_TOKEN=http://127.0.0.1:$((P + 18))
wait_until 60 curl -fsS "$QUERY_TOKEN/healthz" || fail "the query with tokens never became healthy"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "$QUERY_TOKEN/v1/articles")" = 401 ] ||
  fail "the query with tokens answers without one"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "$QUERY_TOKEN/")" = 200 ] ||
  fail "the page itself must load without a token (a browser cannot send one for it)"

mkdir -p "$NW_BIN/artifacts"
SHOT=$NW_BIN/artifacts/web-page.png
rm -f "$SHOT"
rc=0
QUERY=$QUERY FETCH=$FETCH SHOT=$SHOT CHROMIUM=$CHROMIUM HOME=$T QUERY_TOKEN=$QUERY_TOKEN TOKEN=$TOKEN \
  node "$NW_SRC/tests/browser/web_page.mjs" || rc=$?
[ $rc -eq 77 ] && skip "chromium cannot start here"
[ $rc -eq 0 ] || fail "the browser test failed (rc $rc); up.log: $(tail -20 "$T/up.log")"
[ -s "$SHOT" ] || fail "no screenshot at $SHOT"
ok "browser: live list, search, facet filter, map marker, a token-protected API; screenshot $SHOT"
