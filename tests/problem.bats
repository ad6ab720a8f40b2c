#!/usr/bin/env bats
# problem.bats: multi-label and regression heads, from sift-tok to sift-eval.

load helper

# the hyperparameters of tests/ref/make_train_fixtures.py
PARITY="--lr 1e-3 --weight-decay 0.01 --warmup 2 --max-grad-norm 0.5 --dropout 0 --attn-dropout 0"

setup() {
	F=$FIXTURES/train
	E=$FIXTURES/eval
	T=$BATS_TEST_TMPDIR
	# the fixture models have a small vocabulary (w5 .. w499) and
	# tokenize as BertTokenizer: sift-tok works with them
	TOK="sift-tok -m $F/multi"
}

# a JSON lines file $1 from the lines that follow
jl() {
	local f=$1
	shift
	printf '%s\n' "$@" > "$f"
}

# --- sift-tok ---

@test "a JSON array label makes a multi-label examples stream: label_set ids, problem_type in the header" {
	jl $T/in.jsonl '{"text":"w5 w6","label":["refund","bug"]}' '{"text":"w7","label":["urgent"]}' \
		'{"text":"w8","label":[]}'
	run -0 bash -c "$TOK -f jsonl $T/in.jsonl | sift-cat | jq -c '[.labels, .problem_type, .label_set]'"
	assert_output '[["bug","refund","urgent"],"multi_label_classification",null]
[null,null,[0,1]]
[null,null,[2]]
[null,null,[]]'
}

@test "--multi-label splits a TSV label column at --label-sep, ',' by default" {
	printf 'bug,refund\tw5 w6\nurgent\tw7\n' > $T/in.tsv
	run -0 bash -c "$TOK -f tsv --multi-label $T/in.tsv | sift-cat | jq -c 'select(.id) // . | .label_set // .labels'"
	assert_output '["bug","refund","urgent"]
[0,1]
[2]'
	printf 'bug|refund\tw5 w6\n' > $T/in.tsv
	run -0 bash -c "$TOK -f tsv --multi-label --label-sep '|' $T/in.tsv | sift-cat | jq -c '.label_set // .labels'"
	assert_output '["bug","refund"]
[0,1]'
}

@test "empty pieces of a TSV label column are dropped, and an empty column is the empty set" {
	printf 'bug,,refund,\tw5 w6\n\tw7\n' > $T/in.tsv
	run -0 bash -c "$TOK -f tsv --multi-label $T/in.tsv | sift-cat | jq -c '.label_set // .labels'"
	assert_output '["bug","refund"]
[0,1]
[]'
}

@test "a label named twice in a list is in the set once" {
	jl $T/in.jsonl '{"text":"w5","label":["bug","bug","refund"]}'
	run -0 bash -c "$TOK -f jsonl $T/in.jsonl | sift-cat | jq -c 'select(.id == 0) | .label_set'"
	assert_output '[0,1]'
}

@test "a label list with a label not in --labels is an error naming the file and line" {
	printf 'bug\nrefund\n' > $T/labels
	jl $T/in.jsonl '{"text":"w5","label":["bug"]}' '{"text":"w6","label":["bug","spam"]}'
	run -1 --separate-stderr $TOK -f jsonl --labels $T/labels $T/in.jsonl
	assert_equal "$stderr" "sift-tok: $T/in.jsonl:2: label 'spam' not in --labels"
}

@test "a label list where the first record settled a single label is an error naming the file and line" {
	jl $T/in.jsonl '{"text":"w5","label":"bug"}' '{"text":"w6","label":["bug"]}'
	run -1 --separate-stderr $TOK -f jsonl $T/in.jsonl
	assert_equal "$stderr" "sift-tok: $T/in.jsonl:2: a label list where one label is expected (--multi-label)"
}

