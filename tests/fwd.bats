#!/usr/bin/env bats
# fwd.bats: sift-fwd, batches through a BERT model into predictions.

load helper

setup() {
	F=$FIXTURES/fwd
	T=$BATS_TEST_TMPDIR
}

# compares predictions (JSON lines on stdin, header first) with the
# transformers reference $1: same keys and labels, probabilities to 1e-5
same_as() {
	jq -n --slurpfile got /dev/stdin --slurpfile want "$1" '
		def close(a; b): [a, b] | transpose | all(.[0] - .[1] | fabs <= 1e-5);
		($got[1:]) as $g
		| if ($g | length) != ($want | length) then "records: \($g | length), expected \($want | length)"
		  else [range($want | length) as $i | $g[$i] as $a | $want[$i] as $b
			| if ($a | del(.prob, .probs)) != ($b | del(.prob, .probs)) then "record \($i): \($a | del(.prob, .probs)) != \($b | del(.prob, .probs))"
			  elif close($a.prob // $a.probs; $b.prob // $b.probs) | not then "record \($i): probabilities differ"
			  else empty end] | first // "same" end' -r
}

@test "ner predictions are transformers' per word, first sub-token, windows stitched" {
	sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $F/tok-model | sift-cat > $T/got
	run same_as $F/ner.expect.jsonl < $T/got
	assert_output same
}

@test "a long sentence split into windows comes back as one record" {
	sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $F/tok-model | sift-cat > $T/got
	# 8 windows in, 7 sentences out, ids 0..6 in order
	run jq -c 'select(.pred) | .id' $T/got
	assert_output "$(seq 0 6)"
	run jq -s -c '[.[1:][] | (.words | length) == (.pred | length) and (.pred | length) == (.prob | length)] | all' $T/got
	assert_output true
}

@test "sentence-pair predictions are transformers' label and probabilities" {
	sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model | sift-cat > $T/got
	run same_as $F/cls.expect.jsonl < $T/got
	assert_output same
}

@test "the header is a predictions header with the model's labels" {
	run bash -c "sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model | sift-cat | head -1"
	assert_success
	assert_output '{"sift":1,"kind":"predictions","task":"pair","labels":["negative","neutral","positive"],"producer":"sift-fwd 0.1"}'
}

@test "gold comes from the batch labels when the examples carry no gold tags" {
	# drop every example's gold key: the first sub-token labels remain
	sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $F/tok-model | sift-cat | jq -c 'select(.pred) | .gold' > $T/a
	jq -c 'if .ex then .ex |= map(del(.gold)) else . end' $F/ner.batches.jsonl | sift-cat -s |
		sift-fwd -m $F/tok-model | sift-cat | jq -c 'select(.pred) | .gold' > $T/b
	run cmp $T/a $T/b
	assert_success
	run jq -s -c 'map(length) | add' $T/b
	refute_output 0
}

@test "predictions without gold have no gold key" {
	jq -c 'if .ex then (.ex |= map(del(.gold)) | del(.labels)) else . end' $F/ner.batches.jsonl | sift-cat -s > $T/s
	run bash -c "sift-fwd -m $F/tok-model $T/s | sift-cat | jq -c 'select(.pred) | has(\"gold\")' | sort -u"
	assert_output false
}

@test "the same thread count gives the same bytes on every run" {
	for j in 1 2; do
		sift-cat -s $F/ner.batches.jsonl | sift-fwd -j $j -m $F/tok-model > $T/a
		sift-cat -s $F/ner.batches.jsonl | sift-fwd -j $j -m $F/tok-model > $T/b
		cmp $T/a $T/b
	done
}

@test "MiniLM predicts the same bytes on 1, 2 and 3 threads" {
	need_model
	need_data
	head -1200 $DATA/conll2003/eng.train > $T/c
	# two batches of 930 and 497 tokens: four and two groups of examples
	sift-tok -m $MODEL -f conll --iob1-to-iob2 $T/c | sift-batch -b 32 > $T/b
	for j in 1 2 3; do
		sift-fwd -j $j -m $MODEL --init-head 1 $T/b > $T/p$j
	done
	cmp $T/p1 $T/p2
	cmp $T/p1 $T/p3
}

# an encoder without a head, as BertModel saves one: $T/enc
# (tests/ref/make_fwd_variants.py wrote it from tok-model)
encoder() {
	cp -r $F/variants/enc $T/enc
}

@test "a model without a trained head needs --init-head" {
	encoder
	sift-cat -s $F/cls.batches.jsonl > $T/s
	run -1 --separate-stderr sift-fwd -m $T/enc $T/s
	assert_equal "$stderr" "sift-fwd: $T/enc: the model has no trained head; give --init-head SEED to initialise one"
}

@test "--init-head gives the stream's labels and the same predictions for the same seed" {
	encoder
	jq -c 'if .sift then .labels = ["X", "Y"] elif .B then .labels |= map(. % 2) else . end' $F/cls.batches.jsonl | sift-cat -s > $T/s
	sift-fwd -m $T/enc --init-head 5 $T/s | sift-cat > $T/a
	sift-fwd -m $T/enc --init-head 5 $T/s | sift-cat > $T/b
	sift-fwd -m $T/enc --init-head 6 $T/s | sift-cat > $T/c
	cmp $T/a $T/b
	run cmp -s $T/a $T/c
	assert_failure
	run jq -c 'select(.sift) | .labels' $T/a
	assert_output '["X","Y"]'
	run jq -c 'select(.pred) | [.pred, .gold]' $T/a
	assert_line --index 0 --regexp '^\["[XY]","X"\]$'
	assert_line --index 1 --regexp '^\["[XY]","Y"\]$'
}

@test "a sequence classifier refuses a ner stream" {
	sift-cat -s $F/ner.batches.jsonl > $T/s
	run -1 --separate-stderr sift-fwd -m $F/cls-model $T/s
	assert_equal "$stderr" "sift-fwd: $F/cls-model: the model is a sequence classifier but the input's task is ner"
}

@test "a vocabulary other than the model's is an error" {
	jq -c 'if .sift then .vocab = {"size": 30522, "hash": "0000000000000000"} else . end' $F/ner.batches.jsonl | sift-cat -s > $T/s
	run -1 --separate-stderr sift-fwd -m $F/tok-model $T/s
	assert_equal "$stderr" "sift-fwd: $F/tok-model: the model's vocabulary has 1000 tokens, the input's 30522"
}

@test "a token id outside the vocabulary is an error naming the record" {
	jq -c 'if .B then .ids[1] = 5000 else . end' $F/cls.batches.jsonl | sift-cat -s > $T/s
	run -1 --separate-stderr sift-fwd -m $F/cls-model $T/s
	assert_equal "$stderr" "sift-fwd: $T/s:2: example 0: token id 5000 outside the vocabulary of 1000"
}

@test "a mask with a hole is an error naming the record, and the records before it stay valid" {
	jq -c 'if .B and .ex[0].id == 4 then .mask[1] = 0 else . end' $F/cls.batches.jsonl | sift-cat -s > $T/s
	run -1 --separate-stderr bash -c "sift-fwd -m $F/cls-model $T/s > $T/out"
	assert_equal "$stderr" "sift-fwd: $T/s:3: example 0: mask is not ones then zeros"
	run bash -c "sift-cat $T/out | jq -c 'select(.pred) | .id'"
	assert_success
	assert_output "$(seq 0 3)"
}

@test "a window's word0 past any sentence is an error naming the record, not a crash or a huge allocation" {
	# 2^62 wrapped to word 0; 2^31 - 648 to a negative index (SIGSEGV)
	for w0 in 4611686018427387904 2147483000; do
		printf '%s\n' '{"sift":1,"kind":"batches","task":"ner","labels":["O","B-PER","I-PER","B-LOC","I-LOC"]}' \
			'{"B":1,"T":3,"ids":[101,184,102],"mask":[1,1,1],"ex":[{"id":0,"words":["a"],"word_idx":[-1,0,-1],"doc":0,"win":0,"nwin":1,"word0":'$w0',"keep":[0,1]}]}' |
			sift-cat -s > $T/s
		run -1 --separate-stderr bash -c "sift-fwd -m $F/tok-model $T/s > $T/out"
		assert_equal "$stderr" "sift-fwd: $T/s:2: example 0: word0 $w0: a sentence of over 16777216 words"
	done
}

@test "a sentence with a word that no window keeps is an error naming the record" {
	# one window from word 1: word 0 was written as "" with exit 0
	printf '%s\n' '{"sift":1,"kind":"batches","task":"ner","labels":["O","B-PER","I-PER","B-LOC","I-LOC"]}' \
		'{"B":1,"T":3,"ids":[101,184,102],"mask":[1,1,1],"ex":[{"id":0,"words":["a"],"word_idx":[-1,0,-1],"doc":0,"win":0,"nwin":1,"word0":1,"keep":[0,1]}]}' |
		sift-cat -s > $T/s
	run -1 --separate-stderr bash -c "sift-fwd -m $F/tok-model $T/s > $T/out"
	assert_equal "$stderr" "sift-fwd: $T/s:2: sentence 0: word 0 is kept by no window"
	run bash -c "sift-cat $T/out | wc -l"
	assert_output 1
}

@test "a stream of another kind is an error naming the record" {
	echo '{"sift":1,"kind":"examples","task":"ner","labels":["O"]}' | sift-cat -s > $T/s
	run -1 --separate-stderr sift-fwd -m $F/tok-model $T/s
	assert_equal "$stderr" "sift-fwd: $T/s:1: expected a batches stream (from sift-batch), got kind 'examples'"
}

@test "a truncated stream is an error naming the record" {
	sift-cat -s $F/cls.batches.jsonl > $T/s
	n=$(head -2 $F/cls.batches.jsonl | sift-cat -s | wc -c)
	head -c $((n + 5)) $T/s > $T/cut
	run -1 --separate-stderr bash -c "sift-fwd -m $F/cls-model $T/cut > /dev/null"
	assert_equal "$stderr" "sift-fwd: $T/cut:3: truncated record"
}

@test "missing windows at the end of the input are an error" {
	# sentence 6 comes in 2 windows; claim it has 3
	jq -c 'if .B then .ex |= map(if .nwin > 1 then .nwin = 3 else . end) else . end' $F/ner.batches.jsonl | sift-cat -s > $T/s
	run -1 --separate-stderr bash -c "set -o pipefail; sift-fwd -m $F/tok-model $T/s | sift-cat | jq -c 'select(.pred) | .id'"
	assert_equal "$stderr" "sift-fwd: $T/s:4: sentence 6: 1 of its 3 windows missing at the end of the input"
	assert_output "$(seq 0 5)"
}

@test "a missing tensor is an error naming it" {
	# tok-model without layer 1's key weight (tests/ref/make_fwd_variants.py)
	cp -r $F/variants/missing $T/m
	sift-cat -s $F/ner.batches.jsonl > $T/s
	run -1 --separate-stderr sift-fwd -m $T/m $T/s
	assert_equal "$stderr" "sift-fwd: $T/m/model.safetensors: tensor bert.encoder.layer.1.attention.self.key.weight missing"
}

@test "fp16 and bf16 checkpoints give the predictions of their fp32 values" {
	# tok-model in each type, and its values widened back to float32
	# (tests/ref/make_fwd_variants.py)
	for dt in float16 bfloat16; do
		rm -rf $T/m && cp -r $F/variants/$dt $T/m
		mv $T/m/f32.safetensors $T/m32.safetensors
		sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $T/m > $T/a
		mv $T/m32.safetensors $T/m/model.safetensors
		sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $T/m > $T/b
		cmp $T/a $T/b
	done
}

@test "a layer_norm_eps not positive and finite is an error naming config.json and the key" {
	sift-cat -s $F/ner.batches.jsonl > $T/s
	cp -r $F/tok-model $T/m
	for eps in -1 0 1e300 '"tiny"'; do
		jq ".layer_norm_eps = $eps" $F/tok-model/config.json > $T/m/config.json
		run -1 --separate-stderr sift-fwd -m $T/m $T/s
		case $eps in
		'"tiny"') want="layer_norm_eps is not a number" ;;
		*) want="layer_norm_eps $(printf %g $eps) is not a positive finite float" ;;
		esac
		assert_equal "$stderr" "sift-fwd: $T/m/config.json: $want"
		assert_output ''
	done
}

