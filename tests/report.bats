#!/usr/bin/env bats
# report.bats: sift-report on metrics, training logs and predictions.

load helper

setup() {
	E=$FIXTURES/eval
	T=$BATS_TEST_TMPDIR
}

stream() {
	zcat "$E/$1.jsonl.gz" | sift-cat -s > "$T/$1.sift"
}

ner_metrics() {
	stream conll-testb-iob2
	sift-eval -s iob2 $T/conll-testb-iob2.sift > $T/m.sift
}

# a hand-made NER predictions stream of one sentence
one_sentence() {
	printf '%s\n' \
		'{"sift":1,"kind":"predictions","task":"ner","labels":["O","B-PER","I-PER","B-LOC","I-LOC"]}' \
		"{\"id\":0,\"words\":[\"John\",\"Smith\",\"lives\",\"in\",\"New\",\"York\"],\"pred\":$1,\"gold\":$2}" |
		sift-cat -s > $T/one.sift
}

@test "NER metrics as markdown carry conlleval's numbers" {
	ner_metrics
	run sift-report -F markdown $T/m.sift
	assert_success
	assert_line --index 0 "| type | precision | recall | FB1 | gold | predicted | correct |"
	# conll-testb-iob2.conlleval.txt: MISC 69.71% 81.62% 75.20, 822 found
	assert_line "| MISC | 69.71% | 81.62% | 75.20 | 702 | 822 | 573 |"
	assert_line "| **overall** | 81.04% | 81.52% | 81.28 | 5648 | 5681 | 4604 |"
}

@test "metrics as JSON are one object that jq reads, floats exact" {
	ner_metrics
	run bash -c "sift-report -F json $T/m.sift | jq -c '[.overall.correct, .overall.f1 == (2 * .overall.precision * .overall.recall / (.overall.precision + .overall.recall))]'"
	assert_output "[4604,true]"
}

@test "metrics as CSV have one row per type and the same numbers as JSON" {
	ner_metrics
	run sift-report -F csv $T/m.sift
	assert_line --index 0 "type,precision,recall,f1,phrases_gold,phrases_pred,correct"
	assert_equal "${#lines[@]}" 6
	f1=$(sift-report -F csv $T/m.sift | awk -F, '$1 == "overall" { print $4 }')
	run bash -c "sift-report -F json $T/m.sift | jq --argjson f $f1 '.overall.f1 == \$f'"
	assert_output true
}

@test "classification metrics through sift-cat and back (typed arrays) report as the stream sift-eval wrote" {
	stream fpb-allagree
	sift-eval $T/fpb-allagree.sift > $T/m.sift
	# JSON lines back into a stream: the confusion rows and calibration
	# bins become typed i32 and f32 arrays (sift-stream(5))
	sift-cat $T/m.sift | sift-cat -s > $T/round.sift
	sift-report $T/m.sift > $T/m.txt
	run -0 --separate-stderr sift-report $T/round.sift
	assert_equal "$output" "$(cat $T/m.txt)"
	# the counts exact (sift-cat prints floats to 9 digits, so not those)
	q='[.confusion, .calibration.count, .calibration.correct]'
	assert_equal "$(sift-report -F json $T/round.sift | jq -c "$q")" "$(sift-report -F json $T/m.sift | jq -c "$q")"
	# the reliability plot reads the calibration bins too
	sift-report --plot $T/p1.svg $T/m.sift > /dev/null
	sift-report --plot $T/p2.svg $T/round.sift > /dev/null
	cmp <(sed "s,$T/m.sift,F," $T/p1.svg) <(sed "s,$T/round.sift,F," $T/p2.svg)
}

@test "classification metrics end with the confusion matrix" {
	stream fpb-allagree
	run bash -c "sift-eval $T/fpb-allagree.sift | sift-report | tail -n 4"
	# sklearn's confusion_matrix, as in fpb-allagree.sklearn.json
	assert_line --index 0 "$(printf '%8s  %9s %9s %9s' '' negative neutral positive)"
	assert_line --index 1 "$(printf '%8s  %9d %9d %9d' negative $(jq -r '.confusion[0][]' $E/fpb-allagree.sklearn.json))"
	assert_line --index 3 "$(printf '%8s  %9d %9d %9d' positive $(jq -r '.confusion[2][]' $E/fpb-allagree.sklearn.json))"
}

