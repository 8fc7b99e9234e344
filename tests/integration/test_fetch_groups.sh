#!/usr/bin/env bash
# test_fetch_groups.sh: a burst of big files in the inbox goes to the spool in groups bounded in
# bytes, not only in files (services/fetch/inbox.c, SCAN_BYTES): each group waits in memory for
# its fsync, so 64 HTML pages at once made fetch touch ~9 MB of fresh memory per group. Twelve
# files of ~800 KB, there before fetch starts (so one scan sees them all), must take several
# fsyncs, not one, and all be accepted (moved to done/) as before.
. "$(dirname "$0")/lib.sh"

require_bins "$(svc_bin broker)" "$(svc_bin fetch)"
P=$(free_ports 1)
BROKER=ipc://$T/broker
HTTP=http://127.0.0.1:$P
mkdir -p "$T/inbox"
python3 - "$T/inbox" <<'PY'
import sys
for i in range(12):
    para = f"<p>Paragraph {i} of a long page, with words enough to be an article. </p>\n"
    with open(f"{sys.argv[1]}/page{i:02d}.html", "w") as f:
        f.write(f"<html><head><title>Page {i}</title></head><body>")
        f.write(para * (800_000 // len(para)))
        f.write("</body></html>\n")
PY
start broker "$(svc_bin broker)" --bind "$BROKER"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "127.0.0.1:$P" --ingest "" \
  --inbox-dir "$T/inbox" --spool-dir "$T/spool"
done_n() { find "$T/inbox/done" -type f 2>/dev/null | wc -l; }
all_done() { [ "$(done_n)" -eq 12 ]; }
wait_progress 30 120 done_n all_done || fail "$(done_n) of 12 files accepted ($WAIT_WHY)"
fsyncs=$(metric "$HTTP" nw_fetch_spool_fsyncs_total)
[ "${fsyncs%.*}" -ge 3 ] || fail "12 files of 800 KB went to the spool in $fsyncs fsync(s): one group held them all"
ok "12 files of 800 KB accepted in $fsyncs groups"