@test "a NaN or infinite weight is an error naming the batch, not NaN probabilities" {
	sift-cat -s $F/ner.batches.jsonl > $T/s
	cp -r $F/tok-model $T/m
	# the first float of bert.embeddings.LayerNorm.bias
	st=$T/m/model.safetensors
	n=$(od -An -tu8 -N8 $st | tr -d ' ')
	at=$(head -c $((8 + n)) $st | tail -c $n |
		jq '.["bert.embeddings.LayerNorm.bias"] | select(.dtype == "F32") | .data_offsets[0]')
	for bits in '\x00\x00\xc0\x7f' '\x00\x00\x80\x7f' '\x00\x00\x80\xff'; do
		printf "$bits" | dd of=$st bs=1 seek=$((8 + n + at)) conv=notrunc status=none
		run -1 --separate-stderr bash -c "sift-fwd -m $T/m $T/s > $T/out"
		assert_equal "$stderr" "sift-fwd: $T/s:2: example 0: non-finite logits (a NaN or infinite weight, or an overflow)"
		run bash -c "sift-cat $T/out | wc -l"
		assert_output 1
	done
}

@test "a FIFO as a model file is refused at once, naming it" {
	sift-cat -s $F/ner.batches.jsonl > $T/s
	for f in model.safetensors config.json; do
		rm -rf $T/m && cp -r $F/tok-model $T/m && rm $T/m/$f && mkfifo $T/m/$f
		run -1 --separate-stderr timeout 10 sift-fwd -m $T/m $T/s
		assert_equal "$stderr" "sift-fwd: $T/m/$f: not a regular file (a FIFO)"
	done
}

