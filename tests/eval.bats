#!/usr/bin/env bats
# eval.bats: sift-eval against conlleval.pl, seqeval and scikit-learn on
# predictions made from CoNLL-2003, Financial PhraseBank and AG News tags
# (tests/ref/make_eval_fixtures.py wrote the fixtures and the references).

load helper

setup() {
	E=$FIXTURES/eval
	T=$BATS_TEST_TMPDIR
}

# a fixture as a stream
stream() {
	zcat "$E/$1.jsonl.gz" | sift-cat -s > "$T/$1.sift"
}

# sift-eval's metrics record as JSON, every float exact
metrics() {
	local name=$1
	shift
	stream "$name"
	sift-eval "$@" "$T/$name.sift" | sift-report -F json > "$T/$name.json"
}

# every type and the micro average of one seqeval mode, compared as
# doubles: p, r, f1 and support must be the same numbers
agree_seqeval() {
	run jq -n --slurpfile a "$1" --slurpfile b "$2" --arg mode "$3" '
		$a[0] as $m | $b[0][$mode] as $r |
		[ ($r | keys[] | select(endswith("avg") | not)) as $t |
		  ($m.types[$t].precision == $r[$t].precision and
		   $m.types[$t].recall == $r[$t].recall and
		   $m.types[$t].f1 == $r[$t].f1 and
		   $m.types[$t].phrases_gold == $r[$t].support) ] +
		[ $m.overall.precision == $r["micro avg"].precision,
		  $m.overall.recall == $r["micro avg"].recall,
		  $m.overall.f1 == $r["micro avg"].f1,
		  $m.overall.phrases_gold == $r["micro avg"].support,
		  ($m.types | length) == ($r | keys | map(select(endswith("avg") | not)) | length) ]
		| all'
	assert_success
	assert_output true
}

@test "CoNLL-2003 dev predictions in IOB1 give conlleval.pl's report to the last digit" {
	stream conll-testa-iob1
	run bash -c "sift-eval -s iob1 $T/conll-testa-iob1.sift | sift-report"
	assert_success
	assert_output "$(cat $E/conll-testa-iob1.conlleval.txt)"
}

@test "CoNLL-2003 test predictions in IOB2 give conlleval.pl's report to the last digit" {
	stream conll-testb-iob2
	run bash -c "sift-eval -s iob2 $T/conll-testb-iob2.sift | sift-report"
	assert_success
	assert_output "$(cat $E/conll-testb-iob2.conlleval.txt)"
}

@test "the windows of long sentences are merged: no word counts twice" {
	stream conll-testa-iob1-win
	# 3299 window records among 5289 for 3250 sentences
	run bash -c "sift-cat $T/conll-testa-iob1-win.sift | grep -c '\"nwin\"'"
	assert_output 3299
	run bash -c "sift-eval -s iob1 $T/conll-testa-iob1-win.sift | sift-report"
	assert_success
	assert_output "$(cat $E/conll-testa-iob1-win.conlleval.txt)"
}

@test "conlleval mode agrees exactly with seqeval's default mode on IOB1 input" {
	metrics conll-testa-iob1 -s iob1
	agree_seqeval $T/conll-testa-iob1.json $E/conll-testa-iob1.seqeval.json default
}

@test "strict IOB2 agrees exactly with seqeval's strict mode" {
	metrics conll-testb-iob2 -m strict -s iob2
	agree_seqeval $T/conll-testb-iob2.json $E/conll-testb-iob2.seqeval.json strict
	# and ill-formed entities made it differ from the default mode
	run jq -n --slurpfile b $E/conll-testb-iob2.seqeval.json \
		'$b[0].strict["micro avg"].f1 != $b[0].default["micro avg"].f1'
	assert_output true
}

@test "IOBES agrees exactly with seqeval in default and strict mode" {
	metrics conll-testb-iobes -s iobes
	agree_seqeval $T/conll-testb-iobes.json $E/conll-testb-iobes.seqeval.json default
	metrics conll-testb-iobes -m strict -s iobes
	agree_seqeval $T/conll-testb-iobes.json $E/conll-testb-iobes.seqeval.json strict
}

