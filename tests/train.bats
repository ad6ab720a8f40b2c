#!/usr/bin/env bats
# train.bats: sift-train, batches in, a checkpoint transformers loads out.

load helper

# the hyperparameters of tests/ref/make_train_fixtures.py
PARITY="--lr 1e-3 --weight-decay 0.01 --warmup 2 --max-grad-norm 0.5 --dropout 0 --attn-dropout 0"

setup() {
	F=$FIXTURES/train
	T=$BATS_TEST_TMPDIR
	sift-cat -s $F/tok.jsonl > $T/tok.b
	sift-cat -s $F/seq.jsonl > $T/seq.b
}

# the 5 fixture batches of task $1 repeated over $2 epochs, with markers
epochs() {
	jq -c -n --argjson E "$2" '[inputs] as $a
		| ($a[0] | .total = 5 * $E | .epochs = $E),
		  (range($E) as $e | ($a[1:6][] | .epoch = $e), {epoch_end: $e})' \
		$F/$1.jsonl | sift-cat -s
}

# predictions (JSON lines) against the PyTorch ones in $1: same labels,
# probabilities within 1e-5
same_predictions() {
	jq -s -e --slurpfile want "$1" '
		(.[1:] | length) == ($want | length) and
		([.[1:], $want] | transpose | all(.[0] as $g | .[1] as $w |
			$g.id == $w.id and $g.pred == $w.pred and
			([[$g.prob // $g.probs] | flatten, [$w.prob // $w.probs] | flatten]
			 | transpose | all((.[0] - .[1]) | fabs < 1e-5))))'
}

@test "--help prints the usage and exits 0" {
	run -0 --separate-stderr sift-train --help
	assert_line --index 0 --partial "usage: sift-train (-m dir | --config file) -o dir"
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run -0 sift-train --version
	assert_output "sift-train 0.1"
}

@test "a missing output directory is a usage error" {
	run -2 --separate-stderr sift-train -m $F/tok $T/tok.b
	[ "$stderr" = "sift-train: missing -o DIR
Try 'sift-train --help'." ]
}

@test "a bad learning rate is a usage error" {
	run -2 --separate-stderr sift-train -m $F/tok -o $T/out --lr fast $T/tok.b
	[ "$stderr" = "sift-train: --lr: expected a number from 0 to 1000, got 'fast'
Try 'sift-train --help'." ]
}

@test "an unknown option is a usage error, named as typed, after the program's name and not its path" {
	run -2 --separate-stderr $SIFT_BIN/sift-train --bogus=1
	assert_equal "$stderr" "sift-train: unknown option '--bogus'
Try 'sift-train --help'."
	run -2 --separate-stderr $SIFT_BIN/sift-train --max-steps
	assert_equal "$stderr" "sift-train: option '--max-steps' needs a value
Try 'sift-train --help'."
}

@test "a seed that is no integer from 0 to 2^64-1 is misuse, with the words of every program" {
	for s in '-1' '+1' ' 1' '1e3' '18446744073709551616'; do
		run -2 --separate-stderr sift-train -m $F/tok -o $T/out --seed "$s" $T/tok.b
		assert_equal "$stderr" "sift-train: --seed: expected an integer from 0 to 18446744073709551615, got '$s'
Try 'sift-train --help'."
	done
	[ ! -e $T/out ]
}

@test "a seed past 2^53 trains and resumes: every program takes seeds up to 2^64-1" {
	sift-train -m $F/tok -o $T/out --max-steps 2 --stop-after 1 --seed 18446744073709551615 $T/tok.b > /dev/null
	run sift-train -m $F/tok -o $T/out --resume --max-steps 2 --seed 18446744073709551615 $T/tok.b
	assert_success
	run -1 --separate-stderr sift-train -m $F/tok -o $T/out --resume --max-steps 2 --seed 18446744073709551614 $T/tok.b
	assert_equal "$stderr" "sift-train: $T/out: saved with another seed or step total; resume with the same options and stream"
}

@test "5 steps of a token model predict as PyTorch after the same 5 AdamW steps" {
	sift-train -m $F/tok -o $T/out $PARITY $T/tok.b > $T/log
	sift-fwd -m $T/out $T/tok.b | sift-cat > $T/pred
	run same_predictions $F/tok.expect.jsonl < $T/pred
	assert_success
}

@test "5 steps of a sequence model predict as PyTorch after the same 5 AdamW steps" {
	sift-train -m $F/seq -o $T/out $PARITY $T/seq.b > $T/log
	sift-fwd -m $T/out $T/seq.b | sift-cat > $T/pred
	run same_predictions $F/seq.expect.jsonl < $T/pred
	assert_success
}

@test "the log has a record per step with loss, lr, gradient norm and speed" {
	sift-train -m $F/tok -o $T/out $PARITY $T/tok.b | sift-cat > $T/log
	run jq -c 'select(.loss) | [.step, .epoch, .lr, (.grad_norm > 0), (.tokens_per_s > 0), (.elapsed >= 0)]' $T/log
	assert_output '[1,0,0,true,true,true]
[2,0,0.0005,true,true,true]
[3,0,0.001,true,true,true]
[4,0,0.000666666667,true,true,true]
[5,0,0.000333333333,true,true,true]'
	run jq -c 'select(.end) | .end' $T/log
	assert_output '"done"'
}

@test "without --dev the end record and sift-report name the last step as the kept one" {
	sift-train -m $F/tok -o $T/out $PARITY $T/tok.b > $T/log
	run bash -c "sift-cat $T/log | jq -c 'select(.end) | [.step, .best_step]'"
	assert_output '[5,5]'
	run bash -c "sift-report $T/log | grep '^end'"
	assert_output 'end          done; the trainer kept step 5'
}

@test "the gradient norms in the log are PyTorch's" {
	sift-train -m $F/tok -o $T/out $PARITY $T/tok.b | sift-cat > $T/log
	# clip_grad_norm_ of make_train_fixtures.py on the 5 batches
	run jq -e -s '[.[] | select(.grad_norm) | .grad_norm] as $g
		| [1.437149167060852, 2.117168426513672, 2.5106558799743652,
		   1.2680771350860596, 3.375396490097046] as $w
		| [$g, $w] | transpose | all((.[0] - .[1]) | fabs < 1e-4)' $T/log
	assert_success
}

@test "the checkpoint is a Hugging Face directory with labels and the tokenizer files" {
	sift-train -m $F/tok -o $T/out $PARITY $T/tok.b > /dev/null
	run jq -c '[.architectures, .id2label["1"], .label2id["I-LOC"]]' $T/out/config.json
	assert_output '[["BertForTokenClassification"],"B-PER",4]'
	cmp $F/tok/vocab.txt $T/out/vocab.txt
	cmp $F/tok/tokenizer_config.json $T/out/tokenizer_config.json
	[ -f $T/out/train_state.bin ]
}

@test "a resumed run ends with the bytes of an uninterrupted one" {
	epochs tok 3 > $T/e3.b
	opts="--lr 1e-3 --weight-decay 0.01 --warmup 2 --accum 2 --dropout 0.2 --seed 7"
	sift-train -m $F/tok -o $T/full $opts $T/e3.b > /dev/null
	sift-train -m $F/tok -o $T/half $opts --stop-after 4 $T/e3.b > $T/log1
	run jq -r 'select(.end) | .end' <(sift-cat $T/log1)
	assert_output "stopped"
	! cmp -s $T/full/model.safetensors $T/half/model.safetensors
	sift-train -m $F/tok -o $T/half $opts --resume $T/e3.b > /dev/null
	cmp $T/full/model.safetensors $T/half/model.safetensors
	# the training state too, but for the wall-clock seconds (bytes 89..96)
	# and the hash that covers them (the last 8)
	n=$(($(stat -c %s $T/full/train_state.bin) - 96 - 8))
	cmp -i 96 -n $n $T/full/train_state.bin $T/half/train_state.bin
}

@test "dropout changes the result and the seed fixes it" {
	sift-train -m $F/tok -o $T/a --dropout 0.3 --seed 1 $T/tok.b > /dev/null
	sift-train -m $F/tok -o $T/b --dropout 0.3 --seed 1 $T/tok.b > /dev/null
	sift-train -m $F/tok -o $T/c --dropout 0.3 --seed 2 $T/tok.b > /dev/null
	cmp $T/a/model.safetensors $T/b/model.safetensors
	! cmp -s $T/a/model.safetensors $T/c/model.safetensors
}

@test "the thread count does not change the trained bytes" {
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 sift-train -m $F/tok -o $T/a --dropout 0.1 $T/tok.b > /dev/null
	OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 sift-train -m $F/tok -o $T/b --dropout 0.1 $T/tok.b > /dev/null
	cmp $T/a/model.safetensors $T/b/model.safetensors
}

# two batches of real sentences (930 and 497 tokens: four and two row
# tiles) for MiniLM: $T/real.b
real_batches() {
	need_model
	need_data
	head -1200 $DATA/conll2003/eng.train > $T/c
	sift-tok -m $MODEL -f conll --iob1-to-iob2 $T/c | sift-batch -b 32 > $T/real.b
}

@test "MiniLM trains the same bytes on 1, 2 and 3 threads, and a run stopped on 2 resumes on 1 to them" {
	real_batches
	opts="--max-steps 2 --dropout 0.1 --freeze-embeddings"
	for t in 1 2 3; do
		OMP_NUM_THREADS=$t sift-train -m $MODEL -o $T/m$t $opts $T/real.b > /dev/null
	done
	cmp $T/m1/model.safetensors $T/m2/model.safetensors
	cmp $T/m1/model.safetensors $T/m3/model.safetensors
	OMP_NUM_THREADS=2 sift-train -m $MODEL -o $T/r $opts --stop-after 1 $T/real.b > /dev/null
	! cmp -s $T/m1/model.safetensors $T/r/model.safetensors
	OMP_NUM_THREADS=1 sift-train -m $MODEL -o $T/r $opts --resume $T/real.b > /dev/null
	cmp $T/m1/model.safetensors $T/r/model.safetensors
}

# the fp32 products' library (SIFT_GEMM): $SIFT_BIN built with oneDNN?
need_dnnl() {
	ldd "$SIFT_BIN/sift-train" | grep -q libdnnl || skip "this build has no oneDNN (libdnnl-dev)"
}

@test "with either GEMM library MiniLM trains the same bytes on 1 and 2 threads, and the two agree within rounding" {
	real_batches
	need_dnnl
	opts="--max-steps 2 --dropout 0.1 --freeze-embeddings"
	for g in openblas dnnl; do
		for t in 1 2; do
			SIFT_GEMM=$g OMP_NUM_THREADS=$t sift-train -m $MODEL -o $T/$g$t $opts $T/real.b > $T/$g$t.log
		done
		cmp $T/${g}1/model.safetensors $T/${g}2/model.safetensors
	done
	# another library sums in another order: not the same bits, the
	# same losses to rounding (two steps of 32 sentences)
	! cmp -s $T/openblas1/model.safetensors $T/dnnl1/model.safetensors
	jq -s -e '[.[] | select(.loss)] | length == 2' <(sift-cat $T/openblas1.log)
	jq -n -e --slurpfile a <(sift-cat $T/openblas1.log) --slurpfile b <(sift-cat $T/dnnl1.log) '
		[$a, $b | map(select(.loss) | .loss)] | transpose | all((.[0] - .[1]) | fabs < 1e-4)'
}

@test "a resume under the other GEMM library warns and names it" {
	need_dnnl
	SIFT_GEMM=openblas sift-train -m $F/tok -o $T/out --stop-after 2 $T/tok.b > /dev/null
	SIFT_GEMM=dnnl run -0 --separate-stderr bash -c "sift-train -m $F/tok -o $T/out --resume $T/tok.b > $T/log"
	[[ $stderr == "sift-train: $T/out: saved by another machine or build ("*"), resumed on "*"; gemm oneDNN "*" sgemm; the result may differ"* ]]
	[[ $stderr != *"gemm oneDNN"*"resumed on"* ]]
	run jq -r 'select(.end) | .end' <(sift-cat $T/log)
	assert_output done
}

@test "SIFT_GEMM naming no library is an error, exit 1, and nothing is written" {
	SIFT_GEMM=mkl run -1 --separate-stderr sift-train -m $F/tok -o $T/out $T/tok.b
	# "(openblas)" alone in a build without oneDNN
	[[ $stderr == "sift-train: SIFT_GEMM=mkl: not a GEMM library (openblas"*")" ]]
	[ ! -e $T/out ]
	SIFT_GEMM=openblas run -0 sift-train -m $F/tok -o $T/out --max-steps 1 $T/tok.b
}

# the JSON header of safetensors file $1
st_header() {
	local n
	n=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
	tail -c +9 "$1" | head -c "$n"
}

@test "a MiniLM token head holds no pooler: BertForTokenClassification's tensors, and a state of as many parameters" {
	real_batches
	sift-train -m $MODEL -o $T/out --max-steps 1 $T/real.b > /dev/null
	# MiniLM has a pooler; BertForTokenClassification (add_pooling_layer
	# False) saves the other encoder parameters under bert. (position_ids
	# is a buffer transformers no longer saves), then the classifier
	want=$(st_header $MODEL/model.safetensors | jq -c '[keys[] | select(. != "__metadata__" and . != "embeddings.position_ids" and (startswith("pooler.") | not)) | "bert." + .] + ["classifier.bias", "classifier.weight"] | sort')
	got=$(st_header $T/out/model.safetensors | jq -c '[keys[] | select(. != "__metadata__")] | sort')
	assert_equal "$got" "$want"
	# the state's parameter count (int64 at byte 360) is the model's: no
	# pooler is carried in memory beside it
	total=$(st_header $T/out/model.safetensors | jq '[to_entries[] | select(.key != "__metadata__") | .value.shape | reduce .[] as $d (1; . * $d)] | add')
	n=$(od -An -t d8 -j 360 -N 8 $T/out/train_state.bin | tr -d ' ')
	assert_equal "$n" "$total"
}

@test "a kill -9 at any moment leaves a loadable checkpoint" {
	epochs tok 200 > $T/long.b
	sift-train -m $F/tok -o $T/out --max-steps 2 $T/tok.b > /dev/null
	for delay in 0.05 0.1 0.2 0.3 0.15 0.25 0.4 0.07; do
		sift-train -m $F/tok -o $T/out --save-every 1 $T/long.b > /dev/null &
		pid=$!
		sleep $delay
		kill -9 $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
		run sift-fwd -m $T/out $T/tok.b
		assert_success
		# the training state is whole too
		[ -s $T/out/train_state.bin ]
	done
}

@test "a second run on the same output fails at once and the first one's checkpoint loads" {
	command -v flock > /dev/null || skip "flock(1) not installed"
	# the first run holds the lock while it waits for its stream
	mkfifo $T/feed
	sift-train -m $F/tok -o $T/out $T/feed > $T/log1 2> $T/err1 &
	pid=$!
	exec 7> $T/feed
	# (at most 200 looks: a run that never locks fails the test)
	for i in $(seq 200); do
		flock -n $T/.out.sift-lock true || break
		sleep 0.05
	done
	if flock -n $T/.out.sift-lock true; then
		exec 7>&-
		kill $pid
		fail "the first run holds no lock"
	fi
	run -1 --separate-stderr timeout 10 sift-train -m $F/tok -o $T/out/ $T/tok.b
	assert_equal "$stderr" "sift-train: $T/out/: in use by another sift-train ($T/.out.sift-lock is locked)"
	cat $T/tok.b >&7
	exec 7>&-
	wait $pid
	[ ! -s $T/err1 ]
	run sift-fwd -m $T/out $T/tok.b
	assert_success
	# and the next run may go on
	sift-train -m $F/tok -o $T/out $T/tok.b > /dev/null
}

@test "a training state that does not belong to the model beside it is refused" {
	sift-train -m $F/tok -o $T/a --stop-after 2 --lr 1e-3 $T/tok.b > /dev/null
	sift-train -m $F/tok -o $T/b --stop-after 3 --lr 1e-3 $T/tok.b > /dev/null
	cp $T/b/train_state.bin $T/a/train_state.bin
	run -1 --separate-stderr sift-train -m $F/tok -o $T/a --resume --lr 1e-3 $T/tok.b
	assert_equal "$stderr" "sift-train: $T/a/train_state.bin: not the state of the model.safetensors beside it (saved with another model)"
}

@test "a resume on another machine or build warns once and goes on" {
	SIFT_TEST_DESCRIBE="machine A" sift-train -m $F/tok -o $T/out --stop-after 2 $T/tok.b > /dev/null
	SIFT_TEST_DESCRIBE="machine B" run -0 --separate-stderr bash -c "sift-train -m $F/tok -o $T/out --resume $T/tok.b > $T/log"
	assert_equal "$stderr" "sift-train: $T/out: saved by another machine or build (machine A), resumed on machine B; the result may differ from an uninterrupted run's in the last bits"
	run jq -r 'select(.end) | .end' <(sift-cat $T/log)
	assert_output done
	# the same machine: no warning
	sift-train -m $F/tok -o $T/o2 --stop-after 2 $T/tok.b > /dev/null
	run -0 --separate-stderr bash -c "sift-train -m $F/tok -o $T/o2 --resume $T/tok.b > /dev/null"
	[ -z "$stderr" ]
}

@test "a NaN loss stops the run with its step and keeps the last checkpoint" {
	sift-train -m $F/tok -o $T/out $PARITY $T/tok.b > /dev/null
	cp $T/out/model.safetensors $T/before
	run -1 --separate-stderr sift-train -m $F/nan -o $T/out $T/tok.b
	[ "$stderr" = "sift-train: step 1: loss is nan; stopping (the last checkpoint is kept)" ]
	cmp $T/before $T/out/model.safetensors
}

@test "dev rounds between steps leave the training as it was" {
	# the trained parameters and AdamW's moments in the state (after the
	# header's 360 bytes, before the hash) are those of a run without --dev
	for task in tok seq; do
		epochs $task 2 > $T/e.b
		opts="--accum 2 --dropout 0.1 --lr 1e-3"
		sift-train -m $F/$task -o $T/$task-plain $opts $T/e.b > /dev/null
		sift-train -m $F/$task -o $T/$task-dev $opts --dev $T/$task.b --eval-every 1 $T/e.b > /dev/null
		n=$(($(stat -c %s $T/$task-plain/train_state.bin) - 360 - 8))
		cmp -i 360 -n $n $T/$task-plain/train_state.bin $T/$task-dev/train_state.bin
	done
}

@test "dev scores in the log are sift-eval's scores of the kept model" {
	sift-train -m $F/tok -o $T/out $PARITY --dev $T/tok.b --eval-every 2 $T/tok.b | sift-cat > $T/log
	run jq -c 'select(.dev) | .step' $T/log
	assert_output '2
4
5'
	best=$(jq -s -c '[.[] | select(.dev)] | max_by(.dev.f1) | .dev.f1' $T/log)
	sift-fwd -m $T/out $T/tok.b | sift-eval | sift-cat > $T/m
	run jq -c 'select(.overall) | .overall.f1' $T/m
	assert_output "$best"
}

@test "dev scores of windowed sentences are sift-eval's scores of the kept model" {
	# sentences of 20-53 words cut into windows of 16 tokens: words the
	# windows share count once, entities at window edges stay whole
	awk 'BEGIN { srand(7); for (s = 0; s < 12; s++) { n = 20 + 3 * s
		for (i = 0; i < n; i++) {
			if (rand() < 0.15) { t = rand() < 0.5 ? "PER" : "LOC"
				b = t == "PER" ? 400 : 440
				print "w" b + int(rand() * 40) " B-" t
				if (rand() < 0.6 && i + 1 < n) { print "w" b + int(rand() * 40) " I-" t; i++ }
			} else print "w" int(rand() * 400) " O"
		}
		print "" } }' > $T/long.conll
	printf 'O\nB-PER\nI-PER\nB-LOC\nI-LOC\n' > $T/labels
	sift-tok -m $F/tok -f conll --labels $T/labels --max-length 16 --stride 4 $T/long.conll > $T/ex
	[ "$(sift-cat $T/ex | jq -s '[.[1:][] | select(.nwin > 1)] | length')" -gt 12 ]
	sift-batch -b 4 $T/ex > $T/dev.b
	sift-batch -b 4 -e 3 -s --seed 1 $T/ex > $T/train.b
	sift-train -m $F/tok -o $T/out --lr 1e-2 --dropout 0 --attn-dropout 0 --dev $T/dev.b --eval-every 5 $T/train.b | sift-cat > $T/log
	best=$(jq -s -c '[.[] | select(.dev)] | max_by(.dev.f1) | .dev.f1' $T/log)
	sift-fwd -m $T/out $T/dev.b | sift-eval | sift-cat > $T/m
	run jq -c 'select(.overall) | .overall.f1' $T/m
	assert_output "$best"
	run jq -c 'select(.overall) | .overall.f1 > 0' $T/m
	assert_output true
}

@test "a shuffled windowed dev set is scored as sift-fwd | sift-eval scores it" {
	# windows of a sentence scattered over the batches, in any order
	awk 'BEGIN { srand(11); for (s = 0; s < 10; s++) { n = 24 + 4 * s
		for (i = 0; i < n; i++)
			if (rand() < 0.2) print "w" 400 + int(rand() * 40) " B-PER"
			else print "w" int(rand() * 400) " O"
		print "" } }' > $T/long.conll
	printf 'O\nB-PER\nI-PER\nB-LOC\nI-LOC\n' > $T/labels
	sift-tok -m $F/tok -f conll --labels $T/labels --max-length 16 --stride 4 $T/long.conll > $T/ex
	sift-batch -b 3 -s --seed 5 $T/ex > $T/dev.b
	sift-batch -b 4 -e 2 -s --seed 1 $T/ex > $T/train.b
	sift-train -m $F/tok -o $T/out --lr 1e-2 --dropout 0 --attn-dropout 0 --dev $T/dev.b --eval-every 3 $T/train.b | sift-cat > $T/log
	best=$(jq -s -c '[.[] | select(.dev)] | max_by(.dev.f1) | .dev.f1' $T/log)
	sift-fwd -m $T/out $T/dev.b | sift-eval | sift-cat > $T/m
	run jq -c 'select(.overall) | .overall.f1' $T/m
	assert_output "$best"
}