@test "a list with a label that is not a string or integer is an error naming the file and line" {
	jl $T/in.jsonl '{"text":"w5","label":["bug",{"x":1}]}'
	run -1 --separate-stderr $TOK -f jsonl $T/in.jsonl
	assert_equal "$stderr" "sift-tok: $T/in.jsonl:1: a label of the list is not a string or integer"
}

@test "a fraction as a class label is an error that names --regression" {
	jl $T/in.jsonl '{"text":"w5","label":2.5}'
	run -1 --separate-stderr $TOK -f jsonl $T/in.jsonl
	assert_equal "$stderr" "sift-tok: $T/in.jsonl:1: label 2.5 is a fraction where a class label is expected (--regression)"
}

@test "--regression writes each number as target under the one label 'score'" {
	jl $T/in.jsonl '{"text":"w5","label":2.5}' '{"text":"w6","label":4}' '{"text":"w7"}'
	run -0 bash -c "$TOK -f jsonl --regression $T/in.jsonl | sift-cat | jq -c '[.labels, .problem_type, .target]'"
	assert_output '[["score"],"regression",null]
[null,null,2.5]
[null,null,4]
[null,null,null]'
	printf '3.75\tw5\n' > $T/in.tsv
	run -0 bash -c "$TOK -f tsv --regression $T/in.tsv | sift-cat | jq -c 'select(.id == 0) | .target'"
	assert_output '3.75'
}

@test "--regression refuses a label that is not a number, NaN, infinity and a list, naming the file and line" {
	printf 'high\tw5\n' > $T/in.tsv
	run -1 --separate-stderr $TOK -f tsv --regression $T/in.tsv
	assert_equal "$stderr" "sift-tok: $T/in.tsv:1: label 'high' is not a number (--regression)"
	printf '1\tw5\nnan\tw6\n' > $T/in.tsv
	run -1 --separate-stderr $TOK -f tsv --regression $T/in.tsv
	assert_equal "$stderr" "sift-tok: $T/in.tsv:2: label 'nan' is not a finite number"
	printf '1e999\tw6\n' > $T/in.tsv
	run -1 --separate-stderr $TOK -f tsv --regression $T/in.tsv
	assert_equal "$stderr" "sift-tok: $T/in.tsv:1: label '1e999' is not a finite number"
	jl $T/in.jsonl '{"text":"w5","label":"NaN"}'
	run -1 --separate-stderr $TOK -f jsonl --regression $T/in.jsonl
	assert_equal "$stderr" "sift-tok: $T/in.jsonl:1: label 'NaN' is not a finite number"
	jl $T/in.jsonl '{"text":"w5","label":[1]}'
	run -1 --separate-stderr $TOK -f jsonl --regression $T/in.jsonl
	assert_equal "$stderr" "sift-tok: $T/in.jsonl:1: a label list where a number is expected (--regression)"
}

@test "--multi-label and --regression are misuse with each other, with ner, and --label-sep without --multi-label" {
	run -2 --separate-stderr $TOK --multi-label --regression
	assert_equal "$stderr" "sift-tok: --multi-label and --regression: one or the other
Try 'sift-tok --help'."
	run -2 --separate-stderr $TOK --task ner --regression
	assert_equal "$stderr" "sift-tok: --regression: only with --task cls or pair
Try 'sift-tok --help'."
	run -2 --separate-stderr $TOK --label-sep ';'
	assert_equal "$stderr" "sift-tok: --label-sep: only with --multi-label
Try 'sift-tok --help'."
	run -2 --separate-stderr $TOK --multi-label --label-sep ''
	assert_equal "$stderr" "sift-tok: --label-sep: the separator is empty
Try 'sift-tok --help'."
}

# --- sift-batch ---

