# pipeline.sh: the whole system end to end over one transport (sourced by test_pipeline_*.sh
# with TRANSPORT=tcp|ipc). Starts the real executables: a broker, fetch, two parse workers, two
# enrich workers and a store. Ingests the two seeds (when ../shared/data is present) plus N
# generated articles, half through HTTP and half through the inbox, and asserts that each is
# stored exactly once, is searchable, is published on its topics, and that both workers of each
# stage got work.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${NW_PIPELINE_N:-1000}
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)"

P=$(free_ports 16)
case "$TRANSPORT" in
  tcp) BROKER="tcp://127.0.0.1:$P" ;;
  ipc) BROKER="ipc://$T/broker" ;;
  *) fail "unknown TRANSPORT $TRANSPORT" ;;
esac
API="127.0.0.1:$((P + 8))"
DATA=$T/data
mkdir -p "$DATA/inbox" "$T/http" "$T/stage"
M() { printf 'http://127.0.0.1:%d' $((P + 9 + $1)); } # metrics endpoint of worker slot $1

start broker "$(svc_bin broker)" --bind "$BROKER"
start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA" --http "127.0.0.1:$((P + 9))"
start parse1 "$(svc_bin parse)" --broker "$BROKER" --http "127.0.0.1:$((P + 10))"
start parse2 "$(svc_bin parse)" --broker "$BROKER" --http "127.0.0.1:$((P + 11))"
start enrich1 "$(svc_bin enrich)" --broker "$BROKER" --http "127.0.0.1:$((P + 12))"
start enrich2 "$(svc_bin enrich)" --broker "$BROKER" --http "127.0.0.1:$((P + 13))"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "$DATA/inbox" \
  --ingest "" --name fetch-test --spool-dir "$DATA/spool"
wait_until 20 curl -fsS "http://$API/healthz" || fail "fetch did not come up: $(tail -5 "$T/fetch.log")"
ok "$TRANSPORT: services up"