@test "random ill-formed IOB tags give conlleval.pl's report and seqeval's scores exactly" {
	stream random-iob
	run bash -c "sift-eval $T/random-iob.sift | sift-report"
	assert_output "$(cat $E/random-iob.conlleval.txt)"
	metrics random-iob -s iob2
	agree_seqeval $T/random-iob.json $E/random-iob.seqeval.json default
	metrics random-iob -m strict -s iob2
	agree_seqeval $T/random-iob.json $E/random-iob.seqeval.json strict
}

@test "random ill-formed IOBES tags give seqeval's default and strict scores exactly" {
	metrics random-iobes -s iobes
	agree_seqeval $T/random-iobes.json $E/random-iobes.seqeval.json default
	metrics random-iobes -m strict -s iobes
	agree_seqeval $T/random-iobes.json $E/random-iobes.seqeval.json strict
}

@test "token accuracy is seqeval's accuracy_score" {
	metrics conll-testb-iobes -s iobes
	run jq -n --slurpfile a $T/conll-testb-iobes.json --slurpfile b $E/conll-testb-iobes.seqeval.json \
		'$a[0].overall.accuracy == $b[0].accuracy'
	assert_output true
}

@test "Financial PhraseBank predictions give scikit-learn's classification_report exactly" {
	stream fpb-allagree
	run bash -c "sift-eval $T/fpb-allagree.sift | sift-report | head -n 9"
	assert_output "$(cat $E/fpb-allagree.sklearn.txt)"
	run bash -c "sift-eval $T/fpb-allagree.sift | sift-report -d 4 | head -n 9"
	assert_output "$(cat $E/fpb-allagree.sklearn4.txt)"
}

@test "AG News scores and confusion matrix are scikit-learn's to the last bit" {
	metrics agnews-test
	run jq -n --slurpfile a $T/agnews-test.json --slurpfile b $E/agnews-test.sklearn.json '
		$a[0] as $m | $b[0].report as $r |
		[ ($m.labels[] as $l |
		   $m.classes[$l].precision == $r[$l].precision and
		   $m.classes[$l].recall == $r[$l].recall and
		   $m.classes[$l].f1 == $r[$l]["f1-score"] and
		   $m.classes[$l].support == $r[$l].support),
		  $m.accuracy == $r.accuracy,
		  $m.macro.precision == $r["macro avg"].precision,
		  $m.macro.recall == $r["macro avg"].recall,
		  $m.macro.f1 == $r["macro avg"]["f1-score"],
		  $m.weighted.precision == $r["weighted avg"].precision,
		  $m.weighted.recall == $r["weighted avg"].recall,
		  $m.weighted.f1 == $r["weighted avg"]["f1-score"],
		  $m.confusion == $b[0].confusion ] | all'
	assert_output true
	run bash -c "sift-eval $T/agnews-test.sift | sift-report | head -n 10"
	assert_output "$(cat $E/agnews-test.sklearn.txt)"
}

@test "the metrics stream has the header of its predictions" {
	stream fpb-allagree
	run bash -c "sift-eval $T/fpb-allagree.sift | sift-cat | head -n 1"
	assert_output '{"sift":1,"kind":"metrics","task":"cls","labels":["negative","neutral","positive"],"producer":"sift-eval 0.1"}'
}

@test "NER predictions without gold tags are an error naming the record" {
	run -1 --separate-stderr bash -c \
		"zcat $E/conll-testb-iob2.jsonl.gz | head -n 3 | jq -c 'del(.gold)' | sift-cat -s | sift-eval"
	assert_equal "$stderr" "sift-eval: stdin:2: no gold tags: only predictions with gold labels can be scored"
	assert_output ""
}

