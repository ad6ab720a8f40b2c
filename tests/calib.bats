#!/usr/bin/env bats
# calib.bats: the expected calibration error of sift-eval and sift-report,
# against numpy (tests/ref/make_calib_fixtures.py), and the reliability
# diagram of sift-report --plot.

load helper

setup() {
	F=$FIXTURES/eval
	T=$BATS_TEST_TMPDIR
	sift-cat -s $F/calib.jsonl > $T/calib.p
}

# a predictions stream of the JSON records given, one per argument
preds() {
	{
		echo '{"sift":1,"kind":"predictions","task":"cls","labels":["a","b"],"producer":"test"}'
		printf '%s\n' "$@"
	} | sift-cat -s
}

@test "sift-eval's calibration is numpy's: 15 equal-width bins, counts, hits, mean confidence and ECE" {
	sift-eval $T/calib.p | sift-cat | tail -n 1 > $T/m.json
	run jq -e --slurpfile w $F/calib.numpy.json '.calibration as $c | $w[0] as $w
		| $c.bins == 15 and $c.examples == 300
		and $c.count == $w.count and $c.correct == $w.correct
		and ([$c.confidence, $w.confidence] | transpose | all((.[0] - .[1]) | fabs < 1e-7))
		and (($c.ece - $w.ece) | fabs) < 1e-7' $T/m.json
	assert_success
}

@test "the ECE of four predictions is the hand computation" {
	# tops 0.95 (right), 0.95 (wrong), 0.5 (right; a tie goes to the
	# first label), 0.75 (wrong): bins 15, 8, 12
	preds '{"id":1,"pred":"a","probs":[0.95,0.05],"gold":"a"}' \
	      '{"id":2,"pred":"a","probs":[0.95,0.05],"gold":"b"}' \
	      '{"id":3,"pred":"a","probs":[0.5,0.5],"gold":"a"}' \
	      '{"id":4,"pred":"b","probs":[0.25,0.75],"gold":"a"}' > $T/p
	run jq -e '.calibration | (.ece - (0.9 + 0.5 + 0.75) / 4 | fabs) < 1e-7
		and .count[14] == 2 and .correct[14] == 1 and .count[7] == 1
		and .count[11] == 1 and .correct[11] == 0' <(sift-eval $T/p | sift-cat | tail -n 1)
	assert_success
}

@test "the calibration uses the argmax of the probabilities, not a thresholded prediction" {
	# 0.6 as a float is a little over 0.6: bin 10, (0.6, 0.667]
	preds '{"id":1,"pred":"b","probs":[0.6,0.4],"gold":"a"}' > $T/p
	run jq -c '.calibration | [.correct[9], .accuracy[9]]' <(sift-eval $T/p | sift-cat | tail -n 1)
	assert_output '[1,1]'
}

@test "predictions without probs get no calibration" {
	preds '{"id":1,"pred":"a","probs":[0.6,0.4],"gold":"a"}' '{"id":2,"pred":"a","gold":"a"}' > $T/p
	run jq -c 'has("calibration")' <(sift-eval $T/p | sift-cat | tail -n 1)
	assert_output false
}

@test "probs of the wrong length are an error naming the record" {
	preds '{"id":1,"pred":"a","probs":[0.6,0.4],"gold":"a"}' '{"id":2,"pred":"a","probs":[1],"gold":"a"}' > $T/p
	run -1 --separate-stderr sift-eval $T/p
	assert_equal "$stderr" "sift-eval: $T/p:3: probs has 1 entries for the header's 2 labels"
}

@test "a probability that is not one is an error naming the record" {
	preds '{"id":1,"pred":"a","probs":[1.5,0.4],"gold":"a"}' > $T/p
	run -1 --separate-stderr sift-eval $T/p
	assert_equal "$stderr" "sift-eval: $T/p:2: probs[0] is not a probability"
}

@test "sift-report's table gives the ECE under the classification report, in text, markdown and csv" {
	sift-eval $T/calib.p > $T/m
	want=$(jq -r '.ece * 10000 | round / 10000 | tostring' $F/calib.numpy.json)
	run sift-report $T/m
	assert_line "calibration (15 equal-width bins of the top probability)"
	assert_line "$(printf '%20s  %9.4f %9d' ece $want 300)"
	run sift-report -F markdown $T/m
	assert_line "$(printf '**ECE** (15 equal-width bins of the top probability): %.4f over 300 examples' $want)"
	run sift-report -F csv $T/m
	assert_line --regexp '^ece,,,0\.08[0-9]+,300$'
}

@test "sift-report --plot of calibrated metrics is a reliability diagram: a bar per non-empty bin and the ECE" {
	sift-eval $T/calib.p | sift-report -p $T/r.svg > /dev/null
	xmllint --noout $T/r.svg
	bins=$(jq '[.count[] | select(. > 0)] | length' $F/calib.numpy.json)
	assert_equal "$(grep -c 'class="accuracy"' $T/r.svg)" "$bins"
	assert_equal "$(grep -c 'class="gap"' $T/r.svg)" "$bins"
	grep -q "ECE $(jq -r '.ece * 10000 | round / 10000' $F/calib.numpy.json)" $T/r.svg
	# the bar of the fullest bin has its accuracy as its height share
	grep -q '<title>bin 10: 39 examples' $T/r.svg
}

@test "sift-report --plot works with --format json too" {
	sift-eval $T/calib.p | sift-report -F json -p $T/r.svg > $T/out.json
	[ -s $T/r.svg ]
	jq -e .calibration.ece $T/out.json
}

@test "sift-report --plot of metrics without calibration is an error" {
	preds '{"id":2,"pred":"a","gold":"a"}' | sift-eval > $T/m
	run -1 --separate-stderr sift-report -p $T/r.svg $T/m
	assert_equal "$stderr" "sift-report: $T/m: --plot: no calibration in the metrics (sift-eval of cls or pair predictions with probs)"
}
