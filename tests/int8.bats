#!/usr/bin/env bats
# int8.bats: sift-fwd --precision int8, dynamically quantised linear layers, against PyTorch's quantize_dynamic and fp32.

load helper

setup() {
	F=$FIXTURES/fwd
	T=$BATS_TEST_TMPDIR
}

# a build without oneDNN refuses int8 (the test below); one with it runs
need_int8() {
	if ! ldd "$SIFT_BIN/sift-fwd" | grep -q libdnnl; then
		skip "this build has no oneDNN (libdnnl-dev)"
	fi
}

# the largest difference of the probabilities of predictions $1 (JSON
# lines, header first) from the reference $2 (no header), and whether
# every prediction is the same: "same 1.2e-07" or "record 3 differs"
gap() {
	jq -n -r --slurpfile got "$1" --slurpfile want "$2" '
		($got[1:]) as $g
		| if ($g | length) != ($want | length) then "records: \($g | length), expected \($want | length)"
		  else ([range($want | length) as $i | select($g[$i].pred != $want[$i].pred) | $i] | first) as $bad
		  | if $bad != null then "record \($bad) differs"
		    else "same \([range($want | length) as $i
			| [($g[$i].prob // $g[$i].probs), ($want[$i].prob // $want[$i].probs)]
			| transpose[] | .[0] - .[1] | fabs] | max)" end end'
}

# "same X" with X <= $1
within() {
	awk -v tol="$1" '$1 == "same" && $2 + 0 <= tol { ok = 1 } END { exit !ok }' <<< "$2"
}

# Tolerance 2e-3: the fixture is torch's quantised module applied row by
# row, so both sides quantise the same rows to the same integers and sum
# them exactly; they differ where an fp32 rounding difference upstream
# (attention, LayerNorm, GELU: 1e-7 relative) moves an activation across
# a rounding step, one step of one input, a few 1e-4 in a probability
# at most on these models (here: 1e-7, no such flip).  fp32 itself is
# 1e-2 (cls) and 1.7e-2 (ner) away from the fixture, so the test tells
# int8 from fp32.
@test "int8 ner predictions are torch quantize_dynamic's within 2e-3" {
	need_int8
	sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $F/tok-model --precision int8 | sift-cat > $T/got
	r=$(gap $T/got $F/ner.int8.expect.jsonl)
	within 2e-3 "$r" || fail "$r"
}

@test "int8 sequence-pair predictions are torch quantize_dynamic's within 2e-3" {
	need_int8
	sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model --precision int8 | sift-cat > $T/got
	r=$(gap $T/got $F/cls.int8.expect.jsonl)
	within 2e-3 "$r" || fail "$r"
}

@test "fp32 predictions are not within the int8 fixture's tolerance" {
	sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $F/tok-model | sift-cat > $T/got
	r=$(gap $T/got $F/ner.int8.expect.jsonl)
	run within 2e-3 "$r"
	assert_failure
}

@test "int8 predictions are the same bytes on 1, 2 and 3 threads" {
	need_int8
	need_model
	need_data
	head -1200 $DATA/conll2003/eng.testb > $T/c
	sift-tok -m $MODEL -f conll --iob1-to-iob2 $T/c | sift-batch -b 64 > $T/c.b
	for j in 1 2 3; do
		sift-fwd -m $MODEL --init-head 1 --precision int8 -j $j $T/c.b > $T/j$j
	done
	cmp $T/j1 $T/j2
	cmp $T/j1 $T/j3
}

# 7-bit activations keep every u8 x s8 pair of AVX2's vpmaddubsw (and of
# AVX-512 without VNNI) inside int16, so every oneDNN kernel sums the same
# integers: capped at SSE4.1 or AVX2 (DNNL_MAX_CPU_ISA) oneDNN gives the
# bytes of its best kernel here.  With 8-bit activations the AVX2 kernel
# saturates and this fails.
@test "int8 predictions are the same bytes with oneDNN's SSE4.1, AVX2 and best kernels" {
	need_int8
	need_model
	need_data
	head -300 $DATA/financial_phrasebank/Sentences_AllAgree.txt > $T/p
	sift-tok -m $MODEL -f at --encoding latin1 $T/p | sift-batch -b 64 > $T/p.b
	sift-fwd -m $MODEL --init-head 1 --precision int8 $T/p.b > $T/best
	for isa in AVX2 SSE41; do
		DNNL_MAX_CPU_ISA=$isa sift-fwd -m $MODEL --init-head 1 --precision int8 $T/p.b > $T/$isa
		cmp $T/best $T/$isa
	done
}