@test "classification predictions without gold labels are an error naming the record" {
	run -1 --separate-stderr bash -c \
		"zcat $E/fpb-allagree.jsonl.gz | head -n 5 | jq -c 'if .id == 2 then del(.gold) else . end' | sift-cat -s | sift-eval"
	assert_equal "$stderr" "sift-eval: stdin:4: no gold label: only predictions with gold labels can be scored"
}

@test "a sentence given twice is an error, not counted twice" {
	run -1 --separate-stderr bash -c \
		"zcat $E/conll-testb-iob2.jsonl.gz | head -n 3 | sed -n '1,3p;3p' | sift-cat -s | sift-eval"
	assert_equal "$stderr" "sift-eval: stdin:4: id 1 appears twice: each sentence is scored once (merge the windows of a long sentence first)"
}

@test "a sentence whose windows leave out a word is an error" {
	run -1 --separate-stderr bash -c \
		"zcat $E/conll-testa-iob1-win.jsonl.gz | head -n 6 | jq -c 'if .win == 1 then .keep[1] -= 1 else . end' | sift-cat -s | sift-eval -s iob1"
	assert_equal "$stderr" "sift-eval: stdin:6: doc 2: word 22 is kept by no window"
}

@test "a window of another sentence before the last window is an error" {
	run -1 --separate-stderr bash -c \
		"zcat $E/conll-testa-iob1-win.jsonl.gz | sed -n '1,5p;7p' | sift-cat -s | sift-eval -s iob1"
	assert_equal "$stderr" "sift-eval: stdin:6: doc 2: only 2 of its 3 windows came before doc 3"
}

@test "strict mode refuses a tag its scheme does not allow" {
	run -1 --separate-stderr bash -c \
		"zcat $E/conll-testb-iobes.jsonl.gz | sift-cat -s | sift-eval -m strict -s iob2"
	assert_regex "$stderr" "^sift-eval: stdin:[0-9]+: tag '[ES]-[A-Z]+' is not valid in iob2$"
}

@test "a stream of another kind is an error" {
	run -1 --separate-stderr bash -c "sift-cat -s $FIXTURES/stream/metrics.jsonl | sift-eval"
	assert_equal "$stderr" "sift-eval: stdin:1: expected a predictions stream, got metrics"
}

@test "strict mode with IOB1 is misuse" {
	run -2 --separate-stderr sift-eval -m strict -s iob1
	assert_equal "$stderr" "sift-eval: --mode strict: needs --scheme iob2 or iobes, got 'iob1'
Try 'sift-eval --help'."
}

@test "an unknown scheme is misuse" {
	run -2 --separate-stderr sift-eval -s bio
	assert_equal "$stderr" "sift-eval: --scheme: expected iob1, iob2 or iobes, got 'bio'
Try 'sift-eval --help'."
}

@test "the usage line is the man page synopsis" {
	run sift-eval --help
	assert_success
	assert_line --index 0 "usage: $(mandoc -Tascii -O width=300 $BATS_TEST_DIRNAME/../man/man1/sift-eval.1 | col -b | sed -n '/^SYNOPSIS/{n;s/^ *//;p;q}')"
}

@test "a full disk is an error" {
	stream fpb-allagree
	run -1 --separate-stderr bash -c "sift-eval -f $T/fpb-allagree.sift > /dev/full"
	assert_regex "$stderr" "^sift-eval: stdout: "
}

@test "an unknown option is misuse, named as typed, after the program's name and not its path" {
	run -2 --separate-stderr $SIFT_BIN/sift-eval --bogus=1
	assert_equal "$stderr" "sift-eval: unknown option '--bogus'
Try 'sift-eval --help'."
}

@test "a binary stream is not written to a terminal" {
	command -v script > /dev/null || skip "script(1) not installed"
	stream fpb-allagree
	run script -qec "sift-eval $T/fpb-allagree.sift" /dev/null
	assert_failure 2
	assert_output --partial "sift-eval: refusing to write a binary stream to a terminal"
}

