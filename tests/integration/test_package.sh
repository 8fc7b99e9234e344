#!/usr/bin/env bash
# test_package.sh: the Debian package is what an operator installs. cpack builds
# newswire_<version>_<arch>.deb from this build tree; lintian finds no error in it; its
# maintainer scripts create the `newswire` user and enable nothing; unpacked into a throwaway
# root (dpkg-deb -x), its executables run the pipeline on samples/ with the reference data they
# find beside themselves (../share/newswire), nothing from the build or source tree: the
# unpacked executables are outside the build tree, and NEWSWIRE_REF_DIR is unset.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v cpack >/dev/null || skip "cpack is not installed"
command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
[ -f "$NW_BIN/CPackConfig.cmake" ] || skip "no CPackConfig.cmake in $NW_BIN"
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" "$(svc_bin enrich)" \
  "$(svc_bin store)"

version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$NW_BIN/CPackConfig.cmake")
arch=$(dpkg --print-architecture)
# xz would spend most of this test's time compressing; the format is the same otherwise.
(cd "$T" && cpack -G DEB --config "$NW_BIN/CPackConfig.cmake" -B "$T/pkg" \
  -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip) >"$T/cpack.log" 2>&1 || fail "cpack: $(tail -20 "$T/cpack.log")"
DEB=$T/pkg/newswire_${version}_${arch}.deb
[ -f "$DEB" ] || fail "no $(basename "$DEB"): $(ls "$T/pkg")"
ok "cpack built $(basename "$DEB") ($(du -h "$DEB" | cut -f1))"

if command -v lintian >/dev/null; then
  lintian --no-tag-display-limit "$DEB" >"$T/lintian.out" 2>&1 || true
  if grep -q '^E:' "$T/lintian.out"; then fail "lintian errors: $(grep '^E:' "$T/lintian.out")"; fi
  ok "lintian: no errors ($(grep -c '^W:' "$T/lintian.out" || true) warnings)"
else
  echo "note: lintian is not installed (scripts/setup.sh test packages); package not linted"
fi

dpkg-deb -f "$DEB" Package Version Architecture Depends >"$T/control"
grep -q "^Package: newswire$" "$T/control" || fail "control: $(cat "$T/control")"
grep -q "adduser" "$T/control" || fail "Depends lacks adduser: $(cat "$T/control")"
mkdir -p "$T/ctl" && dpkg-deb -e "$DEB" "$T/ctl"
grep -q "adduser --system" "$T/ctl/postinst" || fail "postinst does not create the newswire user"
if grep -Eq "systemctl|deb-systemd-helper|invoke-rc.d" "$T/ctl/postinst"; then
  fail "postinst enables or starts services"
fi
grep -qx "/etc/newswire/newswire.env" "$T/ctl/conffiles" || fail "newswire.env is not a conffile"
ok "maintainer scripts: newswire user and /var/lib/newswire, nothing enabled; env file a conffile"

R=$T/root
dpkg-deb -x "$DEB" "$R"
for f in usr/bin/newswire usr/bin/newswire-broker usr/bin/newswire-fetch usr/bin/newswire-parse \
  usr/bin/newswire-enrich usr/bin/newswire-store usr/bin/newswire-query \
  usr/share/newswire/ner/model.bin usr/share/newswire/geo/cities.tsv \
  usr/share/doc/newswire/README.md usr/share/doc/newswire/copyright \
  lib/systemd/system/newswire-broker.service lib/systemd/system/newswire-enrich@.service \
  lib/systemd/system/newswire.target etc/newswire/newswire.env; do
  [ -e "$R/$f" ] || fail "package lacks /$f"
done
grep -q "^ExecStart=/usr/bin/newswire-broker " "$R/lib/systemd/system/newswire-broker.service" ||
  fail "unit ExecStart not under /usr/bin: $(grep ExecStart "$R/lib/systemd/system/newswire-broker.service")"
grep -q "^Documentation=file:///usr/share/doc/newswire/README.md" \
  "$R/lib/systemd/system/newswire-broker.service" || fail "unit Documentation= points elsewhere"
ok "unpacked: executables, reference data, docs, units pointing at /usr"

# The pipeline from the unpacked root: `newswire up` finds its services beside itself.
P=$(free_ports 20)
DATA=$T/data
unset NEWSWIRE_REF_DIR
"$R/usr/bin/newswire" up --data-dir "$DATA" --broker "tcp://127.0.0.1:$P" \
  --http "127.0.0.1:$((P + 8))" --ingest "tcp://127.0.0.1:$((P + 9))" --metrics-port $((P + 10)) \
  --query "" --parse 1 --enrich 1 --samples "$NW_SRC/samples" >"$T/up.log" 2>&1 &
UP=$!
NW_PIDS+=("$UP")
found() { "$R/usr/bin/newswire" search --data-dir "$DATA" "$1" | contains "$2"; }
wait_until 120 found Delorme "Marc .Delorme." ||
  fail "the sample never reached the store: $("$R/usr/bin/newswire" search --data-dir "$DATA" Delorme 2>&1) $(tail -30 "$T/up.log")"
grep -q 'svc=enrich' "$T/up.log" && ! grep -q "no reference data" "$T/up.log" ||
  fail "enrich did not load its reference data: $(grep enrich "$T/up.log" | tail -5)"
kill -TERM "$UP"
for _ in $(seq 150); do kill -0 "$UP" 2>/dev/null || break; sleep 0.1; done
wait "$UP" || fail "newswire up from the package exited with $?"
ok "pipeline from the unpacked package: samples stored and searchable, clean stop"
