#!/usr/bin/env bash
# test_hosts.sh: the pipeline across several hosts, for real (issue 15, item 2). The hosts are
# network namespaces on one bridge (netns_lib.sh), each with its own address, ports and loopback:
#   a  10.77.0.1  broker (CURVE, roles; the primary of a pair) and a spooling fetch
#   b  10.77.0.2  parse and enrich workers
#   c  10.77.0.3  a store on PostgreSQL (a throwaway server, pg_lib.sh, in the same host)
#   d  10.77.0.4  the backup broker, when the broker has --peer (ha.h); every client then names
#                 both brokers, --broker A,D
# Every ZeroMQ connection crosses the bridge over TCP with CURVE and the roles of `newswire keygen
# --set`. A client on host a posts numbered articles to fetch while the test unplugs host c's
# cable (no FIN, no RST: its packets vanish), then host b's for longer than the broker's
# liveness, and plugs each back in; with a pair, it then kills the primary broker (SIGKILL) while
# articles are still in flight, and the backup takes over. Then every accepted article is in the
# store's database exactly once (one row, one revision, no dead letter) and fetch has no unacked
# item left. On host b, a
# parse with a key in no role and a store with the worker's key are refused by the broker,
# counted by reason, and never get a job. tc netem (loss and delay on host b's link for the
# whole run) is added where the kernel has sch_netem; without it the test says so and relies on
# the cuts. Skips where namespaces cannot be made (not root, no ip, no netns support).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/pg_lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/netns_lib.sh"
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)"
command -v curl >/dev/null || skip "curl not installed"
N=${NW_HOSTS_N:-120}

# A broker pair where the broker has one (ha.h), else the one broker.
PAIR=0
"$(svc_bin broker)" --help 2>/dev/null | grep -q -- '--peer' && PAIR=1
if [ $PAIR = 1 ]; then hosts_up a b c d; else hosts_up a b c; fi
A=$(host_ip a)
B=$(host_ip b)
BROKER="tcp://$A:5550"
BROKERS=$BROKER
PEER=()
if [ $PAIR = 1 ]; then
  D=$(host_ip d)
  BACKUP="tcp://$D:5550"
  BROKERS="$BROKER,$BACKUP"
  PEER=(--peer "$BACKUP")
  IN_D=(ip netns exec "$(host_ns d)")
fi
# Services start through `ip netns exec` itself (not the `on` function), so the pid lib.sh's
# start remembers is the service's, and SIGTERM at the end reaches it.
IN_A=(ip netns exec "$(host_ns a)")
IN_B=(ip netns exec "$(host_ns b)")
IN_C=(ip netns exec "$(host_ns c)")
ok "hosts a ($A), b ($B), c ($(host_ip c))${D:+, d ($D)} on one bridge"

K=$T/keys
"$NW" keygen --set "$K" >/dev/null || fail "keygen --set"
(cd "$T" && "$NW" keygen intruder >/dev/null) || fail "keygen intruder"
C=(--curve-server "$K/broker.pub")

# Metrics listen on each host's own address, so they are read across the bridge from host a
# (and cannot be while that host's cable is out).
BROKER_M="http://$A:9000"
FETCH_API="http://127.0.0.1:8080" # fetch's API, from inside host a
start broker "${IN_A[@]}" "$(svc_bin broker)" --bind "$BROKER" --http "$A:9000" \
  --curve-key "$K/broker.key" --curve-roles "$K/roles" "${PEER[@]}"
# The backup holds the same key pair as the primary: clients trust one server key (ha.h).
[ $PAIR = 1 ] && start backup "${IN_D[@]}" "$(svc_bin broker)" --bind "$BACKUP" --http "$D:9000" \
  --curve-key "$K/broker.key" --curve-roles "$K/roles" --peer "$BROKER" --backup
start fetch "${IN_A[@]}" "$(svc_bin fetch)" --broker "$BROKERS" --http 127.0.0.1:8080 --inbox-dir "" \
  --ingest "" --name fetch-hosts --spool-dir "$T/spool" --resend-after 5s \
  --curve-key "$K/fetch.key" "${C[@]}"
start parse "${IN_B[@]}" "$(svc_bin parse)" --broker "$BROKERS" --http "$B:9001" --curve-key "$K/worker.key" "${C[@]}"
start enrich "${IN_B[@]}" "$(svc_bin enrich)" --broker "$BROKERS" --http "$B:9002" --curve-key "$K/worker.key" "${C[@]}"
# Intruders on host b: a key in no role, and the worker's key where only stores may go.
start intruder "${IN_B[@]}" "$(svc_bin parse)" --broker "$BROKER" --http "$B:9004" --curve-key "$T/intruder.key" "${C[@]}"
start badstore "${IN_B[@]}" "$(svc_bin store)" --broker "$BROKER" --data-dir "$T/badstore" --http "$B:9005" \
  --curve-key "$K/worker.key" "${C[@]}"
