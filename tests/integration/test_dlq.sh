#!/usr/bin/env bash
# test_dlq.sh: Promise 3, bad input gets a clear error and loses nothing, seen from
# `newswire dlq`. Starts a broker, fetch (with a small --max-body), parse, enrich and store;
# posts bad documents (invalid UTF-8, empty, an unsupported media type, an oversized body, and
# a JSON article without text that parse refuses); then checks that `dlq list` shows them with
# their reasons, `dlq show` prints the bytes (text or hex), `dlq stats` counts them by stage
# and reason, and `dlq replay` re-submits them to fetch, records fetch's answer (accepted with
# the new id, or refused again with the reason), refuses a second replay without --force, and
# says clearly why a letter without its bytes cannot be replayed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)"

P=$(free_ports 12)
BROKER="tcp://127.0.0.1:$P"
API="127.0.0.1:$((P + 8))"
DATA=$T/data
DB=$DATA/newswire.db
mkdir -p "$DATA"

start broker "$(svc_bin broker)" --bind "$BROKER"
start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA"
start parse "$(svc_bin parse)" --broker "$BROKER"
start enrich "$(svc_bin enrich)" --broker "$BROKER"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "" --ingest "" \
  --name fetch-dlq --max-body 4k --spool-dir "$DATA/spool"
wait_until 20 curl -fsS "http://$API/healthz" || fail "fetch did not come up: $(tail -5 "$T/fetch.log")"
ok "services up"

DLQ() { "$NW" dlq --data-dir "$DATA" "$@"; }
# post CONTENT-TYPE FILE: the HTTP status of POST /v1/articles.
post() {
  curl -sS -o "$T/post.out" -w '%{http_code}' -H "Content-Type: $1" --data-binary "@$2" \
    "http://$API/v1/articles"
}
printf 'caf\xe9 au lait: a report whose bytes are Latin-1, not UTF-8.\n' >"$T/latin1.txt"
: >"$T/empty.txt"
printf '# Harbour report\n\nThe harbour council met on Monday and approved the budget for the new pier, marker dlqmark1.\n' >"$T/notes.md"
# A page without paragraphs: fetch takes HTML as it comes, parse finds no text in it. (A JSON
# body without text is refused at the door with 422, see test_fetch.sh.)
printf '<html><head><title>An article with a title and nothing else</title></head><body></body></html>' >"$T/notext.html"
python3 -c 'print("x" * 9000)' >"$T/big.txt"
[ "$(post 'text/plain' "$T/latin1.txt")" = 400 ] || fail "latin1: $(cat "$T/post.out")"
[ "$(post 'text/plain' "$T/empty.txt")" = 400 ] || fail "empty: $(cat "$T/post.out")"
[ "$(post 'text/markdown' "$T/notes.md")" = 415 ] || fail "markdown: $(cat "$T/post.out")"
[ "$(post 'text/plain' "$T/big.txt")" = 413 ] || fail "big: $(cat "$T/post.out")"
[ "$(post 'text/html' "$T/notext.html")" = 202 ] || fail "html: $(cat "$T/post.out")"
ok "fetch refused four documents and accepted one parse will refuse"

count_letters() { DLQ list --json --limit 1000 2>/dev/null | wc -l; }
wait_until 30 bash -c "[ \$(\"$NW\" dlq --data-dir '$DATA' list --json | wc -l) -ge 5 ]" \
  || fail "dead letters: $(count_letters), want 5: $(DLQ list 2>&1)"
DLQ list --json >"$T/list.json"
# letter REASON: the row id of the (first) dead letter with this reason.
letter() {
  python3 - "$T/list.json" "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(min(r["rowid"] for r in rows if r["reason"] == sys.argv[2]))
PY
}
python3 - "$T/list.json" "$T/latin1.txt" <<'PY' || fail "dlq list --json: $(cat "$T/list.json")"
import base64, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
got = sorted((r["stage"], r["reason"]) for r in rows)
want = sorted([("fetch", "invalid-utf8"), ("fetch", "empty-body"), ("fetch", "body-too-large"),
               ("fetch", "unsupported-content-type"), ("parse", "no-text")])
assert got == want, got
by = {r["reason"]: r for r in rows}
assert by["empty-body"]["size"] == 0
assert by["unsupported-content-type"]["content_type"] == "text/markdown"
assert "dlqmark1" in by["unsupported-content-type"]["bytes"]
latin1 = open(sys.argv[2], "rb").read()
assert by["invalid-utf8"]["bytes"] == {"base64": base64.b64encode(latin1).decode()}
assert by["body-too-large"]["size"] < 9001  # a sample at most, often nothing
assert all(r["replay_status"] is None for r in rows)
PY
DLQ list >"$T/list.txt"
for reason in invalid-utf8 empty-body unsupported-content-type body-too-large no-text; do
  grep -q "	$reason	" "$T/list.txt" || fail "dlq list does not show $reason: $(cat "$T/list.txt")"
done
ok "dlq list shows the five letters with stage and reason"