@test "predictions cut at every byte offset never crash sift-eval and always say why" {
	zcat $E/conll-testb-iob2.jsonl.gz | head -n 4 | sift-cat -s > $T/s
	size=$(stat -c %s $T/s)
	for ((k = 1; k < size; k++)); do
		head -c $k $T/s > $T/cut
		run --separate-stderr sift-eval -f $T/cut
		[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || fail "cut at byte $k: status $status: $stderr"
		if [ "$status" -eq 1 ]; then
			[[ "$stderr" == "sift-eval: $T/cut:"* ]]
			assert_output ""
		fi
	done
}

@test "garbage instead of a stream is an error" {
	run -1 --separate-stderr bash -c "head -c 300 /dev/urandom | sift-eval"
	assert_regex "$stderr" "^sift-eval: stdin:"
	assert_output ""
}

@test "through the real pipeline with windows, every word of CoNLL-2003 dev is scored once" {
	need_model
	need_data
	# the first 300 sentences; 32-token windows force long sentences apart
	awk '/^$/ { n++ } n < 300' $DATA/conll2003/eng.testa > $T/dev.txt
	sift-tok -m $MODEL -f conll --max-length 32 --stride 8 $T/dev.txt |
		sift-batch -b 16 | sift-fwd -m $MODEL --init-head 1 > $T/pred.sift
	words=$(grep -v -e '^$' -e '^-DOCSTART-' $T/dev.txt | wc -l)
	sents=$(awk '/^-DOCSTART-/ { skip = 1; next } /^$/ { if (!skip && seen) n++; skip = 0; seen = 0; next } { seen = 1 } END { print n + seen }' $T/dev.txt)
	run bash -c "sift-eval -s iob1 $T/pred.sift | sift-report -F json | jq -c '[.overall.tokens, .overall.sentences]'"
	assert_output "[$words,$sents]"
	# the gold column is the data's tag column, word for word
	run bash -c "sift-report -c $T/pred.sift | grep . | cut -d' ' -f2 | cmp - <(grep -v -e '^$' -e '^-DOCSTART-' $T/dev.txt | cut -d' ' -f4)"
	assert_success
}

@test "the man page's examples run" {
	cd $T
	zcat $E/conll-testa-iob1.jsonl.gz > preds.jsonl
	run bash -c "sift-cat preds.jsonl | sift-eval -s iob1 | sift-report"
	assert_output "$(cat $E/conll-testa-iob1.conlleval.txt)"
	run bash -c "sift-cat preds.jsonl | sift-eval -m strict -s iob2 | sift-report -F json | jq -r .mode"
	assert_output strict
	zcat $E/fpb-allagree.jsonl.gz | sift-cat > preds.sift
	run bash -c "sift-eval preds.sift | sift-cat | jq '.macro.f1 // empty'"
	assert_output "$(jq '.report["macro avg"]["f1-score"]' $E/fpb-allagree.sklearn.json | cut -c1-11)"
}

@test "a window's word0 past any sentence and an id past 2^31-1 are errors, not huge allocations" {
	run bash -c "printf '%s\n' '{\"sift\":1,\"kind\":\"predictions\",\"task\":\"ner\",\"labels\":[\"O\",\"B-PER\"]}' \
		'{\"id\":0,\"doc\":0,\"win\":0,\"nwin\":2,\"word0\":4611686018427387904,\"keep\":[0,1],\"words\":[\"a\"],\"pred\":[\"O\"],\"gold\":[\"O\"]}' |
		sift-cat -s | sift-eval"
	assert_failure 1
	assert_output 'sift-eval: stdin:2: word0 4611686018427387904: a sentence of over 16777216 words'
	run bash -c "printf '%s\n' '{\"sift\":1,\"kind\":\"predictions\",\"task\":\"cls\",\"labels\":[\"a\",\"b\"]}' \
		'{\"id\":9999999999,\"pred\":\"a\",\"gold\":\"a\"}' | sift-cat -s | sift-eval"
	assert_failure 1
	assert_output 'sift-eval: stdin:2: id 9999999999: over 2147483647'
}

@test "2,000 distinct labels are scored: accuracy and macro-F1 of a construction" {
	# texts 0..999 right; 1000..1999 each predicted as its neighbour's
	# label (1000 as 1001, 1001 as 1000, ...): f1 1 for half the labels,
	# 0 for the other half
	{
		echo '{"sift":1,"kind":"predictions","task":"cls","labels":[]}'
		awk 'BEGIN { for (i = 0; i < 2000; i++)
			printf "{\"id\":%d,\"pred\":\"L%d\",\"gold\":\"L%d\"}\n", i,
				i < 1000 ? i : (i % 2 ? i - 1 : i + 1), i }'
	} | sift-cat -s > $BATS_TEST_TMPDIR/p
	run bash -c "sift-eval $BATS_TEST_TMPDIR/p | sift-cat | jq -c 'select(.accuracy) | [(.labels | length), .accuracy, .macro.f1, .classes.L999.f1, .classes.L1999.f1, .confusion[1999][1998]]'"
	assert_success
	assert_output '[2000,0.5,0.5,1,0,1]'
}

