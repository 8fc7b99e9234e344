#!/usr/bin/env bash
# test_web.sh: fetch reading the web. A local hostile web (tests/fixtures/web/server.py) serves
# a feed of three stories plus one robots.txt forbids; the whole pipeline runs. Checks: the
# three pages end up in the store once each with their canonical URLs (utm_* gone); the
# forbidden page is never requested; the second poll sends If-None-Match and gets 304; after a
# fetch restart with the validators gone (so the feed is read in full again) the seen-set keeps
# every page from being fetched or ingested twice; POST /v1/urls ingests a page and refuses a
# gzip bomb, a 2 GB body, a slow server, a redirect loop and a robots-forbidden page with
# clear errors, and so does `newswire ingest URL`; and a fetch without --allow-private refuses the loopback address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/spool_lib.sh"

WP=$(free_ports 1)
start web python3 "$NW_SRC/tests/fixtures/web/server.py" "$WP" 3
WEB="http://127.0.0.1:$WP"
wait_until 10 curl -fsS "$WEB/robots.txt" || fail "the test web server did not start"
STATE=$T/state
WEB_ARGS=(--feeds "$WEB/feed.xml" --allow-private --state-dir "$STATE" --poll-interval 2s
  --host-delay 20ms --web-timeout 1s --max-body 1m)

requests() { curl -fsS "$WEB/_log" | grep -c "^GET $1" || true; }
stored() { db_query "$DB" "select count(*) from articles where url like '$WEB/articles/%'"; }
stored_is() { [ "$(stored 2>/dev/null)" = "$1" ]; }
metric_at_least() { [ "$(metric "$FETCH_HTTP" "$1")" -ge "$2" ] 2>/dev/null; }
# sample NAME REASON: one labelled sample of a counter (0 when absent).
sample() {
  curl -fsS "$FETCH_HTTP/metrics" |
    awk -v k="$1{reason=\"$2\"}" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}
sample_is() { [ "$(sample "$1" "$2")" = "$3" ]; }

start_pipeline_web() {
  start broker "$(svc_bin broker)" --bind "$BROKER"
  start_store
  start parse "$(svc_bin parse)" --broker "$BROKER"
  start enrich "$(svc_bin enrich)" --broker "$BROKER"
  start_fetch "${WEB_ARGS[@]}"
}
start_pipeline_web

# First poll: three new pages accepted, the fourth item forbidden by robots.txt.
wait_until 30 sample_is nw_fetch_web_pages_total accepted 3 ||
  fail "pages accepted: $(sample nw_fetch_web_pages_total accepted); $(tail -5 "$T/fetch.log")"
wait_until 30 stored_is 3 || fail "store holds $(stored) web articles, want 3"
urls=$(db_query "$DB" "select url from articles order by url" | tr '\n' ' ')
[ "$urls" = "$WEB/articles/1.html $WEB/articles/2.html $WEB/articles/3.html " ] ||
  fail "stored urls: $urls"
ok "three feed items fetched and stored with canonical URLs"
[ "$(sample nw_fetch_web_pages_total robots-disallowed)" -ge 1 ] || fail "robots refusal not counted"
[ "$(requests /private/)" = 0 ] || fail "a page robots.txt forbids was requested"
[ "$(requests /robots.txt)" -ge 1 ] || fail "robots.txt was not read"
ok "the page robots.txt forbids was not fetched"

# Second poll: conditional, 304, nothing new.
wait_until 30 metric_at_least 'nw_fetch_web_polls_total{reason="not-modified"}' 1 ||
  fail "no 304 poll: $(curl -fsS "$FETCH_HTTP/metrics" | grep web_polls)"
curl -fsS "$WEB/_log" | contains '^GET /feed.xml "v1"$' || fail "If-None-Match was not sent"
[ "$(sample nw_fetch_web_pages_total accepted)" = 3 ] || fail "the 304 poll ingested something"
[ -s "$STATE/feeds.tsv" ] && grep -q '"v1"' "$STATE/feeds.tsv" || fail "validators not persisted"
ok "second poll sent If-None-Match, got 304, ingested nothing"

# Restart fetch without its validators: the feed is read in full, the seen-set (which
# survived) holds every item, so nothing is fetched or ingested twice.
kill -TERM "$PID_fetch"
wait "$PID_fetch" 2>/dev/null || fail "fetch did not exit cleanly on SIGTERM"
rm -f "$STATE/feeds.tsv"
[ "$(grep -vc '^#' "$STATE/seen.log")" = 3 ] || fail "seen.log: $(cat "$STATE/seen.log")"
start_fetch "${WEB_ARGS[@]}"
wait_until 30 metric_at_least 'nw_fetch_web_polls_total{reason="ok"}' 1 || fail "no poll after restart"
wait_until 10 sample_is nw_fetch_web_items_total seen 3 ||
  fail "items seen after restart: $(sample nw_fetch_web_items_total seen)"
[ "$(sample nw_fetch_web_pages_total accepted)" = 0 ] || fail "the restart ingested pages again"
for i in 1 2 3; do
  [ "$(requests /articles/$i.html)" = 1 ] || fail "/articles/$i.html requested $(requests /articles/$i.html) times"
done
sleep 1
stored_is 3 || fail "store holds $(stored) web articles after the restart"
ok "after a restart the re-poll fetched and ingested nothing twice"