L_UTF8=$(letter invalid-utf8)
L_EMPTY=$(letter empty-body)
L_MD=$(letter unsupported-content-type)
L_BIG=$(letter body-too-large)
L_PARSE=$(letter no-text)

DLQ show "$L_UTF8" >"$T/show.utf8"
grep -q "^dead letter $L_UTF8$" "$T/show.utf8" || fail "show: no header: $(cat "$T/show.utf8")"
grep -q "reason *invalid-utf8" "$T/show.utf8" || fail "show: no reason"
grep -q "not UTF-8 text; hex" "$T/show.utf8" || fail "show: binary not shown as hex"
grep -q "^00000000  63 61 66 e9 20 61 75 20  6c 61 69 74 3a 20 61 20  |caf. au lait: a |$" \
  "$T/show.utf8" || fail "show: hex dump: $(cat "$T/show.utf8")"
DLQ show "$L_MD" >"$T/show.md"
grep -q "bytes (.* bytes, text):" "$T/show.md" || fail "show: text not shown as text"
grep -qx "The harbour council met on Monday and approved the budget for the new pier, marker dlqmark1." \
  "$T/show.md" || fail "show: text bytes: $(cat "$T/show.md")"
DLQ show "$L_PARSE" >"$T/show.parse"
grep -q "document in the raw message (.* bytes, text):" "$T/show.parse" || fail "show: raw not unpacked: $(cat "$T/show.parse")"
grep -qF '<title>An article with a title and nothing else</title>' "$T/show.parse" || fail "show: raw body"
grep -q "replay sends .* as text/html (the document inside the raw message)" \
  "$T/show.parse" || fail "show: replay plan for a raw message"
DLQ show "$L_EMPTY" | contains "cannot be replayed: it holds no bytes" || fail "show: empty letter"
DLQ show --json "$L_UTF8" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["reason"]=="invalid-utf8" and d["size"]==int(sys.argv[1]), d' \
  "$(wc -c <"$T/latin1.txt")" || fail "show --json"
set +e
DLQ show 9999 >/dev/null 2>"$T/err"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "no dead letter 9999" "$T/err" || fail "show of a missing letter: $rc"
ok "dlq show prints every field and the bytes as text or a hex dump"

DLQ stats >"$T/stats.txt"
for reason in invalid-utf8 empty-body unsupported-content-type body-too-large; do
  grep -Eq "^ +1 +0  fetch +$reason$" "$T/stats.txt" || fail "stats: fetch $reason: $(cat "$T/stats.txt")"
done
grep -Eq "^ +1 +0  parse +no-text$" "$T/stats.txt" || fail "stats: parse no-text"
grep -Eq "^ +5 +0  total$" "$T/stats.txt" || fail "stats: total"
DLQ stats --json | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert sum(r["count"] for r in rows) == 5 and len(rows) == 5, rows' || fail "stats --json"
ok "dlq stats counts by stage and reason"

# Letters without their bytes cannot be replayed, and nothing is recorded for them.
for l in "$L_EMPTY" "$L_BIG"; do
  set +e
  DLQ replay --api "http://$API" "$l" >"$T/out" 2>"$T/err"
  rc=$?
  set -e
  [ $rc -eq 1 ] && grep -q "dead letter $l (fetch, .*) cannot be replayed: " "$T/err" \
    || fail "replay of $l: exit $rc: $(cat "$T/err")"
  [ ! -s "$T/out" ] || fail "replay of $l printed $(cat "$T/out")"
done
grep -q "holds no bytes" <(DLQ replay --api "http://$API" "$L_EMPTY" 2>&1) || fail "empty: reason"
grep -Eq "(only a sample|nothing) of the oversized body was kept" \
  <(DLQ replay --api "http://$API" "$L_BIG" 2>&1) || fail "big: reason"
ok "letters without their whole bytes are not replayed, with the reason"

# fetch unreachable: the claim is released, the letter stays pending.
set +e
DLQ replay --api "http://127.0.0.1:1" --retries 0 "$L_UTF8" >/dev/null 2>"$T/err"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "cannot reach" "$T/err" || fail "unreachable replay: $rc $(cat "$T/err")"
DLQ show --json "$L_UTF8" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["replay_status"] is None, d' \
  || fail "an unreachable fetch must leave the letter pending"
ok "a replay that never reached fetch leaves the letter pending"

# Refused again: the answer is recorded; a second replay needs --force.
set +e
DLQ replay --api "http://$API" "$L_UTF8" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "^$L_UTF8	refused	HTTP 400 invalid-utf8: " "$T/out" \
  || fail "replay of invalid UTF-8: exit $rc: $(cat "$T/out" "$T/err")"
DLQ show --json "$L_UTF8" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["replay_status"] == "refused" and d["replayed_at"], d
assert d["replay_detail"].startswith("HTTP 400 invalid-utf8"), d' || fail "refusal not recorded"
DLQ show "$L_UTF8" | contains "replayed .*refused again (HTTP 400 invalid-utf8" || fail "show: refusal"
set +e
DLQ replay --api "http://$API" "$L_UTF8" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "already replayed .*--force" "$T/err" && [ ! -s "$T/out" ] \
  || fail "second replay without --force: exit $rc: $(cat "$T/out" "$T/err")"