@test "a model directory without config.json is an error" {
	sift-cat -s $F/ner.batches.jsonl > $T/s
	run -1 --separate-stderr sift-fwd -m $T/nothing $T/s
	assert_equal "$stderr" "sift-fwd: $T/nothing/config.json: No such file or directory"
}

@test "no model is misuse" {
	run -2 --separate-stderr sift-fwd
	assert_equal "$stderr" "$(printf "sift-fwd: a model is needed (-m DIR)\nTry 'sift-fwd --help'.")"
}

@test "an unknown option is misuse, named as typed, after the program's name and not its path" {
	run -2 --separate-stderr $SIFT_BIN/sift-fwd --bogus=1
	assert_equal "$stderr" "sift-fwd: unknown option '--bogus'
Try 'sift-fwd --help'."
	run -2 --separate-stderr $SIFT_BIN/sift-fwd -m
	assert_equal "$stderr" "sift-fwd: option '-m' needs a value
Try 'sift-fwd --help'."
}

@test "a bad thread count is misuse" {
	run -2 --separate-stderr sift-fwd -m $F/tok-model -j 0
	assert_equal "$stderr" "$(printf "sift-fwd: --threads: expected an integer from 1 to 1024, got '0'\nTry 'sift-fwd --help'.")"
}

@test "a seed that is no integer from 0 to 2^64-1 is misuse, with the words of every program" {
	for s in '-1' '+1' ' 1' '1e3' '18446744073709551616'; do
		run -2 --separate-stderr sift-fwd -m $F/tok-model --init-head "$s" < /dev/null
		assert_equal "$stderr" "sift-fwd: --init-head: expected an integer from 0 to 18446744073709551615, got '$s'
Try 'sift-fwd --help'."
	done
}

