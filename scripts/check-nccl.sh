#!/bin/sh
# check-nccl.sh: one rank under mpirun with SIFT_DIST_FORCE=1 (the ranks' collective path: ncclAllReduce on cuda, MPI's chain on the cpu) against sift-train without MPI, with and without --zero1.
# usage: sh scripts/check-nccl.sh sift-train sift-cat out-dir [cuda|cpu]
#
# 15 steps of the fixture token model on the 5 batches of
# tests/fixtures/train/tok.jsonl three times over (dropout, warmup, weight
# decay, a dev score every 5 steps), fp32.  The sum of one rank's gradient
# is the gradient itself (NCCL's allreduce over a communicator of one GPU
# copies nothing in place), so the model must be the bytes of the run
# without MPI, and sift-train.json must say that the path was taken
# (options.allreduce nccl on cuda, mpi on the cpu).  scripts/check-gpu.sh
# runs it on the GPU; tests/mpi.bats on the cpu.  Prints one line per
# check (SKIP where there is no mpirun or no NCCL in sift-train); exit 0
# when all pass or are skipped.
set -u
T=$1
C=$2
out=$3
dev=${4:-cuda}
F=tests/fixtures/train
if ! command -v mpirun > /dev/null 2>&1; then
	echo "SKIP nccl: no mpirun (Open MPI's openmpi-bin) to start a rank"
	exit 0
fi
want=mpi
if [ "$dev" = cuda ]; then
	want=nccl
	case $(ldd "$T" 2>/dev/null | grep libnccl) in
	"") echo "SKIP nccl: $T is built without NCCL (no nccl.h in the CUDA toolkit, or no MPI)"; exit 0 ;;
	*"not found"*) echo "SKIP nccl: $T needs libnccl.so, which is not found"; exit 0 ;;
	esac
fi
mkdir -p "$out"
{ head -n 1 $F/tok.jsonl; for _ in 1 2 3; do sed -n 2,6p $F/tok.jsonl; done; } |
	"$C" -s > "$out/train.b" || exit 1
"$C" -s < $F/tok.jsonl > "$out/dev.b" || exit 1
O="-m $F/tok --max-steps 15 --dropout 0.1 --attn-dropout 0.1 --lr 1e-3
   --weight-decay 0.01 --warmup 2 --dev $out/dev.b --eval-every 5 --device $dev"
# as root (containers) Open MPI wants to be told; no shared-memory
# single-copy mechanism in a container
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM OMPI_MCA_btl_vader_single_copy_mechanism
fail=0
for z in "" --zero1; do
	n=plain${z:+-zero1}
	f=forced${z:+-zero1}
	rm -rf "${out:?}/$n" "${out:?}/$f"
	# shellcheck disable=SC2086
	"$T" $O $z -o "$out/$n" "$out/train.b" > /dev/null 2> "$out/$n.err" ||
		{ echo "FAIL nccl${z:+ zero1}: the run without MPI: $(tail -1 "$out/$n.err")"; fail=1; continue; }
	# shellcheck disable=SC2086
	SIFT_DIST_FORCE=1 timeout 120 mpirun -np 1 "$T" $O $z -o "$out/$f" "$out/train.b" > /dev/null 2> "$out/$f.err" ||
		{ echo "FAIL nccl${z:+ zero1}: SIFT_DIST_FORCE=1 mpirun -np 1: $(grep -m1 . "$out/$f.err")"; fail=1; continue; }
	path=$(sed -n 's/.*"allreduce": *"\([a-z]*\)".*/\1/p' "$out/$f/sift-train.json")
	if [ "$path" != "$want" ]; then
		echo "FAIL nccl${z:+ zero1}: options.allreduce is '$path', not $want: the collective path was not taken"
		fail=1
	elif cmp -s "$out/$n/model.safetensors" "$out/$f/model.safetensors"; then
		echo "PASS nccl${z:+ zero1}: 1 rank on $dev through $want, 15 steps: the bytes of the run without MPI"
	else
		echo "FAIL nccl${z:+ zero1}: 1 rank on $dev through $want, 15 steps: not the bytes of the run without MPI ($(cmp "$out/$n/model.safetensors" "$out/$f/model.safetensors" | head -1))"
		fail=1
	fi
done
exit $fail