# The seen-set is bounded by generations: with --seen-keep 1s the first poll retires seen.log to
# seen.old; the feed still lists the three items, so they are carried into the new generation
# (not fetched again), while a URL no feed lists any more is gone after the next rotation.
kill -TERM "$PID_fetch"
wait "$PID_fetch" 2>/dev/null || fail "fetch did not exit cleanly on SIGTERM"
rm -f "$STATE/feeds.tsv"
echo "https://gone.example/old-story" >>"$STATE/seen.log"
sleep 1.1
start_fetch "${WEB_ARGS[@]}" --seen-keep 1s
wait_until 30 metric_at_least 'nw_fetch_web_polls_total{reason="ok"}' 1 || fail "no poll after restart"
wait_until 10 sample_is nw_fetch_web_items_total seen 3 ||
  fail "items seen after rotation: $(sample nw_fetch_web_items_total seen)"
[ "$(sample nw_fetch_web_pages_total accepted)" = 0 ] || fail "rotation made pages be ingested again"
# The rotations are read from fetch's log, not from the files: with --seen-keep 1s and a 2 s poll
# every poll rotates, and on a loaded machine a third rotation can pass before a file is read.
kept() { grep -o 'seen-set rotated: [0-9]* URLs kept' "$T/fetch.log" | awk '{print $3}' | paste -sd' '; }
two_rotations() { [ "$(kept | wc -w)" -ge 2 ]; }
wait_until 30 two_rotations || fail "fewer than two rotations: kept $(kept)"
set -- $(kept)
[ "$1" = 4 ] || fail "the first rotation kept $1 URLs, want 4 (three listed, one unlisted): $*"
[ "$2" = 3 ] || fail "the second rotation kept $2 URLs, want the 3 listed ones carried over: $*"
if grep -q gone.example "$STATE/seen.old" "$STATE/seen.log"; then
  fail "an unlisted URL survived two rotations"
fi
for i in 1 2 3; do
  [ "$(requests /articles/$i.html)" = 1 ] || fail "/articles/$i.html requested again after rotation"
done
ok "seen-set generations: listed items carried over, an unlisted one forgotten"

# POST /v1/urls: one page in, and every hostile case refused with a clear error.
post_url() {
  curl -sS -o "$T/post.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data "{\"url\": \"$1\"}" "$FETCH_HTTP/v1/urls"
}
code=$(post_url "$WEB/articles/9.html?utm_campaign=x")
[ "$code" = 202 ] || fail "POST /v1/urls: $code $(cat "$T/post.json")"
grep -q '"status":"accepted"' "$T/post.json" || fail "no id in $(cat "$T/post.json")"
wait_until 30 stored_is 4 || fail "the posted page was not stored"
[ "$(db_query "$DB" "select count(*) from articles where url = '$WEB/articles/9.html'")" = 1 ] ||
  fail "posted page not stored under its canonical URL"
ok "POST /v1/urls ingested a page: $(cat "$T/post.json")"
out=$("$NW" ingest --api "$FETCH_HTTP" "$WEB/articles/8.html") || fail "newswire ingest URL failed"
[ "$(printf '%s' "$out" | cut -f2)" = "$WEB/articles/8.html" ] &&
  printf '%s' "$out" | cut -f1 | grep -Eq '^[0-9a-f]{32}$' || fail "newswire ingest URL printed: $out"
if "$NW" ingest --api "$FETCH_HTTP" "$WEB/loop/a" 2>"$T/cli.err"; then fail "a redirect loop was ingested"; fi
grep -q "redirect-loop" "$T/cli.err" || fail "newswire ingest: $(cat "$T/cli.err")"
wait_until 30 stored_is 5 || fail "the page ingested by the CLI was not stored"
ok "newswire ingest URL: $out"
expect() { # PATH STATUS ERROR
  local c
  c=$(post_url "$WEB$1")
  [ "$c" = "$2" ] && grep -q "\"error\":\"$3\"" "$T/post.json" ||
    fail "POST /v1/urls $1: $c $(cat "$T/post.json"), want $2 $3"
}
expect /bomb 422 too-large
expect /huge 422 too-large
expect /slow 504 timeout
expect /loop/a 422 redirect-loop
expect /private/x.html 403 robots-disallowed
c=$(post_url "ftp://example.com/x")
[ "$c" = 400 ] || fail "ftp URL: $c"
ok "gzip bomb, 2 GB body, slow server, redirect loop, robots-forbidden page and bad URL refused"
kill -0 "$PID_fetch" || fail "fetch died"

# A second fetch with the defaults refuses loopback addresses.
P2=$(free_ports 1)
start fetch2 "$(svc_bin fetch)" --broker "$BROKER" --http "127.0.0.1:$P2" --inbox-dir "" \
  --ingest "" --name fetch-private --spool-dir "$T/spool2" --state-dir "$T/state2"
wait_until 20 curl -fsS "http://127.0.0.1:$P2/healthz" || fail "fetch2 did not start"
c=$(curl -sS -o "$T/post.json" -w '%{http_code}' --data "{\"url\": \"$WEB/articles/5.html\"}" \
  "http://127.0.0.1:$P2/v1/urls")
[ "$c" = 422 ] && grep -q '"error":"forbidden-address"' "$T/post.json" ||
  fail "loopback not refused: $c $(cat "$T/post.json")"
[ "$(requests /articles/5.html)" = 0 ] || fail "the refused page was requested"
ok "loopback refused without --allow-private"
