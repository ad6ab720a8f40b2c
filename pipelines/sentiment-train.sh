#!/bin/sh
# sentiment-train.sh: fine-tune a BERT-family encoder for financial
# sentiment (negative, neutral, positive) on Financial PhraseBank.
#
# usage: pipelines/sentiment-train.sh [Sentences_XXAgree.txt]
#
# The file has `sentence@label` rows in ISO-8859-1.  There is no official
# split: every DEV_EVERY-th row (10: 10%) is held out for dev, the rest
# trains.
#
# Run from a checkout (pipelines/ beside Makefile), MODEL and SIFT_DATA
# default to the checkout's models/all-MiniLM-L6-v2 and ../shared/data,
# wherever the working directory is; installed
# ($PREFIX/share/sift/pipelines), MODEL must be set, and SIFT_DATA or the
# file argument.  The sift programs come from PATH; OUT is relative to
# the working directory.
#
# Settings (environment, with their defaults):
#   MODEL=models/all-MiniLM-L6-v2  OUT=runs/sentiment
#   EPOCHS=4 BATCH=32 SEED=1 LR=3e-5 DEV_EVERY=10
#   SIFT_DATA=../shared/data   where financial_phrasebank/ is (beside the checkout)
set -eu
# the checkout this script is in, if it is in one
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$top/Makefile" ] && [ -d "$top/lib" ]; then
	MODEL=${MODEL:-$top/models/all-MiniLM-L6-v2}
	SIFT_DATA=${SIFT_DATA:-$top/../shared/data}
fi
[ -n "${MODEL:-}" ] || { echo "sentiment-train: MODEL not set (a model directory)" >&2; exit 2; }
[ $# -ge 1 ] || [ -n "${SIFT_DATA:-}" ] ||
	{ echo "usage: sentiment-train.sh Sentences_XXAgree.txt (or set SIFT_DATA)" >&2; exit 2; }
DATA=${SIFT_DATA:-}
SRC=${1:-$DATA/financial_phrasebank/Sentences_66Agree.txt}
OUT=${OUT:-runs/sentiment}
EPOCHS=${EPOCHS:-4}
BATCH=${BATCH:-32}
SEED=${SEED:-1}
LR=${LR:-3e-5}
DEV_EVERY=${DEV_EVERY:-10}
mkdir -p "$OUT"
printf 'negative\nneutral\npositive\n' > "$OUT/labels.txt"

# 1. a fixed split (awk keeps the bytes as they are: still latin-1)
awk -v k="$DEV_EVERY" 'NR % k != 0' "$SRC" > "$OUT/train.txt"
awk -v k="$DEV_EVERY" 'NR % k == 0' "$SRC" > "$OUT/dev.txt"

# 2. text@label rows, latin-1, one label per sentence; dev batched once
tok="-m $MODEL -f at --encoding latin1 --task cls --labels $OUT/labels.txt"
sift-tok $tok "$OUT/dev.txt" > "$OUT/dev.examples"
sift-batch -b 64 "$OUT/dev.examples" > "$OUT/dev.batches"
sift-tok $tok "$OUT/train.txt" > "$OUT/train.examples"

# 3. shuffled epochs; dev accuracy picks the best checkpoint (POSIX sh has
#    no pipefail: a failing sift-batch notes it in $fail)
fail=$OUT/.failed
rm -f "$fail"
{ sift-batch -s --seed "$SEED" -e "$EPOCHS" -b "$BATCH" "$OUT/train.examples" ||
	echo "sentiment-train: sift-batch exited with status $?" > "$fail"; } |
	sift-train -m "$MODEL" -o "$OUT/model" --dev "$OUT/dev.batches" \
		--lr "$LR" --seed "$SEED" > "$OUT/train.log"
[ ! -s "$fail" ] || { cat "$fail" >&2; exit 1; }

# 4. the curves and the dev scores per class
sift-report --plot "$OUT/curves.svg" "$OUT/train.log" > "$OUT/report.txt"
cat "$OUT/report.txt"