@test "two input files are misuse" {
	run -2 --separate-stderr sift-fwd -m $F/tok-model a b
	assert_equal "$stderr" "$(printf "sift-fwd: extra operand 'b'\nTry 'sift-fwd --help'.")"
}

# the pair fixture's predictions with the options "$@", as JSON lines
router() {
	sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model "$@" | sift-cat
}

@test "without --top-k and --threshold the records keep their keys, their order and their values" {
	router > $T/plain
	# the keys of transformers' reference, in the order sift-fwd wrote them
	run bash -c "tail -n +2 $T/plain | jq -c keys_unsorted | sort -u"
	assert_output "$(jq -c keys_unsorted $F/cls.expect.jsonl | sort -u)"
	router --top-k 3 --threshold 0 --abstain oos | jq -c 'del(.top, .abstained)' > $T/a
	jq -c . $T/plain > $T/b
	run cmp $T/a $T/b
	assert_success
}

@test "--top-k names the k most probable labels in descending probability, ties by label id" {
	router --top-k 2 > $T/p
	run jq -s -c '.[0].labels as $l | .[1:] | map(
		(.probs | to_entries | sort_by(-.value, .key) | .[:2]
		 | map({label: $l[.key], prob: .value})) == .top and .top[0].label == .pred)
		| [length > 0, all] | all' $T/p
	assert_output true
}