@test "multi-label batches carry f32 multi-hot labels, regression ones f32 targets, NaN without gold" {
	jl $T/in.jsonl '{"text":"w5 w6","label":["refund","bug"]}' '{"text":"w7","label":[]}'
	run -0 bash -c "$TOK -f jsonl --labels <(printf 'bug\nrefund\nurgent\n') $T/in.jsonl |
		sift-batch -b 2 | sift-cat | tail -n +2 | grep -o '\"labels\":\\[[^]]*\\]'"
	assert_output '"labels":[1.0,1.0,0.0,0.0,0.0,0.0]'
	jl $T/in.jsonl '{"text":"w5","label":0.5}' '{"text":"w7"}'
	run -0 bash -c "$TOK -f jsonl --regression $T/in.jsonl | sift-batch -b 2 | sift-cat | tail -n +2 | grep -o '\"labels\":\\[[^]]*\\]'"
	assert_output '"labels":[0.5,"NaN"]'
}

@test "a label_set id outside the header's labels is an error naming the record" {
	printf '%s\n' '{"sift":1,"kind":"examples","task":"cls","labels":["a","b"],"problem_type":"multi_label_classification"}' \
		'{"id":0,"ids":[2,5,3],"label_set":[0,2]}' | sift-cat > $T/ex
	run -1 --separate-stderr sift-batch $T/ex
	assert_equal "$stderr" "sift-batch: $T/ex:2: label_set: label id 2 outside 0..1"
}

# --- sift-train and sift-fwd: parity with transformers ---

@test "5 steps of a multi-label model (BCEWithLogitsLoss) predict as PyTorch after the same 5 AdamW steps" {
	sift-cat -s $F/multi.jsonl > $T/b
	sift-train -m $F/multi -o $T/out $PARITY $T/b > $T/log
	sift-fwd -m $T/out $T/b | sift-cat > $T/pred
	run jq -s -e --slurpfile want $F/multi.expect.jsonl '
		(.[1:] | length) == ($want | length) and
		([.[1:], $want] | transpose | all(.[0] as $g | .[1] as $w |
			$g.id == $w.id and $g.pred == $w.pred and
			([$g.probs, $w.probs] | transpose | all((.[0] - .[1]) | fabs < 1e-5))))' $T/pred
	assert_success
}

@test "5 steps of a regression model (MSELoss) predict as PyTorch after the same 5 AdamW steps" {
	sift-cat -s $F/reg.jsonl > $T/b
	sift-train -m $F/reg -o $T/out $PARITY $T/b > $T/log
	sift-fwd -m $T/out $T/b | sift-cat > $T/pred
	run jq -s -e --slurpfile want $F/reg.expect.jsonl '
		(.[1:] | length) == ($want | length) and
		([.[1:], $want] | transpose | all(.[0].id == .[1].id and
			((.[0].pred - .[1].pred) | fabs) < 1e-4 * (1 + (.[1].pred | fabs))))' $T/pred
	assert_success
}

@test "the checkpoint's config.json says problem_type, with one label for regression" {
	sift-cat -s $F/multi.jsonl > $T/b
	sift-train -m $F/multi -o $T/m --max-steps 1 $T/b > /dev/null
	run jq -c '[.problem_type, (.id2label | length), .architectures]' $T/m/config.json
	assert_output '["multi_label_classification",4,["BertForSequenceClassification"]]'
	sift-cat -s $F/reg.jsonl > $T/b
	sift-train -m $F/reg -o $T/r --max-steps 1 $T/b > /dev/null
	run jq -c '[.problem_type, .id2label]' $T/r/config.json
	assert_output '["regression",{"0":"score"}]'
}

@test "training refuses a multi-label batch whose labels are not f32[B*L], and an example without gold" {
	jq -c 'if .B == 3 and .T == 12 then .labels = [1,0,0] else . end' $F/multi.jsonl | sift-cat -s > $T/b
	run -1 --separate-stderr sift-train -m $F/multi -o $T/out $T/b
	assert_equal "$stderr" "sift-train: $T/b:2: labels must be f32[12] (multi_label_classification), got i32 labels"
	jq -c 'if .B == 3 and .T == 12 then .labels[5] = "NaN" else . end' $F/multi.jsonl | sift-cat -s > $T/b
	run -1 --separate-stderr sift-train -m $F/multi -o $T/out $T/b
	assert_equal "$stderr" "sift-train: $T/b:2: example 1 has no gold label"
}

