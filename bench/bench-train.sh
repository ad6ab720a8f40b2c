#!/bin/sh
# bench-train.sh: sift-train beside Hugging Face Trainer (bench/hf_train.py),
# fine-tuning MiniLM for NER on the same CoNLL-2003 batches on the CPU.
# usage: sh bench/bench-train.sh [BUILD_DIR]   (STEPS=batches, default 30)
B=${1:-build}
STEPS=${STEPS:-30}
OUT=bench/out/train
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B:$PATH
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$DATA/conll2003/eng.train" ]; then
	echo "bench-train: skipped (needs $MODEL and $DATA/conll2003)"
	exit 0
fi
mkdir -p "$OUT"
rm -rf "$OUT/sift" "$OUT/hf" "$OUT/hf.trainer"

# the first STEPS batches of 32 shuffled CoNLL-2003 training sentences
sift-tok -m "$MODEL" -f conll --iob1-to-iob2 "$DATA/conll2003/eng.train" |
	sift-batch -s --seed 1 -b 32 > "$OUT/all.batches" || exit 1
sift-cat -j "$OUT/all.batches" |
	jq -c --argjson n "$STEPS" 'if .sift then .total = $n else . end' |
	head -n $((STEPS + 1)) > "$OUT/train.jsonl"
sift-cat -s "$OUT/train.jsonl" > "$OUT/train.batches" || exit 1

opts="--lr 5e-5 --weight-decay 0.01 --seed 1"
# sift-train's OpenMP threads spin 1,000 times, then sleep, unless told
# otherwise (sift-train(1)); the peer's (torch's libgomp) get the same
if [ -z "${OMP_WAIT_POLICY:-}" ]; then
	export GOMP_SPINCOUNT="${GOMP_SPINCOUNT:-1000}"
fi
/usr/bin/time -f "%M" -o "$OUT/sift.rss" \
	sift-train -m "$MODEL" -o "$OUT/sift" $opts "$OUT/train.batches" > "$OUT/sift.log" || exit 1
sift_tps=$(sift-cat "$OUT/sift.log" | jq -s '[.[] | select(.loss)] |
	(map(.tokens) | add) / (map(.tokens / .tokens_per_s) | add)')
sift_loss=$(sift-cat "$OUT/sift.log" | jq -s '[.[] | select(.loss)] | last.loss')
# transformers' Trainer needs the accelerate package
if ! python3 -c 'import accelerate, torch, transformers' 2> /dev/null; then
	awk -v s="$sift_tps" -v sm="$(cat "$OUT/sift.rss")" -v n="$STEPS" -v l="$sift_loss" 'BEGIN {
	printf "train: MiniLM NER, %d steps of 32 CoNLL sentences\n", n
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
awk -v s="$sift_tps" -v h="$hf_tps" -v sm="$(cat "$OUT/sift.rss")" \
    -v hm="$(tail -1 "$OUT/hf.rss")" -v n="$STEPS" -v l="$sift_loss" 'BEGIN {
	printf "train: MiniLM NER, %d steps of 32 CoNLL sentences, %s threads\n", n, ENVIRON["OMP_NUM_THREADS"] ? ENVIRON["OMP_NUM_THREADS"] : "all"
	printf "  sift-train   %8.1f tokens/s  peak RSS %6.0f MiB  last loss %.4f\n", s, sm / 1024, l
	printf "  HF Trainer   %8.1f tokens/s  peak RSS %6.0f MiB\n", h, hm / 1024
	printf "  ratio        %8.2fx tokens/s, %.2fx memory\n", s / h, sm / hm
}'
