#!/bin/sh
# demo-ner.sh: the NER job on a small default: fine-tune all-MiniLM-L6-v2 for
# named entities on the first sentences of CoNLL-2003 train, then tag and
# score a slice of the dev set, as conlleval does.  A few minutes on two
# cores.
# usage: pipelines/demo-ner.sh [build_dir]
#
# Settings (environment, with their defaults):
#   SIFT_DATA=../shared/data   where conll2003/ is
#   MODEL=models/all-MiniLM-L6-v2
#   OUT=build/demo             what the run leaves: model, log, curves.svg
#   SENTENCES=2000 EPOCHS=2 LR=1e-4
set -eu
B=${1:-build}
PATH=$PWD/$B:$PATH
export PATH
DATA=${SIFT_DATA:-../shared/data}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
OUT=${OUT:-build/demo}
SENTENCES=${SENTENCES:-2000}
EPOCHS=${EPOCHS:-2}
LR=${LR:-1e-4}

for f in "$DATA/conll2003/eng.train" "$DATA/conll2003/eng.testa"; do
	[ -f "$f" ] || { echo "demo: $f not found (set SIFT_DATA)" >&2; exit 1; }
done
[ -f "$MODEL/model.safetensors" ] ||
	{ echo "demo: no model in $MODEL (make model)" >&2; exit 1; }
mkdir -p "$OUT"

# the first SENTENCES sentences of train, a quarter as many of dev
slice() {
	awk -v n="$2" '/^-DOCSTART-/ { next } NF == 0 { if (s) k++; s = 0; if (k >= n) exit; print; next } { s = 1; print }' "$1"
}
slice "$DATA/conll2003/eng.train" "$SENTENCES" > "$OUT/train.conll"
slice "$DATA/conll2003/eng.testa" $((SENTENCES / 4)) > "$OUT/dev.conll"

echo "demo: fine-tuning $MODEL on $SENTENCES CoNLL-2003 sentences, $EPOCHS epochs"
env OUT="$OUT/run" MODEL="$MODEL" EPOCHS="$EPOCHS" LR="$LR" BATCH=16 \
	sh pipelines/ner-train.sh "$OUT/train.conll" "$OUT/dev.conll"

echo
echo "demo: tagging and scoring the dev slice with the fine-tuned model"
env OUT="$OUT/predict" FORMAT=conll sh pipelines/ner-predict.sh "$OUT/run/model" \
	"$OUT/dev.conll" | tail -n 8
echo
echo "demo: the model is in $OUT/run/model, its curves in $OUT/run/curves.svg"