# Subscribers first, then probe articles until both have seen one, so no publication of the
# real articles can be missed by a subscriber that was still connecting.
seeds=0
if [ -d "${NW_SHARED_DATA:-/nonexistent}/seeds" ]; then
  seeds=$(find "$NW_SHARED_DATA/seeds" -name '*.txt' | wc -l)
  cp "$NW_SHARED_DATA"/seeds/*.txt "$T/http/"
else
  echo "note: ${NW_SHARED_DATA:-../shared/data}/seeds absent; running without the seeds"
fi
start tail_all "$NW" tail --broker "$BROKER" all
start tail_en "$NW" tail --broker "$BROKER" lang.en
probes=0
until grep -q probe "$T/tail_all.log" && grep -q probe "$T/tail_en.log"; do
  probes=$((probes + 1))
  [ $probes -le 100 ] || fail "subscribers never saw a probe article"
  echo "probe article number $probes for the $TRANSPORT run, with enough words to be English." \
    >"$T/probe.txt"
  "$NW" ingest --api "http://$API" "$T/probe.txt" >/dev/null || fail "probe ingest failed"
  sleep 0.3
done
ok "$TRANSPORT: subscribers connected"

python3 - "$N" "$T/stage" "$T/http" <<'PY'
import random, sys, os
n, inbox_stage, http_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(42)
places = ["Oslo, Norway", "Lima, Peru", "Nairobi, Kenya", "Hanoi, Vietnam", "Porto, Portugal"]
words = ("council harbour river minister report budget village railway school market weather "
         "festival bridge station energy water museum court union farmers").split()
for i in range(n):
    topic = " ".join(rng.choice(words) for _ in range(3))
    body = [f" date 2026-0{1 + i % 9}-1{i % 10} {rng.choice(places)} - Officials said on Monday "
            f"that the {topic} plan number {i} would go ahead after a long debate in the city."]
    body.append(f"A view of the {topic} site before the vote. © Ana Lopes/Pool via REUTERS")
    for k in range(3):
        body.append(" ".join(rng.choice(words) for _ in range(25)).capitalize()
                    + f" genmark{i:05d}x{k}.")
    text = f"Generated report {i:05d} on the {topic}\n\n" + "\n\n".join(body) + "\n"
    d = inbox_stage if i % 2 else http_dir
    with open(os.path.join(d, f"gen-{i:05d}.txt"), "w") as f:
        f.write(text)
PY

# Half through the inbox (renamed in, as writers are told to), half through HTTP.
for f in "$T"/stage/*.txt; do mv "$f" "$DATA/inbox/"; done
"$NW" ingest --api "http://$API" "$T/http" >"$T/ingest.out" || fail "ingest failed: $(tail -3 "$T/ingest.out")"
http_n=$(wc -l <"$T/ingest.out")
[ "$http_n" -eq $((N / 2 + N % 2 + seeds)) ] || fail "ingest printed $http_n ids"
ok "$TRANSPORT: $http_n articles through HTTP, $((N / 2)) through the inbox"

DB=$DATA/newswire.db
total=$((N + seeds + probes))
stored() { db_query "$DB" 'select count(*) from articles'; }
all_stored() { [ "$(stored 2>/dev/null)" = "$total" ]; }
# Fails only when the count stops moving for a minute (or after 6 minutes in all, inside
# ctest's 10): a saturated machine is slow, not wrong.
wait_progress 60 360 stored all_stored || fail "store holds $(stored) articles, want $total: $WAIT_WHY"
ok "$TRANSPORT: $total articles stored"

# Exactly once: every generated article is one row, none twice.
[ "$(db_query "$DB" "select count(*), count(distinct title) from articles where title like 'Generated report %'")" = "$N	$N" ] \
  || fail "generated articles not stored exactly once"
[ "$(ls "$DATA/inbox/done" | wc -l)" -eq $((N / 2)) ] || fail "inbox files not all moved to done/"
[ -z "$(ls -A "$DATA/inbox" | grep -v -e '^done$' -e '^rejected$' || true)" ] || fail "files left in the inbox"
ok "$TRANSPORT: each article stored once; inbox drained"

# Searchable.
for i in 00007 00500 $(printf '%05d' $((N - 1))); do
  hits=$("$NW" search --data-dir "$DATA" --json "genmark${i}x1" | wc -l)
  [ "$hits" -eq 1 ] || fail "search genmark${i}x1 gave $hits hits"
done
if [ "$seeds" -gt 0 ]; then
  hits=$("$NW" search --data-dir "$DATA" --json Rafah | wc -l)
  [ "$hits" -eq 2 ] || fail "search Rafah gave $hits hits, want the two seeds"
fi
ok "$TRANSPORT: searchable"

# Published: the subscribers saw every article once.
tailed() { grep -c '"id"' "$T/tail_all.log"; }
all_tailed() { [ "$(tailed)" -ge "$total" ]; }
wait_progress 30 120 tailed all_tailed || true
for t in tail_all tail_en; do
  got=$(python3 - "$T/$t.log" <<'PY'
import json, sys
ids = set()
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        ids.add(json.loads(line)["id"])
print(len(ids))
PY
)
  [ "$got" -eq "$total" ] || fail "$t saw $got distinct articles, want $total"
done
ok "$TRANSPORT: published on all and lang.en"

# Both workers of each stage got work.
for slot in 1 2 3 4; do
  jobs=$(metric "$(M "$slot")" nw_worker_jobs_total)
  [ "${jobs%.*}" -gt 0 ] || fail "worker in slot $slot got no work"
done
ok "$TRANSPORT: both parse and both enrich workers got work"

for p in $PID_fetch $PID_parse1 $PID_parse2 $PID_enrich1 $PID_enrich2 $PID_store $PID_broker; do
  kill -0 "$p" 2>/dev/null || fail "a service exited during the test"
done