@test "NER predictions show the entities inline" {
	one_sentence '["B-PER","I-PER","O","O","B-LOC","I-LOC"]' '["B-PER","I-PER","O","O","B-LOC","I-LOC"]'
	run sift-report $T/one.sift
	assert_success
	assert_output "[PER John Smith] lives in [LOC New York]"
}

@test "NER predictions that miss show the gold entities below" {
	one_sentence '["B-PER","O","O","O","B-LOC","I-LOC"]' '["B-PER","I-PER","O","O","B-LOC","I-LOC"]'
	run sift-report $T/one.sift
	assert_output "[PER John] Smith lives in [LOC New York]
  gold: [PER John Smith] lives in [LOC New York]"
}

@test "NER predictions as JSON list the entities with word spans" {
	one_sentence '["B-PER","O","O","O","B-LOC","I-LOC"]' '["B-PER","I-PER","O","O","B-LOC","I-LOC"]'
	run sift-report -F json $T/one.sift
	assert_output '{"id":0,"entities":[{"type":"PER","start":0,"end":1,"text":"John"},{"type":"LOC","start":4,"end":6,"text":"New York"}],"gold":[{"type":"PER","start":0,"end":2,"text":"John Smith"},{"type":"LOC","start":4,"end":6,"text":"New York"}]}'
}

@test "CoNLL columns hold every word with its gold and predicted tag" {
	stream conll-testb-iob2
	sift-report -c $T/conll-testb-iob2.sift > $T/cols
	# one line per word, one blank line per sentence
	assert_equal "$(grep -c . $T/cols)" 46435
	assert_equal "$(grep -c '^$' $T/cols)" 3452
	run bash -c "zcat $E/conll-testb-iob2.jsonl.gz | jq -r 'select(.gold) | [.gold, .pred] | transpose[] | \"w \" + join(\" \")' | cmp - <(grep . $T/cols)"
	assert_success
}

@test "CoNLL columns need gold tags" {
	run -1 --separate-stderr bash -c \
		"zcat $E/conll-testb-iob2.jsonl.gz | head -n 2 | jq -c 'del(.gold)' | sift-cat -s | sift-report -c"
	assert_equal "$stderr" "sift-report: stdin:2: no gold tags: CoNLL columns need word, gold and predicted tags"
}

@test "classification predictions show label and probability beside the text" {
	run bash -c "sift-cat -s $FIXTURES/stream/predictions.jsonl | sift-report"
	assert_success
	assert_output "positive 0.800  good day
negative 0.700  bad"
}

@test "a wrong classification names the gold label" {
	run bash -c "sed 's/\"gold\":\"negative\"/\"gold\":\"neutral\"/' $FIXTURES/stream/predictions.jsonl | sift-cat -s | sift-report | tail -n 1"
	assert_output "negative 0.700  bad  [gold: neutral]"
}

@test "shares per day and topic are pandas' to the last bit" {
	stream fpb-allagree
	sift-report -w 1d -t -F json $T/fpb-allagree.sift > $T/agg
	run jq -n --slurpfile a $T/agg --slurpfile b $E/fpb-allagree.sklearn.json '$a == $b[0].daily_topic'
	assert_output true
	assert_equal "$(wc -l < $T/agg)" 132
}

@test "monitoring as text has a header and one line per group" {
	stream fpb-allagree
	run sift-report -w 1d -t $T/fpb-allagree.sift
	assert_success
	assert_line --index 0 "window                topic           n  negative  neutral  positive"
	assert_line --index 1 "2026-09-21T00:00:00Z  ACME            9     0.000    0.111     0.889"
	assert_equal "${#lines[@]}" 133
}

@test "a crossed alert prints a line per group and exits 3" {
	stream agnews-test
	# the groups pandas counts over the threshold
	want=$(jq '[.daily_topic[] | select(.n >= 10 and .share.World > 0.4)] | length' $E/agnews-test.sklearn.json)
	run -3 --separate-stderr sift-report -w 1d -t -n 10 -a 'World>0.4' $T/agnews-test.sift
	assert_equal "$(echo "$output" | grep -c '^ALERT World>0.4 window ')" "$want"
	[ "$want" -gt 0 ]
	assert_equal "$stderr" ""
}

@test "no alert crossed is success" {
	stream agnews-test
	run -0 sift-report -w 1d -a 'World>=95%' $T/agnews-test.sift
	refute_line --partial ALERT
}

