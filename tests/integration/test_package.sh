#!/usr/bin/env bash
# test_package.sh: the Debian package is what an operator installs, and it works once installed.
# cpack builds newswire_<version>_<arch>.deb from the release tree scripts/setup.sh's
# nw_build_package made (build-test/package: -O2, no sanitizer), and lintian finds no error in
# it. Then, as on a Debian 12 machine: in a private mount, PID and network namespace, an
# overlay of / (its upper layer a tmpfs, so the host is never written) with the source and
# build trees hidden, `dpkg -i` installs it (postinst creates the newswire user and
# /var/lib/newswire and enables nothing), the operator makes the CURVE keys as README says, and
# the installed units (broker, store, fetch, parse@, enrich@, query) run as systemd would run
# them (tests/integration/units.py: their users, environment files and command lines, a
# NOTIFY_SOCKET each): every one says READY=1 and WATCHDOG=1, the samples dropped in the inbox
# are stored and answered over HTTP by the query service, every /readyz is 200, SIGTERM stops
# them all cleanly (STOPPING=1, exit 0), and `dpkg --purge` removes the user and the state.
# Where root, unshare or overlayfs is missing the install part is replaced by the older check:
# the package unpacked with dpkg-deb -x runs `newswire up` on the samples.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v cpack >/dev/null || skip "cpack is not installed"
command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
PKG=${NW_PKG_BIN:-$NW_BIN/package}
[ -f "$PKG/CPackConfig.cmake" ] ||
  skip "no package build tree in $PKG (./test.sh makes it: nw_build_package in scripts/setup.sh)"

# test.sh built the tree; this only catches up with sources changed since (nothing to do
# otherwise), so the package never holds stale executables.
nice cmake --build "$PKG" -j"$(nproc 2>/dev/null || echo 2)" --target nw_package >"$T/build.log" 2>&1 ||
  fail "building the package tree: $(tail -30 "$T/build.log")"
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$PKG/CMakeCache.txt" ||
  fail "$PKG is not a release tree: $(grep CMAKE_BUILD_TYPE "$PKG/CMakeCache.txt")"
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$PKG/CPackConfig.cmake")
arch=$(dpkg --print-architecture)
# xz would spend most of this test's time compressing; the format is the same otherwise.
(cd "$T" && cpack -G DEB --config "$PKG/CPackConfig.cmake" -B "$T/pkg" \
  -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip) >"$T/cpack.log" 2>&1 || fail "cpack: $(tail -20 "$T/cpack.log")"
DEB=$T/pkg/newswire_${version}_${arch}.deb
[ -f "$DEB" ] || fail "no $(basename "$DEB"): $(ls "$T/pkg")"
ok "cpack built $(basename "$DEB") ($(du -h "$DEB" | cut -f1)) from the release tree (${SECONDS}s in)"

# lintian takes a while and needs nothing else: it runs beside the rest and is judged last.
LINT=
if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$DEB" >"$T/lintian.out" 2>&1 &
  LINT=$!
  NW_PIDS+=("$LINT")
else
  echo "note: lintian is not installed (scripts/setup.sh test packages); package not linted"
fi
lint_verdict() {
  [ -n "$LINT" ] || return 0
  wait "$LINT" || true
  if grep -q '^E:' "$T/lintian.out"; then fail "lintian errors: $(grep '^E:' "$T/lintian.out")"; fi
  ok "lintian: no errors ($(grep -c '^W:' "$T/lintian.out" || true) warnings)"
}

dpkg-deb -f "$DEB" Package Version Architecture Depends >"$T/control"
grep -q "^Package: newswire$" "$T/control" || fail "control: $(cat "$T/control")"
grep -q "adduser" "$T/control" || fail "Depends lacks adduser: $(cat "$T/control")"
grep -q "libsystemd0" "$T/control" || fail "Depends lacks libsystemd0 (sd_notify): $(cat "$T/control")"
! grep -Eq "libasan|libubsan" "$T/control" || fail "the package is a sanitizer build: $(cat "$T/control")"
mkdir -p "$T/ctl" && dpkg-deb -e "$DEB" "$T/ctl"
grep -q "adduser --system" "$T/ctl/postinst" || fail "postinst does not create the newswire user"
if grep -Eq "systemctl|deb-systemd-helper|invoke-rc.d" "$T/ctl/postinst"; then
  fail "postinst enables or starts services"
fi
grep -qx "/etc/newswire/newswire.env" "$T/ctl/conffiles" || fail "newswire.env is not a conffile"
ok "control: release build (no sanitizer runtime), maintainer scripts enable nothing, env file a conffile"

dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./||' >"$T/contents"
for f in usr/bin/newswire usr/bin/newswire-broker usr/bin/newswire-fetch usr/bin/newswire-parse \
  usr/bin/newswire-enrich usr/bin/newswire-store usr/bin/newswire-query \
  usr/share/newswire/ner/model.bin usr/share/newswire/geo/cities.tsv \
  usr/share/doc/newswire/README.md usr/share/doc/newswire/copyright \
  lib/systemd/system/newswire-broker.service lib/systemd/system/newswire-enrich@.service \
  lib/systemd/system/newswire.target etc/newswire/newswire.env; do
  grep -qx "$f" "$T/contents" || fail "package lacks /$f"
done
unit=$(dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./lib/systemd/system/newswire-broker.service)
grep -q "^ExecStart=/usr/bin/newswire-broker " <<<"$unit" ||
  fail "unit ExecStart not under /usr/bin: $(grep ExecStart <<<"$unit")"
grep -q "^Documentation=file:///usr/share/doc/newswire/README.md" <<<"$unit" ||
  fail "unit Documentation= points elsewhere"
ok "contents: executables, reference data, docs, units pointing at /usr"

# ---- installed on a throwaway root -----------------------------------------------------------
R=$T/root
mkdir -p "$R" "$T/in"
cp "$DEB" "$T/in/newswire.deb"
cp "$NW_SRC"/samples/*.txt "$T/in/"
cp "$NW_SRC/tests/integration/units.py" "$T/in/"
# Runs as the PID namespace's init: when it exits, the kernel kills whatever it left running.
cat >"$T/root.sh" <<'EOF'
set -euo pipefail
R=$1 IN=$2 SRC=$3 BIN=$4
mount -t tmpfs -o size=1g nw-root "$R" || exit 77
mkdir -p "$R/upper" "$R/work" "$R/m"
M=$R/m
mount -t overlay overlay -o "lowerdir=/,upperdir=$R/upper,workdir=$R/work" "$M" || exit 77
mount -t proc proc "$M/proc"
mount --rbind /dev "$M/dev"
mount --rbind /sys "$M/sys"
mount -t tmpfs tmpfs "$M/tmp"
mount -t tmpfs tmpfs "$M/run"
# Nothing of the source or build tree may help: the package stands on its own.
for d in "$SRC" "$BIN"; do
  [ -d "$M$d" ] && mount -t tmpfs -o ro,size=4k nw-hidden "$M$d"
done
mkdir -p "$M/tmp/in" && cp -a "$IN/." "$M/tmp/in/"
ip link set lo up || exit 77
exec chroot "$M" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  UNITS_WATCHDOG_SEC=1 /bin/bash /tmp/in/inside.sh
EOF
cat >"$T/in/inside.sh" <<'EOF'
set -euo pipefail
cd /tmp/in
fail() { echo "FAIL: $*"; for f in /run/nw/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done; exit 1; }
ok() { echo "ok - $*"; }
[ ! -e /usr/bin/newswire ] || fail "the throwaway root already has /usr/bin/newswire"
dpkg -i newswire.deb >dpkg.log 2>&1 || fail "dpkg -i: $(tail -20 dpkg.log)"
getent passwd newswire | grep -q ':/var/lib/newswire:' || fail "no newswire user: $(getent passwd newswire)"
[ "$(stat -c %U:%G:%a /var/lib/newswire)" = newswire:newswire:750 ] ||
  fail "/var/lib/newswire is $(stat -c %U:%G:%a /var/lib/newswire)"
! ls /etc/systemd/system/*.wants/newswire* >/dev/null 2>&1 || fail "the package enabled units"
ok "dpkg -i: newswire user, /var/lib/newswire, nothing enabled (${SECONDS}s)"

# The operator's steps (README, Operations): the CURVE keys the units name, as the service user.
runuser -u newswire -- newswire keygen --set /etc/newswire/keys >keygen.log 2>&1 ||
  fail "keygen as newswire: $(cat keygen.log)"
units="newswire-broker newswire-store newswire-fetch newswire-parse@9201 newswire-enrich@9211 newswire-query"
# shellcheck disable=SC2086
python3 units.py /lib/systemd/system /run/nw $units -- bash /tmp/in/checks.sh ||
  fail "the units did not run and stop cleanly"
for u in $units; do
  for want in READY=1 WATCHDOG=1 STOPPING=1; do
    grep -q " $want\$" "/run/nw/$u.notify" || fail "$u never said $want: $(cat "/run/nw/$u.notify")"
  done
done
ok "every unit said READY=1, WATCHDOG=1 (from its loop) and STOPPING=1, and exited 0"
dpkg --purge newswire >>dpkg.log 2>&1 || fail "dpkg --purge: $(tail -20 dpkg.log)"
! getent passwd newswire >/dev/null && [ ! -e /var/lib/newswire ] && [ ! -e /usr/bin/newswire ] &&
  [ ! -e /etc/newswire ] || fail "dpkg --purge left the user, the state, the keys or the executables"
ok "dpkg --purge: user, /var/lib/newswire, /etc/newswire and executables gone"
EOF
cat >"$T/in/checks.sh" <<'EOF'
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }
# written elsewhere and renamed in, as inbox writers are told to
install -d -o newswire -g newswire /var/lib/newswire/stage
install -o newswire -g newswire -m 0644 /tmp/in/*.txt /var/lib/newswire/stage/
mv /var/lib/newswire/stage/*.txt /var/lib/newswire/inbox/
# the snippet marks the match: "Marc [Delorme]"
deadline=$((SECONDS + 90))
until curl -fsS 'http://127.0.0.1:8081/v1/search?q=Delorme' >/tmp/in/search.json 2>/dev/null &&
  grep -q 'Marc .Delorme' /tmp/in/search.json; do
  [ $SECONDS -lt $deadline ] || break
  sleep 0.2
done
grep -q 'Marc .Delorme' /tmp/in/search.json ||
  fail "the sample never reached the query service: $(cat /tmp/in/search.json 2>/dev/null)"
echo "ok - samples in the inbox: stored, and found over HTTP by the query service (${SECONDS}s)"
for port in 9100 9101 8080 9201 9211 8081; do
  code=$(curl -s -o /tmp/in/ready.json -w '%{http_code}' "http://127.0.0.1:$port/readyz")
  [ "$code" = 200 ] || fail "/readyz on $port: $code $(cat /tmp/in/ready.json)"
done
echo "ok - every unit's /readyz is 200"
EOF

installed=0
if [ "$(id -u)" -ne 0 ]; then
  echo "note: not root: the package is not installed, only unpacked (dpkg-deb -x)"
elif ! command -v unshare >/dev/null || ! command -v chroot >/dev/null; then
  echo "note: no unshare or chroot: the package is not installed, only unpacked (dpkg-deb -x)"
elif ! unshare --mount --pid --net --fork true 2>"$T/unshare.err"; then
  echo "note: no private namespaces here ($(cat "$T/unshare.err")): the package is only unpacked"
else
  rc=0
  unshare --mount --pid --net --fork --propagation private \
    bash "$T/root.sh" "$R" "$T/in" "$NW_SRC" "$NW_BIN" >"$T/root.log" 2>&1 || rc=$?
  if [ $rc -eq 77 ]; then
    echo "note: no overlay of / here ($(tail -1 "$T/root.log")): the package is only unpacked"
  elif [ $rc -ne 0 ]; then
    cat "$T/root.log"
    fail "installing and running the package in a throwaway root (exit $rc)"
  else
    sed 's/^/  /' "$T/root.log"
    ok "dpkg -i on a throwaway root: the units ran the pipeline from the package (${SECONDS}s in)"
    installed=1
  fi
fi
if [ $installed = 1 ]; then
  lint_verdict
  exit 0
fi

# ---- fallback: unpacked, not installed ----------------------------------------------------
# `newswire up` from the unpacked root finds its services and reference data beside itself.
X=$T/unpacked
dpkg-deb -x "$DEB" "$X"
P=$(free_ports 20)
DATA=$T/data
unset NEWSWIRE_REF_DIR
"$X/usr/bin/newswire" up --data-dir "$DATA" --broker "tcp://127.0.0.1:$P" \
  --http "127.0.0.1:$((P + 8))" --ingest "tcp://127.0.0.1:$((P + 9))" --metrics-port $((P + 10)) \
  --query "" --parse 1 --enrich 1 --samples "$NW_SRC/samples" >"$T/up.log" 2>&1 &
UP=$!
NW_PIDS+=("$UP")
found() { "$X/usr/bin/newswire" search --data-dir "$DATA" "$1" | contains "$2"; }
wait_until 120 found Delorme "Marc .Delorme." ||
  fail "the sample never reached the store: $("$X/usr/bin/newswire" search --data-dir "$DATA" Delorme 2>&1) $(tail -30 "$T/up.log")"
grep -q 'svc=enrich' "$T/up.log" && ! grep -q "no reference data" "$T/up.log" ||
  fail "enrich did not load its reference data: $(grep enrich "$T/up.log" | tail -5)"
kill -TERM "$UP"
for _ in $(seq 150); do kill -0 "$UP" 2>/dev/null || break; sleep 0.1; done
wait "$UP" || fail "newswire up from the package exited with $?"
ok "pipeline from the unpacked package: samples stored and searchable, clean stop"
lint_verdict