set +e
DLQ replay --api "http://$API" --force "$L_UTF8" >"$T/out" 2>"$T/err"
set -e
grep -q "^$L_UTF8	refused	" "$T/out" || fail "replay --force: $(cat "$T/out" "$T/err")"
ok "a refused replay is recorded; replaying it again needs --force"

# Accepted: the raw message parse refused goes back in through fetch (parse refuses it again,
# but fetch's answer is what the replay records).
DLQ replay --api "http://$API" "$L_PARSE" >"$T/out" || fail "replay of the parse letter failed"
id=$(awk -F'\t' -v l="$L_PARSE" '$1 == l && $2 == "accepted" { print $3 }' "$T/out")
[[ "$id" =~ ^[0-9a-f]{32}$ ]] || fail "replay of the parse letter: $(cat "$T/out")"
DLQ show --json "$L_PARSE" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["replay_status"] == "accepted" and d["replay_id"] == sys.argv[1], d' "$id" \
  || fail "acceptance not recorded"
ok "a replay fetch accepts is recorded with the new id $id"

# Fixed on the way: the markdown note sent as text/plain is accepted and stored.
DLQ replay --api "http://$API" --content-type text/plain "$L_MD" >"$T/out" || fail "markdown replay"
id=$(awk -F'\t' '$2 == "accepted" { print $3 }' "$T/out")
wait_until 30 "$NW" get --data-dir "$DATA" "$id" || fail "replayed article $id never stored"
"$NW" get --data-dir "$DATA" "$id" | contains dlqmark1 || fail "stored article is not the letter's"
ok "a letter replayed with a corrected media type is stored as $id"

# --all replays every pending letter once, skipping those that cannot be replayed. The refusals
# of the replays above became new letters (two from fetch), and parse refused the accepted
# replay again (one more): those three are pending now, with the two that cannot be replayed.
wait_until 30 bash -c "[ \$(\"$NW\" dlq --data-dir '$DATA' list --json | wc -l) -ge 8 ]" \
  || fail "refused replays did not become dead letters: $(DLQ list)"
DLQ list --json --limit 1000 >"$T/before.json"
pending=$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join(str(r["rowid"]) for r in rows if r["replay_status"] is None and r["size"] > 0 and r["reason"] != "body-too-large"))' "$T/before.json")
[ "$(echo "$pending" | wc -w)" -eq 3 ] || fail "pending letters: '$pending', want 3: $(DLQ list)"
set +e
DLQ replay --api "http://$API" --all >"$T/out" 2>"$T/err"
set -e
[ "$(cut -f1 "$T/out" | sort -n | xargs)" = "$(echo $pending | tr ' ' '\n' | sort -n | xargs)" ] \
  || fail "replay --all replayed $(cut -f1 "$T/out" | xargs), want $pending: $(cat "$T/err")"
grep -q "^newswire dlq replay: 5 dead letters: .*, 2 skipped, 0 failed$" "$T/err" \
  || fail "replay --all summary: $(cat "$T/err")"
for l in $pending; do
  DLQ show --json "$l" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["replay_status"] in ("accepted", "refused"), d' \
    || fail "letter $l not marked replayed"
done
set +e
DLQ replay --api "http://$API" --all --reason empty-body >"$T/out" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 0 ] && [ ! -s "$T/out" ] && grep -q "cannot be replayed: it holds no bytes" "$T/err" \
  && grep -q "1 dead letter: 0 accepted, 0 refused again, 1 skipped" "$T/err" \
  || fail "replay --all --reason empty-body: exit $rc: $(cat "$T/out" "$T/err")"
ok "replay --all replays each pending letter once ($(echo $pending)); --reason filters"

DLQ stats --json >"$T/stats.json"
python3 - "$T/stats.json" <<'PY' || fail "stats after replays: $(cat "$T/stats.json")"
import json, sys
rows = {(r["stage"], r["reason"]): r for r in map(json.loads, open(sys.argv[1]))}
assert rows[("parse", "no-text")]["count"] >= 2 and rows[("parse", "no-text")]["replayed"] == 2
assert rows[("fetch", "invalid-utf8")]["count"] >= 3 and rows[("fetch", "invalid-utf8")]["replayed"] == 3
assert rows[("fetch", "empty-body")]["replayed"] == 0
PY
ok "dlq stats counts the replays"

DLQ list --json --reason invalid-utf8 --limit 2 >"$T/some.json"
[ "$(wc -l <"$T/some.json")" -eq 2 ] && [ "$(grep -c '"reason":"invalid-utf8"' "$T/some.json")" -eq 2 ] \
  || fail "dlq list --reason --limit: $(cat "$T/some.json")"
ok "dlq list --reason R --limit N shows N letters with that reason"

for p in $PID_fetch $PID_parse $PID_enrich $PID_store $PID_broker; do
  kill -0 "$p" 2>/dev/null || fail "a service exited during the test"
done
