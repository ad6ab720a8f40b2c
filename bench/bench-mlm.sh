#!/bin/sh
# bench-mlm.sh: sift-train --task mlm beside Hugging Face Trainer with
# BertForMaskedLM (bench/hf_train.py), on the same masked AG News batches.
# usage: sh bench/bench-mlm.sh [BUILD_DIR]   (STEPS=batches, default 30)
B=${1:-build}
STEPS=${STEPS:-30}
ROWS=${ROWS:-1500}
OUT=bench/out/mlm
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B:$PATH
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$DATA/ag_news/test.csv" ]; then
	echo "bench-mlm: skipped (needs $MODEL and $DATA/ag_news)"
	exit 0
fi
mkdir -p "$OUT"
rm -rf "$OUT/sift" "$OUT/hf" "$OUT/hf.trainer"

# the descriptions of the first ROWS AG News rows (370 KB of CSV for 1,500),
# as run_mlm.py groups them: blocks of 128 tokens, BERT's masking (15%,
# 80/10/10) drawn by sift-batch, shuffled, 16 blocks a batch; the first
# STEPS batches
head -n "$ROWS" "$DATA/ag_news/test.csv" |
	sift-tok -m "$MODEL" --task mlm -f csv --text-col 3 --group-texts --max-length 128 2> /dev/null |
	sift-batch -s --seed 1 -b 16 > "$OUT/all.batches" || exit 1
sift-cat -j "$OUT/all.batches" |
	jq -c --argjson n "$STEPS" 'if .sift then .total = $n else . end' |
	head -n $((STEPS + 1)) > "$OUT/train.jsonl"
sift-cat -s "$OUT/train.jsonl" > "$OUT/train.batches" || exit 1
n=$(jq -s '[.[] | select(.B)] | length' "$OUT/train.jsonl")
if [ "$n" -ne "$STEPS" ]; then
	echo "bench-mlm: $ROWS rows make $n batches, fewer than STEPS=$STEPS (raise ROWS)" >&2
	exit 1
fi
masked=$(jq -s '[.[] | select(.B) | .labels[] | select(. != -100)] | length' "$OUT/train.jsonl")

opts="--lr 5e-5 --weight-decay 0.01 --seed 1"
# sift-train waits passively unless told otherwise; the peer gets the same
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
/usr/bin/time -f "%M" -o "$OUT/sift.rss" \
	sift-train --task mlm -m "$MODEL" -o "$OUT/sift" --no-state $opts "$OUT/train.batches" > "$OUT/sift.log" || exit 1
sift_tps=$(sift-cat "$OUT/sift.log" | jq -s '[.[] | select(.loss)] |
	(map(.tokens) | add) / (map(.tokens / .tokens_per_s) | add)')
sift_loss=$(sift-cat "$OUT/sift.log" | jq -s '[.[] | select(.loss)] | last.loss')
head="MiniLM MLM (a new BertForMaskedLM head), $STEPS steps of 16 blocks of 128 AG News tokens, $masked masked"
# transformers' Trainer needs the accelerate package
if ! python3 -c 'import accelerate, torch, transformers' 2> /dev/null; then
	awk -v s="$sift_tps" -v sm="$(cat "$OUT/sift.rss")" -v h="$head" -v l="$sift_loss" 'BEGIN {
	printf "mlm: %s\n", h
	printf "  sift-train   %8.1f tokens/s  peak RSS %6.0f MiB  last loss %.4f\n", s, sm / 1024, l
	print "  HF Trainer   skipped: python3 cannot import accelerate, torch and transformers (pip install accelerate)"
}'
	exit 0
fi
/usr/bin/time -f "%M" -o "$OUT/hf.rss" \
	python3 bench/hf_train.py "$MODEL" "$OUT/train.jsonl" "$OUT/hf" $opts > "$OUT/hf.out" 2> "$OUT/hf.err" || {
	tail -3 "$OUT/hf.err"
	exit 1
}
hf_tps=$(sed -n 's/.* \([0-9.]*\) tokens\/s$/\1/p' "$OUT/hf.err")
hf_loss=$(sed -n "s/.*'train_loss': '*\([0-9.]*\).*/\1/p" "$OUT/hf.out" | tail -1)
awk -v s="$sift_tps" -v h="$hf_tps" -v sm="$(cat "$OUT/sift.rss")" -v hl="$hf_loss" \
    -v hm="$(tail -1 "$OUT/hf.rss")" -v hd="$head" -v l="$sift_loss" \
    -v sl="$(sift-cat "$OUT/sift.log" | jq -s '[.[] | select(.loss) | .loss] | add / length')" 'BEGIN {
	printf "mlm: %s, %s threads\n", hd, ENVIRON["OMP_NUM_THREADS"] ? ENVIRON["OMP_NUM_THREADS"] : "all"
	printf "  sift-train   %8.1f tokens/s  peak RSS %6.0f MiB  mean loss %.4f (last %.4f)\n", s, sm / 1024, sl, l
	printf "  HF Trainer   %8.1f tokens/s  peak RSS %6.0f MiB  mean loss %s\n", h, hm / 1024, hl == "" ? "?" : sprintf("%.4f", hl)
	printf "  ratio        %8.2fx tokens/s, %.2fx memory\n", s / h, sm / hm
}'