@test "--top-k over the label count gives every label" {
	run bash -c "sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model --top-k 9 | sift-cat | jq -s -c '[.[1:][] | .top | length] | unique'"
	assert_output '[3]'
}

@test "a top probability below the threshold abstains, at or above it does not" {
	p=$(router | jq -r 'select(.id == 0) | .probs | max')
	# just below and just above p in single precision (a float's ulp is
	# 2^-24 of it, these are 1e-6 away)
	below=$(awk -v p=$p 'BEGIN { printf "%.9g", p * (1 - 1e-6) }')
	above=$(awk -v p=$p 'BEGIN { printf "%.9g", p * (1 + 1e-6) }')
	want=$(router | jq -c 'select(.id == 0) | .pred')
	run bash -c "sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model --threshold $p --abstain oos | sift-cat | jq -c 'select(.id == 0) | [.pred, .abstained]'"
	assert_output "[$want,false]"
	run bash -c "sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model --threshold $below --abstain oos | sift-cat | jq -c 'select(.id == 0) | [.pred, .abstained]'"
	assert_output "[$want,false]"
	run bash -c "sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model --threshold $above --abstain oos | sift-cat | jq -c 'select(.id == 0) | [.pred, .abstained]'"
	assert_output '["oos",true]'
}

@test "an abstained record keeps its probabilities" {
	router | jq -c 'select(.id) | .probs' > $T/a
	router --threshold 1 --abstain neutral | jq -c 'select(.id) | .probs' > $T/b
	run cmp $T/a $T/b
	assert_success
	run bash -c "sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model --threshold 1 --abstain neutral | sift-cat | jq -s -c '[.[1:][] | [.pred, .abstained]] | unique'"
	assert_output '[["neutral",true]]'
}

@test "a threshold outside 0 to 1 is misuse" {
	run -2 --separate-stderr sift-fwd -m $F/cls-model --threshold 1.5 --abstain oos
	assert_equal "$stderr" "sift-fwd: --threshold: expected a number from 0 to 1, got '1.5'
Try 'sift-fwd --help'."
	run -2 --separate-stderr sift-fwd -m $F/cls-model --threshold -0.1 --abstain oos
	assert_equal "$stderr" "sift-fwd: --threshold: expected a number from 0 to 1, got '-0.1'
Try 'sift-fwd --help'."
}

@test "--top-k 0 is misuse" {
	run -2 --separate-stderr sift-fwd -m $F/cls-model --top-k 0
	assert_equal "$stderr" "sift-fwd: --top-k: expected an integer from 1 to 1000000, got '0'
Try 'sift-fwd --help'."
}

@test "--abstain without --threshold is misuse, and so is --threshold without --abstain" {
	run -2 --separate-stderr sift-fwd -m $F/cls-model --abstain oos
	assert_equal "$stderr" "sift-fwd: --abstain needs --threshold X
Try 'sift-fwd --help'."
	run -2 --separate-stderr sift-fwd -m $F/cls-model --threshold 0.5
	assert_equal "$stderr" "sift-fwd: --threshold needs --abstain LABEL
Try 'sift-fwd --help'."
}

@test "--top-k with a ner stream is an error" {
	run -1 --separate-stderr bash -c "sift-cat -s $F/ner.batches.jsonl | sift-fwd -m $F/tok-model --top-k 2"
	assert_equal "$stderr" "sift-fwd: stdin:1: --top-k and --threshold are for cls and pair, the input's task is ner"
	assert_output ""
}

@test "a full disk is an error" {
	sift-cat -s $F/cls.batches.jsonl > $T/s
	run -1 --separate-stderr bash -c "sift-fwd -m $F/cls-model $T/s > /dev/full"
	assert_equal "$stderr" "sift-fwd: stdout: write error: No space left on device"
}