@test "dev accuracy and macro-F1 of a sequence model are sift-eval's of the kept model" {
	sift-train -m $F/seq -o $T/out --lr 1e-3 --dropout 0 --attn-dropout 0 --dev $T/seq.b --eval-every 1 --metric accuracy $T/seq.b | sift-cat > $T/log
	best=$(jq -s -c '[.[] | select(.dev)] | max_by(.dev.accuracy) | .dev' $T/log)
	sift-fwd -m $T/out $T/seq.b | sift-eval | sift-cat > $T/m
	run jq -c --argjson d "$best" 'select(.accuracy) | [.accuracy == $d.accuracy, .macro.f1 == $d.macro_f1]' $T/m
	assert_output '[true,true]'
}

@test "patience stops the run early" {
	epochs seq 20 > $T/e.b
	sift-train -m $F/seq -o $T/out --lr 1e-6 --dev $T/seq.b --eval-every 1 --patience 2 --metric loss $T/e.b | sift-cat > $T/log
	run jq -r 'select(.end) | .end' $T/log
	assert_output "done"
	sift-train -m $F/seq -o $T/out --lr 1e-1 --dev $T/seq.b --eval-every 1 --patience 2 $T/e.b | sift-cat > $T/log
	run jq -r 'select(.end) | .end' $T/log
	assert_output "early_stop"
}