# sift-eval --abstain oos "$@" of the fixture $1 (plain JSON lines), as JSON
abstain() {
	local name=$1
	shift
	sift-cat -s "$E/$name.jsonl" | sift-eval --abstain oos "$@" | sift-report -F json
}

@test "--abstain gives CLINC150's in-scope accuracy and out-of-scope scores, scikit-learn's to the last bit" {
	for f in abstain abstain-random; do
		abstain $f > $T/$f.json
		run jq -n --slurpfile a $T/$f.json --slurpfile b $E/abstain.sklearn.json --arg f $f \
			'$a[0].abstain == ($b[0][$f].stream + {label: "oos"})'
		assert_output true
	done
	# worked out by hand: in-scope 0, 1 right of 0, 1, 2, 6; oos 3, 5
	# and 6 predicted, 3, 4, 5 gold
	run bash -c "sift-cat -s $E/abstain.jsonl | sift-eval --abstain oos | sift-cat | jq -c 'select(.abstain) | .abstain | [.in_scope_accuracy, .in_scope, .precision, .recall, .support, .predicted]'"
	assert_output '[0.5,4,0.666666667,0.666666667,3,3]'
}

@test "without --abstain the metrics record has no abstain key" {
	run bash -c "sift-cat -s $E/abstain.jsonl | sift-eval | sift-cat | jq -c 'select(.sift | not) | has(\"abstain\")'"
	assert_output false
}

@test "--find-threshold picks the top probability that maximises the objective, the lower of a tie" {
	# tops 0.375 0.5 0.625 0.75 0.875: balanced (in-scope accuracy + oos
	# recall) / 2 = 0.375, 0.5417, 0.5833, 0.5833, 0.625; oos F1 = 0, 0.5,
	# 2/3, 0.571, 2/3 (0.625 and 0.875 tie: the lower wins)
	run bash -c "sift-cat -s $E/abstain.jsonl | sift-eval --abstain oos --find-threshold | sift-cat | jq -c 'select(.abstain) | .abstain | [.threshold, .objective, .score, .in_scope_accuracy, .recall, .predicted]'"
	assert_output '[0.875,"balanced",0.625,0.25,1,6]'
	run bash -c "sift-cat -s $E/abstain.jsonl | sift-eval --abstain oos --find-threshold --objective abstain-f1 | sift-cat | jq -c 'select(.abstain) | .abstain | [.threshold, .objective, .score, .precision, .recall]'"
	assert_output '[0.625,"abstain-f1",0.666666667,0.666666667,0.666666667]'
}

@test "--find-threshold agrees with a brute force over scikit-learn's scores to the last bit" {
	for f in abstain abstain-random; do
		for o in balanced abstain-f1; do
			abstain $f --find-threshold --objective $o > $T/$f.$o.json
			run jq -n --slurpfile a $T/$f.$o.json --slurpfile b $E/abstain.sklearn.json --arg f $f --arg o $o \
				'$a[0].abstain == ($b[0][$f][$o] + {label: "oos"})'
			assert_output true
		done
	done
}

