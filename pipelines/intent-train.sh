#!/bin/sh
# intent-train.sh: fine-tune a BERT-family encoder for intent
# classification with out-of-scope queries (CLINC150), choose the abstain
# threshold on val and report CLINC150's scores on test.
#
# usage: pipelines/intent-train.sh [--with-oos] [data_full.json | train.jsonl val.jsonl test.jsonl]
#
# The data is either one CLINC150 file (data_full.json and its kin: one
# JSON object whose keys train, val, test, oos_val, oos_test, and
# oos_train for --with-oos, are lists of [text, intent] pairs), or three
# JSON lines files of {"text": ..., "label": ...} objects, out-of-scope
# queries among them under the label $ABSTAIN.  The default is
# $SIFT_DATA/clinc150/data_full.json.
#
# The model learns the in-scope intents of train (sorted); with
# --with-oos, the out-of-scope training queries too, as one more class.
# The best checkpoint is kept by accuracy on the val queries of those
# classes (sift-train --dev).  sift-eval --find-threshold then chooses the
# threshold on all of val, out-of-scope queries included (there must be
# some), and sift-fwd --threshold T --abstain $ABSTAIN predicts test with
# it: a query whose top probability is below T is out of scope.  The
# report gives T, its objective on val, and test's in-scope accuracy and
# out-of-scope precision, recall and F1; test.report.txt has the full
# sift-report (per-intent scores and the confusion matrix).  A label of
# val or test that train lacks is an error naming the file and line
# (with data_full.json: of OUT's val.jsonl or test.jsonl, converted).
#
# Run from a checkout (pipelines/ beside Makefile), MODEL and SIFT_DATA
# default to the checkout's models/all-MiniLM-L6-v2 and ../shared/data,
# wherever the working directory is; installed
# ($PREFIX/share/sift/pipelines), MODEL must be set, and SIFT_DATA or the
# file arguments.  The sift programs and jq come from PATH; OUT is
# relative to the working directory.
#
# Settings (environment, with their defaults):
#   MODEL=models/all-MiniLM-L6-v2  OUT=runs/intent
#   EPOCHS=3 BATCH=32 SEED=1 LR=1e-4
#   ABSTAIN=oos          the out-of-scope label
#   OBJECTIVE=balanced   what the threshold maximises on val: balanced (the
#                        mean of in-scope accuracy and oos recall) or
#                        abstain-f1 (the F1 of oos)
#   SIFT_DATA=../shared/data   where clinc150/ is (beside the checkout)
set -eu
me=intent-train
usage="usage: intent-train.sh [--with-oos] [data_full.json | train.jsonl val.jsonl test.jsonl]"
# the checkout this script is in, if it is in one
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$top/Makefile" ] && [ -d "$top/lib" ]; then
	MODEL=${MODEL:-$top/models/all-MiniLM-L6-v2}
	SIFT_DATA=${SIFT_DATA:-$top/../shared/data}
fi
WITH_OOS=0
if [ "${1:-}" = --with-oos ]; then
	WITH_OOS=1
	shift
fi
case ${1:-} in -*) echo "$me: unknown option '$1'" >&2; echo "$usage" >&2; exit 2 ;; esac
[ -n "${MODEL:-}" ] || { echo "$me: MODEL not set (a model directory)" >&2; exit 2; }
[ $# -eq 0 ] || [ $# -eq 1 ] || [ $# -eq 3 ] || { echo "$usage" >&2; exit 2; }
[ $# -ge 1 ] || [ -n "${SIFT_DATA:-}" ] || { echo "$usage (or set SIFT_DATA)" >&2; exit 2; }
OUT=${OUT:-runs/intent}
EPOCHS=${EPOCHS:-3}
BATCH=${BATCH:-32}
SEED=${SEED:-1}
LR=${LR:-1e-4}
ABSTAIN=${ABSTAIN:-oos}
OBJECTIVE=${OBJECTIVE:-balanced}
case $OBJECTIVE in balanced | abstain-f1) ;; *)
	echo "$me: OBJECTIVE: expected balanced or abstain-f1, got '$OBJECTIVE'" >&2
	exit 2 ;;
esac
mkdir -p "$OUT"