@test "a terminal is refused with the misuse status, as in every program" {
	command -v script > /dev/null || skip "script(1) not installed"
	sift-cat -s $F/cls.batches.jsonl > $T/s
	run script -qec "sift-fwd -m $F/cls-model $T/s" /dev/null
	assert_failure 2
	assert_output --partial "sift-fwd: refusing to write a binary stream to a terminal"
}

@test "a closed pipe ends quietly" {
	sift-cat -s $F/ner.batches.jsonl > $T/s
	run --separate-stderr bash -c "set -o pipefail; sift-fwd -m $F/tok-model $T/s | head -c 1 > /dev/null"
	assert_success
	assert_equal "$stderr" ""
}

@test "--help prints the man page synopsis on stdout" {
	run --separate-stderr sift-fwd --help
	assert_success
	synopsis=$(mandoc -Tascii -O width=400 $BATS_TEST_DIRNAME/../man/man1/sift-fwd.1 | col -b |
		awk '/^SYNOPSIS/ {getline; print; exit}' | sed 's/^ *//')
	assert_equal "${lines[0]}" "usage: $synopsis"
	run sift-fwd --version
	assert_output "sift-fwd 0.1"
}

@test "the man page example tags the real test set with a head from a seed" {
	need_model
	need_data
	head -400 $DATA/conll2003/eng.testb > $T/c
	# one record per sentence, a tag per word, and sift-eval scores it
	n=$(awk 'NF && !/^-DOCSTART-/ {s = 1} !NF && s {n++; s = 0} END {print n + s}' $T/c)
	run bash -c "set -o pipefail; sift-tok -m $MODEL -f conll --iob1-to-iob2 $T/c | sift-batch | sift-fwd -m $MODEL --init-head 1 | sift-cat | jq -s -c '[(.[1:][] | (.words | length) == (.gold | length) and (.pred | length) == (.words | length)), length == $n + 1] | all'"
	assert_success
	assert_output true
	run bash -c "set -o pipefail; sift-tok -m $MODEL -f conll --iob1-to-iob2 $T/c | sift-batch | sift-fwd -m $MODEL --init-head 1 | sift-eval | sift-cat | jq -c 'select(.sift) | .kind'"
	assert_success
	assert_output '"metrics"'
}

@test "the man page example classifies Financial PhraseBank sentences" {
	need_model
	need_data
	head -30 $DATA/financial_phrasebank/Sentences_AllAgree.txt > $T/p
	run bash -c "set -o pipefail; sift-tok -m $MODEL -f at --encoding latin1 $T/p | sift-batch -b 16 | sift-fwd -m $MODEL --init-head 1 | sift-cat | jq -s -c '(.[0].labels | length) as \$n | [(.[1:][] | .probs | length == \$n), length == 31] | all'"
	assert_success
	assert_output true
}

@test "the man page example routes CLINC150 queries with a threshold chosen on val" {
	need_model
	need_data
	# the example's data_full.json, cut to a few queries of each split
	jq '{val: .val[:24], oos_val: .oos_val[:8], test: .test[:24], oos_test: .oos_test[:8]}' \
		$DATA/clinc150/data_full.json > $T/data_full.json
	cd $T
	ln -s "$MODEL" all-MiniLM-L6-v2
	m=all-MiniLM-L6-v2
	jq -c '(.val + .oos_val)[] | {text: .[0], label: .[1]}' \
	    data_full.json | sift-tok -m $m -f jsonl | sift-batch -b 32 |
	    sift-fwd -m $m --init-head 1 --top-k 3 > val.pred
	t=$(sift-eval --abstain oos --find-threshold val.pred | sift-cat |
	    jq -r 'select(.abstain) | .abstain.threshold')
	# the threshold is one of the val predictions' top probabilities
	run bash -c "sift-cat val.pred | jq -s -c --argjson t $t '[.[1:][] | .top | length == 3] + [any(.[1:][]; .top[0].prob == \$t)] | all'"
	assert_output true
	run bash -c "set -o pipefail; jq -c '(.test + .oos_test)[] | {text: .[0], label: .[1]}' \
	    data_full.json | sift-tok -m $m -f jsonl | sift-batch -b 32 |
	    sift-fwd -m $m --init-head 1 --top-k 3 --threshold $t \
	    --abstain oos | sift-eval --abstain oos | sift-report"
	assert_success
	assert_line --partial "in-scope accuracy"
}