@test "a metric the dev data has no score for is refused" {
	run sift-train -m $F/seq -o $T/out --dev $T/seq.b --metric f1 $T/seq.b
	assert_failure 1
	assert_output 'sift-train: --metric f1: not a score of cls and pair dev data (accuracy, macro_f1 or loss)'
	run sift-train -m $F/tok -o $T/out --dev $T/tok.b --metric macro_f1 $T/tok.b
	assert_failure 1
	assert_output 'sift-train: --metric macro_f1: not a score of ner dev data (f1, accuracy or loss)'
	[ ! -e $T/out ]
}

@test "a model from a config alone trains and loads in sift-fwd" {
	sift-train --config $F/tok/config.json -o $T/out --lr 1e-3 $T/tok.b | sift-cat > $T/log
	run jq -e -s '[.[] | select(.loss) | .loss] | length == 5 and all(. > 0)' $T/log
	assert_success
	run sift-fwd -m $T/out $T/tok.b
	assert_success
}

@test "freezing every layer trains the classifier alone" {
	sift-train -m $F/tok -o $T/a --freeze-layers 2 --lr 1e-2 $T/tok.b > /dev/null
	sift-train -m $F/tok -o $T/b --freeze-layers 2 --lr 1e-3 $T/tok.b > /dev/null
	sift-train -m $F/tok -o $T/c --lr 1e-3 $T/tok.b > /dev/null
	# the classifier is written last: 5 x 32 weights and 5 biases, fp32
	n=$(($(stat -c %s $T/a/model.safetensors) - 660))
	cmp -n $n $T/a/model.safetensors $T/b/model.safetensors
	! cmp -s $T/a/model.safetensors $T/b/model.safetensors
	! cmp -s -n $n $T/a/model.safetensors $T/c/model.safetensors
}

