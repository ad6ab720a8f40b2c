#!/bin/sh
# bench-ops.sh: every op of the CPU table against the machine's ceilings
# (bench/ops.c), then where the time of a MiniLM training step goes
# (sift-train with SIFT_PROFILE=1 on CoNLL-2003 batches of 32 sentences).
# usage: sh bench/bench-ops.sh [BUILD_DIR]   (OPS=minilm|base|all, default
# all; REPS as bench/ops.c; STEPS=batches of the profile, default 20)
B=${1:-build}
OUT=bench/out/ops
STEPS=${STEPS:-20}
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
case $B in /*) ;; *) B=$PWD/$B ;; esac
if [ ! -x "$B/bench/ops" ]; then
	echo "bench-ops: skipped (no $B/bench/ops: make all)"
	exit 0
fi
mkdir -p "$OUT"
echo "ops: load $(cut -d' ' -f1-3 /proc/loadavg)"
"$B/bench/ops" "${OPS:-all}" | tee "$OUT/ops.md" || exit 1
echo "ops: load after $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$DATA/conll2003/eng.train" ]; then
	echo "bench-ops: step profile skipped (needs $MODEL and $DATA/conll2003)"
	exit 0
fi
PATH=$B:$PATH
sift-tok -m "$MODEL" -f conll --iob1-to-iob2 "$DATA/conll2003/eng.train" |
	sift-batch -s --seed 1 -b 32 | sift-cat -j |
	jq -c --argjson n "$STEPS" 'if .sift then .total = $n else . end' |
	head -n $((STEPS + 1)) | sift-cat -s > "$OUT/train.batches" || exit 1
rm -rf "$OUT/model"
echo "step profile: MiniLM NER, $STEPS steps of 32 sentences, load $(cut -d' ' -f1-3 /proc/loadavg)"
SIFT_PROFILE=1 sift-train -m "$MODEL" -o "$OUT/model" --no-state --lr 5e-5 --seed 1 \
	"$OUT/train.batches" > "$OUT/train.log" 2> "$OUT/profile.txt" || exit 1
tokens=$(sift-cat "$OUT/train.log" | jq -s '[.[] | select(.loss) | .tokens] | add')
grep '^profile' "$OUT/profile.txt"
echo "step profile: $tokens tokens; load after $(cut -d' ' -f1-3 /proc/loadavg)"
