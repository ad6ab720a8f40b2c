#!/usr/bin/env bats
# bf16.bats: --precision bf16 on the cpu (oneDNN's bf16 products), and its refusal without AVX512-BF16.

load helper

setup() {
	F=$FIXTURES/train
	T=$BATS_TEST_TMPDIR
}

# skips a test where oneDNN sees no AVX512-BF16 or AMX (or the build has
# no oneDNN), with the reason; SIFT_TEST_STRICT=1 turns it into a failure
need_cpu_bf16() {
	local e
	e=$(sift-fwd -m $F/tok --device cpu --precision bf16 < /dev/null 2>&1 >/dev/null) || true
	case $e in
	*"bf16 precision on the cpu"*) ;;
	*) return 0 ;;
	esac
	[ "${SIFT_TEST_STRICT:-0}" = 1 ] && fail "no bf16 on this cpu: $e"
	skip "${e#sift-fwd: }"
}

# skips a test where the build has no oneDNN (make DNNL=)
need_onednn() {
	local e
	e=$(sift-fwd -m $F/tok --device cpu --precision bf16 < /dev/null 2>&1 >/dev/null) || true
	case $e in
	*"needs oneDNN"*) skip "${e#sift-fwd: }" ;;
	esac
}

@test "sift-fwd --precision bf16 on the cpu without oneDNN in the build is one clear error and exit 1" {
	e=$(sift-fwd -m $F/tok --device cpu --precision bf16 < /dev/null 2>&1 >/dev/null) || true
	case $e in
	*"needs oneDNN"*) ;;
	*) skip "this build has oneDNN" ;;
	esac
	run -1 --separate-stderr sift-fwd -m $F/tok --device cpu --precision bf16 < /dev/null
	assert_equal "$stderr" "sift-fwd: bf16 precision on the cpu needs oneDNN (a build with libdnnl-dev)"
}

# the step, loss and gradient norm of each step of a training log
steps() {
	sift-cat "$1" | jq -c 'select(.loss) | [.step, .loss, .grad_norm]'
}

@test "sift-train --precision bf16 on a cpu without AVX512-BF16 is one clear error and exit 1" {
	need_onednn
	ONEDNN_MAX_CPU_ISA=AVX2 run -1 --separate-stderr sift-train -m $F/tok -o $T/out --device cpu --precision bf16 /dev/null
	assert_equal "$stderr" "sift-train: bf16 precision on the cpu needs AVX512-BF16 or AMX (oneDNN's ISA here: avx2)"
	[ ! -e $T/out ]
}

@test "sift-fwd --precision bf16 on a cpu without AVX512-BF16 is one clear error and exit 1" {
	need_onednn
	# the cap only lowers oneDNN's ISA: on an AVX2-only processor (Zen 3)
	# it stays avx2, and the sift-train test above covers that refusal
	local f
	for f in avx512f avx512bw avx512dq avx512vl; do
		grep -qw $f /proc/cpuinfo || skip "no $f here: oneDNN cannot be capped at avx512_core"
	done
	ONEDNN_MAX_CPU_ISA=AVX512_CORE run -1 --separate-stderr sift-fwd -m $F/tok --device cpu --precision bf16 < /dev/null
	assert_equal "$stderr" "sift-fwd: bf16 precision on the cpu needs AVX512-BF16 or AMX (oneDNN's ISA here: avx512_core)"
	assert_equal "$output" ""
}

@test "sift-train --precision bf16 on the cpu follows fp32's losses within bf16's rounding" {
	need_cpu_bf16
	sift-cat -s $F/tok.jsonl > $T/tok.b
	sift-train -m $F/tok -o $T/fp32 --device cpu $T/tok.b > $T/fp32.log
	sift-train -m $F/tok -o $T/bf16 --device cpu --precision bf16 $T/tok.b > $T/bf16.log
	paste <(steps $T/fp32.log) <(steps $T/bf16.log) | jq -s -e -R '
		split("\n") | map(select(length > 0) | split("\t") | map(fromjson)) |
		length >= 5 and all(.[]; .[0][0] == .[1][0] and
			(.[0][1] - .[1][1] | fabs) <= 1e-2 * .[0][1] and
			(.[0][2] - .[1][2] | fabs) <= 5e-2 * .[0][2])'
	# not fp32 under another name: bf16's rounding shows in the weights
	! cmp -s $T/fp32/model.safetensors $T/bf16/model.safetensors
}

@test "sift-train --precision bf16 gives the same bytes for two runs and for 1 and 2 threads" {
	need_cpu_bf16
	sift-cat -s $F/tok.jsonl > $T/tok.b
	OMP_NUM_THREADS=2 sift-train -m $F/tok -o $T/a --device cpu --precision bf16 --dropout 0.1 $T/tok.b > $T/a.log
	OMP_NUM_THREADS=2 sift-train -m $F/tok -o $T/b --device cpu --precision bf16 --dropout 0.1 $T/tok.b > $T/b.log
	OMP_NUM_THREADS=1 sift-train -m $F/tok -o $T/c --device cpu --precision bf16 --dropout 0.1 $T/tok.b > $T/c.log
	cmp $T/a/model.safetensors $T/b/model.safetensors
	cmp $T/a/model.safetensors $T/c/model.safetensors
	diff <(steps $T/a.log) <(steps $T/c.log)
}

@test "sift-fwd --precision bf16 on the cpu gives fp32's probabilities within bf16's rounding, the same bytes twice" {
	need_cpu_bf16
	sift-cat -s $F/tok.jsonl > $T/tok.b
	sift-fwd -m $F/tok --device cpu < $T/tok.b > $T/fp32.p
	sift-fwd -m $F/tok --device cpu --precision bf16 < $T/tok.b > $T/bf16.p
	OMP_NUM_THREADS=1 sift-fwd -m $F/tok --device cpu --precision bf16 < $T/tok.b > $T/bf16-1.p
	cmp $T/bf16.p $T/bf16-1.p
	! cmp -s $T/fp32.p $T/bf16.p
	paste <(sift-cat -j $T/fp32.p | jq -c 'select(.prob) | .prob') \
	      <(sift-cat -j $T/bf16.p | jq -c 'select(.prob) | .prob') | jq -s -e -R '
		split("\n") | map(select(length > 0) | split("\t") | map(fromjson)) |
		length > 0 and all(.[]; [.[0], .[1]] | transpose | all(.[]; (.[0] - .[1] | fabs) <= 1e-2))'
}
