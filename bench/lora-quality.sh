#!/bin/sh
# lora-quality.sh: sift-train --lora (r 8, 16) against full fine-tuning and
# against Hugging Face (Trainer, peft + Trainer) on the very same batches,
# on CoNLL-2003 and Financial PhraseBank; writes a table.
# usage: sh bench/lora-quality.sh [BUILD_DIR]
#
# Not part of make bench (about an hour on 2 loaded cores with the
# defaults).  Tasks (TASKS, default "pb ner"):
#   ner  CoNLL-2003: the first NER_N sentences of eng.train (IOB2),
#        NER_EPOCHS epochs; test F1 (conlleval, sift-eval) on the first
#        NER_TEST_N sentences of eng.testb (0: all).
#   pb   Financial PhraseBank 50Agree, the seeded 80/10/10 split of
#        BENCHMARKS.md (bench/phrasebank-split.txt, as bench/dapt.sh):
#        PB_N training sentences (0: all; PB_N lines evenly spaced
#        over the split, the file being sorted by label), PB_EPOCHS
#        epochs; test accuracy and
#        macro-F1 on all of test (485 sentences).
# Each task is one sift-batch stream (shuffled, seed SEED, batches of
# BATCH) that every run trains on: sift-train in full, --lora 8 and
# --lora 16, and bench/hf_train.py (Trainer in full, peft + Trainer at
# r 8 and 16) on its sift-cat -j copy.  The runs go in pairs, sift beside
# its Hugging Face twin, one thread each, so that the two share the
# machine's load alike: compare within a pair (the ratio column).  Full
# fine-tuning at LR_FULL, LoRA at LR_LORA (both sift and peft), AdamW,
# linear decay, WARMUP steps of warmup, weight decay 0.01, gradient
# clipping at 1, LoRA alpha 8 (peft's default, so the scale is 8 / r),
# targets query,value, lora_dropout 0, the classifier trained in full
# (peft's modules_to_save).  Every model is scored by the same code:
# sift-fwd (with --adapter for the adapters, peft's included) into
# sift-eval.  Peak memory is /usr/bin/time's maximum RSS; tokens/s are
# real (unpadded) tokens over training time (sift: its log's step times;
# Hugging Face: trainer.train()'s wall time); checkpoint bytes are what
# each writes as the model (model.safetensors and config.json, or the
# adapter with its configs) and, for sift, train_state.bin besides.
#
# Settings (environment, with their defaults):
#   TASKS="pb ner" NER_N=2000 NER_EPOCHS=1 NER_TEST_N=0 PB_N=0 PB_EPOCHS=2
#   BATCH=32 LR_FULL=1e-4 LR_LORA=1e-3 WARMUP=0 SEED=1 RUNS="full r8 r16"
#   SIFT_DATA=../shared/data  SIFT_MODEL=models/all-MiniLM-L6-v2
#   SPLIT=bench/phrasebank-split.txt  PYTHON=python3  OUT=bench/out/lora-quality
#   TABLE_ONLY=1: train nothing, only print the table of $OUT/results.tsv
#   (a run stopped part way, with the TASKS and sizes it had)
# Writes $OUT/results.tsv (a row per run, as it goes) and $OUT/results.md.
B=${1:-build}
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
OUT=${OUT:-bench/out/lora-quality}
TASKS=${TASKS:-pb ner}
NER_N=${NER_N:-2000}
NER_EPOCHS=${NER_EPOCHS:-1}
NER_TEST_N=${NER_TEST_N:-0}
PB_N=${PB_N:-0}
PB_EPOCHS=${PB_EPOCHS:-2}
BATCH=${BATCH:-32}
LR_FULL=${LR_FULL:-1e-4}
LR_LORA=${LR_LORA:-1e-3}
WARMUP=${WARMUP:-0}
SEED=${SEED:-1}
RUNS=${RUNS:-full r8 r16}
SPLIT=${SPLIT:-bench/phrasebank-split.txt}
PYTHON=${PYTHON:-python3}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B:$PATH
if [ ! -f "$MODEL/model.safetensors" ]; then
	echo "lora-quality: skipped (needs the model $MODEL)"
	exit 0