@test "the man page's cron example mails on status 3" {
	stream fpb-allagree
	cp $T/fpb-allagree.sift $T/news.sift
	cd $T
	run bash -c "sift-report -w 1d -t -n 10 -a 'negative>0.4' news.sift > report.txt; [ \$? -eq 3 ] && grep -c ALERT report.txt"
	assert_success
	assert_output "$(jq '[.daily_topic[] | select(.n >= 10 and .share.negative > 0.4)] | length' $E/fpb-allagree.sklearn.json)"
}

@test "times in ISO 8601 with an offset and in epoch seconds fall in the same window" {
	printf '%s\n' '{"sift":1,"kind":"predictions","task":"cls","labels":["negative","positive"]}' \
		'{"id":0,"pred":"negative","time":"2026-11-29T01:30:00+02:00"}' \
		'{"id":1,"pred":"positive","time":"1795907400"}' \
		'{"id":2,"pred":"positive","time":1795907400.5}' \
		'{"id":3,"pred":"negative","time":"2026-11-28 23:59:59Z"}' \
		'{"id":4,"pred":"positive","time":"2026-11-28T22:59:59.9Z"}' | sift-cat -s > $T/t.sift
	run sift-report -w 1h -F csv $T/t.sift
	assert_output "window,topic,n,negative,positive
2026-11-28T22:00:00Z,*,1,0,1
2026-11-28T23:00:00Z,*,4,0.5,0.5"
}

@test "a day the month does not have, an offset past 23:59 and a time past the year 9999 are errors naming the record and the value" {
	for t in '"2026-02-30T10:00:00Z"' '"2026-11-29T01:30:00+99:99"' '"99999999999999999999"' 1e30 '"NaN"'; do
		printf '%s\n' '{"sift":1,"kind":"predictions","task":"cls","labels":["negative","positive"]}' \
			'{"id":0,"pred":"negative","time":"2026-11-29T01:30:00Z"}' \
			"{\"id\":1,\"pred\":\"positive\",\"time\":$t}" | sift-cat -s > $T/t.sift
		run -1 --separate-stderr sift-report -w 1h $T/t.sift
		case $t in
		*02-30*) want="time '2026-02-30T10:00:00Z' is a day its month does not have" ;;
		*99:99*) want="time '2026-11-29T01:30:00+99:99' has an offset outside -23:59 to +23:59" ;;
		*9999*) want="time '99999999999999999999' is outside the years 0000 to 9999" ;;
		1e30) want="time 1e+30 is outside the years 0000 to 9999" ;;
		*) want="time nan is outside the years 0000 to 9999" ;;
		esac
		assert_equal "$stderr" "sift-report: $T/t.sift:3: $want"
	done
}

@test "an integer time past INT64_MAX is an error naming the record, not a window" {
	{
		echo '{"sift":1,"kind":"predictions","task":"cls","labels":["negative","positive"]}' | sift-cat -s
		# {"id":0,"pred":"negative","time":2^64-1}
		printf '\x83\xa2id\x00\xa4pred\xa8negative\xa4time\xcf\xff\xff\xff\xff\xff\xff\xff\xff'
	} > $T/big.sift
	run -1 --separate-stderr sift-report -w 1h $T/big.sift
	[[ "$stderr" == "sift-report: $T/big.sift:2: "* ]]
	assert_equal "$(echo "$stderr" | wc -l)" 1
	assert_output ''
}

@test "monitoring a stream with no records prints no groups" {
	# qsort was given NULL for no groups (UBSan: make test SAN=1)
	echo '{"sift":1,"kind":"predictions","task":"cls","labels":["negative","positive"]}' | sift-cat -s > $T/none.sift
	run sift-report -w 1h -F csv $T/none.sift
	assert_success
	assert_output "window,topic,n,negative,positive"
}

@test "records without a time form the group untimed, after the windows, never an error" {
	run -0 --separate-stderr bash -c "sift-cat -s $FIXTURES/stream/predictions.jsonl | sift-report -w 1h -F csv"
	assert_output "window,topic,n,negative,neutral,positive
2026-11-29T08:00:00Z,*,1,0,0,1
untimed,*,1,1,0,0"
	assert_equal "$stderr" ""
}

@test "an untimed group can alert like any other" {
	run -3 bash -c "sift-cat -s $FIXTURES/stream/predictions.jsonl | sift-report -w 1h -q -a 'negative>0.5'"
	assert_output "ALERT negative>0.5 window untimed topic *: negative = 1.000 (1 of 1)
  0.700  -  bad"
}

