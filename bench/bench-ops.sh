#!/bin/sh
# bench-ops.sh: every op of the CPU table against the machine's ceilings
# (bench/ops.c), then where the time of a MiniLM training step goes
# (sift-train with SIFT_PROFILE=1 on CoNLL-2003 batches of 32 sentences).
# Last, the step against the GEMM: the products' work over the steps'
# time, as a share of the best library's rate at a layer's products on
# the same threads (bench/sgemm at 4,096 rows, MiniLM's shapes), the
# figure issue #18 sets at 80%.
# usage: sh bench/bench-ops.sh [BUILD_DIR]   (OPS=minilm|base|all|none,
# default all, none for the profile alone; REPS as bench/ops.c;
# STEPS=batches of the profile, default 20)
B=${1:-build}
OUT=${OUT:-bench/out/ops}
STEPS=${STEPS:-20}
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
case $B in /*) ;; *) B=$PWD/$B ;; esac
if [ ! -x "$B/bench/ops" ]; then
	echo "bench-ops: skipped (no $B/bench/ops: make all)"
	exit 0
fi
mkdir -p "$OUT"
if [ "${OPS:-all}" != none ]; then
	echo "ops: load $(cut -d' ' -f1-3 /proc/loadavg)"
	"$B/bench/ops" "${OPS:-all}" | tee "$OUT/ops.md" || exit 1
	echo "ops: load after $(cut -d' ' -f1-3 /proc/loadavg)"
fi
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

# the step against the GEMM: the GFLOP of the products (each product
# line's ms times its GFLOP/s) over the steps' seconds as the log gives
# them; and again without the first step, which pays for the first touch
# of the memory, its work taken as its tokens' share (a token head's
# products grow with the tokens alone); beside the best "all" rate
# bench/sgemm gives any library built in, on the same threads
th=${OMP_NUM_THREADS:-$(nproc)}
best=0 bestlib=none
for l in openblas blis dnnl; do
	r=$(OMP_NUM_THREADS=$th "$B/bench/sgemm" -l $l "$th" 4096 384 1536 2> /dev/null |
		awk '$2 == "all" { print $6 }')
	[ -n "$r" ] || continue
	if awk -v r="$r" -v b="$best" 'BEGIN { exit !(r > b) }'; then
		best=$r bestlib=$l
	fi
done
gflop=$(awk '$1 == "profile" && $2 ~ /^matmul_/ { g += $3 / 1000 * $6 }
	END { printf "%.3f", g }' "$OUT/profile.txt")
sift-cat "$OUT/train.log" | jq -rs --argjson g "$gflop" --argjson best "$best" \
	--arg lib "$bestlib" --argjson th "$th" '
	[.[] | select(.loss)] as $s | ($s | map(.tokens) | add) as $tok |
	($s | map(.tokens / .tokens_per_s) | add) as $t |
	($s[1:] | map(.tokens / .tokens_per_s) | add // 0) as $t1 |
	($g * (($tok - $s[0].tokens) / $tok)) as $g1 |
	def f(x; d): (x * pow(10; d) | round) / pow(10; d) | tostring;
	"step against the GEMM: the products\u0027 \(f($g; 2)) GFLOP in \(f($t; 2)) s of steps, \(f($g / $t; 1)) GFLOP/s, \(f(100 * $g / $t / $best; 0))% of the best GEMM; without the first step \(f($g1 / $t1; 1)) GFLOP/s, \(f(100 * $g1 / $t1 / $best; 0))% (best: \($lib) at \($best) GFLOP/s, \($th) thread(s); #18 asks 80%)"'
