#!/bin/sh
# bench-lora.sh: sift-train --lora (r 8, 16) beside full fine-tuning and
# beside peft + Trainer, on the same Financial PhraseBank batches (CPU).
# usage: sh bench/bench-lora.sh [BUILD_DIR]   (STEPS=batches, default 40)
# shellcheck disable=SC2086  # $common and $PY split into words on purpose
B=${1:-build}
STEPS=${STEPS:-40}
OUT=bench/out/lora
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
PY=${PYTHON:-python3}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B:$PATH
F=$DATA/financial_phrasebank/Sentences_50Agree.txt
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$F" ]; then
	echo "bench-lora: skipped (needs $MODEL and $F)"
	exit 0
fi
mkdir -p "$OUT"
# the seeded 80/10/10 split of BENCHMARKS.md; the first STEPS batches of
# 32 shuffled training sentences; the test tenth
$PY -c "
import random, sys
lines = open(sys.argv[1], 'rb').read().splitlines(keepends=True)
idx = list(range(len(lines))); random.Random(1).shuffle(idx)
n = len(lines); a = int(0.8 * n); b = int(0.9 * n)
for name, part in (('train', idx[:a]), ('test', idx[b:])):
    open(sys.argv[2] + '/' + name + '.txt', 'wb').write(b''.join(lines[i] for i in sorted(part)))" "$F" "$OUT" || exit 1
sift-tok -m "$MODEL" -f at --encoding latin1 "$OUT/train.txt" > "$OUT/train.examples" || exit 1
sift-cat "$OUT/train.examples" | head -n 1 | jq -r '.labels[]' > "$OUT/labels.txt"
sift-tok -m "$MODEL" -f at --encoding latin1 --labels "$OUT/labels.txt" "$OUT/test.txt" |
	sift-batch -b 64 > "$OUT/test.batches" || exit 1
sift-batch -s --seed 1 -b 32 "$OUT/train.examples" | sift-cat -j |
	jq -c --argjson n "$STEPS" 'if .sift then .total = $n else . end' |
	head -n $((STEPS + 1)) > "$OUT/train.jsonl"
sift-cat -s "$OUT/train.jsonl" > "$OUT/train.batches" || exit 1
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

# run NAME PROGRAM...: peak RSS (KiB) into NAME.rss, the log into NAME.log
run() {
	n=$1
	shift
	rm -rf "${OUT:?}/$n" "$OUT/$n.trainer"
	/usr/bin/time -f "%M %e" -o "$OUT/$n.rss" "$@" > "$OUT/$n.log" 2> "$OUT/$n.err" || {
		cat "$OUT/$n.err"; exit 1; }
}
# score NAME [sift-fwd options]: test accuracy and macro-F1
score() {
	n=$1
	shift
	sift-fwd "$@" "$OUT/test.batches" | sift-eval | sift-cat |
		jq -r 'select(.accuracy) | "\(.accuracy) \(.macro.f1)"'
}
tps() {
	sift-cat "$OUT/$1.log" | jq -s '[.[] | select(.loss)] |
		(map(.tokens) | add) / (map(.tokens / .tokens_per_s) | add)'
}
hftps() {
	sed -n 's/.* \([0-9.]*\) tokens\/s$/\1/p' "$OUT/$1.err"
}
bytes() {
	( cd "$OUT/$1" && cat $2 | wc -c )
}
common="--weight-decay 0.01 --seed 1"
echo "bench-lora: $STEPS steps of 32 PhraseBank sentences, load $(cut -d ' ' -f 1-3 /proc/loadavg)"
run full sift-train -m "$MODEL" -o "$OUT/full" --lr 1e-4 $common "$OUT/train.batches"
run r8 sift-train -m "$MODEL" -o "$OUT/r8" --lr 1e-3 --lora 8 $common "$OUT/train.batches"
run r16 sift-train -m "$MODEL" -o "$OUT/r16" --lr 1e-3 --lora 16 $common "$OUT/train.batches"
run hf $PY bench/hf_train.py "$MODEL" "$OUT/train.jsonl" "$OUT/hf" --lr 1e-4 $common
run peft8 $PY bench/hf_train.py "$MODEL" "$OUT/train.jsonl" "$OUT/peft8" --lr 1e-3 --lora 8 $common
echo "bench-lora: load after $(cut -d ' ' -f 1-3 /proc/loadavg)"
printf '%-22s %-18s %10s %9s %11s %s\n' run "test acc, macro-F1" tokens/s "RSS MiB" "ckpt bytes" "state bytes"
for n in full r8 r16; do
	if [ -f "$OUT/$n/model.safetensors" ]; then m="-m $OUT/$n"; f="model.safetensors config.json"
	else m="-m $MODEL --adapter $OUT/$n"; f="adapter_model.safetensors adapter_config.json sift-adapter.json"; fi
	# shellcheck disable=SC2086
	printf '%-22s %-18s %10.1f %9.0f %11d %d\n' "sift-train $n" "$(score $n $m)" "$(tps $n)" \
		"$(($(cut -d ' ' -f 1 "$OUT/$n.rss") / 1024))" "$(bytes $n "$f")" "$(bytes $n train_state.bin)"
done
printf '%-22s %-18s %10.1f %9.0f %11d\n' "HF Trainer full" "$(score hf -m "$OUT/hf")" "$(hftps hf)" \
	"$(($(cut -d ' ' -f 1 "$OUT/hf.rss") / 1024))" "$(bytes hf model.safetensors)"
printf '%-22s %-18s %10.1f %9.0f %11d\n' "peft+Trainer r8" "$(score peft8 -m "$MODEL" --adapter "$OUT/peft8")" "$(hftps peft8)" \
	"$(($(cut -d ' ' -f 1 "$OUT/peft8.rss") / 1024))" "$(bytes peft8 "adapter_model.safetensors adapter_config.json")"