@test "a predictions stream without records is a quiet success" {
	echo '{"sift":1,"kind":"predictions","task":"cls","labels":["negative","positive"]}' | sift-cat -s > $T/none.sift
	for f in text json markdown; do
		run -0 --separate-stderr sift-report -w 1h -t -a 'negative>0.4' -F $f $T/none.sift
		assert_output ''
		assert_equal "$stderr" ""
		run -0 sift-report -F $f $T/none.sift
		assert_output ''
	done
}

@test "an empty input is an error: every program writes its header even without records" {
	run -1 --separate-stderr sift-report -w 1h < /dev/null
	assert_equal "$stderr" "sift-report: stdin: empty stream (no header)"
}

@test "monitoring NER predictions is an error" {
	one_sentence '["O","O","O","O","O","O"]' '["O","O","O","O","O","O"]'
	run -1 --separate-stderr sift-report -w 1d $T/one.sift
	assert_equal "$stderr" "sift-report: $T/one.sift:1: monitoring (--window, --by-topic, --alert) needs classification predictions, got task ner"
}

@test "an alert on a label the stream does not have is an error" {
	run -1 --separate-stderr bash -c "sift-cat -s $FIXTURES/stream/predictions.jsonl | sift-report -a 'bearish>0.5'"
	assert_equal "$stderr" "sift-report: stdin:1: --alert 'bearish>0.5': no label 'bearish' in the stream"
}

@test "a malformed alert is misuse" {
	run -2 --separate-stderr sift-report -a 'negative=0.4'
	assert_equal "$stderr" "sift-report: --alert: expected LABEL>SHARE such as negative>0.4, got 'negative=0.4'
Try 'sift-report --help'."
}

@test "a training log becomes a summary with the best dev score" {
	run bash -c "sift-cat -s $E/train-log.jsonl | sift-report"
	assert_success
	assert_output "steps        1 to 200 (205 log records), 2 epochs
loss         1.6567 at the first step, 0.1308 at the last, lowest 0.0987 at step 181
lr           peak 5e-05, last 0
best dev     f1 0.8342 at step 150 (epoch 1); last 0.8297 at step 200
end          done; the trainer kept step 150
time         59.0 s
tokens/s     3500.0 (mean over 200 steps)"
}

# a log of steps 1.. with the losses $@ (NaN and Infinity as sift-cat spells them)
loss_log() {
	{
		echo '{"sift":1,"kind":"log","task":"cls","labels":["a","b"]}'
		i=0
		for l; do
			i=$((i + 1))
			echo "{\"step\":$i,\"epoch\":0,\"loss\":$l,\"lr\":1e-5}"
		done
	} | sift-cat -s > $T/log.sift
}

@test "a log without a finite loss says so, and warns of its NaN losses" {
	loss_log '"NaN"' '"NaN"' '"Infinity"'
	run sift-report $T/log.sift
	assert_success
	assert_output "steps        1 to 3 (3 log records), 1 epoch
loss         nan at the first step, inf at the last, no finite loss
warning      the loss is NaN or infinite at 3 of 3 steps, the first at step 1
lr           peak 1e-05, last 1e-05
best dev     no dev scores in the log"
}

@test "NaN losses are counted and shown, and the lowest loss is the lowest finite one" {
	loss_log 0.75 '"NaN"' 0.5 '"Infinity"'
	run sift-report $T/log.sift
	assert_line --index 1 "loss         0.7500 at the first step, inf at the last, lowest 0.5000 at step 3"
	assert_line --index 2 "warning      the loss is NaN or infinite at 2 of 4 steps, the first at step 2"
	run bash -c "sift-report -F json $T/log.sift | jq -c '[.loss_first, .loss_last, .loss_min, .loss_min_step, .loss_nonfinite, .loss_nonfinite_step]'"
	assert_output '[0.75,"Infinity",0.5,3,2,2]'
}

@test "a log summary as JSON, ranked by a loss, takes the lowest" {
	run bash -c "sift-cat -s $E/train-log.jsonl | sift-report -F json -m loss | jq -c '[.metric, .best_step, .best_score]'"
	assert_output '["loss",200,0.3]'
}