@test "a directory that is no checkpoint is not replaced" {
	mkdir $T/mine
	echo precious > $T/mine/notes
	run -1 --separate-stderr sift-train -m $F/tok -o $T/mine $T/tok.b
	[ "$stderr" = "sift-train: $T/mine: exists and is not a sift-train checkpoint (it would be replaced)" ]
	[ "$(cat $T/mine/notes)" = precious ]
}

@test "a truncated stream is an error naming the record" {
	head -c 900 $T/tok.b > $T/cut
	run -1 --separate-stderr sift-train -m $F/tok -o $T/out $T/cut
	[[ "$stderr" == "sift-train: $T/cut:"*"truncated record"* ]]
}

@test "a header epoch count no stream can hold is an error naming the key" {
	sed '1s/"epochs": 1/"epochs": 9223372036854775807/' $F/tok.jsonl | sift-cat -s > $T/huge
	run -1 --separate-stderr timeout 10 sift-train -m $F/tok -o $T/out $T/huge
	[ "$stderr" = "sift-train: $T/huge:1: key 'epochs': 9223372036854775807 is out of range (at most 1000000000000000)" ]
	[ ! -e $T/out ]
}

@test "an integer past the int64 range is reported as out of range" {
	# JSON cannot say 2^64-1: the header's total 5 (a fixint) becomes a uint 64
	perl -0777 -pe 's/\xa5total\x05/\xa5total\xcf\xff\xff\xff\xff\xff\xff\xff\xff/' $T/tok.b > $T/big
	run -1 --separate-stderr sift-train -m $F/tok -o $T/out $T/big
	[ "$stderr" = "sift-train: $T/big:1: key 'total': integer 18446744073709551615 out of range" ]
}

@test "a config with vocab_size 0 names vocab_size" {
	jq '.vocab_size = 0' $F/tok/config.json > $T/config.json
	run -1 --separate-stderr sift-train --config $T/config.json -o $T/out $T/tok.b
	[ "$stderr" = "sift-train: $T/config.json: vocab_size is 0" ]
}

@test "a config too large to train is refused before anything is drawn" {
	jq '.num_hidden_layers = 1000 | .hidden_size = 4096 | .intermediate_size = 16384' $F/tok/config.json > $T/config.json
	run -1 --separate-stderr timeout 10 sift-train --config $T/config.json -o $T/out $T/tok.b
	[[ "$stderr" == "sift-train: $T/config.json: 2.01e+11 parameters (1000 layers of hidden_size 4096), more than the "*" allowed" ]]
	[ ! -e $T/out ]
	# MiniLM's shape with 1000 layers
	jq '.vocab_size = 30522 | .hidden_size = 384 | .num_attention_heads = 12 | .intermediate_size = 1536 | .num_hidden_layers = 1000' $F/tok/config.json > $T/config.json
	run -1 --separate-stderr timeout 10 sift-train --config $T/config.json -o $T/out $T/tok.b
	[[ "$stderr" == "sift-train: $T/config.json: 1.79e+09 parameters (1000 layers of hidden_size 384), more than the "*" allowed" ]]
}

@test "a config error names the config file given, not a copy" {
	echo '{"vocab_size": 10' > $T/broken.json
	run -1 --separate-stderr sift-train --config $T/broken.json -o $T/out $T/tok.b
	[[ "$stderr" == "sift-train: $T/broken.json:"* ]]
}

@test "a FIFO or a directory as a model file is refused at once, naming it" {
	for f in model.safetensors config.json vocab.txt; do
		rm -rf $T/m && cp -r $F/tok $T/m && rm $T/m/$f && mkfifo $T/m/$f
		run -1 --separate-stderr timeout 10 sift-train -m $T/m -o $T/out $T/tok.b
		assert_equal "$stderr" "sift-train: $T/m/$f: not a regular file (a FIFO)"
	done
	rm -rf $T/m && cp -r $F/tok $T/m && rm $T/m/model.safetensors && mkdir $T/m/model.safetensors
	run -1 --separate-stderr timeout 10 sift-train -m $T/m -o $T/out $T/tok.b
	assert_equal "$stderr" "sift-train: $T/m/model.safetensors: not a regular file (a directory)"
	mkfifo $T/config.json
	run -1 --separate-stderr timeout 10 sift-train --config $T/config.json -o $T/out $T/tok.b
	assert_equal "$stderr" "sift-train: $T/config.json: not a regular file (a FIFO)"
}

@test "a FIFO as the state file of --resume is refused at once" {
	sift-train -m $F/tok -o $T/out --stop-after 2 $T/tok.b > /dev/null
	rm $T/out/train_state.bin && mkfifo $T/out/train_state.bin
	run -1 --separate-stderr timeout 10 sift-train -m $F/tok -o $T/out --resume $T/tok.b
	assert_equal "$stderr" "sift-train: $T/out/train_state.bin: not a regular file (a FIFO)"
}

@test "a stream without labels cannot be trained on" {
	jq -c 'del(.labels) | if .sift then .labels = ["O","B-PER","I-PER","B-LOC","I-LOC"] else . end' $F/tok.jsonl | sift-cat -s > $T/nolab
	run -1 --separate-stderr sift-train -m $F/tok -o $T/out $T/nolab
	[ "$stderr" = "sift-train: $T/nolab:2: missing key 'labels' (training needs gold labels)" ]
}

