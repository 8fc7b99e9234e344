# netns_lib.sh: "hosts" as Linux network namespaces, for the tests that run the pipeline across
# machines (sourced after lib.sh, not run). Each host is a namespace with its own loopback, ports
# and address; they meet on a bridge that lives in a "switch" namespace of its own, so the test
# adds nothing to the machine's own network, and deleting the namespaces removes every veth and
# the bridge with them. Cleanup runs from lib.sh's nw_cleanup (NW_CLEANUP_HOOKS), whatever trap
# is in force when the test ends, pass or fail.
#   hosts_up NAME...    one host per NAME, the i-th at 10.77.0.<i>/24 on eth0; skips (77) where
#                       namespaces, veths or bridges cannot be made (not root, no ip, no netns)
#   on NAME CMD...      run CMD inside host NAME; `ip netns exec` execs CMD, so the $! of
#                       `on NAME CMD &` (and lib.sh's start) is the service's own pid
#   host_ip NAME        the host's address
#   reaches FROM TO     true when host FROM gets an answer from host TO within 1 s
#   link_down NAME      unplug the host's cable at the switch (no RST, no FIN: packets vanish,
#                       as when a switch port or a host's uplink dies); link_up NAME plugs it in
#   netem NAME ARGS...  `tc qdisc replace ... netem ARGS` on the host's switch port; returns 1
#                       where the kernel has no sch_netem (a container often lacks it)
#   hosts_cleanup       stop pg_lib's server, SIGKILL what still runs in the hosts, delete them
HOST_NAMES=()
HOST_NS=()
NETNS_SWITCH=""
NETNS_PREFIX="nwh-$$"

host_ns() {
  local i
  for i in "${!HOST_NAMES[@]}"; do
    [ "${HOST_NAMES[$i]}" = "$1" ] && { printf '%s' "${HOST_NS[$i]}"; return 0; }
  done
  echo "netns_lib: no host $1" >&2
  return 1
}
host_ip() {
  local i
  for i in "${!HOST_NAMES[@]}"; do
    [ "${HOST_NAMES[$i]}" = "$1" ] && { printf '10.77.0.%d' $((i + 1)); return 0; }
  done
  return 1
}
on() {
  local ns
  ns=$(host_ns "$1") || return 1
  shift
  ip netns exec "$ns" "$@"
}
link_down() { ip -n "$NETNS_SWITCH" link set "p-$1" down; }
link_up() { ip -n "$NETNS_SWITCH" link set "p-$1" up; }
netem() {
  local name=$1
  shift
  ip -n "$NETNS_SWITCH" link show "p-$name" >/dev/null 2>&1 || return 1
  ip netns exec "$NETNS_SWITCH" tc qdisc replace dev "p-$name" root netem "$@" 2>/dev/null
}

hosts_cleanup() {
  local ns pids all=() deadline
  # PostgreSQL first, by its own stop, so its shared memory goes with it.
  if declare -F pg_stop >/dev/null; then pg_stop || true; fi
  for ns in "${HOST_NS[@]}" "$NETNS_SWITCH"; do
    [ -n "$ns" ] || continue
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    # shellcheck disable=SC2206
    all+=($pids)
  done
  if [ ${#all[@]} -gt 0 ]; then
    kill -KILL "${all[@]}" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while kill -0 "${all[@]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  fi
  for ns in "${HOST_NS[@]}" "$NETNS_SWITCH"; do
    [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true
  done
  HOST_NS=()
  NETNS_SWITCH=""
}
NW_CLEANUP_HOOKS+=(hosts_cleanup)

# Namespaces of a run that was killed before its trap could run (a ctest timeout sends SIGKILL):
# their test's pid is gone. Its services went with nothing to kill them, so end those too.
netns_sweep_stale() {
  local ns pid pids
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^nwh-[0-9]+-/ { print $1 }'); do
    pid=${ns#nwh-}
    pid=${pid%%-*}
    kill -0 "$pid" 2>/dev/null && continue
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null || true
  done
}

hosts_up() {
  [ "$(id -u)" -eq 0 ] || skip "network namespaces need root (CAP_SYS_ADMIN, CAP_NET_ADMIN)"
  command -v ip >/dev/null || skip "no ip command (Debian: iproute2)"
  netns_sweep_stale
  NETNS_SWITCH="$NETNS_PREFIX-switch"
  ip netns add "$NETNS_SWITCH" 2>"$T/netns.err" || {
    NETNS_SWITCH=""
    skip "cannot create a network namespace: $(cat "$T/netns.err")"
  }
  ip -n "$NETNS_SWITCH" link add br0 type bridge 2>"$T/netns.err" ||
    skip "cannot create a bridge in a namespace: $(cat "$T/netns.err")"
  ip -n "$NETNS_SWITCH" link set br0 up
  local name ns i=0
  for name in "$@"; do
    i=$((i + 1))
    ns="$NETNS_PREFIX-$name"
    ip netns add "$ns" || fail "ip netns add $ns"
    HOST_NAMES+=("$name")
    HOST_NS+=("$ns")
    ip link add "p-$name" netns "$NETNS_SWITCH" type veth peer name eth0 netns "$ns" \
      2>"$T/netns.err" || skip "cannot create a veth pair: $(cat "$T/netns.err")"
    ip -n "$NETNS_SWITCH" link set "p-$name" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "10.77.0.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  # The veths take a moment to come up: wait until the first host reaches every other one.
  for name in "$@"; do
    [ "$name" = "$1" ] && continue
    wait_until 10 reaches "$1" "$name" || fail "host $1 cannot reach host $name at $(host_ip "$name")"
  done
}

# reaches FROM TO: true when a TCP connection from FROM to port 9 of TO is answered, even by a
# refusal (nothing listens there): the path works. False after 1 s without an answer (timeout's
# 124); a refusal is bash's 1.
reaches() {
  local ip rc=0
  ip=$(host_ip "$2") || return 1
  on "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$ip/9" 2>/dev/null || rc=$?
  [ $rc -ne 124 ]
}
