#!/usr/bin/env bats
# loss.bats: sift-train's --class-weights and --label-smoothing (PyTorch's
# CrossEntropyLoss(weight, label_smoothing)); test-trainer checks the
# losses and gradients against tests/ref/make_loss_fixtures.py.

load helper

setup() {
	F=$FIXTURES/train
	T=$BATS_TEST_TMPDIR
	sift-cat -s $F/tok.jsonl > $T/tok.b
	sift-cat -s $F/seq.jsonl > $T/seq.b
}

# the class weights of sift-train.json $1 against a "label weight" file
# $2 (scikit-learn's), within 1e-6
same_weights() {
	jq -e -n --slurpfile got "$1" --rawfile want "$2" '
		[$want | split("\n")[] | select(length > 0 and (startswith("#") | not))
		 | split("\t") | {(.[0]): (.[1] | tonumber)}] | add as $w
		| $got[0].options.class_weights as $g
		| ($g | keys) == ($w | keys) and
		  all($w | keys[]; (($g[.] - $w[.]) | fabs) < 1e-6)'
}

@test "--class-weights auto is scikit-learn's balanced over the batches (cls)" {
	sift-train -m $F/seq -o $T/out --class-weights auto $T/seq.b > /dev/null
	same_weights $T/out/sift-train.json $F/balanced-seq.txt
	assert_equal "$(jq -r .options.class_weights_from $T/out/sift-train.json)" auto
}

@test "--class-weights auto counts the labelled tokens of ner batches, as scikit-learn's balanced" {
	sift-train -m $F/tok -o $T/out --class-weights auto $T/tok.b > /dev/null
	same_weights $T/out/sift-train.json $F/balanced-tok.txt
}

@test "--class-weights auto counts the first epoch of a stream of several" {
	jq -c -n '[inputs] as $a | ($a[0] | .total = 10 | .epochs = 2),
		(range(2) as $e | ($a[1:6][] | .epoch = $e), {epoch_end: $e})' \
		$F/seq.jsonl | sift-cat -s > $T/e2.b
	sift-train -m $F/seq -o $T/out --class-weights auto $T/e2.b > /dev/null
	same_weights $T/out/sift-train.json $F/balanced-seq.txt
}

@test "--class-weights auto reads standard input when it is a regular file" {
	sift-train -m $F/seq -o $T/out --class-weights auto < $T/seq.b > /dev/null
	same_weights $T/out/sift-train.json $F/balanced-seq.txt
}

@test "--class-weights auto on a pipe is a usage error" {
	run -2 --separate-stderr bash -c "cat $T/seq.b | sift-train -m $F/seq -o $T/out --class-weights auto"
	assert_equal "$stderr" "sift-train: --class-weights auto: stdin is not a regular file (a pipe cannot be read twice); give the weights in a file
Try 'sift-train --help'."
	[ ! -e $T/out ]
}

@test "--class-weights auto with a label that never occurs is an error naming it" {
	jq -c 'if .sift then .labels += ["angry"] else . end' $F/seq.jsonl | sift-cat -s > $T/x.b
	run -1 --separate-stderr sift-train --config $F/seq/config.json -o $T/out --class-weights auto $T/x.b
	assert_equal "$stderr" "sift-train: --class-weights auto: label 'angry' never occurs in $T/x.b; give the weights in a file"
}

@test "a class-weights file is recorded by label, and labels it omits get 1" {
	printf 'positive 4\n' > $T/w.txt
	sift-train -m $F/seq -o $T/out --class-weights $T/w.txt $T/seq.b > /dev/null
	run jq -c '.options | [.class_weights, .class_weights_from, .label_smoothing]' $T/out/sift-train.json
	assert_output "[{\"negative\":1,\"neutral\":1,\"positive\":4},\"$T/w.txt\",0]"
}

@test "without the options sift-train.json records no class weights and no smoothing" {
	sift-train -m $F/seq -o $T/out $T/seq.b > /dev/null
	run jq -c '.options | [.class_weights, .class_weights_from, .label_smoothing]' $T/out/sift-train.json
	assert_output '[null,null,0]'
}

@test "an unknown label in the class-weights file is an error naming the file and line" {
	printf 'positive 4\nangry 2\n' > $T/w.txt
	run -1 --separate-stderr sift-train -m $F/seq -o $T/out --class-weights $T/w.txt $T/seq.b
	assert_equal "$stderr" "sift-train: $T/w.txt:2: unknown label 'angry'"
}

@test "a weight that is not a positive finite number is an error naming the file and line" {
	for bad in 0 -2 nan inf 1x; do
		printf '# a comment\nneutral %s\n' "$bad" > $T/w.txt
		run -1 --separate-stderr sift-train -m $F/seq -o $T/out --class-weights $T/w.txt $T/seq.b
		assert_equal "$stderr" "sift-train: $T/w.txt:2: weight '$bad' is not a positive finite number"
	done
}

@test "a missing class-weights file is an error naming it" {
	run -1 --separate-stderr sift-train -m $F/seq -o $T/out --class-weights $T/none.txt $T/seq.b
	assert_equal "$stderr" "sift-train: $T/none.txt: No such file or directory"
}

