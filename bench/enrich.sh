#!/bin/sh
# enrich.sh: bench_enrich (NER accuracy and speed, entity F1 through the product, common-word
# entities per language, full enrichment, same-story detection, language identification),
# bench_ner_lang (per-language NER models), the no-text dead letters of newswire parse on the
# SemEval texts, and, when Node is present, the JavaScript library compromise on the same
# CoNLL-2003 sentences with the same metric, all on one core.
# Usage: bench/enrich.sh BUILD_DIR [DATA_DIR]   (BUILD_DIR: a Release build with bench_enrich)
set -eu
build=${1:?usage: bench/enrich.sh BUILD_DIR [DATA_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
data=${2:-${NW_SHARED_DATA:-$here/../../shared/data}}
if [ ! -f "$data/ner/conll2003/valid.txt" ]; then
    echo "skipped: no CoNLL-2003 data under $data"
    exit 0
fi
echo "command: NW_SHARED_DATA=$data $build/bench/bench_enrich"
(cd "$here/.." && NW_SHARED_DATA=$data taskset -c 0 "$build/bench/bench_enrich")
# Every article with prose survives parsing (issue 10.6): the SemEval texts, both columns, as
# plain-text raw messages through `newswire parse --jsonl`; count the no-text dead letters.
csv="$data/neardup/semeval2022-task8-train.csv"
if [ -f "$csv" ] && [ -x "$build/services/newswire/newswire" ]; then
    python3 -c '
import csv, json, sys
csv.field_size_limit(1 << 30)
for r in csv.DictReader(open(sys.argv[1], newline="")):
    for k in ("text1", "text2"):
        print(json.dumps({"body": r[k], "content_type": "text/plain"}))' "$csv" >"${TMPDIR:-/tmp}/nw_semeval_raw.$$"
    total=$(wc -l <"${TMPDIR:-/tmp}/nw_semeval_raw.$$")
    notext=$("$build/services/newswire/newswire" parse --jsonl <"${TMPDIR:-/tmp}/nw_semeval_raw.$$" 2>&1 >/dev/null |
        grep -c ': no-text:' || true)
    rm -f "${TMPDIR:-/tmp}/nw_semeval_raw.$$"
    echo "parse: $notext no-text dead letters of $total SemEval texts (both columns, newswire parse --jsonl)"
fi
# Per-language NER: the models of data/ner/<lang>.bin on the held-back parts of the multilingual
# sets (CoNLL val, WikiANN val, WikiNEuRal's fifth), beside the English model on its fifth.
echo "command: NW_SHARED_DATA=$data $build/bench/bench_ner_lang"
(cd "$here/.." && NW_SHARED_DATA=$data taskset -c 0 "$build/bench/bench_ner_lang")
if ! node --version >/dev/null 2>&1; then
    echo "compromise: skipped (no node)"
    exit 0
fi
if [ ! -d "$here/compromise/node_modules" ]; then
    (cd "$here/compromise" && npm ci --no-audit --no-fund >/dev/null) ||
        { echo "compromise: skipped (npm ci failed)"; exit 0; }
fi
taskset -c 0 node "$here/compromise/run.js" "$data"
