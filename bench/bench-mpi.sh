#!/bin/sh
# bench-mpi.sh: sift-train on 1 and 2 CPU ranks beside PyTorch DDP (bench/ddp_train.py), MiniLM NER.
# usage: sh bench/bench-mpi.sh [BUILD_DIR]   (STEPS=optimizer steps, default 8,
# each a group of 2 batches of 16 CoNLL-2003 sentences)
# On one machine the 2 ranks share its cores: the figures show the cost of
# the ranks' exchange, not a speed-up.
B=${1:-build}
STEPS=${STEPS:-8}
OUT=bench/out/mpi
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
PY=${PY:-python3}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B:$PATH
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$DATA/conll2003/eng.train" ] ||
   ! command -v mpirun > /dev/null; then
	echo "bench-mpi: skipped (needs $MODEL, $DATA/conll2003 and mpirun)"
	exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mkdir -p "$OUT"
rm -rf "$OUT/one" "$OUT/two"
n=$((2 * STEPS))
sift-tok -m "$MODEL" -f conll --iob1-to-iob2 "$DATA/conll2003/eng.train" |
	sift-batch -s --seed 1 -b 16 > "$OUT/all.batches" || exit 1
sift-cat -j "$OUT/all.batches" |
	jq -c --argjson n "$n" 'if .sift then .total = $n else . end' |
	head -n $((n + 1)) > "$OUT/train.jsonl"
sift-cat -s "$OUT/train.jsonl" > "$OUT/train.batches" || exit 1
opts="--lr 5e-5 --weight-decay 0.01 --seed 1 --dropout 0 --attn-dropout 0"
load0=$(cut -d ' ' -f 1 /proc/loadavg)
# tokens/s of a log: its tokens over the seconds of its steps
tps() {
	sift-cat "$1" | jq -s '[.[] | select(.loss)] |
		(map(.tokens) | add) / (map(.tokens / .tokens_per_s) | add)'
}
OMP_NUM_THREADS=2 sift-train -m "$MODEL" -o "$OUT/one" $opts --accum 2 "$OUT/train.batches" > /dev/null || exit 1
OMP_NUM_THREADS=1 mpirun -np 2 sift-train -m "$MODEL" -o "$OUT/two" $opts "$OUT/train.batches" || exit 1
same=differ
cmp -s "$OUT/one/model.safetensors" "$OUT/two/model.safetensors" && same=equal
s1=$(tps "$OUT/one/train.log")
s2=$(tps "$OUT/two/train.log")
bytes=$(stat -c %s "$OUT/one/model.safetensors")
if ! $PY -c 'import torch, transformers' 2> /dev/null; then
	t1=0 t2=0
else
	OMP_NUM_THREADS=2 $PY bench/ddp_train.py "$MODEL" "$OUT/train.jsonl" --accum 2 2> "$OUT/t1.err" || tail -3 "$OUT/t1.err"
	OMP_NUM_THREADS=1 $PY -m torch.distributed.run --nproc_per_node 2 bench/ddp_train.py "$MODEL" "$OUT/train.jsonl" \
		2> "$OUT/t2.err" || tail -3 "$OUT/t2.err"
	t1=$(sed -n 's/.* \([0-9.]*\) tokens\/s.*/\1/p' "$OUT/t1.err")
	t2=$(sed -n 's/.* \([0-9.]*\) tokens\/s.*/\1/p' "$OUT/t2.err")
	gb=$(sed -n 's/.* \([0-9]*\) gradient bytes/\1/p' "$OUT/t1.err")
fi
load1=$(cut -d ' ' -f 1 /proc/loadavg)
awk -v s1="$s1" -v s2="$s2" -v t1="${t1:-0}" -v t2="${t2:-0}" -v n="$STEPS" -v same="$same" \
    -v mb="$bytes" -v gb="${gb:-0}" -v l0="$load0" -v l1="$load1" 'BEGIN {
	printf "mpi: MiniLM NER, %d steps of 2 x 16 CoNLL sentences, load average %s -> %s\n", n, l0, l1
	printf "  sift-train 1 process --accum 2, 2 threads  %8.1f tokens/s\n", s1
	printf "  sift-train mpirun -np 2, 1 thread each     %8.1f tokens/s  (%.2fx; model bytes %s)\n", s2, s2 / s1, same
	if (t1 > 0) {
		printf "  torch 1 process accum 2, 2 threads         %8.1f tokens/s\n", t1
		printf "  torch DDP (gloo) 2 processes, 1 thread each %7.1f tokens/s  (%.2fx)\n", t2, t2 / t1
		printf "  sift / torch: %.2fx (1 process), %.2fx (2 ranks)\n", s1 / t1, s2 / t2
	}
	printf "  exchanged a step: %d gradient bytes (torch count), model.safetensors %d bytes\n", gb, mb
}'