# 1. JSON lines: train (in-scope, and oos with --with-oos), val and test
#    (both with their out-of-scope queries)
if [ $# -eq 3 ]; then
	for f in "$1" "$2" "$3"; do
		[ -r "$f" ] || { echo "$me: $f: cannot read it" >&2; exit 1; }
		# jq says where: "parse error: ... at line 2, column 0"
		if ! jq -e -n '[inputs | type == "object"] | all' "$f" > /dev/null 2> "$OUT/.jq"; then
			why=$(head -n 1 "$OUT/.jq")
			echo "$me: $f: not JSON lines of objects${why:+: $why}" >&2
			exit 1
		fi
	done
	jq -c --arg a "$ABSTAIN" --argjson w "$WITH_OOS" \
		'select($w == 1 or .label != $a)' "$1" > "$OUT/train.jsonl"
	VAL=$2 TEST=$3
else
	SRC=${1:-$SIFT_DATA/clinc150/data_full.json}
	[ -r "$SRC" ] || { echo "$me: $SRC: cannot read it" >&2; exit 1; }
	need="train val test oos_val oos_test"
	[ "$WITH_OOS" -eq 0 ] || need="$need oos_train"
	for k in $need; do
		jq -e --arg k "$k" 'type == "object" and (.[$k] | type) == "array"' "$SRC" > /dev/null 2>&1 ||
			{ echo "$me: $SRC: no $k split (a list of [text, intent] pairs)" >&2; exit 1; }
	done
	pairs='.[] | {text: .[0], label: .[1]}'
	if [ "$WITH_OOS" -eq 1 ]; then
		jq -c "(.train, .oos_train) | $pairs" "$SRC" > "$OUT/train.jsonl"
	else
		jq -c ".train | $pairs" "$SRC" > "$OUT/train.jsonl"
	fi
	jq -c "(.val, .oos_val) | $pairs" "$SRC" > "$OUT/val.jsonl"
	jq -c "(.test, .oos_test) | $pairs" "$SRC" > "$OUT/test.jsonl"
	VAL=$OUT/val.jsonl TEST=$OUT/test.jsonl
fi

# 2. the label sets: the model's (train's), and with $ABSTAIN for val and
#    test, whose out-of-scope gold the model may not know; val must have
#    out-of-scope queries to choose the threshold on
jq -r .label "$OUT/train.jsonl" | sort -u > "$OUT/labels.txt"
[ -s "$OUT/labels.txt" ] || { echo "$me: no training queries" >&2; exit 1; }
{ cat "$OUT/labels.txt"; grep -qxF -- "$ABSTAIN" "$OUT/labels.txt" || echo "$ABSTAIN"; } > "$OUT/labels+abstain.txt"
for f in "$VAL" "$TEST"; do
	n=$(jq -r --arg a "$ABSTAIN" 'select(.label == $a) | 1' "$f" | wc -l)
	[ "$n" -gt 0 ] || { echo "$me: $f: no $ABSTAIN queries: the threshold needs out-of-scope queries in val and test" >&2; exit 1; }
done

# 3. examples and batches: dev (val's queries of the model's classes) for
#    sift-train, all of val and test for the threshold and the scores
#    (each tokenized into a file first: set -e sees a failing sift-tok)
tok="-m $MODEL -f jsonl --task cls"
jq -c --rawfile l "$OUT/labels.txt" 'select(.label as $x | $l | split("\n") | index($x))' "$VAL" > "$OUT/dev.jsonl"
sift-tok $tok --labels "$OUT/labels.txt" "$OUT/train.jsonl" > "$OUT/train.examples"
sift-tok $tok --labels "$OUT/labels.txt" "$OUT/dev.jsonl" > "$OUT/dev.examples"
sift-tok $tok --labels "$OUT/labels+abstain.txt" "$VAL" > "$OUT/val.examples"
sift-tok $tok --labels "$OUT/labels+abstain.txt" "$TEST" > "$OUT/test.examples"
for s in dev val test; do
	sift-batch -b 64 "$OUT/$s.examples" > "$OUT/$s.batches"
done

# 4. train on shuffled epochs, keeping the best model by dev accuracy
#    (POSIX sh has no pipefail: a failing sift-batch notes it in $fail)
fail=$OUT/.failed
rm -f "$fail"
{ sift-batch -s --seed "$SEED" -e "$EPOCHS" -b "$BATCH" "$OUT/train.examples" ||
	echo "$me: sift-batch exited with status $?" > "$fail"; } |
	sift-train -m "$MODEL" -o "$OUT/model" --dev "$OUT/dev.batches" \
		--lr "$LR" --seed "$SEED" --no-state > "$OUT/train.log"
[ ! -s "$fail" ] || { cat "$fail" >&2; exit 1; }

# 5. the threshold on val, then test predicted and scored with it
sift-fwd -m "$OUT/model" "$OUT/val.batches" > "$OUT/val.predictions"
sift-eval --abstain "$ABSTAIN" --find-threshold --objective "$OBJECTIVE" \
	"$OUT/val.predictions" > "$OUT/val.metrics"
t=$(sift-cat "$OUT/val.metrics" | jq -r 'select(.abstain) | .abstain.threshold')
sift-fwd -m "$OUT/model" --threshold "$t" --abstain "$ABSTAIN" "$OUT/test.batches" > "$OUT/test.predictions"
sift-eval --abstain "$ABSTAIN" "$OUT/test.predictions" > "$OUT/test.metrics"
sift-report "$OUT/test.metrics" > "$OUT/test.report.txt"

# 6. the report: the threshold and CLINC150's scores on test
{
	sift-cat "$OUT/val.metrics" | jq -r 'select(.abstain) | .abstain |
		"threshold \(.threshold) (\(.objective) \(.score * 10000 | round / 10000) on val)"'
	sift-cat "$OUT/test.metrics" | jq -r 'select(.abstain) | .abstain |
		def r: . * 10000 | round / 10000;
		"test in-scope accuracy \(.in_scope_accuracy | r) (\(.in_scope) queries)",
		"test \(.label) precision \(.precision | r)",
		"test \(.label) recall \(.recall | r) (\(.support) queries)",
		"test \(.label) f1 \(.f1 | r)"'
} > "$OUT/report.txt"
cat "$OUT/report.txt"