fi
for t in $TASKS; do
	case $t in
	ner) f=$DATA/conll2003/eng.train ;;
	pb) f=$DATA/financial_phrasebank/Sentences_50Agree.txt ;;
	*) echo "lora-quality: unknown task $t (ner or pb)" >&2; exit 2 ;;
	esac
	if [ -z "$TABLE_ONLY" ] && [ ! -f "$f" ]; then
		echo "lora-quality: skipped (needs $f)"
		exit 0
	fi
done
if [ -z "$TABLE_ONLY" ] && ! "$PYTHON" -c 'import accelerate, peft, torch, transformers' 2> /dev/null; then
	echo "lora-quality: skipped ($PYTHON cannot import accelerate, peft, torch and transformers)"
	exit 0
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ -n "$TABLE_ONLY" ]; then
	TASKS_RUN=''
else
	TASKS_RUN=$TASKS
	printf 'task\trun\tprogram\tmetric\tscore\tmetric2\tscore2\ttokens_per_s\trss_kib\tckpt_bytes\tstate_bytes\tload\n' > "$OUT/results.tsv"
fi
log=$OUT/lora-quality.log
[ -n "$TABLE_ONLY" ] || : > "$log"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

die() {
	echo "lora-quality: $*" >&2
	exit 1
}

# the load average once a minute while the script runs
if [ -z "$TABLE_ONLY" ]; then
	(while :; do echo "$(date -u +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 60; done) > "$OUT/load.log" &
	lpid=$!
	trap 'kill $lpid 2> /dev/null' EXIT
fi

# score TASK NAME SIFT-FWD-OPTIONS...: the test metrics of one model
score() {
	t=$1 n=$2
	shift 2
	sift-fwd -j 1 "$@" "$OUT/$t.test.batches" | sift-eval | sift-cat > "$OUT/$t-$n.metrics"
}

# bytes DIR FILE...: their total size
bytes() {
	d=$1
	shift
	(cd "$d" && cat "$@" | wc -c)
}

# row TASK RUN PROGRAM NAME TPS FILES...: one results.tsv row
row() {
	t=$1 r=$2 p=$3 n=$4 tps=$5
	shift 5
	d=$OUT/$t-$n
	st=
	if [ -f "$d/train_state.bin" ]; then st=$(bytes "$d" train_state.bin); fi
	rss=$(tail -1 "$d.time" | cut -d' ' -f1)
	if [ "$t" = ner ]; then
		jq -r 'select(.sift | not) | ["f1", .overall.f1, "", ""] | @tsv' "$d.metrics"
	else
		jq -r 'select(.sift | not) | ["accuracy", .accuracy, "macro_f1", .macro.f1] | @tsv' "$d.metrics"
	fi | awk -F '\t' -v OFS='\t' -v t="$t" -v r="$r" -v p="$p" -v tps="$tps" -v rss="$rss" \
		-v cb="$(bytes "$d" "$@")" -v st="$st" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
		'{ print t, r, p, $1, $2, $3, $4, tps, rss, cb, st, load }' >> "$OUT/results.tsv"
}

# pair TASK RUN: sift-train and its Hugging Face twin side by side, then
# both scored side by side
pair() {
	t=$1 r=$2
	case $r in
	full) so="--lr $LR_FULL" ho="--lr $LR_FULL" ;;
	r*) so="--lr $LR_LORA --lora ${r#r} --lora-alpha 8" ho="--lr $LR_LORA --lora ${r#r} --lora-alpha 8" ;;
	*) die "unknown run $r (full, rN)" ;;
	esac
	common="--weight-decay 0.01 --warmup $WARMUP --seed $SEED"
	s=$OUT/$t-sift-$r h=$OUT/$t-hf-$r
	rm -rf "$s" "$h" "$h.trainer"
	echo "$(date -u +%T) $t $r: training (load $(cut -d' ' -f1-3 /proc/loadavg))" >> "$log"
	# shellcheck disable=SC2086  # $so, $ho and $common split into words
	OMP_NUM_THREADS=1 /usr/bin/time -f "%M %e" -o "$s.time" \
		sift-train -m "$MODEL" -o "$s" $so $common "$OUT/$t.batches" > "$s.log" 2>> "$log" &
	spid=$!
	# shellcheck disable=SC2086
	OMP_NUM_THREADS=1 /usr/bin/time -f "%M %e" -o "$h.time" \
		"$PYTHON" bench/hf_train.py "$MODEL" "$OUT/$t.batches.jsonl" "$h" $ho $common --threads 1 \
		> "$h.out" 2> "$h.err" &
	hpid=$!
	wait $spid || die "sift-train failed ($s)"
	wait $hpid || { tail -3 "$h.err" >&2; die "hf_train.py failed ($h)"; }
	echo "$(date -u +%T) $t $r: scoring" >> "$log"
	if [ "$r" = full ]; then
		score "$t" "sift-$r" -m "$s" & spid=$!
		score "$t" "hf-$r" -m "$h" & hpid=$!
		sf="model.safetensors config.json" hf="model.safetensors config.json"
	else
		score "$t" "sift-$r" -m "$MODEL" --adapter "$s" & spid=$!
		score "$t" "hf-$r" -m "$MODEL" --adapter "$h" & hpid=$!
		sf="adapter_model.safetensors adapter_config.json sift-adapter.json"
		hf="adapter_model.safetensors adapter_config.json"
	fi
	wait $spid || die "scoring failed ($s)"
	wait $hpid || die "scoring failed ($h)"
	stps=$(sift-cat "$s.log" | jq -s '[.[] | select(.loss)] |
		(map(.tokens) | add) / (map(.tokens / .tokens_per_s) | add)')
	htps=$(sed -n 's/.* \([0-9.]*\) tokens\/s$/\1/p' "$h.err")
	# shellcheck disable=SC2086  # $sf and $hf are lists of files
	row "$t" "$r" sift "sift-$r" "$stps" $sf
	# shellcheck disable=SC2086
	row "$t" "$r" hf "hf-$r" "$htps" $hf
	rm -rf "$h.trainer"
	echo "$(date -u +%T) $t $r: $(tail -2 "$OUT/results.tsv" | cut -f3,5,7,8 | tr '\n\t' '; ')" >> "$log"
}