# an mlm log with dev rounds at steps 1, 2, 3: the loss lowest at 2, the
# accuracy highest at 3
mlm_log() {
	{
		echo '{"sift":1,"kind":"log","task":"mlm"}'
		echo '{"step":1,"epoch":0,"loss":5.0,"lr":1e-5}'
		echo '{"step":1,"epoch":0,"dev":{"loss":4.0,"accuracy":0.1,"perplexity":54.6,"n":9}}'
		echo '{"step":2,"epoch":0,"loss":4.0,"lr":1e-5}'
		echo '{"step":2,"epoch":0,"dev":{"loss":3.0,"accuracy":0.2,"perplexity":20.1,"n":9}}'
		echo '{"step":3,"epoch":0,"loss":3.0,"lr":1e-5}'
		echo '{"step":3,"epoch":0,"dev":{"loss":3.5,"accuracy":0.3,"perplexity":33.1,"n":9}}'
	} | sift-cat -s > $T/mlm.sift
}

@test "an mlm log is ranked by its dev loss unless a metric is named, and a perplexity is better lower" {
	mlm_log
	run bash -c "sift-report $T/mlm.sift | grep '^best dev'"
	assert_output "best dev     loss 3.0000 at step 2 (epoch 0); last 3.5000 at step 3"
	run bash -c "sift-report -m perplexity $T/mlm.sift | grep '^best dev'"
	assert_output "best dev     perplexity 20.1000 at step 2 (epoch 0); last 33.1000 at step 3"
	run bash -c "sift-report -m accuracy $T/mlm.sift | grep '^best dev'"
	assert_output "best dev     accuracy 0.3000 at step 3 (epoch 0); last 0.3000 at step 3"
}

@test "the plot of a log is an SVG with three panels and the best score marked" {
	sift-cat -s $E/train-log.jsonl > $T/log.sift
	run sift-report -p $T/run.svg $T/log.sift
	assert_success
	xmllint --noout $T/run.svg
	assert_equal "$(grep -c '<g class="panel">' $T/run.svg)" 3
	grep -q '>best 0.8342 at step 150<' $T/run.svg
	grep -q '>learning rate<' $T/run.svg
}

@test "a plot that cannot be written is an error" {
	run -1 --separate-stderr bash -c "sift-cat -s $E/train-log.jsonl | sift-report -p /nonexistent/run.svg"
	assert_equal "$stderr" "sift-report: /nonexistent/run.svg: No such file or directory"
}

@test "a stream of another kind is an error" {
	run -1 --separate-stderr bash -c "sift-cat -s $FIXTURES/stream/batches.jsonl | sift-report"
	assert_equal "$stderr" "sift-report: stdin:1: expected a metrics, log or predictions stream, got batches"
}

@test "an unknown option is misuse, named as typed, after the program's name and not its path" {
	run -2 --separate-stderr $SIFT_BIN/sift-report --bogus=1
	assert_equal "$stderr" "sift-report: unknown option '--bogus'
Try 'sift-report --help'."
}

@test "an unknown format is misuse" {
	run -2 --separate-stderr sift-report -F html
	assert_equal "$stderr" "sift-report: --format: expected text, markdown, json or csv, got 'html'
Try 'sift-report --help'."
}

@test "the usage line is the man page synopsis" {
	run sift-report --help
	assert_success
	assert_line --index 0 "usage: $(mandoc -Tascii -O width=300 $BATS_TEST_DIRNAME/../man/man1/sift-report.1 | col -b | sed -n '/^SYNOPSIS/{n;s/^ *//;p;q}')"
}

@test "a full disk is an error" {
	ner_metrics
	run -1 --separate-stderr bash -c "sift-report $T/m.sift > /dev/full"
	assert_regex "$stderr" "^sift-report: "
}

