#!/bin/sh
# bench-bf16.sh: sift-train --precision bf16 beside fp32 and beside HF
# Trainer bf16=True on the CPU, one thread each, side by side: PhraseBank
# (the seeded 80/10/10 split: the first PB_STEPS batches of 32 of one
# shuffled epoch, default all 122; test accuracy) and CoNLL-2003 (the
# first SENTS shuffled training sentences, default 2000; test F1).
# usage: sh bench/bench-bf16.sh [BUILD_DIR]   (PYTHON: the peer's python3)
# shellcheck disable=SC2086  # $opts splits into words on purpose
B=${1:-build}
SENTS=${SENTS:-2000}
PB_STEPS=${PB_STEPS:-0}
OUT=bench/out/bf16
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
PY=${PYTHON:-python3}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B:$PATH
F=$DATA/financial_phrasebank/Sentences_50Agree.txt
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$F" ] || [ ! -f "$DATA/conll2003/eng.train" ]; then
	echo "bench-bf16: skipped (needs $MODEL, $F and $DATA/conll2003)"
	exit 0
fi
why=$(sift-fwd -m "$MODEL" --device cpu --precision bf16 < /dev/null 2>&1 > /dev/null)
case $why in *"bf16 precision on the cpu"*) echo "bench-bf16: skipped (${why#sift-fwd: })"; exit 0 ;; esac
rm -rf "$OUT"
mkdir -p "$OUT"
$PY -c "
import random, sys
lines = open(sys.argv[1], 'rb').read().splitlines(keepends=True)
idx = list(range(len(lines))); random.Random(1).shuffle(idx)
n = len(lines); a = int(0.8 * n); b = int(0.9 * n)
for name, part in (('train', idx[:a]), ('test', idx[b:])):
    open(sys.argv[2] + '/pb-' + name + '.txt', 'wb').write(b''.join(lines[i] for i in sorted(part)))" "$F" "$OUT" || exit 1
sift-tok -m "$MODEL" -f at --encoding latin1 "$OUT/pb-train.txt" > "$OUT/pb-train.examples" || exit 1
sift-cat "$OUT/pb-train.examples" | head -n 1 | jq -r '.labels[]' > "$OUT/pb-labels.txt"
sift-tok -m "$MODEL" -f at --encoding latin1 --labels "$OUT/pb-labels.txt" "$OUT/pb-test.txt" |
	sift-batch -b 64 > "$OUT/pb-test.batches" || exit 1
sift-batch -s --seed 1 -e 1 -b 32 "$OUT/pb-train.examples" | sift-cat -j > "$OUT/pb-all.jsonl" || exit 1
if [ "$PB_STEPS" -gt 0 ]; then
	jq -c --argjson n "$PB_STEPS" 'if .sift then .total = $n else . end' "$OUT/pb-all.jsonl" |
		head -n $((PB_STEPS + 1)) > "$OUT/pb-train.jsonl"
else
	cp "$OUT/pb-all.jsonl" "$OUT/pb-train.jsonl"
fi
sift-cat -s "$OUT/pb-train.jsonl" > "$OUT/pb-train.batches" || exit 1

D=$DATA/conll2003
sift-tok -m "$MODEL" -f conll --iob1-to-iob2 "$D/eng.train" > "$OUT/ner-all.examples" || exit 1
sift-cat "$OUT/ner-all.examples" | head -n 1 | jq -r '.labels[]' > "$OUT/ner-labels.txt"
sift-tok -m "$MODEL" -f conll --iob1-to-iob2 --labels "$OUT/ner-labels.txt" "$D/eng.testb" |
	sift-batch -b 64 > "$OUT/ner-test.batches" || exit 1
sift-batch -s --seed 1 -e 1 -b 32 "$OUT/ner-all.examples" | sift-cat -j |
	jq -c --argjson n $((SENTS / 32)) 'if .sift then .total = $n else . end' |
	head -n $((SENTS / 32 + 1)) > "$OUT/ner-train.jsonl"
sift-cat -s "$OUT/ner-train.jsonl" > "$OUT/ner-train.batches" || exit 1

export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" OMP_NUM_THREADS=1
opts="--lr 1e-4 --weight-decay 0.01 --seed 1"
# run NAME PROGRAM...: peak RSS (KiB) and seconds into NAME.rss, the log into NAME.log
run() {
	n=$1
	shift
	/usr/bin/time -f "%M %e" -o "$OUT/$n.rss" "$@" > "$OUT/$n.log" 2> "$OUT/$n.err" || {
		echo "bench-bf16: $n failed"; cat "$OUT/$n.err"; }
}
echo "bench-bf16: load before $(cut -d ' ' -f 1-3 /proc/loadavg) ($(date -u +%H:%M) UTC)"
for d in pb ner; do
	run $d-fp32 sift-train -m "$MODEL" -o "$OUT/$d-fp32" --no-state $opts "$OUT/$d-train.batches" &
	run $d-bf16 sift-train -m "$MODEL" -o "$OUT/$d-bf16" --no-state --precision bf16 $opts "$OUT/$d-train.batches" &
	run $d-hf $PY bench/hf_train.py "$MODEL" "$OUT/$d-train.jsonl" "$OUT/$d-hf" --bf16 --threads 1 $opts &
done
wait
echo "bench-bf16: load after $(cut -d ' ' -f 1-3 /proc/loadavg) ($(date -u +%H:%M) UTC)"
tps() {
	case $1 in
	*-hf) sed -n 's/.* \([0-9.]*\) tokens\/s$/\1/p' "$OUT/$1.err" ;;
	*) sift-cat "$OUT/$1.log" | jq -s '[.[] | select(.loss)] |
		(map(.tokens) | add) / (map(.tokens / .tokens_per_s) | add)' ;;
	esac
}
score() {
	sift-fwd -m "$OUT/$1" "$OUT/${1%%-*}-test.batches" | sift-eval | sift-cat |
		jq -r 'if .accuracy then "acc \(.accuracy)" elif .overall then "F1 \(.overall.f1)" else empty end'
}
printf '%-9s %-28s %10s %9s\n' run "test score" tokens/s "RSS MiB"
for n in pb-fp32 pb-bf16 pb-hf ner-fp32 ner-bf16 ner-hf; do
	printf '%-9s %-28s %10.1f %9.0f\n' "$n" "$(score $n)" "$(tps $n)" \
		"$(($(cut -d ' ' -f 1 "$OUT/$n.rss") / 1024))"
done