@test "int8 predictions of the small model are the same bytes with oneDNN's SSE4.1, AVX2 and best kernels" {
	need_int8
	sift-cat -s $F/ner.batches.jsonl > $T/b
	sift-fwd -m $F/tok-model --precision int8 $T/b > $T/best
	for isa in AVX2 SSE41; do
		DNNL_MAX_CPU_ISA=$isa sift-fwd -m $F/tok-model --precision int8 $T/b > $T/$isa
		cmp $T/best $T/$isa
	done
}

# MiniLM with a classifier head from a seed (its logits are small, so
# margins are thin and a few argmaxes flip): measured 194 of 200 the same,
# probabilities 2.1e-3 apart at most; asserted: 95% and 1e-2
@test "int8 MiniLM PhraseBank predictions are fp32's on 95% of rows, probabilities within 1e-2" {
	need_int8
	need_model
	need_data
	head -200 $DATA/financial_phrasebank/Sentences_AllAgree.txt > $T/p
	sift-tok -m $MODEL -f at --encoding latin1 $T/p | sift-batch -b 16 > $T/p.b
	for p in fp32 int8; do
		sift-fwd -m $MODEL --init-head 1 --precision $p $T/p.b | sift-cat > $T/$p
	done
	run jq -n -r --slurpfile a $T/fp32 --slurpfile b $T/int8 '
		[range(1; $a | length) as $i | [($a[$i].pred == $b[$i].pred),
		 ([$a[$i].probs, $b[$i].probs] | transpose | map(.[0] - .[1] | fabs) | max)]]
		| [length == 200, (map(select(.[0])) | length) >= 190, (map(.[1]) | max) <= 1e-2,
		   (map(.[1]) | max) > 0]'
	assert_output "$(printf '%s\n' '[' '  true,' '  true,' '  true,' '  true' ']')"
}

# the same with a token head (9 labels, thinner margins still): measured
# 1713 of 1838 words the same, the top probability of those 8.5e-3 apart
# at most; asserted: 88% and 2e-2
@test "int8 MiniLM CoNLL tags are fp32's on 88% of words, probabilities within 2e-2" {
	need_int8
	need_model
	need_data
	head -2000 $DATA/conll2003/eng.testb > $T/c
	sift-tok -m $MODEL -f conll --iob1-to-iob2 $T/c | sift-batch > $T/c.b
	for p in fp32 int8; do
		sift-fwd -m $MODEL --init-head 1 --precision $p $T/c.b | sift-cat > $T/$p
	done
	run jq -n -r --slurpfile a $T/fp32 --slurpfile b $T/int8 -c '
		[range(1; $a | length) as $i | [$a[$i].pred, $b[$i].pred, $a[$i].prob, $b[$i].prob] | transpose[]]
		| length as $n | [map(select(.[0] == .[1])) | (length >= 0.88 * $n), (map(.[2] - .[3] | fabs) | max <= 2e-2)]'
	assert_output "[true,true]"
}

@test "--precision int8 on the cuda device is an error, exit 1" {
	need_int8
	if ! nvidia-smi -L > /dev/null 2>&1; then
		skip "no GPU here (test-device checks the message)"
	fi
	run -1 --separate-stderr sift-fwd -m $F/tok-model --precision int8 --device cuda < /dev/null
	assert_equal "${stderr_lines[0]}" "sift-fwd: int8 precision needs the cpu device"
}

@test "--precision int8 with --device auto runs on the cpu" {
	need_int8
	sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $F/tok-model --precision int8 > $T/cpu
	sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $F/tok-model --precision int8 --device auto > $T/auto
	cmp $T/cpu $T/auto
}

@test "--precision int8 in a build without oneDNN is an error, exit 1" {
	if ldd "$SIFT_BIN/sift-fwd" | grep -q libdnnl; then
		skip "this build has oneDNN (test-device checks the message)"
	fi
	run -1 --separate-stderr sift-fwd -m $F/tok-model --precision int8 < /dev/null
	assert_equal "${stderr_lines[0]}" "sift-fwd: int8 precision needs a build with oneDNN (libdnnl-dev)"
	assert_equal "${#stderr_lines[@]}" 1
}

@test "an unknown precision is misuse naming int8 among the choices" {
	run -2 --separate-stderr sift-fwd -m $F/tok-model --precision int4
	assert_equal "${stderr_lines[0]}" "sift-fwd: --precision: expected fp32, bf16 or int8, got 'int4'"
	assert_equal "${stderr_lines[1]}" "Try 'sift-fwd --help'."
}

@test "sift-train refuses --precision int8 as misuse" {
	run -2 --separate-stderr sift-train -m $F/tok-model -o $T/out --precision int8 /dev/null
	assert_equal "${stderr_lines[0]}" "sift-train: --precision int8: for inference only (sift-fwd), not for training"
	assert_equal "${stderr_lines[1]}" "Try 'sift-train --help'."
	[ ! -e $T/out ]
}