# PostgreSQL runs on host c (the server's processes in c's namespace, its socket in $T), started
# while the services above come up.
pg_as() { on c runuser -u postgres -- "$@"; }
pg_start
start store "${IN_C[@]}" "$(svc_bin store)" --broker "$BROKERS" --db "$NW_PG" --batch-ms 5 \
  --http "$(host_ip c):9003" --curve-key "$K/store.key" "${C[@]}"

m() { on a curl -fsS --max-time 2 "$1/metrics" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { print s + 0 }'; }
mval() { on a curl -fsS --max-time 2 "$1/metrics" | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'; }
ready() { on a curl -fsS --max-time 2 -o /dev/null "$1/readyz"; }
wait_until 60 ready "http://127.0.0.1:8080" || fail "fetch is not ready: $(tail -5 "$T/fetch.log")"
for u in "http://$B:9001" "http://$B:9002" "http://$(host_ip c):9003"; do
  wait_until 60 ready "$u" || fail "$u is not ready: $(tail -3 "$T"/{parse,enrich,store}.log)"
done
grep -q 'roles on" fetch=1 worker=1 store=1 subscriber=1' "$T/broker.log" || fail "broker roles: $(grep -m3 curve "$T/broker.log")"
ok "broker and fetch on a, parse and enrich on b, store on c: connected over CURVE with roles"
refused() { [ "$(mval "$BROKER_M" "nw_curve_refused_total{$1}")" -ge 1 ]; }
wait_until 20 refused 'socket="raw.out",reason="unknown-key"' ||
  fail "the unknown key was not refused: $(on a curl -fsS "$BROKER_M/metrics" | grep nw_curve_refused)"
wait_until 20 refused 'socket="enriched.out",reason="role"' ||
  fail "the worker key was not refused as a store: $(on a curl -fsS "$BROKER_M/metrics" | grep nw_curve_refused)"
unknown=$(mval "$BROKER_M" 'nw_curve_refused_total{socket="raw.out",reason="unknown-key"}')
role=$(mval "$BROKER_M" 'nw_curve_refused_total{socket="enriched.out",reason="role"}')
if [ $PAIR = 1 ]; then
  BACKUP_M="http://$D:9000"
  [ "$(mval "$BROKER_M" nw_broker_active)" = 1 ] && [ "$(mval "$BACKUP_M" nw_broker_active)" = 0 ] ||
    fail "not primary active, backup passive: $(mval "$BROKER_M" nw_broker_active) $(mval "$BACKUP_M" nw_broker_active)"
  ok "broker pair: the primary on a active, the backup on d passive; every client names both"
fi

if netem b delay 20ms 10ms loss 2%; then
  ok "host b's link: netem delay 20ms +-10ms, loss 2% for the whole run"
else
  echo "note: no sch_netem in this kernel: no loss or delay, only the cable cuts"
fi

# The client posts to fetch from host a and retries whatever did not get a 202, as a real
# sender must. Each article has its own text, so its own id.
"${IN_A[@]}" python3 - "$FETCH_API" "$N" "$T/client.done" <<'PY' >"$T/client.log" 2>&1 &
import os, sys, time, urllib.request, urllib.error
api, n, done = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    body = (f"Host test article {i:04d}\n\nTromso, Norway - The harbour board met for the "
            f"{i}th time across three hosts and agreed on item {i} of the plan on Monday.\n").encode()
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
    with open(done + ".new", "w") as f:
        f.write(f"{i + 1}\n")
    os.replace(done + ".new", done)  # whole, for the shell reading it
    time.sleep(0.12)  # under 8 a second: the cuts fall while articles still come in
with open(done, "a") as f:
    f.write("finished\n")
PY
NW_PIDS+=($!)

stored() { pg_sql "select count(*) from articles where title like 'Host test article %'"; }
stored_at_least() { [ "$(stored)" -ge "$1" ]; }
accepted() { head -1 "$T/client.done" 2>/dev/null || echo 0; }

wait_progress 30 60 stored stored_at_least 10 || fail "the first 10 articles were not stored ($WAIT_WHY)"
# Host c unplugged for 4 s: the store's acks cannot get out (fetch's acked count stands still)
# and fetch re-sends what stays unacked; copies of articles the store already holds reach it
# when it is back, and of jobs the broker handed it before the cut.
acked() { m http://127.0.0.1:8080 nw_fetch_acked_total; }
link_down c
at=$(stored)
sleep 1
! reaches a c || fail "host c is still reachable with its cable out"
acked1=$(acked)
sleep 3
acked4=$(acked)
link_up c
[ "$acked1" = "$acked4" ] || fail "acks reached fetch while host c was cut ($acked1 -> $acked4)"
ok "host c cut for 4 s at $at stored ($(accepted) accepted): no ack reached fetch meanwhile ($acked4 acked)"

wait_progress 30 60 stored stored_at_least $((at + 1)) ||
  fail "nothing moved after host c came back ($WAIT_WHY): $(tail -3 "$T/store.log")"
# Host b unplugged for 5 s: longer than the broker's liveness (3 heartbeats of 1 s), so its
# ZeroMQ heartbeat closes the workers' connections and their in-flight jobs go back to the queue.
dropped0=$(m "$BROKER_M" nw_broker_workers_dropped_total)
link_down b
at=$(stored)
sleep 1
! reaches a b || fail "host b is still reachable with its cable out"
sleep 4
during=$(stored)
dropped=$(m "$BROKER_M" nw_broker_workers_dropped_total)
link_up b
[ "$dropped" -gt "$dropped0" ] || fail "the broker did not notice host b's workers gone (dropped $dropped0 -> $dropped)"
ok "host b cut for 5 s at $at stored ($(accepted) accepted): the broker dropped its workers ($dropped0 -> $dropped), $((during - at)) stored meanwhile"

if [ $PAIR = 1 ]; then
  # The primary broker killed while the pipeline still holds articles (nothing was stored while
  # host b was out): the backup must take over once a client lost the primary too, and fetch
  # re-sends what the dead broker held.
  at=$(stored)
  kill -KILL "$PID_broker"
  t0=$(date +%s%N)
  active() { [ "$(mval "$BACKUP_M" nw_broker_active)" = 1 ]; }
  wait_until 30 active || fail "the backup did not take over: $(tail -5 "$T/backup.log")"
  gap=$((($(date +%s%N) - t0) / 1000000))
  ok "primary broker on a killed (SIGKILL) at $at stored of $(accepted) accepted: the backup on d active after $gap ms"
  BROKER_M=$BACKUP_M
fi

grep -q finished "$T/client.done" 2>/dev/null ||
  wait_progress 30 60 accepted grep -q finished "$T/client.done" || fail "the client did not finish ($WAIT_WHY)"
posted=$SECONDS
all_stored() { [ "$(stored)" = "$N" ]; }
wait_progress 30 90 stored all_stored || fail "$(stored) of $N articles stored ($WAIT_WHY)"
got=$(pg_sql "select count(*), count(distinct id), count(distinct title) from articles where title like 'Host test article %'")
[ "$got" = "$N	$N	$N" ] || fail "articles (rows, ids, titles) = $got, want $N each"
got=$(pg_sql "select count(*) from revisions r join articles a on a.id = r.id where a.title like 'Host test article %'")
[ "$got" = "$N" ] || fail "$got revisions for $N articles: something was stored twice"
got=$(pg_sql "select count(*) from dead_letters")
[ "$got" = 0 ] || fail "$got dead letters: $(pg_sql "select reason, detail from dead_letters limit 3")"
unacked_zero() { [ "$(m http://127.0.0.1:8080 nw_fetch_spool_unacked)" = 0 ]; }
wait_progress 30 60 'm http://127.0.0.1:8080 nw_fetch_spool_unacked' unacked_zero ||
  fail "fetch still has $(m http://127.0.0.1:8080 nw_fetch_spool_unacked) unacked ($WAIT_WHY)"
requeued=$(m "$BROKER_M" nw_broker_requeued_total)
resent=$(m http://127.0.0.1:8080 nw_fetch_resent_total)
ok "all $N accepted articles stored exactly once, none dead, all acked $((SECONDS - posted)) s after the last was accepted ($([ $PAIR = 1 ] && echo "backup" || echo "broker") requeued $requeued jobs, fetch re-sent $resent)"

# The refused peers never got a job.
[ "$(m "http://$B:9004" nw_worker_jobs_total)" = 0 ] || fail "the intruder parse got jobs"
[ "$(m "http://$B:9005" nw_store_articles_total)" = 0 ] || fail "the store with a worker key stored articles"
! ready "http://$B:9004" 2>/dev/null || fail "the intruder parse says it is ready"
ok "a key in no role refused ($unknown), the worker key as a store refused ($role); neither got a job"

survivors=(fetch parse enrich store)
if [ $PAIR = 1 ]; then survivors+=(backup); else survivors+=(broker); fi
for s in "${survivors[@]}"; do
  eval "p=\$PID_$s"
  kill -0 "$p" 2>/dev/null || fail "$s exited during the test"
done
ok "$([ $PAIR = 1 ] && echo four || echo three) hosts: ${SECONDS} s"