# --- sift-fwd ---

@test "sift-fwd writes a multi-label prediction as the labels at or over --threshold, and the probabilities" {
	sift-cat -s $F/multi.jsonl > $T/b
	run -0 bash -c "sift-fwd -m $F/multi $T/b | sift-cat | jq -c 'select(.id == 0) | [(.probs | length), .gold]'"
	assert_output '[4,["billing","bug","refund"]]'
	sift-fwd -m $F/multi --threshold 0 $T/b | sift-cat > $T/all
	run jq -c 'select(.id == 0) | .pred' $T/all
	assert_output '["billing","bug","refund","urgent"]'
	sift-fwd -m $F/multi --threshold 1 $T/b | sift-cat > $T/none
	run jq -c 'select(.id == 0) | .pred' $T/none
	assert_output '[]'
	sift-fwd -m $F/multi $T/b | sift-cat > $T/half
	run jq -e -s '.[1:] | all(. as $r | .pred == [range(4) | select($r.probs[.] >= 0.5) | ["billing","bug","refund","urgent"][.]])' $T/half
	assert_success
}

@test "--thresholds FILE sets a threshold per label, the others keep --threshold" {
	sift-cat -s $F/multi.jsonl > $T/b
	printf 'bug 0\nurgent\t0.0\n' > $T/thr
	sift-fwd -m $F/multi --threshold 1 --thresholds $T/thr $T/b | sift-cat > $T/p
	run jq -c -s '[.[1:][] | .pred] | unique' $T/p
	assert_output '[["bug","urgent"]]'
}

@test "a --thresholds file with an unknown label or a bad number is an error naming the file and line" {
	sift-cat -s $F/multi.jsonl > $T/b
	printf 'bug 0.2\nspam 0.3\n' > $T/thr
	run -1 --separate-stderr sift-fwd -m $F/multi --thresholds $T/thr $T/b
	assert_equal "$stderr" "sift-fwd: $T/thr:2: label 'spam' is not one of the model's"
	printf 'bug 1.5\n' > $T/thr
	run -1 --separate-stderr sift-fwd -m $F/multi --thresholds $T/thr $T/b
	assert_equal "$stderr" "sift-fwd: $T/thr:1: threshold '1.5' is not a number from 0 to 1"
}

@test "--top-k and --abstain are misuse for a multi-label model" {
	sift-cat -s $F/multi.jsonl > $T/b
	run -2 --separate-stderr sift-fwd -m $F/multi --top-k 2 $T/b
	assert_equal "$stderr" "sift-fwd: $F/multi: --top-k and --abstain are for single-label models
Try 'sift-fwd --help'."
}

@test "--thresholds for a single-label model is misuse" {
	run -2 --separate-stderr sift-fwd -m $F/seq --thresholds /dev/null
	assert_equal "$stderr" "sift-fwd: --thresholds: for a multi-label model, without --abstain
Try 'sift-fwd --help'."
}

@test "sift-fwd writes a regression prediction as the value, with the gold target" {
	sift-cat -s $F/reg.jsonl > $T/b
	run -0 bash -c "sift-fwd -m $F/reg $T/b | sift-cat | jq -c 'select(.id == 0) | [(.pred | type), .gold, .probs]'"
	assert_output '["number",2.5,null]'
	run -0 bash -c "sift-fwd -m $F/reg $T/b | sift-cat | jq -r 'select(.sift) | .problem_type'"
	assert_output regression
}

# --- sift-eval ---

# metrics (JSON) against the scikit-learn/scipy ones in $1: every number
# of the expected map within 1e-9
same_scores() {
	jq -e -s --slurpfile want "$1" '
		.[0] as $got | [$want[0] | paths(numbers)] | all(. as $p |
			(($got | getpath($p)) - ($want[0] | getpath($p))) | fabs < 1e-9)'
}

