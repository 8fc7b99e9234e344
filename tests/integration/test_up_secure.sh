#!/usr/bin/env bash
# test_up_secure.sh: `newswire up` off loopback. It refuses, with a message naming the option
# to add, an API on 0.0.0.0 without --token-file and a bus on 0.0.0.0 without --keys (before
# this, `up --http 0.0.0.0:...` restarted a fetch that refused to start until up gave up).
# With --token-file and --keys (a `newswire keygen --set` set) the whole system runs with
# tokens on both APIs and CURVE roles on the bus: an anonymous POST gets 401, a POST with an
# ingest token is stored, query answers a read token and not a missing one, the broker runs
# with roles, and SIGTERM stops everything with exit 0.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for svc in broker store enrich parse fetch query; do require_bins "$(svc_bin "$svc")"; done
require_bins "$NW"

P=$(free_ports 20)
BROKER="tcp://0.0.0.0:$P"
API="0.0.0.0:$((P + 8))"
QAPI="0.0.0.0:$((P + 9))"
COMMON=(--data-dir "$T/data" --broker "$BROKER" --http "$API" --query "$QAPI" --ingest ""
  --parse 1 --enrich 1 --metrics-port $((P + 10)))

rc=0
"$NW" up "${COMMON[@]}" >"$T/open.out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q -- "--http \"$API\" is not loopback: give --token-file" "$T/open.out" ||
  fail "up without --token-file: rc=$rc $(cat "$T/open.out")"
TOK=$T/tokens
WRITE=$("$NW" token new --scope ingest --name writer --file "$TOK")
READ=$("$NW" token new --scope read --name reader --file "$TOK")
rc=0
"$NW" up "${COMMON[@]}" --token-file "$TOK" >"$T/plain.out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q -- "--broker \"$BROKER\" is not loopback: give --keys" "$T/plain.out" ||
  fail "up without --keys: rc=$rc $(cat "$T/plain.out")"
ok "up off loopback without tokens or keys refused at once, naming the option"

"$NW" keygen --set "$T/keys" >/dev/null || fail "keygen --set"
start up "$NW" up "${COMMON[@]}" --token-file "$TOK" --keys "$T/keys"
HOST_API="127.0.0.1:$((P + 8))"
HOST_Q="127.0.0.1:$((P + 9))"
wait_until 60 curl -fsS "http://$HOST_API/healthz" || fail "fetch did not come up: $(tail -20 "$T/up.log")"
code=$(curl -sS -o /dev/null -w "%{http_code}" -H "Content-Type: text/plain" --data-binary "Anonymous

Oslo, Norway - Nobody sent this." "http://$HOST_API/v1/articles")
[ "$code" = 401 ] || fail "an anonymous POST got $code"
code=$(curl -sS -o "$T/post.out" -w "%{http_code}" -H "Authorization: Bearer $WRITE" \
  -H "Content-Type: text/plain" --data-binary "Harbour report

Oslo, Norway - The harbour master said on Monday that the harbour reopened after the storm." \
  "http://$HOST_API/v1/articles")
[ "$code" = 202 ] || fail "POST with an ingest token got $code: $(cat "$T/post.out")"
wait_until 60 bash -c "curl -fsS -H 'Authorization: Bearer $READ' 'http://$HOST_Q/v1/search?q=harbour' | grep -q 'Harbour report'" ||
  fail "the article was not found with a read token: $(tail -20 "$T/up.log")"
code=$(curl -sS -o /dev/null -w "%{http_code}" "http://$HOST_Q/v1/search?q=harbour")
[ "$code" = 401 ] || fail "query answered $code without a token"
grep -q "roles on fetch=1 worker=1 store=1 subscriber=1" "$T/up.log" || fail "the broker ran without roles"
! grep -q "INSECURE" "$T/up.log" || fail "a child ran insecure"
ok "up --token-file --keys: tokens on both APIs, CURVE roles on the bus, the article stored"

kill -TERM "$PID_up"
rc=0
wait "$PID_up" || rc=$?
[ $rc = 0 ] || fail "up exited $rc after SIGTERM"
ok "SIGTERM stops everything, exit 0"