for t in $TASKS_RUN; do
	if [ "$t" = ner ]; then
		D=$DATA/conll2003
		printf '%s\n' B-LOC B-MISC B-ORG B-PER I-LOC I-MISC I-ORG I-PER O > "$OUT/ner.labels"
		awk -v n="$NER_N" 'NF == 0 && ++k > n { exit } { print }' "$D/eng.train" > "$OUT/ner.train.conll"
		awk -v n="$NER_TEST_N" 'NF == 0 && ++k == n { exit } { print }' "$D/eng.testb" > "$OUT/ner.test.conll"
		tok="-m $MODEL -f conll --iob1-to-iob2 --labels $OUT/ner.labels"
		ep=$NER_EPOCHS
	else
		F=$DATA/financial_phrasebank/Sentences_50Agree.txt
		printf '%s\n' negative neutral positive > "$OUT/pb.labels"
		for p in train test; do
			awk -v p="$p" 'NR == FNR { part[FNR] = $1; next } part[FNR] == p' "$SPLIT" "$F" > "$OUT/pb.$p.all"
		done
		mv "$OUT/pb.test.all" "$OUT/pb.test.txt"
		awk -v n="$PB_N" 'NR == FNR { c++; next }
			!n || n >= c || int(FNR * n / c) > int((FNR - 1) * n / c)' \
			"$OUT/pb.train.all" "$OUT/pb.train.all" > "$OUT/pb.train.txt"
		tok="-m $MODEL -f at --encoding latin1 --labels $OUT/pb.labels"
		ep=$PB_EPOCHS
	fi
	case $t in ner) tr=$OUT/ner.train.conll te=$OUT/ner.test.conll ;; *) tr=$OUT/pb.train.txt te=$OUT/pb.test.txt ;; esac
	# shellcheck disable=SC2086  # $tok splits into words
	sift-tok $tok "$tr" | sift-batch -s --seed "$SEED" -e "$ep" -b "$BATCH" > "$OUT/$t.batches" || die "sift-tok | sift-batch failed ($t)"
	# shellcheck disable=SC2086
	sift-tok $tok "$te" | sift-batch -b 64 > "$OUT/$t.test.batches" || die "sift-tok | sift-batch failed ($t test)"
	sift-cat -j "$OUT/$t.batches" > "$OUT/$t.batches.jsonl" || die "sift-cat failed ($t)"
	for r in $RUNS; do
		pair "$t" "$r"
	done
