#!/bin/sh
# blas-compare.sh: sift-train and sift-fwd on MiniLM with the fp32 products
# through OpenBLAS with its core as it detects it, OpenBLAS with the core
# as the CPU backend re-chooses it, and oneDNN (SIFT_GEMM), on the batches
# of bench-train.sh and bench-fwd.sh (run those first: they put Hugging
# Face beside sift).
# usage: sh bench/blas-compare.sh [BUILD_DIR]
# (STEPS: the first STEPS training batches, default all 30)
# Prints per variant: tokens/s of training, and wall and CPU seconds
# (user + system) of the forward pass, each the best of REPS (default 2) interleaved runs.
B=${1:-build}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
OUT=bench/out/compare
TH=${SIFT_BENCH_THREADS:-$(nproc)}
if [ ! -f bench/out/train/train.batches ] || [ ! -f bench/out/fwd-batches ]; then
	echo "blas-compare: skipped (run bench/bench-train.sh and bench/bench-fwd.sh first)"
	exit 0
fi
mkdir -p "$OUT"
"$B/sift-cat" -j bench/out/train/train.batches |
	jq -c --argjson n "${STEPS:-30}" 'if .sift then .total = $n else . end' |
	head -n $((${STEPS:-30} + 1)) | "$B/sift-cat" -s > "$OUT/train.batches" || exit 1
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
variants="detected rechosen"
# oneDNN where the build has it (SIFT_GEMM=dnnl is refused otherwise)
SIFT_GEMM=dnnl "$B/sift-train" --version > /dev/null 2>&1 && variants="$variants dnnl"
core() { [ "$1" = detected ] && echo detected; }
gemm() { [ "$1" = dnnl ] && echo dnnl || echo openblas; }
echo "compare: load $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "${REPS:-2}"); do
	for n in $variants; do
		rm -rf "$OUT/m-$n"
		SIFT_GEMM=$(gemm "$n") SIFT_OPENBLAS_CORE=$(core "$n") /usr/bin/time -f "%e %U %S" -o "$OUT/train-$n.$rep.time" \
			"$B/sift-train" -m "$MODEL" -o "$OUT/m-$n" --no-state --lr 5e-5 --weight-decay 0.01 \
			--seed 1 "$OUT/train.batches" > "$OUT/train-$n.$rep.log" || exit 1
		"$B/sift-cat" "$OUT/train-$n.$rep.log" | jq -s '[.[] | select(.loss)] |
			(map(.tokens) | add) / (map(.tokens / .tokens_per_s) | add)' > "$OUT/train-$n.$rep.tps"
		SIFT_GEMM=$(gemm "$n") SIFT_OPENBLAS_CORE=$(core "$n") /usr/bin/time -f "%e %U %S" -o "$OUT/fwd-$n.$rep.time" \
			"$B/sift-fwd" -j "$TH" -m "$MODEL" --init-head 0 bench/out/fwd-batches > "$OUT/fwd-$n.$rep.pred" || exit 1
		echo "  $n run $rep: train $(cat "$OUT/train-$n.$rep.tps") tokens/s ($(cat "$OUT/train-$n.$rep.time") s wall user sys), fwd $(cat "$OUT/fwd-$n.$rep.time") s wall user sys, load $(cut -d' ' -f1 /proc/loadavg)"
	done
done
for n in $variants; do
	cat "$OUT"/train-"$n".*.tps | sort -g | tail -1 | sed "s/^/  $n best train tokens\/s: /"
	cat "$OUT"/fwd-"$n".*.time | awk '{ c = $2 + $3 } NR == 1 || c < m { m = c; w = $1 } END { printf "  '"$n"' best fwd: %.2f CPU s, %.2f s wall\n", m, w }'
done
cmp -s "$OUT/fwd-detected.1.pred" "$OUT/fwd-rechosen.1.pred" && echo "  predictions: detected and re-chosen core give the same bytes" ||
	echo "  predictions: detected and re-chosen core differ in bytes (rounding: another kernel)"
echo "compare: load after $(cut -d' ' -f1-3 /proc/loadavg)"