@test "SIFT_PROFILE=1 prints each op's time at exit and changes no byte of the predictions" {
	sift-cat -s $F/ner.batches.jsonl > $T/s
	sift-fwd -m $F/tok-model $T/s > $T/a 2> $T/err0
	SIFT_PROFILE=1 sift-fwd -m $F/tok-model $T/s > $T/b 2> $T/err
	cmp $T/a $T/b
	run grep -c '^profile' $T/err0
	assert_output 0
	run grep -E -c '^profile (matmul_forward|attention_forward|layernorm_forward) +[0-9.]+ +[0-9.]+% +[1-9]' $T/err
	assert_output 3
	run grep -c '^profile ops total ' $T/err
	assert_output 1
}

# ---- fill-mask: an mlm stream (tests/ref/make_mlm_fixtures.py --fill-mask) ----

# the fixture's text through sift-tok and an unmasked sift-batch
fill_batches() {
	sift-tok -m $F/mlm-model --task mlm $F/mlm.txt | sift-batch -b 2 --mlm-probability 0
}

@test "fill-mask gives transformers' pipeline top 5 per [MASK], probabilities within 1e-5" {
	fill_batches | sift-fwd -m $F/mlm-model | sift-cat > $T/got
	run jq -n -r --slurpfile got $T/got --slurpfile want $F/mlm.expect.jsonl '
		def ids: map({pos, top: (.top | map(del(.prob)))});
		def probs: [.[].top[].prob];
		[range($want | length) as $i | ($got[$i + 1].masks) as $g | ($want[$i].masks) as $w
		 | if ($g | ids) != ($w | ids) then "record \($i): \($g | ids) != \($w | ids)"
		   elif [[($g | probs), ($w | probs)] | transpose[] | .[0] - .[1] | fabs > 1e-5] | any
		   then "record \($i): probabilities differ" else empty end]
		| first // "same \($got | length - 1) records"'
	assert_output "same 5 records"
}