@test "the metrics at the threshold found are those of sift-fwd with that threshold" {
	F=$FIXTURES/fwd
	sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model > $T/p
	sift-eval --abstain neutral --find-threshold $T/p | sift-cat > $T/a
	t=$(jq -r 'select(.abstain) | .abstain.threshold' $T/a)
	sift-cat -s $F/cls.batches.jsonl | sift-fwd -m $F/cls-model --threshold $t --abstain neutral |
		sift-eval --abstain neutral | sift-cat > $T/b
	run jq -n -c --slurpfile a $T/a --slurpfile b $T/b \
		'($a[1] | .abstain |= del(.threshold, .objective, .score)) == $b[1] and $a[0] == $b[0]'
	assert_output true
}

@test "sift-report prints the out-of-scope scores and the threshold below the confusion matrix" {
	run bash -c "sift-cat -s $E/abstain.jsonl | sift-eval --abstain oos --find-threshold | sift-report | tail -n 6"
	assert_output "out-of-scope label oos
   in-scope accuracy       0.25         4
       oos precision       0.50
          oos recall       1.00         3
              oos f1       0.67
           threshold  0.875 (balanced 0.62)"
}

@test "--find-threshold without --abstain is misuse" {
	run -2 --separate-stderr sift-eval --find-threshold
	assert_equal "$stderr" "sift-eval: --find-threshold needs --abstain LABEL, the out-of-scope gold
Try 'sift-eval --help'."
}

@test "--objective without --find-threshold is misuse, and so is an unknown objective" {
	run -2 --separate-stderr sift-eval --abstain oos --objective balanced
	assert_equal "$stderr" "sift-eval: --objective needs --find-threshold
Try 'sift-eval --help'."
	run -2 --separate-stderr sift-eval --abstain oos --find-threshold --objective f1
	assert_equal "$stderr" "sift-eval: --objective: expected balanced or abstain-f1, got 'f1'
Try 'sift-eval --help'."
}

@test "--abstain with ner predictions is an error" {
	run -1 --separate-stderr bash -c "zcat $E/conll-testb-iob2.jsonl.gz | head -n 3 | sift-cat -s | sift-eval --abstain O"
	assert_equal "$stderr" "sift-eval: stdin:1: --abstain is for cls and pair, the input's task is ner"
	assert_output ""
}

@test "--find-threshold refuses probabilities that do not match the labels, naming the record" {
	run -1 --separate-stderr bash -c "jq -c 'if .id == 1 then .probs |= .[:2] else . end' $E/abstain.jsonl | sift-cat -s | sift-eval --abstain oos --find-threshold"
	assert_equal "$stderr" "sift-eval: stdin:3: probs has 2 entries for the header's 3 labels"
	assert_output ""
	run -1 --separate-stderr bash -c "jq -c 'if .id == 2 then del(.probs) else . end' $E/abstain.jsonl | sift-cat -s | sift-eval --abstain oos --find-threshold"
	assert_regex "$stderr" "^sift-eval: stdin:4: .*probs"
}

@test "the man page example chooses the threshold of a model on val" {
	cd $T
	ln -s $FIXTURES/fwd/cls-model model
	sift-cat -s $FIXTURES/fwd/cls.batches.jsonl > val.batches
	run bash -c "set -o pipefail; sift-fwd -m model --top-k 3 val.batches |
	    sift-eval --abstain oos --find-threshold | sift-report"
	assert_success
	assert_line --regexp '^ +threshold  [0-9.e-]+ \(balanced [0-9.]+\)$'
}

# ---- mlm: fill-mask predictions of masked batches ----

# $1 lines of text in the vocabulary of the fwd fixture's mlm-model, runs
# of consecutive tokens from offset $2 (something a model can learn)
mlm_text() {
	awk -v n="$1" -v o="$2" 'BEGIN { for (i = 0; i < n; i++) { a = 5 + (i * 7 + o) % 80
		s = "w" a; for (k = 1; k < 6 + i % 5; k++) s = s " w" a + k; print s } }'
}

