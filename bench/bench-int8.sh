#!/bin/sh
# bench-int8.sh: sift-fwd --precision int8 against fp32, transformers' eager forward and torch's quantize_dynamic: speed, and with INT8_ACC=1 the accuracy cost on CoNLL-2003 and PhraseBank.
#
# usage: sh bench/bench-int8.sh [build-dir]
# Speed (always): the first SIFT_BENCH_SENTENCES (default 500) sentences
# of CoNLL-2003 eng.testb, batches of SIFT_BENCH_BATCH (default 32),
# MiniLM-L6 with a token head from seed 0, on each thread count of
# SIFT_BENCH_THREADS (default "1 2"): sift-fwd fp32, sift-fwd int8,
# transformers fp32 and transformers after quantize_dynamic
# (bench/int8_peer.py, $PYTHON), the same batches, interleaved, best of
# two runs each (wall clock and CPU seconds, user + system); the load
# average before and after.
# Accuracy (INT8_ACC=1; about 25 minutes on 2 cores, not in make bench):
# fine-tunes MiniLM once into $OUT (kept: a second run reuses them) on
# PhraseBank 50Agree's train split (bench/phrasebank-split.txt, 2 epochs)
# and on the first 5000 sentences of CoNLL-2003 eng.train (1 epoch, as the
# sift-train beside Trainer table of BENCHMARKS.md),
# batches of 32, AdamW at 1e-4, weight decay 0.01, seed 1; then scores
# both with fp32 and with int8: PhraseBank test accuracy and macro-F1,
# CoNLL eng.testb (all of it) conlleval F1.
# Writes $OUT/speed.txt and $OUT/accuracy.txt.
set -eu
B=${1:-build}
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
OUT=${OUT:-bench/out/int8}
PY=${PYTHON:-python3}
THREADS=${SIFT_BENCH_THREADS:-1 2}
N=${SIFT_BENCH_SENTENCES:-500}
BS=${SIFT_BENCH_BATCH:-32}
case $B in /*) ;; *) B=$PWD/$B ;; esac
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$DATA/conll2003/eng.testb" ]; then
	echo "bench-int8: skipped (needs $MODEL and $DATA/conll2003)"
	exit 0
fi
if ! ldd "$B/sift-fwd" | grep -q libdnnl; then
	echo "bench-int8: skipped (this build has no oneDNN)"
	exit 0
fi
mkdir -p "$OUT"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

if [ "${INT8_ACC:-0}" = 1 ]; then
	P=$B:$PATH
	F=$DATA/financial_phrasebank/Sentences_50Agree.txt
	printf '%s\n' negative neutral positive > "$OUT/pb.labels"
	for p in train test; do
		awk -v p="$p" 'NR == FNR { part[FNR] = $1; next } part[FNR] == p' bench/phrasebank-split.txt "$F" > "$OUT/pb.$p.txt"
	done
	printf '%s\n' B-LOC B-MISC B-ORG B-PER I-LOC I-MISC I-ORG I-PER O > "$OUT/ner.labels"
	awk 'NF == 0 && ++k > 5000 { exit } { print }' "$DATA/conll2003/eng.train" > "$OUT/ner.train.conll"
	PATH=$P sift-tok -m "$MODEL" -f at --encoding latin1 --labels "$OUT/pb.labels" "$OUT/pb.test.txt" |
		PATH=$P sift-batch -b 64 > "$OUT/pb.test.batches"
	PATH=$P sift-tok -m "$MODEL" -f conll --iob1-to-iob2 --labels "$OUT/ner.labels" "$DATA/conll2003/eng.testb" |
		PATH=$P sift-batch -b 64 > "$OUT/ner.test.batches"
	if [ ! -f "$OUT/pb-model/model.safetensors" ]; then
		PATH=$P sift-tok -m "$MODEL" -f at --encoding latin1 --labels "$OUT/pb.labels" "$OUT/pb.train.txt" |
			PATH=$P sift-batch -s --seed 1 -e 2 -b 32 > "$OUT/pb.train.batches"
		PATH=$P sift-train -m "$MODEL" -o "$OUT/pb-model" --no-state --lr 1e-4 --weight-decay 0.01 \
			--seed 1 "$OUT/pb.train.batches" > "$OUT/pb.train.log"
	fi
	if [ ! -f "$OUT/ner-model/model.safetensors" ]; then
		PATH=$P sift-tok -m "$MODEL" -f conll --iob1-to-iob2 --labels "$OUT/ner.labels" "$OUT/ner.train.conll" |
			PATH=$P sift-batch -s --seed 1 -e 1 -b 32 > "$OUT/ner.train.batches"
		PATH=$P sift-train -m "$MODEL" -o "$OUT/ner-model" --no-state --lr 1e-4 --weight-decay 0.01 \
			--seed 1 "$OUT/ner.train.batches" > "$OUT/ner.train.log"
	fi
	{
		echo "bench-int8: accuracy, fp32 and int8 sift-fwd, the same fine-tuned MiniLM-L6 and test batches"
		printf '  %-44s %10s %10s %10s\n' "" fp32 int8 "int8-fp32"
		for p in fp32 int8; do
			"$B/sift-fwd" -m "$OUT/pb-model" --precision $p "$OUT/pb.test.batches" |
				"$B/sift-eval" | "$B/sift-cat" | jq -r 'select(.sift | not) | "\(.accuracy) \(.macro.f1)"' > "$OUT/pb.$p.score"
			"$B/sift-fwd" -m "$OUT/ner-model" --precision $p "$OUT/ner.test.batches" |
				"$B/sift-eval" | "$B/sift-cat" | jq -r 'select(.sift | not) | .overall.f1' > "$OUT/ner.$p.score"
		done
		n=$(grep -c . "$OUT/pb.test.txt")
		paste -d' ' "$OUT/pb.fp32.score" "$OUT/pb.int8.score" | awk -v n="$n" '{
			printf "  %-44s %10.4f %10.4f %+9.2f pt\n", "PhraseBank 50Agree test accuracy (" n ")", $1, $3, 100 * ($3 - $1)
			printf "  %-44s %10.4f %10.4f %+9.2f pt\n", "PhraseBank 50Agree test macro-F1", $2, $4, 100 * ($4 - $2) }'
		paste -d' ' "$OUT/ner.fp32.score" "$OUT/ner.int8.score" | awk '{
			printf "  %-44s %10.4f %10.4f %+9.2f pt\n", "CoNLL-2003 eng.testb F1 (conlleval)", $1, $2, 100 * ($2 - $1) }'
	} | tee "$OUT/accuracy.txt"
fi

if ! "$PY" -c 'import torch, transformers' 2> /dev/null; then
	echo "bench-int8: speed skipped ($PY cannot import torch and transformers; PYTHON=...)"
	exit 0
fi
awk -v n="$N" '!NF {s++} s >= n {exit} {print}' "$DATA/conll2003/eng.testb" > "$OUT/speed.conll"
"$B/sift-tok" -m "$MODEL" -f conll --iob1-to-iob2 "$OUT/speed.conll" | "$B/sift-batch" -b "$BS" > "$OUT/speed.batches"
"$B/sift-cat" "$OUT/speed.batches" > "$OUT/speed.batches.jsonl"
tokens=$(jq -s '[.[] | select(.B) | .mask | add] | add' "$OUT/speed.batches.jsonl")

# "wall-seconds cpu-seconds" of one run
sift() {
	/usr/bin/time -f "%e %U %S" -o "$OUT/time" "$B/sift-fwd" -j "$1" -m "$MODEL" --init-head 0 \
		--precision "$2" "$OUT/speed.batches" > /dev/null
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$OUT/time"
}
peer() {
	"$PY" bench/int8_peer.py "$OUT/speed.batches.jsonl" "$MODEL" "$1" "$2"
}
# the better of two "wall cpu" runs, by wall clock, as "wall/cpu"
best() { awk '{ print ($1 < $3 ? $1 "/" $2 : $3 "/" $4) }'; }
{
	echo "bench-int8: speed, CoNLL-2003 eng.testb first $N sentences ($tokens tokens), batches of $BS, all-MiniLM-L6-v2 + token head"
	echo "  sift-fwd: the whole program; transformers $("$PY" -c 'import transformers; print(transformers.__version__)'), torch $("$PY" -c 'import torch; print(torch.__version__)'): the forward passes only; best of 2, interleaved"
	for th in $THREADS; do
		l0=$(cut -d' ' -f1 /proc/loadavg)
		a1=$(sift "$th" fp32); b1=$(sift "$th" int8); c1=$(peer "$th" fp32); d1=$(peer "$th" int8)
		a2=$(sift "$th" fp32); b2=$(sift "$th" int8); c2=$(peer "$th" fp32); d2=$(peer "$th" int8)
		l1=$(cut -d' ' -f1 /proc/loadavg)
		a=$(echo "$a1 $a2" | best); b=$(echo "$b1 $b2" | best)
		c=$(echo "$c1 $c2" | best); d=$(echo "$d1 $d2" | best)
		echo "$th $a $b $c $d $l0 $l1 $tokens" | tr / ' ' | awk '{
			printf "  %s thread(s), load average %s before, %s after (%d cores)\n", $1, $10, $11, '"$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)"'
			printf "    %-32s %8s %8s %10s\n", "", "wall s", "CPU s", "tokens/s"
			printf "    %-32s %8.2f %8.2f %10.0f\n", "sift-fwd fp32", $2, $3, $12 / $2
			printf "    %-32s %8.2f %8.2f %10.0f\n", "sift-fwd int8", $4, $5, $12 / $4
			printf "    %-32s %8.2f %8.2f %10.0f\n", "transformers fp32 (eager)", $6, $7, $12 / $6
			printf "    %-32s %8.2f %8.2f %10.0f\n", "transformers quantize_dynamic", $8, $9, $12 / $8
			printf "    wall-clock ratios: sift int8 / sift fp32 %.2fx, / transformers fp32 %.2fx, / quantize_dynamic %.2fx; sift fp32 / transformers fp32 %.2fx; quantize_dynamic / transformers fp32 %.2fx\n", $2 / $4, $6 / $4, $8 / $4, $6 / $2, $6 / $8
			printf "    CPU-second ratios:  sift int8 / sift fp32 %.2fx, / transformers fp32 %.2fx, / quantize_dynamic %.2fx; sift fp32 / transformers fp32 %.2fx; quantize_dynamic / transformers fp32 %.2fx\n", $3 / $5, $7 / $5, $9 / $5, $7 / $3, $7 / $9 }'
		echo "    runs (wall, CPU s): sift fp32 $a1 $a2, sift int8 $b1 $b2, transformers fp32 $c1 $c2, quantize_dynamic $d1 $d2"
	done
} | tee "$OUT/speed.txt"
