#!/bin/sh
# bench-ops.sh: every op of the CPU table against the machine's ceilings
# (bench/ops.c), then where the time of a MiniLM training step goes
# (sift-train with SIFT_PROFILE=1 on CoNLL-2003 batches of 32 sentences).
# Last, the step against the GEMM: the products' work over the steps'
# time, as a share of the best library's rate at a layer's products on
# the same threads (bench/sgemm at 4,096 rows, MiniLM's shapes), the
# figure issue #18 sets at 80%.  The batches run PASSES times over (default
# 2): the first pass pays for the first touch of the memory, the second
# is a long run's steady step.
# usage: sh bench/bench-ops.sh [BUILD_DIR]   (OPS=minilm|base|all|none,
# default all, none for the profile alone; REPS as bench/ops.c;
# STEPS=batches of the profile, default 20; PASSES, default 2)
B=${1:-build}
OUT=${OUT:-bench/out/ops}
STEPS=${STEPS:-20}
PASSES=${PASSES:-2}
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
case $PASSES in [1-9]) ;; *) echo "bench-ops: PASSES must be 1 to 9" >&2; exit 2 ;; esac
sift-tok -m "$MODEL" -f conll --iob1-to-iob2 "$DATA/conll2003/eng.train" |
	sift-batch -s --seed 1 -b 32 | sift-cat -j |
	jq -c --argjson n "$((STEPS * PASSES))" 'if .sift then .total = $n else . end' |
	head -n $((STEPS + 1)) > "$OUT/train.jsonl" || exit 1
steps=$(($(wc -l < "$OUT/train.jsonl") - 1))
if [ "$steps" -lt "$STEPS" ]; then
	echo "bench-ops: only $steps batches in eng.train, not $STEPS" >&2
	exit 1
fi
{
	cat "$OUT/train.jsonl"
	i=1
	while [ $i -lt "$PASSES" ]; do sed 1d "$OUT/train.jsonl"; i=$((i + 1)); done
} | sift-cat -s > "$OUT/train.batches" || exit 1
rm -rf "$OUT/model"
echo "step profile: MiniLM NER, $PASSES pass(es) of $STEPS steps of 32 sentences, load $(cut -d' ' -f1-3 /proc/loadavg)"
SIFT_PROFILE=1 sift-train -m "$MODEL" -o "$OUT/model" --no-state --lr 5e-5 --seed 1 \
	"$OUT/train.batches" > "$OUT/train.log" 2> "$OUT/profile.txt" || exit 1
tokens=$(sift-cat "$OUT/train.log" | jq -s '[.[] | select(.loss) | .tokens] | add')
grep '^profile' "$OUT/profile.txt"
echo "step profile: $tokens tokens; load after $(cut -d' ' -f1-3 /proc/loadavg)"

# the step against the GEMM: the GFLOP of the products (each product
# line's ms times its GFLOP/s, over every pass; a pass's share is theirs
# over PASSES, the passes being the same batches) over the first pass's
# seconds as the log gives them; again without the first step, which
# pays for most of the first touch of the memory, its work taken as its
# tokens' share (a token head's products grow with the tokens alone);
# and over the second pass's seconds, the arena at its size; beside the
# best "all" rate bench/sgemm gives any library built in, on the same
# threads
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
sift-cat "$OUT/train.log" | jq -rs --argjson G "$gflop" --argjson best "$best" \
	--arg lib "$bestlib" --argjson th "$th" --argjson n "$STEPS" \
	--argjson passes "$PASSES" '
	[.[] | select(.loss)] as $all | $all[0:$n] as $s |
	if ($all | length) != $n * $passes then
		error("the log has \($all | length) steps, not \($n * $passes)") else . end |
	($G / $passes) as $g | ($s | map(.tokens) | add) as $tok |
	($s | map(.tokens / .tokens_per_s) | add) as $t |
	($s[1:] | map(.tokens / .tokens_per_s) | add // 0) as $t1 |
	($g * (($tok - $s[0].tokens) / $tok)) as $g1 |
	($all[$n:2 * $n] | map(.tokens / .tokens_per_s) | add // 0) as $t2 |
	def f(x; d): (x * pow(10; d) | round) / pow(10; d) | tostring;
	"step against the GEMM: the products\u0027 \(f($g; 2)) GFLOP in \(f($t; 2)) s of steps, \(f($g / $t; 1)) GFLOP/s, \(f(100 * $g / $t / $best; 0))% of the best GEMM; without the first step \(f($g1 / $t1; 1)) GFLOP/s, \(f(100 * $g1 / $t1 / $best; 0))%" +
	(if $passes > 1 then "; second pass \(f($t2; 2)) s, \(f($g / $t2; 1)) GFLOP/s, \(f(100 * $g / $t2 / $best; 0))%" else "" end) +
	" (best: \($lib) at \($best) GFLOP/s, \($th) thread(s); #18 asks 80%)"'
