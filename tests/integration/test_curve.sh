#!/usr/bin/env bash
# test_curve.sh: CURVE with roles on the bus (curve.h, broker.c). Keys from `newswire keygen
# --set`; the broker requires CURVE with --curve-roles; fetch, the workers, the store and the
# subscribers connect with their role's key. Checks, all over TCP loopback with real services:
#   - keygen makes the set (secret files 0600, roles/<role>/ tree), never overwrites, adds keys;
#   - bad key options, CURVE without roles on the broker, and a non-loopback endpoint without
#     CURVE are refused at start (exit 2); --insecure runs, says so in the log, /metrics and
#     /healthz;
#   - with a subscriber's key a peer cannot publish fake acks (fetch keeps its unacked count),
#     join the store stage and take jobs, push a forged "enriched", publish a fake "all" that
#     reaches /v1/stream, or subscribe to acks; fetch's key cannot push "enriched"; an unknown
#     key and a peer without CURVE get nothing; each refusal is counted by socket and reason
#     and logged with the key;
#   - the happy path: every article posted is stored, acked and streamed.
# The attacking peer is bus_peer.py (pyzmq). Run by hand against a broker without roles (plain,
# as compose ran it before), the same fake acks took fetch's unacked count from 3 to 0 and the
# same worker took all 3 store jobs; the old --curve-allow only checked that a key was listed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)" "$(svc_bin query)"
PY=""
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import zmq, msgpack' 2>/dev/null; then PY=$p && break; fi
done
[ -n "$PY" ] || skip "no python3 with pyzmq and msgpack (Debian: python3-zmq python3-msgpack)"
PEER=("$PY" "$NW_SRC/tests/integration/bus_peer.py")

K=$T/keys
mkdir -p "$T/data"
"$NW" keygen --set "$K" >"$T/keygen.out" || fail "keygen --set failed"
for r in broker fetch worker store subscriber; do
  [ "$(stat -c %a "$K/$r.key")" = 600 ] || fail "$r.key is not mode 600"
  grep -q '^public-key = ' "$K/$r.pub" && ! grep -q secret "$K/$r.pub" || fail "$r.pub: $(cat "$K/$r.pub")"
done
[ "$(stat -c %a "$K")" = 700 ] || fail "the key directory is not 0700"
for r in fetch worker store subscriber; do
  cmp -s "$K/$r.pub" "$K/roles/$r/$r.pub" || fail "roles/$r/$r.pub is not $r.pub"
done
[ ! -e "$K/roles/broker" ] || fail "the broker's key is listed as a role"
if "$NW" keygen --set "$K" 2>"$T/keygen2.err"; then fail "keygen --set overwrote a set"; fi
grep -q "broker.key" "$T/keygen2.err" || fail "keygen refusal: $(cat "$T/keygen2.err")"
"$NW" keygen --set "$K" --role worker worker-b >/dev/null || fail "keygen --role worker"
[ -f "$K/worker-b.key" ] && cmp -s "$K/worker-b.pub" "$K/roles/worker/worker-b.pub" ||
  fail "keygen --role did not list worker-b"
if "$NW" keygen --set "$K" --role admin 2>"$T/keygen3.err"; then fail "keygen took role admin"; fi
(cd "$T" && "$NW" keygen intruder >/dev/null) || fail "keygen intruder"
ok "keygen --set: broker and role pairs, 0600 secrets, roles/ tree, never overwritten, --role adds"

# bad options: exit 2 with a message naming the problem
refused() { # WANT-IN-MESSAGE BINARY ARGS...
  local want=$1 bin=$2 rc=0
  shift 2
  "$(svc_bin "$bin")" "$@" >"$T/bad.out" 2>&1 || rc=$?
  [ $rc = 2 ] && grep -q -- "$want" "$T/bad.out" || fail "$bin $*: rc=$rc $(cat "$T/bad.out")"
}
refused "need --curve-key" parse --curve-server "$K/broker.pub"
refused "curve-server" parse --curve-key "$K/worker.key"
refused "not a key file" parse --curve-key "$K/worker.pub" --curve-server "$K/broker.pub"
refused "public key" parse --curve-key "$K/worker.key" --curve-server "$K/nosuch.pub"
refused "needs --curve-roles" broker --bind "tcp://127.0.0.1:1" --curve-key "$K/broker.key"
refused "lists no key" broker --bind "tcp://127.0.0.1:1" --curve-key "$K/broker.key" --curve-roles "$T/data"
ok "bad CURVE options refused at start"

