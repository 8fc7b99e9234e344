#!/bin/sh
# enrich.sh: bench_enrich (NER accuracy and speed, full enrichment, same-story detection,
# language identification), bench_ner_lang (per-language NER models) and, when Node is
# present, the JavaScript library compromise on the same CoNLL-2003 sentences with the same
# metric, all on one core.
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
