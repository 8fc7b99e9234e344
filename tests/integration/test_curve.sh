#!/usr/bin/env bash
# test_curve.sh: CURVE between the services. Keys from `newswire keygen`; the broker requires
# CURVE with an allow list; every service connects with its own key and the broker's public
# key. Checks: an article goes through the whole encrypted pipeline and is stored; a
# subscriber with an allowed key receives it, while one without CURVE and one whose key is not
# on the list receive nothing (the broker counts the refusal); keygen never overwrites and
# keeps the secret file private; bad key options are refused at start with exit 2.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)"

K=$T/keys
mkdir -p "$K/allow" "$T/data"
(cd "$K" && "$NW" keygen broker fetch parse enrich store reader intruder >"$T/keygen.out") ||
  fail "keygen failed"
[ "$(stat -c %a "$K/broker.key")" = 600 ] || fail "broker.key is not mode 600"
grep -q '^public-key = ' "$K/broker.pub" && ! grep -q secret "$K/broker.pub" ||
  fail "broker.pub: $(cat "$K/broker.pub")"
if (cd "$K" && "$NW" keygen broker 2>"$T/keygen2.err"); then fail "keygen overwrote broker.key"; fi
grep -q "broker.key" "$T/keygen2.err" || fail "keygen refusal: $(cat "$T/keygen2.err")"
cp "$K"/{fetch,parse,enrich,store,reader}.pub "$K/allow/"
ok "keygen: key pairs made, secret file 0600, never overwritten"

# bad options: exit 2 with a message naming the problem
refused() { # WANT-IN-MESSAGE ARGS...
  local want=$1 rc=0
  shift
  "$(svc_bin parse)" "$@" >"$T/bad.out" 2>&1 || rc=$?
  [ $rc = 2 ] && grep -q -- "$want" "$T/bad.out" || fail "parse $*: rc=$rc $(cat "$T/bad.out")"
}
refused "need --curve-key" --curve-server "$K/broker.pub"
refused "curve-server" --curve-key "$K/parse.key"
refused "not a key file" --curve-key "$K/parse.pub" --curve-server "$K/broker.pub"
refused "public key" --curve-key "$K/parse.key" --curve-server "$K/nosuch.pub"
ok "bad CURVE options refused at start"

P=$(free_ports 12)
BROKER="tcp://127.0.0.1:$P"
API="127.0.0.1:$((P + 8))"
BHTTP="127.0.0.1:$((P + 9))"
C=(--curve-server "$K/broker.pub")
start broker "$(svc_bin broker)" --bind "$BROKER" --http "$BHTTP" --curve-key "$K/broker.key" \
  --curve-allow "$K/allow"
start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$T/data" --curve-key "$K/store.key" "${C[@]}"
start parse "$(svc_bin parse)" --broker "$BROKER" --curve-key "$K/parse.key" "${C[@]}"
start enrich "$(svc_bin enrich)" --broker "$BROKER" --curve-key "$K/enrich.key" "${C[@]}"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "" --ingest "" \
  --name fetch-curve --spool-dir "$T/data/spool" --curve-key "$K/fetch.key" "${C[@]}"
wait_until 20 curl -fsS "http://$API/healthz" || fail "fetch did not come up: $(tail -5 "$T/fetch.log")"
wait_until 20 curl -fsS "http://$BHTTP/healthz" || fail "broker did not come up: $(tail -5 "$T/broker.log")"
ok "services up with CURVE"

"$NW" tail --broker "$BROKER" --count 1 --curve-key "$K/reader.key" "${C[@]}" lang.en \
  >"$T/reader.out" 2>"$T/reader.err" &
READER=$!
NW_PIDS+=($READER)
"$NW" tail --broker "$BROKER" lang.en >"$T/plain.out" 2>&1 &
NW_PIDS+=($!)
"$NW" tail --broker "$BROKER" --curve-key "$K/intruder.key" "${C[@]}" lang.en >"$T/intruder.out" 2>&1 &
NW_PIDS+=($!)
sleep 1 # let the subscriptions reach the hub

i=0
deadline=$((SECONDS + 40))
while kill -0 "$READER" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
  i=$((i + 1))
  printf 'Encrypted report %d\n\nOslo, Norway - The harbour master said on Monday that report %d went through an encrypted pipeline without trouble.\n' "$i" "$i" |
    curl -sS -o "$T/post.out" -w "%{http_code}" -H "Content-Type: text/plain" --data-binary @- "http://$API/v1/articles" >"$T/post.code" && grep -q 202 "$T/post.code" ||
    fail "POST: $(cat "$T/post.code") $(cat "$T/post.out")"
  sleep 0.5
done
wait "$READER" || fail "the allowed subscriber got nothing: $(cat "$T/reader.err")"
grep -q '"title":"Encrypted report' "$T/reader.out" || fail "reader got: $(cat "$T/reader.out")"
[ "$(db_query "$T/data/newswire.db" "select count(*) from articles")" -ge 1 ] || fail "nothing stored"
ok "an article went through the encrypted pipeline; the allowed subscriber received it"

sleep 1
[ ! -s "$T/plain.out" ] || fail "a subscriber without CURVE received: $(head -c 200 "$T/plain.out")"
[ ! -s "$T/intruder.out" ] || fail "a key not on the allow list received: $(head -c 200 "$T/intruder.out")"
[ "$(metric "http://$BHTTP" nw_curve_refused_total)" -ge 1 ] || fail "the refusal was not counted"
grep -q "not in --curve-allow" "$T/broker.log" || fail "the refusal was not logged"
ok "no CURVE and an unlisted key both received nothing; the broker counted the refusal"