@test "a log reader that goes away stops the log, not the training: the checkpoint is written" {
	epochs tok 3 > $T/e3.b
	sift-train -m $F/tok -o $T/want --dropout 0.1 $T/e3.b > /dev/null
	run bash -c "sift-train -m $F/tok -o $T/out --dropout 0.1 $T/e3.b 2> $T/err | head -c 10 > /dev/null; echo \${PIPESTATUS[0]}"
	assert_output 0
	cmp $T/want/model.safetensors $T/out/model.safetensors
	run cat $T/err
	assert_output "sift-train: stdout: the log's reader went away; training goes on without the log"
}

@test "a reader that goes away ends sift-fwd, sift-tok, sift-batch and sift-cat quietly with 0" {
	sift-cat -s $FIXTURES/fwd/ner.batches.jsonl > $T/b
	yes 'hello world' | head -50000 > $T/lines
	run bash -c "sift-tok -m $F/tok -f lines $T/lines | head -c 10 > /dev/null; echo \${PIPESTATUS[0]}"
	assert_output 0
	run bash -c "sift-tok -m $F/tok -f lines $T/lines | sift-batch | head -c 10 > /dev/null; echo \${PIPESTATUS[*]}"
	assert_output "0 0 0"
	run bash -c "sift-tok -m $F/tok -f lines $T/lines | sift-cat | head -1 > /dev/null; echo \${PIPESTATUS[*]}"
	assert_output "0 0 0"
	run bash -c "cat $T/b $T/b $T/b | sift-fwd -m $FIXTURES/fwd/tok-model | head -c 10 > /dev/null; echo \${PIPESTATUS[*]}"
	assert_output "0 0 0"
}

@test "a full disk for the log is an error" {
	run -1 --separate-stderr bash -c "sift-train -m $F/tok -o $T/out $T/tok.b > /dev/full"
	[ "$stderr" = "sift-train: stdout: write error: No space left on device" ]
}

@test "off a terminal a successful run writes nothing on stderr" {
	run -0 --separate-stderr bash -c "sift-train -m $F/tok -o $T/out $T/tok.b | sift-cat > /dev/null"
	[ -z "$stderr" ]
}

@test "resuming without a checkpoint is an error naming the state file" {
	run -1 --separate-stderr sift-train -m $F/tok -o $T/none --resume $T/tok.b
	[ "$stderr" = "sift-train: $T/none/train_state.bin: No such file or directory" ]
}

@test "a batches stream of another task is refused by --task" {
	run -1 --separate-stderr sift-train -m $F/tok -o $T/out --task cls $T/tok.b
	[ "$stderr" = "sift-train: $T/tok.b:1: the stream's task is 'ner', not 'cls'" ]
}

@test "a bad count, step count or probability names its option" {
	run sift-train -m $F/tok -o $T/out --patience -1 $T/tok.b
	assert_failure 2
	assert_line -n 0 "sift-train: --patience: expected an integer from 0 to 1000000, got '-1'"
	run sift-train -m $F/tok -o $T/out --attn-dropout 2 $T/tok.b
	assert_failure 2
	assert_line -n 0 "sift-train: --attn-dropout: expected a number from 0 to 0.999, got '2'"
	run sift-train -m $F/tok -o $T/out --eval-every 0 $T/tok.b
	assert_failure 2
	assert_line -n 0 "sift-train: --eval-every: expected an integer from 1 to 1000000000000000, got '0'"
}

# ---- -o: checked before anything is read ----

@test "a missing parent of -o is created, as mkdir -p does" {
	cd $T
	sift-train -m $F/tok -o runs/ner/v1 $T/tok.b > /dev/null
	run sift-fwd -m runs/ner/v1 $T/tok.b
	assert_success
}

@test "an -o under a file is an error naming both, before the input is read" {
	echo x > $T/file
	mkfifo $T/feed
	# nobody writes the FIFO: a run that read its input first would hang
	run -1 --separate-stderr timeout 10 sift-train -m $F/tok -o $T/file/out $T/feed
	assert_equal "$stderr" "sift-train: $T/file/out: cannot create $T/file: Not a directory"
	assert_equal "$output" ""
}

@test "an -o that is a file is an error before the input is read" {
	echo precious > $T/out
	mkfifo $T/feed
	run -1 --separate-stderr timeout 10 sift-train -m $F/tok -o $T/out $T/feed
	assert_equal "$stderr" "sift-train: $T/out: exists and is not a directory"
	assert_equal "$output" ""
	[ "$(cat $T/out)" = precious ]
}

@test "a directory that is no checkpoint is refused before the input is read" {
	mkdir $T/mine
	echo precious > $T/mine/notes
	mkfifo $T/feed
	run -1 --separate-stderr timeout 10 sift-train -m $F/tok -o $T/mine $T/feed
	assert_equal "$stderr" "sift-train: $T/mine: exists and is not a sift-train checkpoint (it would be replaced)"
	assert_equal "$output" ""
}

@test "a symbolic link as -o is misuse, and the link and its target stay as they were" {
	sift-train -m $F/tok -o $T/v1 --max-steps 2 $T/tok.b > /dev/null
	ln -s v1 $T/current
	cp $T/v1/model.safetensors $T/before
	for o in $T/current $T/current/; do
		run -2 --separate-stderr sift-train -m $F/tok -o $o $T/tok.b
		assert_equal "$stderr" "sift-train: $o: a symbolic link; name the directory it points to, or a new one, and switch the link after training"
		assert_equal "$output" ""
		[ -L $T/current ]
		assert_equal "$(readlink $T/current)" v1
		cmp $T/before $T/v1/model.safetensors
	done
}

# ---- SIGTERM and SIGINT ----

# starts sift-train on the FIFO $T/feed in the background with options
# "$@" (job control on: a background job's SIGINT is not ignored), its log
# in $T/log, its stderr in $T/err; $pid; fd 7 writes the FIFO
start_fed() {
	mkfifo $T/feed
	set -m
	# SIGINT at its default: sift-train leaves alone a signal it was
	# started ignoring, and set -m does not undo an ignore that this
	# shell inherited (bats started from a background job: CI's runner)
	env --default-signal=INT sift-train -m $F/tok -o $T/out "$@" $T/feed > $T/log 2> $T/err &
	pid=$!
	set +m
	exec 7> $T/feed
}

# waits (at most 400 looks) until the log has step $1; then until the run
# waits for input (its main thread in poll, where /proc says so)
wait_step() {
	local i
	for i in $(seq 400); do
		# (not jq -e: jq 1.6 exits 0 on an empty input)
		[ "$(sift-cat $T/log 2> /dev/null | jq "select(.loss and .step == $1) | .step")" = "$1" ] && break
		sleep 0.05
	done
	for i in $(seq 100); do
		grep -q poll /proc/$pid/wchan 2> /dev/null && break
		sleep 0.02
	done
}

# the waited-for run's exit status; a run that does not end fails the test
end_of_run() {
	local i
	for i in $(seq 400); do
		kill -0 $pid 2> /dev/null || break
		sleep 0.05
	done
	if kill -0 $pid 2> /dev/null; then
		exec 7>&-
		kill -9 $pid
		fail "sift-train did not stop on its signal while it waited for input"
	fi
	rc=0
	wait $pid || rc=$?
	exec 7>&-
}

@test "SIGTERM saves a checkpoint at the step boundary, exits 143, and --resume ends with an uninterrupted run's bytes" {
	opts="--lr 1e-3 --dropout 0.2 --seed 7"
	sift-train -m $F/tok -o $T/full $opts $T/tok.b > /dev/null
	start_fed $opts
	head -3 $F/tok.jsonl | sift-cat -s >&7
	wait_step 2
	kill -TERM $pid
	end_of_run
	assert_equal "$rc" 143
	assert_equal "$(cat $T/err)" "sift-train: SIGTERM: checkpoint at step 2 in $T/out; --resume continues"
	[ -f $T/out/train_state.bin ]
	assert_equal "$(jq -c '[.steps, .end, .state, .input.batches]' $T/out/sift-train.json)" '[2,"stopped",true,2]'
	run jq -r 'select(.end) | .end' <(sift-cat $T/log)
	assert_output stopped
	# the whole stream again, from the start
	sift-train -m $F/tok -o $T/out $opts --resume $T/tok.b > /dev/null
	cmp $T/full/model.safetensors $T/out/model.safetensors
}

