# spool_lib.sh: shared by the test_spool*.sh tests (sourced after lib.sh, not run itself).
# Starts broker, store, parse, enrich and a spooling fetch on free ports, and a client that
# posts numbered articles and retries every one that did not get a 202, the way a real sender
# must. Each article has its own text (and so its own id), and no URL.
require_bins "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" "$(svc_bin enrich)" \
  "$(svc_bin store)"
command -v curl >/dev/null || skip "curl not installed"

P=$(free_ports 13)
BROKER="tcp://127.0.0.1:$P"
API="127.0.0.1:$((P + 8))"
FETCH_HTTP="http://$API"
BROKER_HTTP="http://127.0.0.1:$((P + 12))" # P+9..P+11 are the tests' own
DATA=$T/data
DB=$DATA/newswire.db
SPOOL=$DATA/spool
mkdir -p "$DATA"

start_store() { start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA" --batch-ms 5; }

# Fetch's output goes through a pipe, so a file-size limit on fetch (test_spool_disk.sh) limits
# only the spool, not its log.
start_fetch() {
  "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "" --ingest "" \
    --name fetch-spooltest --spool-dir "$SPOOL" --resend-after 1s "$@" \
    > >(cat >>"$T/fetch.log") 2>&1 &
  PID_fetch=$!
  NW_PIDS+=($PID_fetch)
  wait_until 20 curl -fsS "$FETCH_HTTP/healthz" || fail "fetch did not come up: $(tail -5 "$T/fetch.log")"
}

start_pipeline() {
  start broker "$(svc_bin broker)" --bind "$BROKER" --http "${BROKER_HTTP#http://}"
  start_store
  start parse "$(svc_bin parse)" --broker "$BROKER"
  start enrich "$(svc_bin enrich)" --broker "$BROKER"
  start_fetch
}

# client FIRST COUNT TAG: post articles FIRST..FIRST+COUNT-1 in the background, each until it
# gets a 202; the number done so far is in $T/client-TAG.done, "finished" appended at the end.
client() {
  python3 - "$FETCH_HTTP" "$1" "$2" "$T/client-$3.done" <<'PY' >>"$T/client-$3.log" 2>&1 &
import sys, time, urllib.request, urllib.error
api, first, count, done = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
for i in range(first, first + count):
    body = (f"Spool test article {i:04d}\n\nLisbon, Portugal - The harbour council met for the "
            f"{i}th time and agreed on item {i} of the plan, officials said on Monday.\n").encode()
    while True:
        req = urllib.request.Request(api + "/v1/articles", data=body,
                                     headers={"Content-Type": "text/plain"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 202:
                    break
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            print(f"article {i}: {e}", flush=True)
        time.sleep(0.05)
    with open(done, "w") as f:
        f.write(f"{i - first + 1}\n")
    time.sleep(0.01)
with open(done, "a") as f:
    f.write("finished\n")
PY
  NW_PIDS+=($!)
}

client_done() { cat "$T/client-$1.done" 2>/dev/null | head -1 || echo 0; }
client_finished() { grep -q finished "$T/client-$1.done" 2>/dev/null; }
at_least() { [ "$(client_done "$1")" -ge "$2" ] 2>/dev/null; }

# stored_n: how many test articles the store holds; stored_is N: exactly N.
stored_n() { db_query "$DB" "select count(*) from articles where title like 'Spool test article %'"; }
stored_is() { [ "$(stored_n 2>/dev/null)" = "$1" ]; }

# exactly_once N: N articles, N distinct ids and titles, one revision each, no dead letters.
exactly_once() {
  local n=$1 got
  got=$(db_query "$DB" "select count(*), count(distinct id), count(distinct title) from articles where title like 'Spool test article %'")
  [ "$got" = "$n	$n	$n" ] || fail "articles (rows, ids, titles) = $got, want $n each"
  got=$(db_query "$DB" "select count(*) from revisions r join articles a on a.id = r.id where a.title like 'Spool test article %'")
  [ "$got" = "$n" ] || fail "$got revisions for $n articles: something was stored twice"
  got=$(db_query "$DB" "select count(*) from dead_letters")
  [ "$got" = 0 ] || fail "$got dead letters"
}

unacked_is_zero() { [ "$(metric "$FETCH_HTTP" nw_fetch_spool_unacked)" = 0 ]; }