@test "mlm loss, perplexity and accuracy of sift-fwd | sift-eval are sift-train's dev scores of the same batches" {
	M=$FIXTURES/fwd/mlm-model
	mlm_text 80 0 > $T/train.txt
	mlm_text 24 3 > $T/held.txt
	sift-tok -m $M --task mlm $T/train.txt | sift-batch -b 8 -s -e 6 --seed 1 > $T/train.b
	sift-tok -m $M --task mlm $T/held.txt | sift-batch -b 5 --mlm-probability 0.15 --seed 7 > $T/dev.b
	sift-train -m $M -o $T/out --lr 1e-2 --dropout 0 --attn-dropout 0 --dev $T/dev.b --eval-every 10 $T/train.b | sift-cat > $T/log
	best=$(jq -s -c '[.[] | select(.dev)] | min_by(.dev.loss) | .dev' $T/log)
	sift-fwd -m $T/out $T/dev.b | sift-eval | sift-cat > $T/m
	run jq -c --argjson d "$best" 'select(.masked) | [
		((.loss / $d.loss - 1) | fabs < 1e-6), ((.perplexity / $d.perplexity - 1) | fabs < 1e-6),
		.accuracy == $d.accuracy, .masked == $d.n, .examples]' $T/m
	assert_output '[true,true,true,true,24]'
	# the model learnt something: the kept dev loss is below the first round's
	run jq -s -c '[.[] | select(.dev) | .dev.loss] | [.[0] > min]' $T/log
	assert_output '[true]'
}

@test "the mlm metrics record: loss the mean of -logprob, perplexity its exp, accuracy of top[0]" {
	printf '%s\n' '{"sift":1,"kind":"predictions","task":"mlm","producer":"t"}' \
		'{"id":0,"masks":[{"pos":1,"top":[{"token":7,"token_str":"a","prob":0.5}],"label":7,"logprob":-0.5},{"pos":2,"top":[{"token":3,"token_str":"b","prob":0.2}]}]}' \
		'{"id":1,"masks":[]}' \
		'{"id":2,"masks":[{"pos":4,"top":[{"token":9,"token_str":"c","prob":0.4}],"label":8,"logprob":-2.5}]}' |
		sift-cat -s | sift-eval | sift-cat > $T/m
	run jq -c 'select(.masked) | [.task, .loss, (.perplexity | . * 1e6 | round), .accuracy, .masked, .correct, .examples]' $T/m
	assert_output '["mlm",1.5,4481689,0.5,2,1,3]'
	sift-cat -s < <(jq -c . $T/m) | sift-report > $T/r
	run cat $T/r
	assert_output 'masked tokens: 2 in 3 examples; 1 predicted right
loss: 1.5000  perplexity: 4.4817  accuracy:  50.00%'
}

@test "mlm predictions without a labelled token, or with a labelled one lacking logprob, are errors" {
	M=$FIXTURES/fwd/mlm-model
	sift-tok -m $M --task mlm $FIXTURES/fwd/mlm.txt | sift-batch --mlm-probability 0 | sift-fwd -m $M > $T/p
	run -1 --separate-stderr sift-eval $T/p
	assert_equal "$stderr" "sift-eval: $T/p:6: no labelled masked token: only fill-mask predictions of masked batches (sift-batch --mlm-probability) can be scored"
	printf '%s\n' '{"sift":1,"kind":"predictions","task":"mlm","producer":"t"}' \
		'{"id":0,"masks":[{"pos":1,"top":[{"token":7,"token_str":"a","prob":0.5}],"label":7}]}' | sift-cat -s > $T/q
	run -1 --separate-stderr sift-eval $T/q
	assert_equal "$stderr" "sift-eval: $T/q:2: id 0: a labelled masks entry without logprob"
	run -1 --separate-stderr sift-eval --abstain oos $T/q
	assert_equal "$stderr" "sift-eval: $T/q:1: --abstain is for cls and pair, the input's task is mlm"
}