@test "SIGINT in the middle of an accumulation group saves the step before it, exits 130, and resumes to the same bytes" {
	opts="--lr 1e-3 --accum 2 --dropout 0.2 --seed 3"
	sift-train -m $F/tok -o $T/full $opts $T/tok.b > /dev/null
	start_fed $opts
	# 3 batches: step 1, then half a group
	head -4 $F/tok.jsonl | sift-cat -s >&7
	wait_step 1
	kill -INT $pid
	end_of_run
	assert_equal "$rc" 130
	assert_equal "$(cat $T/err)" "sift-train: SIGINT: checkpoint at step 1 in $T/out; --resume continues"
	assert_equal "$(jq -c '[.steps, .input.batches, .input.records]' $T/out/sift-train.json)" '[1,2,2]'
	sift-train -m $F/tok -o $T/out $opts --resume $T/tok.b > /dev/null
	cmp $T/full/model.safetensors $T/out/model.safetensors
}

@test "a signal before the first step exits with its status and leaves -o untouched" {
	start_fed
	# the header only: the run waits for its first batch
	head -1 $F/tok.jsonl | sift-cat -s >&7
	for i in $(seq 100); do
		grep -q poll /proc/$pid/wchan 2> /dev/null && [ -s $T/log ] && break
		sleep 0.05
	done
	kill -TERM $pid
	end_of_run
	assert_equal "$rc" 143
	assert_equal "$(cat $T/err)" "sift-train: SIGTERM: stopped before the first step; nothing saved"
	[ ! -e $T/out ]
}

@test "a second SIGTERM while the first one's checkpoint is written leaves a whole checkpoint" {
	start_fed --save-every 1
	head -3 $F/tok.jsonl | sift-cat -s >&7
	wait_step 2
	# the second one ends the run at once wherever it lands (its default
	# action): the checkpoint is the one before or the new one
	kill -TERM $pid
	kill -TERM $pid 2> /dev/null || true
	end_of_run
	assert_equal "$rc" 143
	run sift-fwd -m $T/out $T/tok.b
	assert_success
	[ "$(od -An -j8 -N8 -t d8 $T/out/train_state.bin | tr -d ' ')" = 2 ]
}

@test "a signal's checkpoint under --no-state is the model alone: no train_state.bin, ever" {
	start_fed --no-state
	head -3 $F/tok.jsonl | sift-cat -s >&7
	wait_step 2
	kill -TERM $pid
	end_of_run
	assert_equal "$rc" 143
	assert_equal "$(cat $T/err)" "sift-train: SIGTERM: model of step 2 in $T/out, without train_state.bin (--no-state): nothing to resume"
	[ ! -e $T/out/train_state.bin ]
	[ -f $T/out/model.safetensors ]
	assert_equal "$(jq -c '[.steps, .end, .state]' $T/out/sift-train.json)" '[2,"stopped",false]'
	run sift-fwd -m $T/out $T/tok.b
	assert_success
}

@test "a signal on a step --no-state saved already under --save-every writes no train_state.bin either" {
	start_fed --no-state --save-every 1
	head -3 $F/tok.jsonl | sift-cat -s >&7
	wait_step 2
	kill -TERM $pid
	end_of_run
	assert_equal "$rc" 143
	[ ! -e $T/out/train_state.bin ]
	assert_equal "$(jq -c '[.steps, .state]' $T/out/sift-train.json)" '[2,false]'
}

# ---- --no-state, sift-train.json, train.log ----

@test "--no-state writes a model without train_state.bin that sift-fwd loads and --resume refuses" {
	sift-train -m $F/tok -o $T/full --lr 1e-3 $T/tok.b > /dev/null
	sift-train -m $F/tok -o $T/rel --lr 1e-3 --save-every 2 --no-state $T/tok.b > /dev/null
	[ ! -e $T/rel/train_state.bin ]
	cmp $T/full/model.safetensors $T/rel/model.safetensors
	assert_equal "$(jq .state $T/rel/sift-train.json)" false
	run sift-fwd -m $T/rel $T/tok.b
	assert_success
	run -1 --separate-stderr sift-train -m $F/tok -o $T/rel --lr 1e-3 --resume $T/tok.b
	assert_equal "$stderr" "sift-train: $T/rel: a model without train_state.bin (saved with --no-state, or the file removed): nothing to resume"
	# it is a checkpoint all the same: the next run may replace it
	sift-train -m $F/tok -o $T/rel --no-state $T/tok.b > /dev/null
}

@test "removing train_state.bin from a checkpoint leaves a model sift-fwd loads" {
	sift-train -m $F/tok -o $T/out --lr 1e-3 $T/tok.b > /dev/null
	sift-fwd -m $T/out $T/tok.b > $T/want
	rm $T/out/train_state.bin
	sift-fwd -m $T/out $T/tok.b > $T/got
	cmp $T/want $T/got
}

@test "sift-train.json records the task, labels, options, input and steps of the model beside it" {
	epochs tok 2 > $T/e2.b
	sift-train -m $F/tok -o $T/out --lr 1e-3 --accum 2 --seed 9 --dropout 0.1 --max-steps 5 $T/e2.b > /dev/null
	run jq -c '[.program, .version, .task, .labels, .steps, .best_step, .end, .state]' $T/out/sift-train.json
	assert_output '["sift-train","0.1","ner",["O","B-PER","I-PER","B-LOC","I-LOC"],5,5,"max_steps",true]'
	run jq -c '.options | [.lr, .seed, .accum, .dropout, .schedule, .max_steps, .total_steps, .device, .precision]' $T/out/sift-train.json
	assert_output '[0.001,9,2,0.1,"linear",5,5,"cpu","fp32"]'
	# steps of 2 batches, the third a short group ended by the epoch
	# marker: 9 batches and that marker make the 5 steps
	run jq -c '.input | [.path, .batches, .records]' $T/out/sift-train.json
	assert_output "[\"$T/e2.b\",9,10]"
	run jq -e '(.date | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")) and (.model.hash | test("^[0-9a-f]{16}$")) and .model.path != null and .elapsed >= 0' $T/out/sift-train.json
	assert_success
	# the same stream, the same input hash; another stream, another
	sift-train -m $F/tok -o $T/again --lr 1e-3 --accum 2 --seed 9 --dropout 0.1 --max-steps 5 $T/e2.b > /dev/null
	assert_equal "$(jq .input.hash $T/again/sift-train.json)" "$(jq .input.hash $T/out/sift-train.json)"
	sift-train -m $F/tok -o $T/other --lr 1e-3 $T/tok.b > /dev/null
	[ "$(jq .input.hash $T/other/sift-train.json)" != "$(jq .input.hash $T/out/sift-train.json)" ]
}

@test "sift-train.json has the last dev scores of the log and the dev file" {
	sift-train -m $F/tok -o $T/out --lr 1e-2 --dev $T/tok.b --eval-every 2 $T/tok.b | sift-cat > $T/log
	# sift-cat prints 9 digits, sift-train.json 15
	run jq -e --slurpfile log $T/log '([$log[] | select(.dev)] | last) as $d
		| .dev.last_step == $d.step and .dev.metric == "f1"
		  and ([.dev.last.f1, .dev.last.loss, .dev.last.accuracy] as $j
		       | [$d.dev.f1, $d.dev.loss, $d.dev.accuracy] as $l
		       | [$j, $l] | transpose | all((.[0] - .[1]) | fabs < 1e-8))' $T/out/sift-train.json
	assert_success
	assert_equal "$(jq -r '.dev.path' $T/out/sift-train.json)" "$T/tok.b"
	run jq -e '.dev.hash | test("^[0-9a-f]{16}$")' $T/out/sift-train.json
	assert_success
}