@test "multi-label scores are scikit-learn's: micro and macro F1, subset accuracy, hamming loss, per label" {
	sift-cat -s $E/multi.pred.jsonl | sift-eval | sift-cat | tail -1 > $T/m
	run same_scores $E/multi.expect.json < $T/m
	assert_success
}

@test "regression scores are scikit-learn's and scipy's: MSE, MAE, Pearson, Spearman with tied ranks" {
	sift-cat -s $E/reg.pred.jsonl | sift-eval | sift-cat | tail -1 > $T/m
	run same_scores $E/reg.expect.json < $T/m
	assert_success
	run jq -r .problem_type $T/m
	assert_output regression
}

@test "a multi-label prediction with an unknown label or no gold is an error naming the record" {
	jq -c 'if .id == 3 then .pred = ["spam"] else . end' $E/multi.pred.jsonl | sift-cat -s > $T/p
	run -1 --separate-stderr sift-eval $T/p
	assert_equal "$stderr" "sift-eval: $T/p:5: pred: 'spam' is not one of the header's labels"
	jq -c 'if .id == 0 then del(.gold) else . end' $E/multi.pred.jsonl | sift-cat -s > $T/p
	run -1 --separate-stderr sift-eval $T/p
	assert_equal "$stderr" "sift-eval: $T/p:2: no gold label set: only predictions with gold labels can be scored"
}

@test "--abstain is refused for multi-label predictions" {
	sift-cat -s $E/multi.pred.jsonl > $T/p
	run -1 --separate-stderr sift-eval --abstain oos $T/p
	assert_equal "$stderr" "sift-eval: $T/p:1: --abstain, --scheme and --mode are not for multi_label_classification predictions"
}

# --- dev scoring ---

@test "dev scoring of a multi-label model is sift-fwd | sift-eval's micro-F1, the default metric" {
	sift-cat -s $F/multi.jsonl > $T/b
	sift-train -m $F/multi -o $T/out --lr 1e-2 --dev $T/b $T/b | sift-cat > $T/log
	run jq -r 'select(.end) | .best_step' $T/log
	best=$output
	run jq -r 'select(.dev) | .dev.micro_f1' $T/log
	dev=$output
	sift-fwd -m $T/out $T/b | sift-eval | sift-cat | tail -1 > $T/m
	run jq -r .micro.f1 $T/m
	assert_equal "$output" "$dev"
	run jq -r .metric $T/out/sift-train.json
	run jq -r .dev.metric $T/out/sift-train.json
	assert_output micro_f1
	[ -n "$best" ]
}

@test "dev scoring of a regression model is sift-fwd | sift-eval's, Pearson by default, mse lower is better" {
	sift-cat -s $F/reg.jsonl > $T/b
	sift-train -m $F/reg -o $T/out --lr 1e-3 --dev $T/b $T/b | sift-cat > $T/log
	run jq -r .dev.metric $T/out/sift-train.json
	assert_output pearson
	sift-fwd -m $T/out $T/b | sift-eval | sift-cat | tail -1 > $T/m
	run jq -r '[.pearson, .spearman, .mse] | @tsv' $T/m
	want=$output
	run jq -r 'select(.dev) | [.dev.pearson, .dev.spearman, .dev.mse] | @tsv' $T/log
	assert_output "$want"
	sift-train -m $F/reg -o $T/out2 --lr 1e-3 --dev $T/b --metric mse $T/b > /dev/null
	run jq -r '.dev | [.metric, .best == .last.mse] | @tsv' $T/out2/sift-train.json
	assert_output "mse	true"
}