@test "metrics cut at every byte offset never crash sift-report and always say why" {
	stream fpb-allagree
	sift-eval $T/fpb-allagree.sift > $T/s
	size=$(stat -c %s $T/s)
	for ((k = 1; k < size; k++)); do
		head -c $k $T/s > $T/cut
		run --separate-stderr sift-report $T/cut
		[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || fail "cut at byte $k: status $status: $stderr"
		[ "$status" -eq 0 ] || [[ "$stderr" == "sift-report: $T/cut:"* ]]
	done
}

@test "a metrics record with a key of the wrong type is an error naming it" {
	printf '%s\n' '{"sift":1,"kind":"metrics","task":"ner"}' \
		'{"task":"ner","overall":{"tokens":"ten"},"types":{}}' | sift-cat -s > $T/bad.sift
	run -1 --separate-stderr sift-report $T/bad.sift
	assert_regex "$stderr" "^sift-report: $T/bad.sift:2: .*tokens"
}

@test "the man page's log example writes the summary and the plot" {
	cd $T
	sift-cat -s $E/train-log.jsonl > train.log
	run sift-report -p run.svg train.log
	assert_success
	assert_line --partial "best dev     f1 0.8342 at step 150"
	xmllint --noout run.svg
}

@test "metrics of another task than the stream's are an error" {
	printf '%s\n' '{"sift":1,"kind":"metrics","task":"cls","labels":["a","b"]}' \
		'{"task":"ner","overall":{},"types":{}}' | sift-cat -s > $T/bad.sift
	run -1 --separate-stderr sift-report $T/bad.sift
	assert_equal "$stderr" "sift-report: $T/bad.sift:2: metrics of task ner in a stream of task cls"
}

@test "integer options out of range are misuse, not truncated" {
	run sift-report -d 4294967298 < /dev/null
	assert_failure 2
	assert_line -n 0 "sift-report: --digits: expected an integer from 0 to 17, got '4294967298'"
	run sift-report --min-count 0 < /dev/null
	assert_failure 2
	run sift-cat -p 4294967305 < /dev/null
	assert_failure 2
	assert_line -n 0 "sift-cat: --precision: expected an integer from 1 to 17, got '4294967305'"
}

# predictions of negative, neutral, positive from JSON lines on stdin,
# into $T/$1
preds() {
	{ echo '{"sift":1,"kind":"predictions","task":"cls","labels":["negative","neutral","positive"]}'; cat; } |
		sift-cat -s > "$T/$1"
}

# n predictions of a label in hour hh (08, 09, ...) about topic
hour() {
	local hh=$1 topic=$2 label=$3 n=$4 i p
	for ((i = 0; i < n; i++)); do
		case $label in
		negative) p='[0.8,0.1,0.1]' ;;
		neutral) p='[0.1,0.8,0.1]' ;;
		*) p='[0.1,0.1,0.8]' ;;
		esac
		echo "{\"text\":\"$topic $label $hh $i\",\"pred\":\"$label\",\"probs\":$p,\"time\":\"2026-11-29T$hh:0$i:00Z\",\"topic\":\"$topic\"}"
	done
}

@test "classification predictions as JSON are one object per line with the probability of the label" {
	run -0 bash -c "sift-cat -s $FIXTURES/stream/predictions.jsonl | sift-report -F json | jq -c '[.id, .pred, .prob, .text, .gold]'"
	assert_output '[0,"positive",0.800000012,"good day","positive"]
[1,"negative",0.699999988,"bad","negative"]'
}

@test "classification predictions as CSV quote what must be quoted" {
	printf '%s\n' '{"id":0,"text":"up, \"a lot\"","pred":"positive","probs":[0,0,1]}' | preds p.sift
	run -0 sift-report -F csv $T/p.sift
	assert_output 'id,pred,prob,gold,text,text_b
0,positive,1,,"up, ""a lot""",'
}

@test "with -F json every line is JSON, alerts included" {
	{ hour 08 ACME negative 3; hour 08 ACME positive 1; hour 08 BETA positive 2; } | preds p.sift
	run -3 --separate-stderr bash -c "sift-report -w 1h -t -a 'negative>0.5' -F json $T/p.sift > $T/out; status=\$?; jq -c . $T/out > /dev/null && cat $T/out; exit \$status"
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 3
	run jq -c 'select(.alert) | [.rule, .group, .label, .share, .threshold, .op, .count, .n, .new, (.top | length)]' $T/out
	assert_output '["negative>0.5",{"window":"2026-11-29T08:00:00Z","topic":"ACME"},"negative",0.75,0.5,">",3,4,true,3]'
	run grep -vc '^{' $T/out
	assert_output 0
}

