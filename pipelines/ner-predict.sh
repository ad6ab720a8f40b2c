#!/bin/sh
# ner-predict.sh: tag text with a fine-tuned NER model; with gold tags in
# the input (CoNLL), also score it as conlleval does.
#
# usage: pipelines/ner-predict.sh model_dir [file ...]   (stdin without files)
#
# Settings (environment, with their defaults):
#   FORMAT=lines   lines: one sentence a line, split into words;
#                  conll: CoNLL columns (gold tags in the last, scored)
#   SCHEME=iob1    the tag scheme of CoNLL input (iob1: CoNLL-2003, iob2)
#   OUT=           keep predictions (and metrics) in this directory
#   BATCH=32
set -eu
[ $# -ge 1 ] || { echo "usage: ner-predict.sh model_dir [file ...]" >&2; exit 2; }
RUN=$1
shift
FORMAT=${FORMAT:-lines}
SCHEME=${SCHEME:-iob1}
BATCH=${BATCH:-32}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

# the model's own label set, in id order, from its config.json
jq -r '.id2label | to_entries | sort_by(.key | tonumber) | .[].value' \
	"$RUN/config.json" > "$OUT/labels.txt"

if [ "$FORMAT" = conll ]; then
	tok="-f conll --labels $OUT/labels.txt"
	[ "$SCHEME" = iob1 ] && tok="$tok --iob1-to-iob2"
else
	tok="-f lines --words"
fi

# POSIX sh has no pipefail: a stage that fails notes it here
fail=$OUT/.failed
rm -f "$fail"
ok() { "$@" || echo "ner-predict: $1 exited with status $?" >> "$fail"; }

# text -> examples -> batches in input order (streamed) -> predictions;
# a long sentence travels as overlapping windows that sift-fwd stitches
ok sift-tok -m "$RUN" $tok "$@" | ok sift-batch -b "$BATCH" |
	sift-fwd -m "$RUN" > "$OUT/predictions"
[ ! -s "$fail" ] || { cat "$fail" >&2; exit 1; }

# the entities marked in the text; with gold tags, the scores too
sift-report "$OUT/predictions"
if [ "$FORMAT" = conll ]; then
	sift-eval "$OUT/predictions" > "$OUT/metrics"
	sift-report "$OUT/metrics"
fi