@test "a metric of another problem is refused before training" {
	sift-cat -s $F/reg.jsonl > $T/b
	run -1 --separate-stderr sift-train -m $F/reg -o $T/out --dev $T/b --metric micro_f1 $T/b
	assert_equal "$stderr" "sift-train: --metric micro_f1: not a score of regression dev data (pearson, spearman, mse, mae or loss)"
	sift-cat -s $F/seq.jsonl > $T/s
	run -1 --separate-stderr sift-train -m $F/seq -o $T/out --dev $T/s --metric pearson $T/s
	assert_equal "$stderr" "sift-train: --metric pearson: not a score of cls and pair dev data (accuracy, macro_f1 or loss)"
}

@test "a dev stream of another problem_type is refused" {
	sift-cat -s $F/multi.jsonl > $T/b
	jq -c 'if .sift then del(.problem_type) else . end' $F/multi.jsonl | sift-cat -s > $T/d
	run -1 --separate-stderr sift-train -m $F/multi -o $T/out --dev $T/d $T/b
	assert_equal "$stderr" "sift-train: $T/d:1: problem_type single_label_classification, the training stream's is multi_label_classification"
}

# --- sift-report ---

@test "sift-report prints a multi-label metrics record per label, with the averages, subset accuracy and hamming loss" {
	sift-cat -s $E/multi.pred.jsonl | sift-eval > $T/m
	run -0 sift-report $T/m
	assert_line --index 0 --regexp '^ +precision +recall +f1-score +support$'
	assert_line --index 1 --regexp '^ +billing +0\.79 +0\.92 +0\.85 +12$'
	assert_line --index 4 --regexp '^ +urgent +0\.00 +0\.00 +0\.00 +15$'
	assert_line --index 5 --regexp '^ +micro avg +0\.69 +0\.55 +0\.61 +49$'
	assert_line --index 6 --regexp '^ +macro avg +0\.52 +0\.59 +0\.55 +49$'
	assert_line --index 7 --regexp '^subset accuracy +0\.35 +40$'
	assert_line --index 8 --regexp '^ +hamming loss +0\.21$'
	run -0 bash -c "sift-report -F csv $T/m | grep '^micro avg,'"
	assert_output "micro avg,$(jq -r '[.micro.precision, .micro.recall, .micro.f1] | map(tostring) | join(",")' $E/multi.expect.json),49"
}

@test "sift-report prints a regression metrics record, and ranks a regression log by pearson" {
	sift-cat -s $E/reg.pred.jsonl | sift-eval > $T/m
	run -0 sift-report $T/m
	assert_output "mse       $(jq -r '.mse * 10000 | round / 10000 | tostring' $E/reg.expect.json)
mae       $(jq -r '.mae * 10000 | round / 10000 | tostring' $E/reg.expect.json)
pearson   $(jq -r '.pearson * 10000 | round / 10000 | tostring' $E/reg.expect.json)
spearman  $(jq -r '.spearman * 10000 | round / 10000 | tostring' $E/reg.expect.json)
examples  30"
	sift-cat -s $F/reg.jsonl > $T/b
	sift-train -m $F/reg -o $T/out --dev $T/b $T/b > $T/log
	run -0 bash -c "sift-report $T/log | grep '^best dev'"
	assert_output --regexp '^best dev +pearson -?[0-9]\.[0-9]{4} at step 5 '
}

@test "a single-label stream trained from a multi-label checkpoint saves a single-label one" {
	sift-cat -s $F/multi.jsonl > $T/b
	sift-train -m $F/multi -o $T/m --max-steps 1 $T/b > /dev/null
	# the same texts and labels, one label each
	jq -c 'if .sift then del(.problem_type)
	       elif .B then .labels = [range(.B) | . % 4] | .ex |= map(del(.label_set))
	       else . end' $F/multi.jsonl | sift-cat -s > $T/s
	sift-train -m $T/m -o $T/s1 --max-steps 1 $T/s > /dev/null
	run jq -c '[.problem_type, (.id2label | length)]' $T/s1/config.json
	assert_output '["single_label_classification",4]'
	sift-fwd -m $T/s1 $T/s | sift-cat > $T/p
	run jq -r 'select(.id == 0) | .pred | type' $T/p
	assert_output string
}
