#!/bin/sh
# bench-gemm.sh: each GEMM library at the products of a BERT training step
# (forward x W^T, dinp = dout W, dW = dout^T x), tiled as sift calls them.
# usage: sh bench/bench-gemm.sh [BUILD_DIR]   (REPS=repeats, default 5;
# THREADS="1 2"; SHAPES="4096:384:1536 4096:768:3072", N:C:I)
B=${1:-build}
S=$B/bench/sgemm
OUT=bench/out/gemm
REPS=${REPS:-5}
THREADS=${THREADS:-1 2}
SHAPES=${SHAPES:-4096:384:1536 4096:768:3072}
export REPS
if [ ! -x "$S" ]; then
	echo "bench-gemm: skipped (no $S: make all)"
	exit 0
fi
mkdir -p "$OUT"
# the libraries built into sgemm, and OpenBLAS with each core forced
libs="openblas"
for c in Haswell SkylakeX Cooperlake Zen; do libs="$libs openblas=$c"; done
for l in blis dnnl; do
	"$S" -l $l 1 16 16 16 > /dev/null 2>&1 && libs="$libs $l"
done
: > "$OUT/all.txt"
echo "gemm: the products of a layer, GFLOP/s (min time of $REPS repeats), load $(cut -d' ' -f1-3 /proc/loadavg)"
for sh in $SHAPES; do
	IFS=: read -r n c i <<-EOT
	$sh
	EOT
	for th in $THREADS; do
		for l in $libs; do
			case $l in
			openblas=*) lib=openblas; core=${l#openblas=} ;;
			*) lib=$l; core= ;;
			esac
			# as detected: no OPENBLAS_CORETYPE at all (an empty one
			# is not "unset" to OpenBLAS)
			env ${core:+OPENBLAS_CORETYPE=$core} OMP_NUM_THREADS=$th "$S" -l "$lib" "$th" "$n" "$c" "$i" |
				sed "s/^/$th /" >> "$OUT/all.txt" || exit 1
		done
	done
done
# one row per library, threads and shape: fwd, dinp, dweight over the
# four products (their GFLOP over their min times) and all twelve
# (lines: threads lib kind N C OC GFLOP/s; the "all" line ends a block)
awk '
$3 != "all" { f = 2 * $4 * $5 * $6; fl[$3] += f; t[$3] += f / ($7 * 1e9); next }
{
	printf "  %-22s %3s %5s %8.1f %8.1f %8.1f %8.1f\n", $2, $1, $5,
		fl["fwd"] / t["fwd"] / 1e9, fl["dinp"] / t["dinp"] / 1e9,
		fl["dweight"] / t["dweight"] / 1e9, $7
	delete fl; delete t
}
BEGIN { printf "  %-22s %3s %5s %8s %8s %8s %8s\n", "library:core", "thr", "C", "fwd", "dinp", "dweight", "all" }
' "$OUT/all.txt"
echo "gemm: load after $(cut -d' ' -f1-3 /proc/loadavg); per product: $OUT/all.txt"
