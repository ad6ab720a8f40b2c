#!/usr/bin/env bats
# cuda.bats: --device and --precision where there is no GPU, and the GPU check's skip.

load helper

setup() {
	ROOT=$BATS_TEST_DIRNAME/..
}

no_gpu() {
	if nvidia-smi -L >/dev/null 2>&1; then
		skip "this machine has a GPU (make check-gpu covers it)"
	fi
}

@test "sift-fwd --device cuda without a GPU is one clear error and exit 1" {
	no_gpu
	run -1 --separate-stderr sift-fwd -m "$MODEL" --device cuda < /dev/null
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == "sift-fwd: cuda: no GPU found ("*")" ||
	   "$stderr" == "sift-fwd: cuda: not built with CUDA support" ]]
	assert_equal "$output" ""
}

@test "sift-fwd --device auto without a GPU runs on the cpu" {
	no_gpu
	F=$FIXTURES/fwd
	sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $F/tok-model --device cpu > $BATS_TEST_TMPDIR/cpu
	sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $F/tok-model --device auto > $BATS_TEST_TMPDIR/auto
	cmp $BATS_TEST_TMPDIR/cpu $BATS_TEST_TMPDIR/auto
}

@test "an unknown device is misuse" {
	run -2 --separate-stderr sift-fwd -m "$MODEL" --device gpu
	assert_equal "${stderr_lines[0]}" "sift-fwd: --device: expected auto, cpu or cuda, got 'gpu'"
	assert_equal "${stderr_lines[1]}" "Try 'sift-fwd --help'."
}

@test "check-gpu without a GPU says SKIP and passes" {
	no_gpu
	cd "$ROOT"
	run -0 sh scripts/check-gpu.sh "$BATS_TEST_TMPDIR/cg"
	assert_output "check-gpu: SKIP: no GPU (nvidia-smi -L failed)"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/cg/summary.txt")" "$output"
}

@test "check-gpu without a GPU fails under SIFT_TEST_STRICT=1" {
	no_gpu
	cd "$ROOT"
	SIFT_TEST_STRICT=1 run -1 sh scripts/check-gpu.sh "$BATS_TEST_TMPDIR/cg"
	assert_output "check-gpu: SKIP: no GPU (nvidia-smi -L failed)"
}

@test "sift-train --device cuda without a GPU is one clear error and exit 1" {
	no_gpu
	F=$FIXTURES/train
	sift-cat -s $F/tok.jsonl > $BATS_TEST_TMPDIR/tok.b
	run -1 --separate-stderr sift-train -m $F/tok -o $BATS_TEST_TMPDIR/out --device cuda $BATS_TEST_TMPDIR/tok.b
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == "sift-train: cuda: no GPU found ("*")" ||
	   "$stderr" == "sift-train: cuda: not built with CUDA support" ]]
	assert_equal "$output" ""
	[ ! -e $BATS_TEST_TMPDIR/out ]
}

@test "sift-train --device auto without a GPU trains the bytes of --device cpu" {
	no_gpu
	F=$FIXTURES/train
	T=$BATS_TEST_TMPDIR
	sift-cat -s $F/tok.jsonl > $T/tok.b
	sift-train -m $F/tok -o $T/cpu --device cpu --dropout 0.1 $T/tok.b > $T/cpu.log
	sift-train -m $F/tok -o $T/auto --device auto --dropout 0.1 $T/tok.b > $T/auto.log
	cmp $T/cpu/model.safetensors $T/auto/model.safetensors
	# the moments too; not the wall-clock seconds (bytes 89..96) and the
	# hash that covers them (the last 8)
	n=$(($(stat -c %s $T/cpu/train_state.bin) - 96 - 8))
	cmp -i 96 -n $n $T/cpu/train_state.bin $T/auto/train_state.bin
	diff <(sift-cat $T/cpu.log | jq -c 'select(.loss) | [.step, .loss, .grad_norm]') \
	     <(sift-cat $T/auto.log | jq -c 'select(.loss) | [.step, .loss, .grad_norm]')
}

@test "an unknown precision is misuse" {
	run -2 --separate-stderr sift-train -m $FIXTURES/train/tok -o $BATS_TEST_TMPDIR/out --precision fp16
	assert_equal "${stderr_lines[0]}" "sift-train: --precision: expected fp32 or bf16, got 'fp16'"
	assert_equal "${stderr_lines[1]}" "Try 'sift-train --help'."
}

# the toolkit's directory as the Makefile finds it (nvcc's parent's parent)
cuda_home() {
	local nvcc
	nvcc=$(command -v nvcc 2> /dev/null || { test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc; })
	[ -n "$nvcc" ] && echo "${nvcc%/bin/nvcc}"
}

@test "where nvcc, nccl.h and mpicc are found, lib/dist.c's NCCL path compiles without a warning" {
	local ch
	ch=$(cuda_home) || skip "no nvcc: the CUDA backend and NCCL are not built"
	[ -f "$ch/include/nccl.h" ] || skip "no $ch/include/nccl.h: the ranks' NCCL path is not built"
	command -v mpicc > /dev/null || skip "no mpicc: no MPI, so no NCCL path"
	cd "$ROOT"
	# shellcheck disable=SC2046
	run -0 cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fsyntax-only \
		-DSIFT_MPI=1 -DSIFT_NCCL=1 $(mpicc --showme:compile) -I"$ch/include" -Ilib lib/dist.c
	assert_output ""
}

@test "where nvcc, nccl.h and mpicc are found, the build's sift-train calls ncclAllReduce" {
	local ch
	ch=$(cuda_home) || skip "no nvcc: the CUDA backend and NCCL are not built"
	[ -f "$ch/include/nccl.h" ] || skip "no $ch/include/nccl.h: the ranks' NCCL path is not built"
	command -v mpicc > /dev/null || skip "no mpicc: no MPI, so no NCCL path"
	[ -f "$SIFT_BIN/lib/dist.o" ] || skip "no $SIFT_BIN/lib/dist.o (an installed build)"
	run -0 nm -u "$SIFT_BIN/lib/dist.o"
	assert_line --regexp ' U ncclAllReduce$'
	assert_line --regexp ' U ncclCommInitRank$'
	run -0 ldd "$SIFT_BIN/sift-train"
	assert_line --partial libnccl.so
}

@test "no program loads cuBLAS at start: the CUDA backend opens it when a GPU runs" {
	# linked, cuBLASLt alone cost every program ~0.1 s and 25,000 page
	# faults before main; LD_DEBUG=libs names every library the loader
	# looks for
	n=0
	for p in "$SIFT_BIN"/sift-*; do
		head -c 4 "$p" | grep -q ELF || continue
		n=$((n + 1))
		run env LD_DEBUG=libs "$p" --version
		assert_success
		refute_output --partial libcublas
	done
	# every program written in C
	assert_equal "$n" "$(ls "$BATS_TEST_DIRNAME"/../bin/sift-*.c | wc -l)"
	# the backend finds it, with every function it calls
	"$SIFT_BIN"/tests/test-device > /dev/null
}
