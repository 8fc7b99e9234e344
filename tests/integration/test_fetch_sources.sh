#!/usr/bin/env bash
# test_fetch_sources.sh: fetch's sources fail alone. With its ZeroMQ ingest port held by
# another process, an inbox path that is a regular file (the directory cannot be made) and a
# feed list that does not exist, fetch still starts: the HTTP API accepts articles, /healthz
# answers 200 "degraded" naming each broken source with its reason, nw_fetch_source_up reads 0
# for them. Once the port is freed and the inbox and feed list are fixed, the retries (with
# backoff) bring every source up: /healthz "ok", the ingest socket and the inbox take
# articles. Then `newswire up` refuses to start while one of its ports is in use, naming it.
# Before this, fetch exited at once on any of these (and `up` restarted it forever).
. "$(dirname "$0")/lib.sh"
FETCH=$(svc_bin fetch)
BROKER_BIN=$(svc_bin broker)
require_bins "$FETCH" "$BROKER_BIN" "$NW"

P=$(free_ports 24)
[ -n "$P" ] || fail "no free ports"
BROKER=tcp://127.0.0.1:$P
API=http://127.0.0.1:$((P + 8))
INGEST=tcp://127.0.0.1:$((P + 9))

# Hold the ingest port: a listening socket in another process.
python3 - "$((P + 9))" "$T/holder.ready" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close()
time.sleep(600)
PY
HOLDER=$!
NW_PIDS+=("$HOLDER")
wait_until 10 test -f "$T/holder.ready" || fail "port holder did not start"

: >"$T/inbox" # a file where the inbox directory should be
start broker "$BROKER_BIN" --bind "$BROKER" --http ""
start fetch "$FETCH" --broker "$BROKER" --http "127.0.0.1:$((P + 8))" --inbox-dir "$T/inbox" \
  --ingest "$INGEST" --spool-dir "$T/spool" --state-dir "$T/state" --feeds "$T/feeds.txt" \
  --name f1
wait_until 20 curl -fsS "$API/healthz" || fail "fetch with broken sources did not come up: $(tail -5 "$T/fetch.log")"
kill -0 "$PID_fetch" 2>/dev/null || fail "fetch exited"

printf 'Oslo, Norway - The API still takes articles while a source is down.\n' >"$T/a.txt"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' \
  --data-binary "@$T/a.txt" "$API/v1/articles")
[ "$code" = 202 ] || fail "HTTP API answered $code with sources down"
ok "fetch runs and the HTTP API accepts (202) with three sources broken"

curl -sS "$API/healthz" >"$T/h1" || fail "/healthz"
python3 - "$T/h1" <<'PY' || fail "/healthz while degraded: $(cat "$T/h1")"
import json, sys
h = json.load(open(sys.argv[1]))
assert h["status"] == "degraded", h
p = h["problems"]
assert set(p) == {"ingest", "inbox", "web"}, p
assert "in use" in p["ingest"], p["ingest"]
assert "inbox" in p["inbox"], p["inbox"]
assert "feeds.txt" in p["web"], p["web"]
PY
ok "/healthz: degraded, with ingest, inbox and web and their reasons"
up_of() { curl -fsS "$API/metrics" | awk -v k="nw_fetch_source_up{source=\"$1\"}" '$1 == k { print $2 }'; }
[ "$(up_of ingest)" = 0 ] && [ "$(up_of inbox)" = 0 ] && [ "$(up_of web)" = 0 ] ||
  fail "nw_fetch_source_up: $(curl -fsS "$API/metrics" | grep nw_fetch_source)"
ok "nw_fetch_source_up reads 0 for each broken source"

# Repair everything; the retries (1 s, 2 s, 4 s, ...) bring the sources up.
kill -KILL "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
rm -f "$T/inbox"
printf '# no feeds yet\n' >"$T/feeds.txt"
healthy() { curl -fsS "$API/healthz" | contains '"status":"ok"'; }
wait_until 30 healthy || fail "sources never came back: $(curl -sS "$API/healthz")"
[ "$(up_of ingest)" = 1 ] && [ "$(up_of inbox)" = 1 ] && [ "$(up_of web)" = 1 ] ||
  fail "nw_fetch_source_up after repair: $(curl -fsS "$API/metrics" | grep nw_fetch_source)"
printf 'Oslo, Norway - A file for the inbox that came back.\n' >"$T/b.tmp"
mv "$T/b.tmp" "$T/inbox/b.txt"
wait_until 20 test -f "$T/inbox/done/b.txt" || fail "the inbox did not take a file after coming back"
grep -q 'source .*ingest.* started after all' "$T/fetch.log" || fail "no log line for the ingest coming back"
ok "after repair every source is up: /healthz ok, the inbox takes files"

# newswire up: a port in use is named before anything starts, and up exits 1 at once.
UP=$(free_ports 24)
python3 - "$((UP + 8))" "$T/holder2.ready" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close()
time.sleep(600)
PY
NW_PIDS+=($!)
wait_until 10 test -f "$T/holder2.ready" || fail "second port holder did not start"
rc=0
timeout 20 "$NW" up --data-dir "$T/updata" --broker "tcp://127.0.0.1:$UP" \
  --http "127.0.0.1:$((UP + 8))" --ingest "tcp://127.0.0.1:$((UP + 9))" \
  --metrics-port $((UP + 10)) --query "" --parse 1 --enrich 1 >"$T/up.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "up with its API port taken exited $rc: $(cat "$T/up.log")"
grep -q "port $((UP + 8)) (fetch HTTP API, --http 127.0.0.1:$((UP + 8))) is in use" "$T/up.log" ||
  fail "up did not name the port in use: $(cat "$T/up.log")"
grep -q "newswire is up" "$T/up.log" && fail "up said it was up with a port in use"
grep -q "started \"" "$T/up.log" && fail "up started children with a port in use"
ok "newswire up: refuses at once, naming port $((UP + 8)) and --http"
echo "all checks passed"