P=$(free_ports 14)
refused "refusing plain ZeroMQ on --bind \"tcp://0.0.0.0:$P\"" broker --bind "tcp://0.0.0.0:$P"
refused "refusing plain ZeroMQ on --broker" parse --broker "tcp://192.0.2.1:5550"
refused "refusing plain ZeroMQ on --broker" query --broker "tcp://broker:5550" --data-dir "$T/data"
rc=0
"$NW" tail --broker "tcp://192.0.2.1:5550" >"$T/bad.out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q "refusing plain ZeroMQ" "$T/bad.out" || fail "tail off loopback: rc=$rc $(cat "$T/bad.out")"
IHTTP="127.0.0.1:$((P + 8))"
start insecure "$(svc_bin broker)" --bind "tcp://0.0.0.0:$P" --http "$IHTTP" --insecure
wait_until 20 curl -fsS "http://$IHTTP/healthz" || fail "broker --insecure did not start: $(tail -5 "$T/insecure.log")"
curl -fsS "http://$IHTTP/healthz" | contains '"insecure":true' || fail "/healthz does not say insecure"
[ "$(metric "http://$IHTTP" nw_insecure)" = 1 ] || fail "nw_insecure is not 1"
grep -q 'level=warn.*INSECURE' "$T/insecure.log" || fail "no loud warning: $(cat "$T/insecure.log")"
kill -TERM "$PID_insecure" && wait "$PID_insecure" 2>/dev/null || true
ok "plain ZeroMQ off loopback refused with a clear message; --insecure runs and says so"

BROKER="tcp://127.0.0.1:$P"
API="127.0.0.1:$((P + 8))"
BHTTP="127.0.0.1:$((P + 9))"
QHTTP="127.0.0.1:$((P + 10))"
C=(--curve-server "$K/broker.pub")
S=(--broker "$BROKER" --key "$K/subscriber.key" --server "$K/broker.pub")
start broker "$(svc_bin broker)" --bind "$BROKER" --http "$BHTTP" --curve-key "$K/broker.key" \
  --curve-roles "$K/roles"
start parse "$(svc_bin parse)" --broker "$BROKER" --curve-key "$K/worker.key" "${C[@]}"
start enrich "$(svc_bin enrich)" --broker "$BROKER" --curve-key "$K/worker-b.key" "${C[@]}"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "" --ingest "" \
  --name fetch-roles --spool-dir "$T/data/spool" --curve-key "$K/fetch.key" "${C[@]}"
wait_until 20 curl -fsS "http://$API/healthz" || fail "fetch did not come up: $(tail -5 "$T/fetch.log")"
wait_until 20 curl -fsS "http://$BHTTP/healthz" || fail "broker did not come up: $(tail -5 "$T/broker.log")"
grep -q "roles on\" fetch=1 worker=2 store=1 subscriber=1" "$T/broker.log" || fail "roles: $(grep curve "$T/broker.log")"

# value of one metric line, labels included: mval URL 'name{a="b"}'
mval() { curl -fsS "$1/metrics" | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'; }
post() { # TITLE
  printf '%s\n\nOslo, Norway - The harbour master said on Monday that %s went through an encrypted pipeline without trouble.\n' "$1" "$1" |
    curl -sS -o "$T/post.out" -w "%{http_code}" -H "Content-Type: text/plain" --data-binary @- "http://$API/v1/articles" >"$T/post.code" &&
    grep -q 202 "$T/post.code" || fail "POST: $(cat "$T/post.code") $(cat "$T/post.out")"
}
for i in 1 2 3; do post "Encrypted report $i"; done
wait_until 60 bash -c "[ \"\$(curl -fsS http://$BHTTP/metrics | awk '\$1 == \"nw_broker_queued{stage=\\\"enriched\\\"}\" {print \$2}')\" -ge 3 ]" ||
  fail "3 articles did not reach the store's queue: $(curl -fsS "http://$BHTTP/metrics" | grep nw_broker_queued)"
[ "$(mval "http://$API" nw_fetch_spool_unacked)" = 3 ] || fail "fetch unacked: $(mval "http://$API" nw_fetch_spool_unacked)"
ok "3 articles accepted, parsed and enriched by role keys; waiting for a store"

# A subscriber's key tries everything at once, for 3 s each.
acks='[{"v":2,"id":"x","origin":"fetch-roles","spool":0,"status":"stored"},{"v":2,"id":"x","origin":"fetch-roles","spool":1,"status":"stored"},{"v":2,"id":"x","origin":"fetch-roles","spool":2,"status":"stored"},{"v":2,"id":"x","origin":"fetch-roles","spool":3,"status":"stored"}]'
forged='{"v":2,"id":"forged-1","title":"Forged report","text":"Forged text.","topics":["all"]}'
"${PEER[@]}" "${S[@]}" --seconds 3 publish ack.fetch-roles "$acks" >"$T/a_ack.out" &
A1=$!
"${PEER[@]}" "${S[@]}" --seconds 3 work enriched.out >"$T/a_work.out" &
A2=$!
"${PEER[@]}" "${S[@]}" --seconds 3 push enriched "$forged" >"$T/a_push.out" &
A3=$!
"${PEER[@]}" --broker "$BROKER" --key "$K/fetch.key" --server "$K/broker.pub" --seconds 3 \
  push enriched "$forged" >"$T/a_fetchpush.out" &
A4=$!
"${PEER[@]}" --broker "$BROKER" --key "$T/intruder.key" --server "$K/broker.pub" --seconds 3 \
  subscribe all >"$T/a_unknown.out" &
A5=$!
wait $A1 $A2 $A3 $A4 $A5 || fail "an attacking peer failed to run"
grep -q '"received": 0' "$T/a_work.out" || fail "a subscriber key took store jobs: $(cat "$T/a_work.out")"
[ "$(mval "http://$API" nw_fetch_spool_unacked)" = 3 ] ||
  fail "fake acks reached fetch: unacked $(mval "http://$API" nw_fetch_spool_unacked)"
q=$(curl -fsS "http://$BHTTP/metrics")
# (fetch re-sends what stays unacked, so the queue may grow; nothing may leave it)
grep -q '^nw_broker_dispatched_total{stage="enriched"} 0$' <<<"$q" || fail "store jobs were taken: $(grep 'stage="enriched"' <<<"$q")"
grep -q '^nw_broker_workers{stage="enriched"} 0$' <<<"$q" || fail "a store worker joined: $(grep nw_broker_workers <<<"$q")"
for want in 'socket="pub.in",reason="role"' 'socket="enriched.out",reason="role"' \
  'socket="enriched.in",reason="role"' 'socket="enriched.in",reason="message"' \
  'socket="pub.out",reason="unknown-key"'; do
  n=$(mval "http://$BHTTP" "nw_curve_refused_total{$want}")
  [ "$n" -ge 1 ] || fail "not counted: $want ($(grep nw_curve_refused <<<"$q"))"
done
SUBKEY=$(sed -n 's/^public-key = //p' "$K/subscriber.pub")
grep -qF "refused a peer\" socket=pub.in reason=role roles=subscriber key=\"$SUBKEY\"" "$T/broker.log" ||
  fail "the refusal was not logged with the key: $(grep refused "$T/broker.log" | head -5)"
grep -q "refused a message outside the peer's role\" socket=enriched.in what=type:enriched role=fetch" "$T/broker.log" ||
  fail "fetch's enriched was not refused: $(grep refused "$T/broker.log" | head -5)"
ok "subscriber key: fake acks, store jobs, forged enriched refused; fetch's enriched and an unknown key too; counted and logged"

# Ack sniffers run while the store starts and acks flow.
"${PEER[@]}" "${S[@]}" --seconds 120 subscribe ack. >"$T/a_acks.out" &
A6=$!
"${PEER[@]}" "${S[@]}" --seconds 120 subscribe "" >"$T/a_every.out" &
A7=$!
"$NW" tail --broker "$BROKER" lang.en >"$T/plain.out" 2>&1 &
NW_PIDS+=($!)
sleep 1
start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$T/data" --curve-key "$K/store.key" "${C[@]}"
wait_until 60 bash -c "[ \"\$(curl -fsS http://$API/metrics | awk '\$1 == \"nw_fetch_spool_unacked\" {print \$2}')\" = 0 ]" ||
  fail "the real acks did not reach fetch: unacked $(mval "http://$API" nw_fetch_spool_unacked)"
[ "$(db_query "$T/data/newswire.db" "select count(*) from articles")" = 3 ] || fail "not 3 articles stored"
[ "$(db_query "$T/data/newswire.db" "select count(*) from articles where id = 'forged-1'")" = 0 ] || fail "the forged article was stored"
ok "store key: the 3 articles stored, real acks reached fetch (unacked 0), nothing forged stored"

start query "$(svc_bin query)" --broker "$BROKER" --http "$QHTTP" --data-dir "$T/data" \
  --curve-key "$K/subscriber.key" "${C[@]}"
wait_until 20 curl -fsS "http://$QHTTP/healthz" || fail "query did not come up: $(tail -5 "$T/query.log")"
curl -sN "http://$QHTTP/v1/stream?topic=all" >"$T/stream.out" 2>/dev/null &
NW_PIDS+=($!)
"$NW" tail --broker "$BROKER" --count 1 --curve-key "$K/subscriber.key" "${C[@]}" lang.en \
  >"$T/reader.out" 2>"$T/reader.err" &
READER=$!
NW_PIDS+=($READER)
fake='{"v":2,"id":"fake-all","title":"Fake report","text":"Fake text.","seq":999999,"topics":["all"]}'
"${PEER[@]}" "${S[@]}" --seconds 3 publish all "$fake" >"$T/a_all.out" &
A8=$!
sleep 1
i=3
deadline=$((SECONDS + 40))
until grep -q '"title":"Encrypted report' "$T/stream.out" && ! kill -0 "$READER" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "stream or tail got nothing: $(head -c 300 "$T/stream.out")"
  i=$((i + 1))
  post "Encrypted report $i"
  sleep 0.5
done
wait $A8 || fail "the fake publisher failed"
grep -q '"title":"Encrypted report' "$T/reader.out" || fail "reader got: $(cat "$T/reader.out")"
! grep -q "Fake report\|999999" "$T/stream.out" || fail "a fake 'all' reached /v1/stream: $(grep -m1 Fake "$T/stream.out")"
ok "subscriber keys: query's /v1/stream and tail get real articles; the fake 'all' never arrived"

kill -TERM $A6 $A7
wait $A6 $A7 || fail "an ack sniffer failed"
grep -q '"received": 0' "$T/a_acks.out" || fail "a subscriber read acks: $(cat "$T/a_acks.out")"
! grep -q '"ack\.' "$T/a_every.out" || fail "a subscriber to everything read acks: $(cat "$T/a_every.out")"
[ "$(mval "http://$BHTTP" 'nw_curve_refused_total{socket="pub.out",reason="message"}')" -ge 2 ] ||
  fail "refused subscriptions not counted: $(curl -fsS "http://$BHTTP/metrics" | grep nw_curve_refused)"
[ ! -s "$T/plain.out" ] || fail "a subscriber without CURVE received: $(head -c 200 "$T/plain.out")"
ok "subscriptions to ack. and to everything refused and counted; no CURVE, no articles"
curl -fsS "http://$BHTTP/metrics" | grep '^nw_curve_refused_total' | sed 's/^/  /'