@test "a fill-mask record keeps id, src and text, and a text without [MASK] has an empty masks" {
	fill_batches | sift-fwd -m $F/mlm-model | sift-cat > $T/got
	run jq -c 'select(.masks) | [.id, .src, (.masks | length)]' $T/got
	assert_output "[0,\"$F/mlm.txt:1\",1]
[1,\"$F/mlm.txt:2\",2]
[2,\"$F/mlm.txt:3\",0]
[3,\"$F/mlm.txt:4\",2]
[4,\"$F/mlm.txt:5\",1]"
	run jq -c 'select(.masks) | .text' $T/got
	assert_output "$(sed 's/.*/"&"/' $F/mlm.txt)"
	run bash -c "head -1 $T/got"
	assert_output '{"sift":1,"kind":"predictions","task":"mlm","labels":[],"vocab":{"size":100,"hash":"a574b7f1706b940d"},"producer":"sift-fwd 0.1"}'
}

@test "--top-k sets the tokens per [MASK], and the first k of a larger k are the same" {
	fill_batches > $T/b
	sift-fwd -m $F/mlm-model --top-k 2 $T/b | sift-cat | jq -c 'select(.masks) | [.masks[].top | map(.token)]' > $T/k2
	sift-fwd -m $F/mlm-model --top-k 100 $T/b | sift-cat | jq -c 'select(.masks) | [.masks[].top | map(.token)]' > $T/k100
	run jq -s -c '[.[] | .[] | length] | unique' $T/k2
	assert_output '[2]'
	run jq -s -c '[.[] | .[] | length] | unique' $T/k100
	assert_output '[100]'
	# all 100 are every token once, by descending probability
	sift-fwd -m $F/mlm-model --top-k 100 $T/b | sift-cat > $T/g100
	run jq -s -c '[.[1:][] | .masks[].top | [(map(.token) | sort == [range(100)]),
		([.[:-1], .[1:]] | transpose | all(.[0].prob >= .[1].prob))]] | unique' $T/g100
	assert_output '[[true,true]]'
	diff $T/k2 <(jq -c 'map(.[:2])' $T/k100)
}

@test "--top-k above the vocabulary is misuse, and so is 0" {
	fill_batches > $T/b
	run -2 --separate-stderr sift-fwd -m $F/mlm-model --top-k 101 $T/b
	assert_equal "$stderr" "sift-fwd: --top-k 101: the model's vocabulary has 100 tokens
Try 'sift-fwd --help'."
	[ -z "$output" ]
	run -2 --separate-stderr sift-fwd -m $F/mlm-model --top-k 0 $T/b
	assert_equal "${stderr_lines[0]}" "sift-fwd: --top-k: expected an integer from 1 to 1000000, got '0'"
}

@test "masked batches bring each masked token's label and log-probability, the loss's terms" {
	for i in $(seq 1 30); do echo "w$((i + 5)) w$((i + 20)) w$((2 * i)) w9 w10 w$((i + 40))"; done > $T/held.txt
	sift-tok -m $F/mlm-model --task mlm $T/held.txt | sift-batch --mlm-probability 0.3 --seed 7 > $T/b
	sift-fwd -m $F/mlm-model $T/b | sift-cat > $T/got
	# one masks entry per label, in the batch's order, with its label
	diff <(sift-cat $T/b | jq -c 'select(.B) | .T as $t | .labels as $l | range(.B) as $b
			| [range($t) as $k | $l[$b * $t + $k] | select(. != -100)]') \
		<(jq -c 'select(.masks) | [.masks[] | select(.label) | .label]' $T/got)
	run jq -s -c '[.[1:][] | .masks[] | select(.label) | .logprob < 0 and
		(.top[0].prob | log) >= .logprob - 1e-6] | [length > 20, all]' $T/got
	assert_output '[true,true]'
}

@test "an mlm stream and a classifier, or a head-less encoder without --init-head, are errors" {
	fill_batches > $T/b
	run -1 --separate-stderr sift-fwd -m $F/cls-model $T/b
	assert_equal "$stderr" "sift-fwd: $F/cls-model: the model is a sequence classifier, not a masked-language model, but the input's task is mlm"
	run -1 --separate-stderr sift-fwd -m $F/mlm-model --threshold 0.5 --abstain x $T/b
	assert_equal "$stderr" "sift-fwd: $T/b:1: --threshold and --abstain are for cls and pair, the input's task is mlm"
}

@test "an mlm checkpoint takes a ner stream only with --init-head, as a bare encoder" {
	printf 'w5 B-PER\nw6 O\nw7 O\n\nw8 O\n' > $T/ner.conll
	printf 'O\nB-PER\nI-PER\n' > $T/labels
	sift-tok -m $F/mlm-model -f conll --labels $T/labels $T/ner.conll | sift-batch > $T/ner.b
	run -1 --separate-stderr sift-fwd -m $F/mlm-model $T/ner.b
	assert_equal "$stderr" "sift-fwd: $F/mlm-model: the model has no trained head; give --init-head SEED to initialise one"
	run -0 sift-fwd -m $F/mlm-model --init-head 1 $T/ner.b
}

@test "fill-mask on MiniLM with a fresh head names its tokens as the vocabulary does" {
	need_model
	printf 'The capital of France is [MASK].\nno mask here\n' |
		sift-tok -m $MODEL --task mlm | sift-batch --mlm-probability 0 |
		sift-fwd -m $MODEL --init-head 1 --top-k 3 | sift-cat > $T/got
	run jq -c 'select(.masks) | [.id, [.masks[] | .pos, (.top | length)]]' $T/got
	assert_output '[0,[6,3]]
[1,[]]'
	# each token_str is the vocabulary's line token + 1
	run jq -r 'select(.masks) | .masks[].top[] | "\(.token) \(.token_str)"' $T/got
	while read -r id s; do
		[ "$(sed -n "$((id + 1))p" $MODEL/vocab.txt)" = "$s" ]
	done <<< "$output"
}

@test "fill-mask to a full disk, or from a truncated stream, is an error" {
	fill_batches > $T/b
	run -1 --separate-stderr bash -c "sift-fwd -m $F/mlm-model $T/b > /dev/full"
	assert_equal "$stderr" "sift-fwd: stdout: write error: No space left on device"
	head -c 200 $T/b > $T/cut
	run -1 --separate-stderr bash -c "sift-fwd -m $F/mlm-model $T/cut > /dev/null"
	assert_equal "$stderr" "sift-fwd: $T/cut:2: truncated record"
}