@test "train.log is the log stream, whether stdout took it or not, and sift-report reads it" {
	sift-train -m $F/tok -o $T/out $T/tok.b > $T/log
	cmp $T/log $T/out/train.log
	run bash -c "sift-report $T/out/train.log | grep '^end'"
	assert_output 'end          done; the trainer kept step 5'
	# a log reader gone at the first bytes: train.log has every record
	sift-train -m $F/tok -o $T/o2 $T/tok.b 2> /dev/null | head -c 10 > /dev/null
	run bash -c "sift-cat $T/o2/train.log | jq -c '[.step, .end]' | tr '\n' ' '"
	assert_output '[null,null] [1,null] [2,null] [3,null] [4,null] [5,null] [5,"done"] '
}

@test "a resumed run's train.log holds the steps of both runs" {
	sift-train -m $F/tok -o $T/out --stop-after 2 $T/tok.b > /dev/null
	sift-train -m $F/tok -o $T/out --resume $T/tok.b > /dev/null
	run bash -c "sift-cat $T/out/train.log | jq -c 'select(.loss) | .step' | tr '\n' ' '"
	assert_output "1 2 3 4 5 "
	run bash -c "sift-report $T/out/train.log | grep '^end'"
	assert_output 'end          done; the trainer kept step 5'
}

@test "the run-record example of the man page works" {
	cd $T
	mkdir -p tests/fixtures && ln -s $F tests/fixtures/train
	run bash -c "sift-cat -s tests/fixtures/train/tok.jsonl |
sift-train -m tests/fixtures/train/tok -o runs/tok --no-state > /dev/null &&
jq -c '[.steps, .options.seed, .state]' runs/tok/sift-train.json &&
sift-report runs/tok/train.log | grep '^end'"
	assert_success
	assert_output '[5,42,false]
end          done; the trainer kept step 5'
}

# ---- --task mlm: BertForMaskedLM (tests/ref/make_mlm_train_fixtures.py) ----

# the tensor names of safetensors file $1, sorted
st_names() {
	st_header "$1" | jq -r 'keys[] | select(. != "__metadata__")'
}

# the bytes of tensor $2 of safetensors file $1
st_bytes() {
	local n a b
	n=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
	a=$(st_header "$1" | jq -r --arg t "$2" '.[$t].data_offsets[0]')
	b=$(st_header "$1" | jq -r --arg t "$2" '.[$t].data_offsets[1]')
	tail -c +$((9 + n + a)) "$1" | head -c $((b - a))
}

# a stream of $1's fixture with its ids folded into the mlm fixture's
# vocabulary of 100 (special ids stay)
small_vocab() {
	jq -c 'if .ids then .ids |= map(. % 100) else . end' $F/$1.jsonl | sift-cat -s
}

@test "an mlm stream trains BertForMaskedLM: the task from the header, losses and gradient norms PyTorch's" {
	sift-cat -s $F/mlm.jsonl > $T/mlm.b
	sift-train -m $F/mlm -o $T/out $PARITY $T/mlm.b | sift-cat > $T/log
	run jq -r 'select(.sift) | .task' $T/log
	assert_output "mlm"
	# loss and clip_grad_norm_ of make_mlm_train_fixtures.py's 5 steps
	run jq -e -s '[.[] | select(.grad_norm)] as $s
		| [4.56462287902832, 4.72365665435791, 4.600239276885986,
		   4.636728763580322, 4.540508270263672] as $l
		| [4.004062175750732, 5.920198440551758, 4.733514308929443,
		   3.6477224826812744, 8.26482105255127] as $g
		| ($s | length) == 5
		  and ([[$s[].loss], $l] | transpose | all((.[0] - .[1]) | fabs < 1e-4))
		  and ([[$s[].grad_norm], $g] | transpose | all((.[0] - .[1]) | fabs < 1e-4))' $T/log
	assert_success
}

@test "an mlm checkpoint is a BertForMaskedLM directory: encoder under bert., cls.predictions, no decoder tensors" {
	sift-cat -s $F/mlm.jsonl > $T/mlm.b
	sift-train --task mlm -m $F/mlm -o $T/out --lr 1e-3 $T/mlm.b > /dev/null
	run jq -c '[.architectures, has("id2label")]' $T/out/config.json
	assert_output '[["BertForMaskedLM"],false]'
	st_names $T/out/model.safetensors > $T/names
	run grep -v '^bert\.' $T/names
	assert_output 'cls.predictions.bias
cls.predictions.transform.LayerNorm.bias
cls.predictions.transform.LayerNorm.weight
cls.predictions.transform.dense.bias
cls.predictions.transform.dense.weight'
	# the same names as transformers' own save of the initial model
	diff <(st_names $F/mlm/model.safetensors) <(st_names $T/out/model.safetensors)
	cmp $F/mlm/vocab.txt $T/out/vocab.txt
}

@test "mlm dev rounds log the loss, its perplexity and the masked-token accuracy, and keep the lowest loss" {
	sift-cat -s $F/mlm.jsonl > $T/mlm.b
	epochs mlm 2 > $T/e.b
	sift-train -m $F/mlm -o $T/out --lr 1e-3 --dev $T/mlm.b --eval-every 3 $T/e.b > $T/raw
	sift-cat $T/raw > $T/log
	run jq -c 'select(.dev) | [.step, (.dev | keys), .dev.n]' $T/log
	assert_output '[3,["accuracy","loss","n","perplexity"],16]
[5,["accuracy","loss","n","perplexity"],16]
[6,["accuracy","loss","n","perplexity"],16]
[9,["accuracy","loss","n","perplexity"],16]
[10,["accuracy","loss","n","perplexity"],16]'
	run jq -e -s '[.[] | select(.dev) | .dev] | all(
		((.perplexity / (.loss | exp)) - 1 | fabs) < 1e-6
		and .accuracy >= 0 and .accuracy <= 1 and .loss > 0)' $T/log
	assert_success
	# the kept step is the lowest dev loss, and sift-report ranks by it
	best=$(jq -s -r '[.[] | select(.dev)] | min_by(.dev.loss) | .step' $T/log)
	run jq -r 'select(.end) | .best_step' $T/log
	assert_output "$best"
	run bash -c "sift-report $T/raw | grep '^best dev'"
	assert_output --regexp "^best dev     loss [0-9.]+ at step $best "
}

@test "mlm dev scores are those of the saved model's logits" {
	# a dev round after the last step scores the model that is saved:
	# training once more from it, with lr 0, scores it the same
	sift-cat -s $F/mlm.jsonl > $T/mlm.b
	sift-train -m $F/mlm -o $T/a --lr 1e-3 --dev $T/mlm.b $T/mlm.b | sift-cat > $T/log1
	sift-train -m $T/a -o $T/b --lr 0 --max-steps 1 --dev $T/mlm.b $T/mlm.b | sift-cat > $T/log2
	a=$(jq -c 'select(.dev) | .dev' $T/log1 | tail -n 1)
	b=$(jq -c 'select(.dev) | .dev' $T/log2 | tail -n 1)
	[ -n "$a" ] && [ "$a" = "$b" ]
}

@test "an mlm metric other than loss or accuracy is refused" {
	sift-cat -s $F/mlm.jsonl > $T/mlm.b
	run -1 --separate-stderr sift-train -m $F/mlm -o $T/out --dev $T/mlm.b --metric f1 $T/mlm.b
	assert_equal "$stderr" "sift-train: --metric f1: not a score of mlm dev data (loss or accuracy)"
	run -0 sift-train -m $F/mlm -o $T/out --dev $T/mlm.b --metric accuracy $T/mlm.b
	[ ! -e $T/out2 ]
}