@test "an alert shows the most confident predictions of its label in its group, as many as --top says" {
	printf '%s\n' \
		'{"id":0,"text":"a","pred":"negative","probs":[0.6,0.2,0.2],"topic":"ACME"}' \
		'{"id":1,"text":"b","pred":"negative","probs":[0.9,0.05,0.05],"topic":"ACME"}' \
		'{"id":2,"text":"c","pred":"positive","probs":[0.45,0.05,0.5],"topic":"ACME"}' \
		'{"id":3,"text":"d","pred":"negative","probs":[0.7,0.2,0.1],"topic":"ACME"}' \
		'{"id":4,"text":"e","pred":"negative","probs":[0.95,0.05,0],"topic":"BETA"}' \
		'{"id":5,"text":"f","pred":"negative","probs":[0.7,0.1,0.2],"topic":"ACME"}' | preds p.sift
	run -0 bash -c "sift-report -t -q -a 'negative>0.5' -k 2 -F json $T/p.sift | jq -c 'select(.group.topic == \"ACME\") | [.top[].text]'"
	assert_output '["b","d"]'
	# of equals the earlier comes first; text mode the same
	run -3 sift-report -t -q -a 'negative>0.5' $T/p.sift
	assert_line --index 0 'ALERT negative>0.5 window all topic ACME: negative = 0.800 (4 of 5)'
	assert_line --index 1 '  0.900  -  b'
	assert_line --index 2 '  0.700  -  d'
	assert_line --index 3 '  0.700  -  f'
	assert_line --index 4 'ALERT negative>0.5 window all topic BETA: negative = 1.000 (1 of 1)'
}

@test "alerts as markdown are lines after the table, as CSV a second table" {
	hour 08 ACME negative 2 | preds p.sift
	run -3 sift-report -w 1h -t -k 1 -a 'negative>0.5' -F markdown $T/p.sift
	assert_line --index 3 '**ALERT** negative>0.5 window 2026-11-29T08:00:00Z topic ACME: negative = 1.000 (2 of 2)'
	assert_line --index 4 '- 0.800  2026-11-29T08:00:00Z  ACME negative 08 0'
	run -3 sift-report -w 1h -t -k 1 -a 'negative>50%' -F csv $T/p.sift
	assert_output 'window,topic,n,negative,neutral,positive
2026-11-29T08:00:00Z,ACME,2,1,0,0

rule,window,topic,label,share,count,n,new,rank,prob,time,text
negative>0.5,2026-11-29T08:00:00Z,ACME,negative,1,2,2,1,1,0.800000012,2026-11-29T08:00:00Z,ACME negative 08 0'
}

@test "with --state an alert fires once, stays quiet while it holds, and fires again when it returns" {
	S=$T/alerts.json
	# hour 08: ACME crosses, a new alert
	{ hour 08 ACME negative 3; hour 08 ACME positive 1; hour 08 BETA positive 2; } | preds h08.sift
	run -3 sift-report -w 1h -t -q -a 'negative>0.5' -s $S $T/h08.sift
	assert_line --index 0 --partial 'ALERT negative>0.5 window 2026-11-29T08:00:00Z topic ACME:'
	run jq -c '.alerts[] | [.rule, .topic, .active, .since]' $S
	assert_output '["negative>0.5","ACME",true,"2026-11-29T08:00:00Z"]'
	# hour 09: still crossing; the key has no window: quiet, status 0
	{ hour 09 ACME negative 2; hour 09 BETA positive 1; } | preds h09.sift
	run -0 sift-report -w 1h -t -q -a 'negative>0.5' -s $S $T/h09.sift
	assert_output ''
	# hour 10: cleared, and the state says so
	hour 10 ACME positive 2 | preds h10.sift
	run -0 sift-report -w 1h -t -q -a 'negative>0.5' -s $S $T/h10.sift
	assert_output ''
	run jq -c '.alerts[] | [.topic, .active, .cleared]' $S
	assert_output '["ACME",false,"2026-11-29T10:00:00Z"]'
	# hour 11: back, so it fires again
	hour 11 ACME negative 2 | preds h11.sift
	run -3 sift-report -w 1h -t -q -a 'negative>0.5' -s $S $T/h11.sift
	assert_output --partial 'ALERT negative>0.5 window 2026-11-29T11:00:00Z topic ACME:'
	# no temporary file is left beside the state
	assert_equal "$(ls $T | grep -c alerts)" 1
}

@test "a rule given as a percentage is the same state key as its fraction" {
	hour 08 ACME negative 2 | preds p.sift
	run -3 sift-report -t -q -a 'negative>0.5' -s $T/s.json $T/p.sift
	run -0 sift-report -t -q -a 'negative>50%' -s $T/s.json $T/p.sift
	assert_output ''
}

@test "--every-run alerts for an ongoing condition too, marked not new" {
	hour 08 ACME negative 2 | preds p.sift
	run -3 sift-report -t -q -a 'negative>0.5' -s $T/s.json $T/p.sift
	run -3 sift-report -t -q -a 'negative>0.5' -s $T/s.json -e -F json $T/p.sift
	assert_equal "$(echo "$output" | jq -c '[.rule, .new]')" '["negative>0.5",false]'
	# without --state every run alerts
	run -3 sift-report -t -q -a 'negative>0.5' $T/p.sift
	run -3 sift-report -t -q -a 'negative>0.5' $T/p.sift
}

