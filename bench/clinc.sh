#!/bin/sh
# clinc.sh: sift-train beside Hugging Face Trainer (bench/hf_train.py) on
# CLINC150 (data_full): the same batches and hyperparameters, each model's
# out-of-scope threshold chosen on val by the same rule, scored on test.
#
# usage: sh bench/clinc.sh [BUILD_DIR]   (not in make bench: EPOCHS=3
# took 41 minutes on 2 cores at a load of about 19; STEPS=150 limits it)
#
# Both trainers fine-tune MiniLM on the 15,000 in-scope training queries
# (the first STEPS batches of them with STEPS; 150 intents; the oos
# training queries are not used, as the paper's
# "oos-threshold" baseline) and run side by side, one thread each, so that
# they share the machine's load alike.  Both trained models are scored by
# the same code: sift-fwd (which reproduces transformers' logits) over val
# (in-scope and oos_val) into sift-eval --abstain oos --find-threshold
# --objective OBJECTIVE, then sift-fwd --threshold T --abstain oos over
# test (in-scope and oos_test) into sift-eval --abstain oos.
#
# Settings (environment, with their defaults):
#   EPOCHS=1 STEPS= (all the batches) BATCH=32 LR=2e-4 WARMUP=47 WD=0.01
#   SEED=1 OBJECTIVE=balanced
#   SIFT_DATA=../shared/data  SIFT_MODEL=models/all-MiniLM-L6-v2
#   PYTHON=python3  OUT=bench/out/clinc
B=${1:-build}
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
OUT=${OUT:-bench/out/clinc}
EPOCHS=${EPOCHS:-1}
STEPS=${STEPS:-}
BATCH=${BATCH:-32}
LR=${LR:-2e-4}
WARMUP=${WARMUP:-47}
WD=${WD:-0.01}
SEED=${SEED:-1}
OBJECTIVE=${OBJECTIVE:-balanced}
PYTHON=${PYTHON:-python3}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B:$PATH
J=$DATA/clinc150/data_full.json
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$J" ]; then
	echo "clinc: skipped (needs $MODEL and $J)"
	exit 0
fi
if ! "$PYTHON" -c 'import accelerate, torch, transformers' 2> /dev/null; then
	echo "clinc: skipped ($PYTHON cannot import accelerate, torch and transformers)"
	exit 0
fi
mkdir -p "$OUT"
rm -rf "$OUT/sift" "$OUT/hf" "$OUT/hf.trainer"

# the splits as JSON lines; the model's labels are the 150 in-scope
# intents, val and test add oos (a gold label the models cannot predict)
jq -r '.train[][1]' "$J" | sort -u > "$OUT/labels.txt"
{ cat "$OUT/labels.txt"; echo oos; } > "$OUT/labels+oos.txt"
jq -c '.train[] | {text: .[0], label: .[1]}' "$J" > "$OUT/train.jsonl"
jq -c '(.val[], .oos_val[]) | {text: .[0], label: .[1]}' "$J" > "$OUT/val.jsonl"
jq -c '(.test[], .oos_test[]) | {text: .[0], label: .[1]}' "$J" > "$OUT/test.jsonl"
tok="-m $MODEL -f jsonl --task cls"
sift-tok $tok --labels "$OUT/labels.txt" "$OUT/train.jsonl" |
	sift-batch -s --seed "$SEED" -e "$EPOCHS" -b "$BATCH" > "$OUT/all.batches" || exit 1
# STEPS: only the first STEPS batches (the schedule spans them)
if [ -n "$STEPS" ]; then
	sift-cat -j "$OUT/all.batches" |
		jq -c --argjson n "$STEPS" 'if .sift then .total = $n else . end' |
		head -n $((STEPS + 1)) | sift-cat -s > "$OUT/train.batches" || exit 1
else
	mv "$OUT/all.batches" "$OUT/train.batches"
fi
sift-tok $tok --labels "$OUT/labels+oos.txt" "$OUT/val.jsonl" | sift-batch -b 64 > "$OUT/val.batches" || exit 1
sift-tok $tok --labels "$OUT/labels+oos.txt" "$OUT/test.jsonl" | sift-batch -b 64 > "$OUT/test.batches" || exit 1
sift-cat -j "$OUT/train.batches" > "$OUT/train.batches.jsonl" || exit 1