@test "--task mlm takes mlm and refuses another task's stream" {
	run -1 --separate-stderr sift-train -m $F/mlm -o $T/out --task mlm $T/tok.b
	assert_equal "$stderr" "sift-train: $T/tok.b:1: the stream's task is 'ner', not 'mlm'"
	run -2 --separate-stderr sift-train -m $F/mlm -o $T/out --task qa $T/tok.b
	assert_equal "$stderr" "sift-train: --task: 'qa' is not ner, cls, pair or mlm
Try 'sift-train --help'."
}

@test "an mlm label outside the vocabulary is an error naming the record" {
	jq -c 'if .B then .labels[1] = 100 else . end' $F/mlm.jsonl | sift-cat -s > $T/bad.b
	run -1 --separate-stderr sift-train -m $F/mlm -o $T/out $T/bad.b
	assert_equal "$stderr" "sift-train: $T/bad.b:2: mlm label token id 100 outside 0..99"
}

@test "an MLM checkpoint starts a ner or cls model without its cls.predictions tensors" {
	small_vocab tok > $T/tok100.b
	small_vocab seq > $T/seq100.b
	sift-train -m $F/mlm -o $T/ner --lr 1e-3 $T/tok100.b > /dev/null
	sift-train -m $F/mlm -o $T/cls --lr 1e-3 $T/seq100.b > /dev/null
	run jq -c '.architectures' $T/ner/config.json $T/cls/config.json
	assert_output '["BertForTokenClassification"]
["BertForSequenceClassification"]'
	st_names $T/ner/model.safetensors > $T/names
	run grep -c '^cls\.' $T/names
	assert_output 0
	st_names $T/cls/model.safetensors > $T/names
	run grep -v '^bert\.encoder\.' $T/names
	assert_output 'bert.embeddings.LayerNorm.bias
bert.embeddings.LayerNorm.weight
bert.embeddings.position_embeddings.weight
bert.embeddings.token_type_embeddings.weight
bert.embeddings.word_embeddings.weight
bert.pooler.dense.bias
bert.pooler.dense.weight
classifier.bias
classifier.weight'
	run -0 sift-fwd -m $T/ner $T/tok100.b
	run -0 sift-fwd -m $T/cls $T/seq100.b
}

@test "sift-train's MLM output fine-tunes for cls, and sift-fwd takes it as a model without a classifier" {
	sift-cat -s $F/mlm.jsonl > $T/mlm.b
	small_vocab seq > $T/seq100.b
	sift-train -m $F/mlm -o $T/mlm --lr 1e-3 $T/mlm.b > /dev/null
	run -1 --separate-stderr sift-fwd -m $T/mlm $T/seq100.b
	assert_equal "$stderr" "sift-fwd: $T/mlm: the model has no trained head; give --init-head SEED to initialise one"
	sift-train -m $T/mlm -o $T/cls --lr 1e-3 $T/seq100.b | sift-cat > $T/log
	run jq -e -s '[.[] | select(.loss) | .loss] | length == 5 and all(isfinite)' $T/log
	assert_success
	run -0 sift-fwd -m $T/cls $T/seq100.b
}

@test "an mlm run resumed after an interruption ends with the bytes of an uninterrupted one" {
	epochs mlm 3 > $T/e3.b
	opts="--lr 1e-3 --weight-decay 0.01 --warmup 2 --accum 2 --dropout 0.2 --seed 7"
	sift-train -m $F/mlm -o $T/full $opts $T/e3.b > /dev/null
	sift-train -m $F/mlm -o $T/half $opts --stop-after 4 $T/e3.b > /dev/null
	! cmp -s $T/full/model.safetensors $T/half/model.safetensors
	sift-train -m $F/mlm -o $T/half $opts --resume $T/e3.b > /dev/null
	cmp $T/full/model.safetensors $T/half/model.safetensors
}

@test "freezing the embeddings leaves the tied word embeddings as they were and trains the MLM head" {
	sift-cat -s $F/mlm.jsonl > $T/mlm.b
	sift-train -m $F/mlm -o $T/out --freeze-embeddings --lr 1e-2 $T/mlm.b > /dev/null
	w=bert.embeddings.word_embeddings.weight
	cmp <(st_bytes $F/mlm/model.safetensors $w) <(st_bytes $T/out/model.safetensors $w)
	[ "$(st_bytes $T/out/model.safetensors $w | wc -c)" = 12800 ]
	! cmp -s <(st_bytes $F/mlm/model.safetensors cls.predictions.bias) \
		<(st_bytes $T/out/model.safetensors cls.predictions.bias)
}

@test "MiniLM, a BertModel, gets a new MLM head from the seed and trains it" {
	need_model
	sift-cat -s $F/mlm.jsonl > $T/mlm.b
	sift-train -m $MODEL -o $T/a --max-steps 2 --seed 3 $T/mlm.b > /dev/null
	sift-train -m $MODEL -o $T/b --max-steps 2 --seed 3 $T/mlm.b > /dev/null
	sift-train -m $MODEL -o $T/c --max-steps 2 --seed 4 $T/mlm.b > /dev/null
	cmp $T/a/model.safetensors $T/b/model.safetensors
	! cmp -s $T/a/model.safetensors $T/c/model.safetensors
	st_names $T/a/model.safetensors > $T/names
	run grep -c '^cls\.predictions\.' $T/names
	assert_output 5
	run jq -c '.architectures' $T/a/config.json
	assert_output '["BertForMaskedLM"]'
}

@test "the sift-train(1) mlm example runs" {
	cd $BATS_TEST_DIRNAME/..
	run bash -c "sift-cat -s tests/fixtures/train/mlm.jsonl > $T/mlm.b &&
		sift-train --task mlm -m tests/fixtures/train/mlm -o $T/mlm \
		--lr 1e-3 --dev $T/mlm.b $T/mlm.b | sift-report"
	assert_success
	assert_line --regexp '^best dev     loss '
}

@test "MiniLM's MLM head trains the same bytes on 1 and 3 threads" {
	need_model
	sift-cat -s $F/mlm.jsonl > $T/mlm.b
	for t in 1 3; do
		OMP_NUM_THREADS=$t sift-train -m $MODEL -o $T/m$t --max-steps 2 --dropout 0.1 $T/mlm.b > /dev/null
	done
	cmp $T/m1/model.safetensors $T/m3/model.safetensors
}

@test "with neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT set, sift-train runs with GOMP_SPINCOUNT=1000; one set is left alone" {
	mkfifo $T/in
	for e in "" "GOMP_SPINCOUNT=7" "OMP_WAIT_POLICY=passive"; do
		# the batches' fifo held open, so that the program waits on it
		exec 7<> $T/in
		env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT $e sift-train -m $FIXTURES/pipelines/tiny \
			-o $T/out-${e%%=*} --no-state $T/in > /dev/null 2> $T/err 7>&- &
		pid=$!
		for i in $(seq 50); do
			# after the re-exec, the program's own environment
			env_now=$(tr '\0' '\n' < /proc/$pid/environ 2> /dev/null | grep -E '^(GOMP_SPINCOUNT|OMP_WAIT_POLICY)=' | sort | tr '\n' ' ')
			[ -n "$env_now" ] && [ "$(readlink /proc/$pid/exe)" = "$(readlink -f $SIFT_BIN/sift-train)" ] && break
			sleep 0.1
		done
		exec 7>&-
		wait $pid || true
		case $e in
		"") assert_equal "$env_now" "GOMP_SPINCOUNT=1000 " ;;
		*) assert_equal "$env_now" "$e " ;;
		esac
	done
}
