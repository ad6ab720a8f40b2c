#!/bin/sh
# blas-compare.sh: sift-train and sift-fwd on MiniLM beside Hugging Face,
# with OpenBLAS's core as it detects it, as the CPU backend re-chooses it,
# and with the products through oneDNN (make BLAS=dnnl), in one run.
# usage: sh bench/blas-compare.sh [BUILD_DIR [DNNL_BUILD_DIR]]
# (not run by make bench: bench-train.sh and bench-fwd.sh are; STEPS and
# SIFT_BENCH_SENTENCES as there)
B=${1:-build}
BD=${2:-build-dnnl}
export SIFT_BENCH_SENTENCES=${SIFT_BENCH_SENTENCES:-1000}
run() {
	name=$1
	shift
	echo "== $name, load $(cut -d' ' -f1-3 /proc/loadavg)"
	env "$@" sh bench/bench-train.sh "$b"
	env "$@" sh bench/bench-fwd.sh "$b" | grep -v '^$'
}
b=$B run "OpenBLAS, core as detected" SIFT_OPENBLAS_CORE=detected
b=$B run "OpenBLAS, core re-chosen by the backend" SIFT_OPENBLAS_CORE=
if [ -x "$BD/sift-train" ]; then
	b=$BD run "oneDNN sgemm (make BLAS=dnnl)" SIFT_OPENBLAS_CORE=
fi
echo "== end, load $(cut -d' ' -f1-3 /proc/loadavg)"