# the load average once a minute while the trainers run
(while :; do echo "$(date -u +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 60; done) > "$OUT/load.log" &
lpid=$!
trap 'kill $lpid 2> /dev/null' EXIT
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
opts="--lr $LR --weight-decay $WD --warmup $WARMUP --seed $SEED"
date -u +"start %H:%M:%S" > "$OUT/times"
OMP_NUM_THREADS=1 /usr/bin/time -f "%M %e" -o "$OUT/sift.time" \
	sift-train -m "$MODEL" -o "$OUT/sift" --no-state $opts "$OUT/train.batches" > "$OUT/sift.log" &
spid=$!
OMP_NUM_THREADS=1 /usr/bin/time -f "%M %e" -o "$OUT/hf.time" \
	"$PYTHON" bench/hf_train.py "$MODEL" "$OUT/train.batches.jsonl" "$OUT/hf" $opts --threads 1 \
	> "$OUT/hf.out" 2> "$OUT/hf.err" &
hpid=$!
wait $spid; src=$?
wait $hpid; hrc=$?
date -u +"trained %H:%M:%S" >> "$OUT/times"
[ $src -eq 0 ] || { echo "clinc: sift-train exited with status $src" >&2; exit 1; }
[ $hrc -eq 0 ] || { tail -3 "$OUT/hf.err" >&2; exit 1; }

# each model's threshold on val, then test at that threshold (both models
# side by side again, one thread each)
score() {
	sift-fwd -j 1 -m "$OUT/$1" "$OUT/val.batches" > "$OUT/$1.val.pred" || return 1
	sift-eval --abstain oos --find-threshold --objective "$OBJECTIVE" "$OUT/$1.val.pred" > "$OUT/$1.val.metrics" || return 1
	t=$(sift-cat "$OUT/$1.val.metrics" | jq -r 'select(.abstain) | .abstain.threshold')
	sift-fwd -j 1 -m "$OUT/$1" --threshold "$t" --abstain oos "$OUT/test.batches" > "$OUT/$1.test.pred" || return 1
	sift-eval --abstain oos "$OUT/$1.test.pred" > "$OUT/$1.test.metrics"
}
score sift & spid=$!
score hf & hpid=$!
wait $spid || exit 1
wait $hpid || exit 1
date -u +"scored %H:%M:%S" >> "$OUT/times"

sift_tps=$(sift-cat "$OUT/sift.log" | jq -s '[.[] | select(.loss)] |
	(map(.tokens) | add) / (map(.tokens / .tokens_per_s) | add)')
hf_tps=$(sed -n 's/.* \([0-9.]*\) tokens\/s$/\1/p' "$OUT/hf.err")
steps=$(sift-cat "$OUT/train.batches" | head -1 | jq .total)
printf 'clinc: MiniLM, CLINC150 data_full, %s epoch(s), %s steps of %s, lr %s, warmup %s, one thread each, side by side\n' \
	"$EPOCHS" "$steps" "$BATCH" "$LR" "$WARMUP"
printf '  %-10s %9s %9s %9s %9s %9s %9s %10s %8s\n' program threshold "val obj" "is acc" "oos rec" "oos prec" "oos f1" tokens/s "RSS MiB"
for m in sift hf; do
	case $m in sift) tps=$sift_tps ;; hf) tps=$hf_tps ;; esac
	rss=$(tail -1 "$OUT/$m.time" | cut -d' ' -f1)
	v=$(sift-cat "$OUT/$m.val.metrics" | jq -r 'select(.abstain) | .abstain | "\(.threshold) \(.score)"')
	sift-cat "$OUT/$m.test.metrics" | jq -r --arg m "$m" --arg v "$v" --arg tps "$tps" --arg rss "$rss" \
		'select(.abstain) | .abstain |
		"\($m) \($v) \(.in_scope_accuracy) \(.recall) \(.precision) \(.f1) \($tps) \($rss)"' |
		awk '{ printf "  %-10s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %10.1f %8.0f\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 / 1024 }'
done
printf '  load average: %s\n' "$(awk 'NR == 1 { a = $2 } { b = $2 } END { print "from " a " to " b }' "$OUT/load.log")"