@test "--label-smoothing outside 0..1 is a usage error" {
	run -2 --separate-stderr sift-train -m $F/seq -o $T/out --label-smoothing 1.5 $T/seq.b
	assert_equal "$stderr" "sift-train: --label-smoothing: expected a number from 0 to 1, got '1.5'
Try 'sift-train --help'."
}

@test "an empty --class-weights is a usage error" {
	run -2 --separate-stderr sift-train -m $F/seq -o $T/out --class-weights '' $T/seq.b
	assert_equal "$stderr" "sift-train: --class-weights: expected auto or a file
Try 'sift-train --help'."
}

@test "class weights and label smoothing are refused for mlm" {
	sift-cat -s $F/mlm.jsonl > $T/mlm.b
	run -1 --separate-stderr sift-train -m $F/mlm -o $T/out --label-smoothing 0.1 $T/mlm.b
	assert_equal "$stderr" "sift-train: --label-smoothing: for ner, cls and pair, not mlm"
	run -1 --separate-stderr sift-train -m $F/mlm -o $T/out --class-weights auto $T/mlm.b
	assert_equal "$stderr" "sift-train: --class-weights: for ner, cls and pair, not mlm"
}

@test "class weights and label smoothing are refused for multi-label and regression heads" {
	sift-cat -s $F/multi.jsonl > $T/multi.b
	run -1 --separate-stderr sift-train -m $F/multi -o $T/out --label-smoothing 0.1 $T/multi.b
	assert_equal "$stderr" "sift-train: --label-smoothing: for single-label heads (cross-entropy), not multi_label_classification"
	sift-cat -s $F/reg.jsonl > $T/reg.b
	run -1 --separate-stderr sift-train -m $F/reg -o $T/out2 --class-weights auto $T/reg.b
	assert_equal "$stderr" "sift-train: --class-weights: for single-label heads (cross-entropy), not regression"
	[ ! -e $T/out/model.safetensors ] && [ ! -e $T/out2/model.safetensors ]
}

@test "label smoothing and class weights change the training, and the same options give the same bytes" {
	sift-train -m $F/tok -o $T/plain --lr 1e-3 $T/tok.b > /dev/null
	sift-train -m $F/tok -o $T/a --lr 1e-3 --label-smoothing 0.2 --class-weights $F/weights-tok.txt $T/tok.b > /dev/null
	sift-train -m $F/tok -o $T/b --lr 1e-3 --label-smoothing 0.2 --class-weights $F/weights-tok.txt $T/tok.b > /dev/null
	cmp $T/a/model.safetensors $T/b/model.safetensors
	! cmp -s $T/plain/model.safetensors $T/a/model.safetensors
	assert_equal "$(jq .options.label_smoothing $T/a/sift-train.json)" 0.2
}

@test "a pair stream trains with class weights and label smoothing" {
	sift-cat -s $F/pair.jsonl > $T/pair.b
	run -0 sift-train -m $F/seq -o $T/out --task pair --label-smoothing 0.1 --class-weights $F/weights-seq.txt $T/pair.b
	assert_equal "$(jq -r .task $T/out/sift-train.json)" pair
}

@test "the dev loss is PyTorch's weighted, smoothed loss over the whole dev stream" {
	# lr 0: the model stays the initial one, whose loss over all 5
	# batches at once make_loss_fixtures.py computed, without and with
	for m in seq tok; do
		[ $m = seq ] && x=0.1 || x=0.2
		sift-train -m $F/$m -o $T/a --lr 0 --dev $T/$m.b $T/$m.b > $T/la
		sift-train -m $F/$m -o $T/b --lr 0 --class-weights $F/weights-$m.txt --label-smoothing $x --dev $T/$m.b $T/$m.b > $T/lb
		for c in a:plain b:both; do
			run jq -e -n --slurpfile want $F/loss-dev.json --arg m $m --arg c ${c#*:} \
				'[inputs | select(.dev) | .dev.loss][0] as $l
				 | (($l - $want[0][$m][$c]) | fabs) < 1e-5' <(sift-cat $T/l${c%%:*})
			assert_success
		done
	done
}

@test "a resumed run must have the checkpoint's class weights and label smoothing" {
	opts="--lr 1e-3 --class-weights $F/weights-seq.txt --label-smoothing 0.1"
	sift-train -m $F/seq -o $T/full $opts $T/seq.b > /dev/null
	sift-train -m $F/seq -o $T/half $opts --stop-after 2 $T/seq.b > /dev/null
	run -1 --separate-stderr sift-train -m $F/seq -o $T/half --lr 1e-3 --label-smoothing 0.1 --resume $T/seq.b
	assert_equal "$stderr" "sift-train: $T/half: saved with other class weights or label smoothing; resume with the same ones"
	run -1 --separate-stderr sift-train -m $F/seq -o $T/half --lr 1e-3 --class-weights $F/weights-seq.txt --label-smoothing 0.2 --resume $T/seq.b
	assert_equal "$stderr" "sift-train: $T/half: saved with other class weights or label smoothing; resume with the same ones"
	sift-train -m $F/seq -o $T/half $opts --resume $T/seq.b > /dev/null
	cmp $T/full/model.safetensors $T/half/model.safetensors
}
