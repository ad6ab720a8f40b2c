#!/bin/sh
# ner-train.sh: fine-tune a BERT-family encoder for named-entity recognition
# on CoNLL files (CoNLL-2003 by default), scoring the dev set as it trains.
#
# usage: pipelines/ner-train.sh [train.conll [dev.conll]]
#
# Run from a checkout (pipelines/ beside Makefile), MODEL and SIFT_DATA
# default to the checkout's models/all-MiniLM-L6-v2 and ../shared/data,
# wherever the working directory is; installed
# ($PREFIX/share/sift/pipelines), MODEL must be set, and SIFT_DATA or the
# file arguments.  The sift programs come from PATH; OUT is relative to
# the working directory.
#
# Settings (environment, with their defaults):
#   MODEL=models/all-MiniLM-L6-v2  the pretrained encoder (a Hugging Face dir)
#   OUT=runs/ner       where the fine-tuned model, streams and report go
#   EPOCHS=3 BATCH=32 MAX_TOKENS=4096 SEED=1 LR=5e-5
#   SCHEME=iob1        the tag scheme of the input (iob1: CoNLL-2003, iob2)
#   TAG_COL=           CoNLL tag column (default: the last)
#   SIFT_DATA=../shared/data   where conll2003/ is (beside the checkout)
set -eu
# the checkout this script is in, if it is in one
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$top/Makefile" ] && [ -d "$top/lib" ]; then
	MODEL=${MODEL:-$top/models/all-MiniLM-L6-v2}
	SIFT_DATA=${SIFT_DATA:-$top/../shared/data}
fi
[ -n "${MODEL:-}" ] || { echo "ner-train: MODEL not set (a model directory)" >&2; exit 2; }
[ $# -ge 2 ] || [ -n "${SIFT_DATA:-}" ] ||
	{ echo "usage: ner-train.sh train.conll dev.conll (or set SIFT_DATA)" >&2; exit 2; }
DATA=${SIFT_DATA:-}
TRAIN=${1:-$DATA/conll2003/eng.train}
DEV=${2:-$DATA/conll2003/eng.testa}
OUT=${OUT:-runs/ner}
EPOCHS=${EPOCHS:-3}
BATCH=${BATCH:-32}
MAX_TOKENS=${MAX_TOKENS:-4096}
SEED=${SEED:-1}
LR=${LR:-5e-5}
SCHEME=${SCHEME:-iob1}
mkdir -p "$OUT"

# sift-tok options shared by both sets: CoNLL columns, IOB2 tags for training
tok="-m $MODEL -f conll"
[ "$SCHEME" = iob1 ] && tok="$tok --iob1-to-iob2"
[ -n "${TAG_COL:-}" ] && tok="$tok --tag-col $TAG_COL"

# POSIX sh has no pipefail: a stage that fails notes it here
fail=$OUT/.failed
rm -f "$fail"
ok() { "$@" || echo "ner-train: $1 exited with status $?" >> "$fail"; }

# 1. the label set of training and dev data together (sift-tok reads all
#    of its input before the header, which names them), in label order
ok sift-tok $tok "$TRAIN" "$DEV" | sift-cat | head -n 1 |
	jq -r '.labels[]' > "$OUT/labels.txt"
[ ! -s "$fail" ] || { cat "$fail" >&2; exit 1; }

# 2. both sets with those labels; dev batched once, in input order
sift-tok $tok --labels "$OUT/labels.txt" "$TRAIN" > "$OUT/train.examples"
sift-tok $tok --labels "$OUT/labels.txt" "$DEV" > "$OUT/dev.examples"
sift-batch -b 64 "$OUT/dev.examples" > "$OUT/dev.batches"

# 3. train: shuffled, length-bucketed epochs (the header's total plans the
#    learning-rate schedule); the log stream records every step
ok sift-batch -s --seed "$SEED" -e "$EPOCHS" -b "$BATCH" -t "$MAX_TOKENS" \
	"$OUT/train.examples" |
	sift-train -m "$MODEL" -o "$OUT/model" --dev "$OUT/dev.batches" \
		--lr "$LR" --seed "$SEED" > "$OUT/train.log"
[ ! -s "$fail" ] || { cat "$fail" >&2; exit 1; }

# 4. the run at a glance: best dev score, curves of loss, rate and F1
sift-report --plot "$OUT/curves.svg" "$OUT/train.log" > "$OUT/report.txt"
cat "$OUT/report.txt"
