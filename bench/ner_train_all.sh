#!/bin/sh
# ner_train_all.sh: retrain every per-language named-entity model (data/ner/<lang>.bin) from the
# multilingual sets in ../shared/data/ner/multilingual/, with the commands data/ner/README.md
# records. Training parts only: CoNLL and WikiANN train files, four fifths of WikiNEuRal (its
# fifth divisible by 5 is bench_ner_lang's). The English model.bin has its own command there.
# Usage: bench/ner_train_all.sh BUILD_DIR [OUT_DIR] [LANG...]   (BUILD_DIR: a Release build)
set -eu
build=${1:?usage: bench/ner_train_all.sh BUILD_DIR [OUT_DIR] [LANG...]}
here=$(cd "$(dirname "$0")" && pwd)
out=${2:-$here/../data/ner}
[ $# -ge 2 ] && shift 2 || shift $#
langs=${*:-de es fr it nl pl pt ru}
m=${NW_SHARED_DATA:-$here/../../shared/data}/ner/multilingual
if [ ! -d "$m" ]; then
    echo "skipped: no multilingual NER data under $m"
    exit 0
fi
prune=${NW_NER_PRUNE:-2}
for l in $langs; do
    set --
    # German: the CoNLL sentences also without their umlauts and ß (bench_ner_train
    # --ascii-copy), as text damaged on its way arrives.
    f="$m/conll-$l-train.txt.gz"
    if [ -f "$f" ] && [ "$l" = de ]; then
        set -- --ascii-copy "$f"
    elif [ -f "$f" ]; then
        set -- "$f"
    fi
    f="$m/wikiann-$l-train.txt.gz"
    [ -f "$f" ] && set -- "$@" "$f"
    nice "$build/bench/bench_ner_train" --prune "$prune" "$@" \
        --four-fifths "$m/wikineural-$l-val.txt.gz" "$out/$l.bin" 2>/dev/null
done
