#!/usr/bin/env bats
# cuda.bats: --device where there is no GPU, and the GPU check's skip.

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