@test "groups smaller than --min-count leave the state as it was" {
	hour 08 ACME negative 3 | preds a.sift
	hour 09 ACME positive 1 | preds b.sift
	run -3 sift-report -w 1h -t -q -n 2 -a 'negative>0.5' -s $T/s.json $T/a.sift
	run -0 sift-report -w 1h -t -q -n 2 -a 'negative>0.5' -s $T/s.json $T/b.sift
	run jq -c '.alerts[] | [.topic, .active]' $T/s.json
	assert_output '["ACME",true]'
}

@test "a state file that is not one is an error, and is left as it was" {
	hour 08 ACME negative 2 | preds p.sift
	echo '{"alerts": 3}' > $T/s.json
	run -1 --separate-stderr sift-report -t -a 'negative>0.5' -s $T/s.json $T/p.sift
	assert_equal "$stderr" "sift-report: $T/s.json: not an alert state (sift_alert_state 1)"
	assert_output ''
	assert_equal "$(cat $T/s.json)" '{"alerts": 3}'
	echo '{' > $T/s.json
	run -1 --separate-stderr sift-report -t -a 'negative>0.5' -s $T/s.json $T/p.sift
	assert_regex "$stderr" "^sift-report: $T/s.json:[0-9]+: invalid JSON: "
}

@test "a state that cannot be written is an error" {
	hour 08 ACME negative 2 | preds p.sift
	run -1 --separate-stderr sift-report -t -q -a 'negative>0.5' -s /nonexistent/s.json $T/p.sift
	assert_equal "$stderr" "sift-report: /nonexistent/s.json: No such file or directory"
}

@test "predictions from a FIFO come out line by line, before the writer closes" {
	sift-cat -s $FIXTURES/stream/predictions.jsonl > $T/p.sift
	mkfifo $T/fifo
	run -0 bash -c "exec 3<>$T/fifo; cat $T/p.sift >&3; timeout 5 head -n 1 < <(sift-report $T/fifo 3>&-)"
	assert_output 'positive 0.800  good day'
}

@test "a reader that goes away ends sift-report quietly with 0, from a pipe too" {
	for ((i = 0; i < 3000; i++)); do
		echo "{\"id\":$i,\"text\":\"headline $i\",\"pred\":\"negative\",\"probs\":[0.5,0.25,0.25]}"
	done | preds big.sift
	for f in text json; do
		run -0 --separate-stderr bash -c "cat $T/big.sift | sift-report -F $f | head -n 1 > /dev/null; echo \${PIPESTATUS[1]}"
		assert_output 0
		assert_equal "$stderr" ''
	done
}

@test "the man page's examples of --state and of alerts for jq run as written" {
	{ hour 08 ACME negative 3; hour 08 BETA positive 2; } | preds news.sift
	cd $T
	man=$BATS_TEST_DIRNAME/../man/man1/sift-report.1
	state=$(grep -x "sift-report .* -s alerts.json news.sift" $man)
	jq=$(sed -n "s/^\.Dl \(sift-report .*jq 'select(.alert)'\)$/\1/p" $man)
	[ -n "$state" ] && [ -n "$jq" ]
	run -3 sh -c "$state"
	assert_line --index 0 'ALERT negative>0.4 window 2026-11-29T08:00:00Z topic ACME: negative = 1.000 (3 of 3)'
	run -0 sh -c "$state"
	assert_output ''
	run -0 sh -c "$jq | jq -c '[.rule, .group.topic]'"
	assert_output '["negative>0.4","ACME"]'
}

@test "fill-mask predictions are refused with one line that names sift-eval, exit 1" {
	M=$FIXTURES/fwd/mlm-model
	sift-tok -m $M --task mlm $FIXTURES/fwd/mlm.txt | sift-batch --seed 1 | sift-fwd -m $M > $T/p
	run -1 --separate-stderr sift-report $T/p
	assert_equal "$stderr" "sift-report: $T/p:1: fill-mask predictions (task mlm): score them with sift-eval, read them with sift-cat"
	assert_equal "$output" ""
	# what it points to works on the same file
	run -0 bash -c "sift-eval $T/p | sift-report"
	assert_line --index 0 --partial "masked tokens: "
}