done

# the table: each sift run beside its Hugging Face twin, and LoRA against
# full fine-tuning of the same program
steps() {
	sift-cat "$OUT/$1.batches" | head -1 | jq .total
}
{
	for t in $TASKS; do
		case $t in
		ner) echo "CoNLL-2003, first $NER_N eng.train sentences, $NER_EPOCHS epoch(s), $(steps ner) steps of $BATCH; test F1 on eng.testb ($NER_TEST_N sentences, 0: all)" ;;
		*) echo "Financial PhraseBank 50Agree, $(wc -l < "$OUT/pb.train.txt") train-split sentences, $PB_EPOCHS epoch(s), $(steps pb) steps of $BATCH; test accuracy, macro-F1 (485 sentences)" ;;
		esac
	done
	echo "full fine-tuning lr $LR_FULL, LoRA lr $LR_LORA (alpha 8, query,value), warmup $WARMUP, seed $SEED; one thread each, sift and HF side by side"
	echo
	echo "| task | run | program | score | score 2 | tokens/s | sift/HF tokens/s | peak RSS MiB | vs full RSS | checkpoint bytes | train_state.bin bytes | load |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F '\t' '
	NR == 1 { next }
	{ k = $1 "\t" $2 "\t" $3; tps[k] = $8; rss[k] = $9; line[++n] = $0 }
	END {
		for (i = 1; i <= n; i++) {
			split(line[i], f, "\t")
			tw = f[1] "\t" f[2] "\t" (f[3] == "sift" ? "hf" : "sift")
			ratio = f[3] == "sift" && tps[tw] > 0 ? sprintf("%.2fx", f[8] / tps[tw]) : ""
			fu = f[1] "\tfull\t" f[3]
			vr = f[2] != "full" && rss[fu] > 0 ? sprintf("%.2fx", f[9] / rss[fu]) : ""
			prog = f[3] == "sift" ? "sift-train" : (f[2] == "full" ? "HF Trainer" : "peft + Trainer")
			s2 = f[6] == "" ? "" : sprintf("%s %.4f", f[6], f[7])
			printf "| %s | %s | %s | %s %.4f | %s | %.1f | %s | %.0f | %s | %d | %s | %s |\n",
				f[1], f[2], prog, f[4], f[5], s2, f[8], ratio, f[9] / 1024, vr, f[10], f[11], f[12]
		}
	}' "$OUT/results.tsv"
	awk 'NR == 1 { a = $2 } { b = $2 } END { print ""; print "load average (1 min) from " a " to " b }' "$OUT/load.log"
} > "$OUT/results.md"
cat "$OUT/results.md"
