#!/usr/bin/env bats
# pipelines.bats: the shell pipelines of pipelines/ run end to end on small
# slices of the real data sets with a tiny encoder (tests/fixtures/pipelines).

load helper

P=$BATS_TEST_DIRNAME/../pipelines
TINY=$BATS_TEST_DIRNAME/fixtures/pipelines/tiny

# the first n sentences of a CoNLL file
conll_head() {
	awk -v n="$2" 'NF == 0 && ++k > n { exit } { print }' "$1"
}

setup() {
	T=$BATS_TEST_TMPDIR
}

@test "every pipeline is a POSIX sh script" {
	for f in $P/ner-train.sh $P/ner-predict.sh $P/sentiment-train.sh $P/sentiment-monitor.sh; do
		[ -x "$f" ]
		head -1 "$f" | grep -qx '#!/bin/sh'
		run dash -n "$f"
		assert_success
	done
}

@test "ner-train.sh trains on CoNLL with the train label set and shuffled epochs, scoring dev" {
	need_data
	conll_head $DATA/conll2003/eng.train 60 > $T/train.conll
	conll_head $DATA/conll2003/eng.testa 30 > $T/dev.conll
	OUT=$T/run EPOCHS=2 BATCH=8 MODEL=$TINY run sh $P/ner-train.sh $T/train.conll $T/dev.conll
	assert_success
	assert_output --partial "best dev     f1"
	# the model's labels are those of the training data, IOB2
	run jq -r '.id2label | to_entries | sort_by(.key | tonumber) | .[].value' $T/run/model/config.json
	assert_output "$(cat $T/run/labels.txt)"
	assert_line 'B-PER'	# IOB1 I-PER at an entity start became B-PER
	assert_equal "$(sift-cat $T/run/dev.batches | head -1 | jq -c .labels)" \
		"$(jq -Rsc 'split("\n")[:-1]' $T/run/labels.txt)"
	# the schedule spans every batch of both epochs
	total=$(sift-cat $T/run/train.log | head -1 | jq .total_steps)
	batches=$(sift-batch -s --seed 1 -e 2 -b 8 -t 4096 $T/run/train.examples | sift-cat | head -1 | jq .total)
	assert_equal "$total" "$batches"
	[ "$total" -ge 14 ]
	[ -s $T/run/curves.svg ]
}

@test "ner-predict.sh tags CoNLL with a trained model and scores every token" {
	need_data
	conll_head $DATA/conll2003/eng.train 40 > $T/train.conll
	conll_head $DATA/conll2003/eng.testa 20 > $T/dev.conll
	OUT=$T/run EPOCHS=1 MODEL=$TINY sh $P/ner-train.sh $T/train.conll $T/dev.conll
	OUT=$T/pred FORMAT=conll run sh $P/ner-predict.sh $T/run/model $T/dev.conll
	assert_success
	words=$(grep -v -e '^-DOCSTART-' -e '^[[:space:]]*$' $T/dev.conll | wc -l)
	assert_output --partial "processed $words tokens with"
	# one prediction per sentence, in input order
	sentences=$(awk 'NF == 0 && prev { n++ } { prev = NF && $1 != "-DOCSTART-" } END { print n + (prev ? 1 : 0) }' $T/dev.conll)
	assert_equal "$(sift-cat $T/pred/predictions | jq -s '[.[] | select(.pred)] | length')" "$sentences"
	assert_equal "$(sift-cat $T/pred/predictions | jq -c 'select(.pred) | .id' | jq -s -c '. == (. | sort)')" true
}

@test "ner-predict.sh tags plain lines word by word" {
	need_data
	conll_head $DATA/conll2003/eng.train 40 > $T/train.conll
	conll_head $DATA/conll2003/eng.testa 10 > $T/dev.conll
	OUT=$T/run EPOCHS=1 MODEL=$TINY sh $P/ner-train.sh $T/train.conll $T/dev.conll
	printf 'John Smith lives in Paris .\nEU rejects German call .\n' > $T/in.txt
	OUT=$T/pred run sh $P/ner-predict.sh $T/run/model $T/in.txt
	assert_success
	assert_equal "$(sift-cat $T/pred/predictions | jq -c 'select(.pred) | [.words, (.pred | length)]')" \
		'[["John","Smith","lives","in","Paris","."],6]
[["EU","rejects","German","call","."],5]'
}

@test "sentiment-train.sh holds out every tenth PhraseBank row and trains on the rest" {
	need_data
	head -n 100 $DATA/financial_phrasebank/Sentences_66Agree.txt > $T/fpb.txt
	OUT=$T/run EPOCHS=2 MODEL=$TINY run sh $P/sentiment-train.sh $T/fpb.txt
	assert_success
	assert_output --partial "best dev     accuracy"
	assert_equal "$(wc -l < $T/run/train.txt)" 90
	assert_equal "$(wc -l < $T/run/dev.txt)" 10
	cmp $T/run/dev.txt <(awk 'NR % 10 == 0' $T/fpb.txt)
	assert_equal "$(sift-cat $T/run/dev.batches | jq -s '[.[] | select(.B) | .ex[]] | length')" 10
	run jq -c '[.id2label[]]' $T/run/model/config.json
	assert_output '["negative","neutral","positive"]'
}

@test "sentiment-monitor.sh exits 3 when an alert fires and 0 when none does" {
	need_data
	head -n 60 $DATA/financial_phrasebank/Sentences_66Agree.txt > $T/fpb.txt
	OUT=$T/run EPOCHS=1 MODEL=$TINY sh $P/sentiment-train.sh $T/fpb.txt
	printf 'Profits fell sharply .\nSales rose .\nThe company said nothing .\n' > $T/news.txt
	FORMAT=lines WINDOW= BY_TOPIC= MIN_COUNT=1 ALERT='neutral>=0' run sh $P/sentiment-monitor.sh $T/run/model $T/news.txt
	assert_failure 3
	assert_line --partial 'ALERT neutral>=0'
	FORMAT=lines WINDOW= BY_TOPIC= MIN_COUNT=1 ALERT='neutral>1' run sh $P/sentiment-monitor.sh $T/run/model $T/news.txt
	assert_success
	refute_line --partial 'ALERT'
	assert_line --regexp '^all +\* +3 '
}

@test "sentiment-monitor.sh groups JSON-lines news by hour and topic" {
	need_data
	head -n 60 $DATA/financial_phrasebank/Sentences_66Agree.txt > $T/fpb.txt
	OUT=$T/run EPOCHS=1 MODEL=$TINY sh $P/sentiment-train.sh $T/fpb.txt
	cat > $T/news.jsonl <<'EOF'
{"text":"Profits fell sharply .","time":"2026-11-29T08:05:00Z","topic":"ACME"}
{"text":"Sales rose .","time":"2026-11-29T08:10:00Z","topic":"ACME"}
{"text":"Nothing changed .","time":"2026-11-29T09:30:00Z","topic":"BETA"}
EOF
	MIN_COUNT=1 ALERT='neutral>1' run sh $P/sentiment-monitor.sh $T/run/model $T/news.jsonl
	assert_success
	assert_line --regexp '^2026-11-29T08:00:00Z +ACME +2 '
	assert_line --regexp '^2026-11-29T09:00:00Z +BETA +1 '
}

@test "ner-train.sh gives the model the labels of the dev set too" {
	need_data
	conll_head $DATA/conll2003/eng.train 20 > $T/train.conll
	{ conll_head $DATA/conll2003/eng.testa 5; printf '\nZorg NNP I-NP I-ZZZ\n\n'; } > $T/dev.conll
	OUT=$T/run EPOCHS=1 MODEL=$TINY run sh $P/ner-train.sh $T/train.conll $T/dev.conll
	assert_success
	run jq -r '.id2label[]' $T/run/model/config.json
	assert_line 'B-ZZZ'
}

@test "ner-predict.sh fails when a stage of its pipeline fails" {
	need_data
	conll_head $DATA/conll2003/eng.train 20 > $T/train.conll
	conll_head $DATA/conll2003/eng.testa 5 > $T/dev.conll
	OUT=$T/run EPOCHS=1 MODEL=$TINY sh $P/ner-train.sh $T/train.conll $T/dev.conll
	printf 'John lives in Paris .\nbad \377 byte\n' > $T/in.txt
	OUT=$T/pred run --separate-stderr sh $P/ner-predict.sh $T/run/model $T/in.txt
	assert_failure 1
	assert_equal "$(echo "$stderr" | tail -1)" "ner-predict: sift-tok exited with status 1"
}

@test "a live feed: sift-tok | sift-batch --flush-after | sift-fwd predicts each line while the input stays open" {
	printf 'O\nB-PER\nI-PER\nB-LOC\n' > $T/labels
	mkfifo $T/in
	sift-tok -m $TINY -f lines --task ner --words --labels $T/labels < $T/in |
		sift-batch -b 32 --flush-after 0.2 |
		sift-fwd -m $TINY --init-head 3 > $T/out &
	pid=$!
	exec 7> $T/in
	printf 'John lives in Paris\nMarkets rose\n' >&7
	# header and two predictions, the feed still open
	for i in $(seq 100); do
		[ "$(sift-cat $T/out 2>/dev/null | wc -l)" -ge 3 ] && break
		sleep 0.1
	done
	run bash -c "sift-cat $T/out | jq -c 'select(.id != null) | [.id, .words]'"
	assert_output - <<'EOF'
[0,["John","lives","in","Paris"]]
[1,["Markets","rose"]]
EOF
	printf 'Paris again\n' >&7
	exec 7>&-
	wait $pid
	run bash -c "sift-cat $T/out | jq -c 'select(.id != null) | .id'"
	assert_output - <<'EOF'
0
1
2
EOF
}

@test "demo.sh runs the whole loop: a first model promoted, retrains behind the gate, the feed watched, nothing new at last" {
	need_data
	cd $BATS_TEST_DIRNAME/..
	run -0 --separate-stderr env MODEL=$TINY OUT=$T/demo FRESH=60 HOLDOUT=40 EPOCHS=1 \
		sh pipelines/demo.sh "${SIFT_BIN#$PWD/}"
	assert_line 'demo: 2. Monday'"'"'s 60 labelled sentences arrive; the first model is trained'
	assert_line --regexp '^demo: -> promoted \(exit 0\): current is now models/[0-9]{8}T[0-9]{6}Z$'
	assert_line 'demo: -> nothing new (exit 4)'
	# the decisions, one a run: the first promoted, the last nothing new
	run jq -r .decision $T/demo/home/runs.log
	assert_line --index 0 promoted
	assert_regex "${lines[1]}" '^(promoted|kept)$'
	assert_regex "${lines[2]}" '^(promoted|kept)$'
	assert_line --index 3 nothing
	# current is a complete model, and the alert state was written
	run -0 sh -c "sift-tok -m $T/demo/home/current -f at --encoding latin1 $T/demo/holdout.txt 2> /dev/null |
		sift-batch | sift-fwd -m $T/demo/home/current | sift-cat | grep -c '\"pred\"'"
	assert_output 40
	jq -e . $T/demo/alerts.json > /dev/null
	[ -s $T/demo/home/current/card.json ]
}

# intent-train.sh on a CLINC-shaped file: 3 intents, 24 train, 6 + 3 val,
# 6 + 4 test, 3 oos_train queries (made up, in CLINC150's shape)
CLINC=$BATS_TEST_DIRNAME/fixtures/pipelines/clinc-tiny.json

# the splits of $CLINC as JSON lines files in $T: train (with oos_train),
# val and test (with their oos queries)
clinc_jsonl() {
	jq -c '(.train, .oos_train)[] | {text: .[0], label: .[1]}' $CLINC > $T/train.jsonl
	jq -c '(.val, .oos_val)[] | {text: .[0], label: .[1]}' $CLINC > $T/val.jsonl
	jq -c '(.test, .oos_test)[] | {text: .[0], label: .[1]}' $CLINC > $T/test.jsonl
}

@test "intent-train.sh is a POSIX sh script, installed with the others" {
	[ -x $P/intent-train.sh ]
	head -1 $P/intent-train.sh | grep -qx '#!/bin/sh'
	run dash -n $P/intent-train.sh
	assert_success
	run make -s -C $BATS_TEST_DIRNAME/.. -n install DESTDIR=/nonexistent
	assert_output --partial pipelines/intent-train.sh
}

@test "intent-train.sh trains on the in-scope intents, chooses the threshold on val and scores test with it" {
	OUT=$T/run EPOCHS=2 BATCH=8 MODEL=$TINY run sh $P/intent-train.sh $CLINC
	assert_success
	# the model knows the in-scope intents only
	assert_equal "$(jq -c '[.id2label[]]' $T/run/model/config.json)" '["alarm","timer","weather"]'
	# the threshold is sift-eval --find-threshold's on all of val (6 + 3 oos)
	t=$(sift-eval --abstain oos --find-threshold $T/run/val.predictions | sift-cat | jq -r 'select(.abstain) | .abstain.threshold')
	assert_line --index 0 --regexp "^threshold $t \\(balanced [0-9.]+ on val\\)\$"
	assert_equal "$(sift-cat $T/run/val.predictions | grep -c '"gold":"oos"')" 3
	# test: every query below t abstained, the others took the argmax
	run -0 sh -c "sift-cat $T/run/test.predictions | jq -s -c --argjson t $t '.[0].labels as \$l | .[1:][] |
		(.probs | max) as \$m | (.probs | index(\$m)) as \$i |
		if \$m < \$t then .pred == \"oos\" and .abstained else .pred == \$l[\$i] and (.abstained | not) end' | sort | uniq -c"
	assert_output --partial true
	refute_output --partial false
	assert_equal "$(sift-cat $T/run/test.predictions | grep -c '"pred"')" 10
	# the scores are sift-eval's of those predictions
	expected=$(sift-eval --abstain oos $T/run/test.predictions | sift-cat | jq -r 'select(.abstain) | .abstain |
		def r: . * 10000 | round / 10000;
		"test in-scope accuracy \(.in_scope_accuracy | r) (6 queries)\ntest oos precision \(.precision | r)\ntest oos recall \(.recall | r) (4 queries)\ntest oos f1 \(.f1 | r)"')
	assert_equal "$(tail -n 4 $T/run/report.txt)" "$expected"
	grep -q 'out-of-scope label oos' $T/run/test.report.txt
}

@test "intent-train.sh --with-oos trains the oos training queries as one more class" {
	OUT=$T/run EPOCHS=1 BATCH=8 MODEL=$TINY run sh $P/intent-train.sh --with-oos $CLINC
	assert_success
	assert_equal "$(jq -c '[.id2label[]]' $T/run/model/config.json)" '["alarm","oos","timer","weather"]'
	assert_equal "$(grep -c '"oos"' $T/run/train.jsonl)" 3
	assert_line --index 0 --regexp '^threshold [0-9.e-]+ \(balanced [0-9.]+ on val\)$'
	assert_line --regexp '^test oos recall [0-9.]+ \(4 queries\)$'
}

@test "intent-train.sh takes train, val and test as JSON lines files, the same as the CLINC150 file" {
	clinc_jsonl
	OUT=$T/a EPOCHS=1 BATCH=8 MODEL=$TINY sh $P/intent-train.sh $CLINC > $T/a.out
	OUT=$T/b EPOCHS=1 BATCH=8 MODEL=$TINY run sh $P/intent-train.sh $T/train.jsonl $T/val.jsonl $T/test.jsonl
	assert_success
	# train's oos queries are left out without --with-oos
	assert_equal "$(grep -c '"oos"' $T/b/train.jsonl)" 0
	assert_equal "$output" "$(cat $T/a.out)"
	[ "$(wc -l < $T/a.out)" -eq 5 ]
}

@test "intent-train.sh: a CLINC150 file without a split it needs is an error naming the split" {
	jq 'del(.oos_val)' $CLINC > $T/c.json
	OUT=$T/run MODEL=$TINY run -1 --separate-stderr sh $P/intent-train.sh $T/c.json
	assert_equal "$stderr" "intent-train: $T/c.json: no oos_val split (a list of [text, intent] pairs)"
	jq 'del(.oos_train)' $CLINC > $T/c.json
	OUT=$T/run MODEL=$TINY run -0 sh $P/intent-train.sh $T/c.json
	OUT=$T/run MODEL=$TINY run -1 --separate-stderr sh $P/intent-train.sh --with-oos $T/c.json
	assert_equal "$stderr" "intent-train: $T/c.json: no oos_train split (a list of [text, intent] pairs)"
	echo '[]' > $T/c.json
	OUT=$T/run MODEL=$TINY run -1 --separate-stderr sh $P/intent-train.sh $T/c.json
	assert_equal "$stderr" "intent-train: $T/c.json: no train split (a list of [text, intent] pairs)"
}

@test "intent-train.sh: val without out-of-scope queries is an error, before training" {
	clinc_jsonl
	grep -v '"oos"' $T/val.jsonl > $T/val-in.jsonl
	OUT=$T/run MODEL=$TINY run -1 --separate-stderr sh $P/intent-train.sh $T/train.jsonl $T/val-in.jsonl $T/test.jsonl
	assert_equal "$stderr" "intent-train: $T/val-in.jsonl: no oos queries: the threshold needs out-of-scope queries in val and test"
	[ ! -e $T/run/model ]
	# another abstain label: the same queries are out of scope under it
	sed 's/"oos"/"none"/' $T/val.jsonl > $T/val-none.jsonl
	OUT=$T/run MODEL=$TINY ABSTAIN=none run -1 --separate-stderr sh $P/intent-train.sh $T/train.jsonl $T/val-none.jsonl $T/test.jsonl
	assert_equal "$stderr" "intent-train: $T/test.jsonl: no none queries: the threshold needs out-of-scope queries in val and test"
}

@test "intent-train.sh: an intent of val that train lacks is an error naming the file and line" {
	clinc_jsonl
	sed '2s/"alarm"/"alrm"/' $T/val.jsonl > $T/val-bad.jsonl
	OUT=$T/run MODEL=$TINY run -1 --separate-stderr sh $P/intent-train.sh $T/train.jsonl $T/val-bad.jsonl $T/test.jsonl
	assert_equal "$stderr" "sift-tok: $T/val-bad.jsonl:2: label 'alrm' not in --labels"
	[ ! -e $T/run/model ]
	echo 'not json' > $T/bad.jsonl
	OUT=$T/run MODEL=$TINY run -1 --separate-stderr sh $P/intent-train.sh $T/train.jsonl $T/bad.jsonl $T/test.jsonl
	assert_regex "$stderr" "^intent-train: $T/bad.jsonl: not JSON lines of objects: .*line 1"
}

@test "intent-train.sh misuse exits 2 with its usage" {
	for args in "--bogus" "a b" "a b c d"; do
		MODEL=$TINY run -2 --separate-stderr sh $P/intent-train.sh $args
		assert_regex "$stderr" "usage: intent-train.sh \[--with-oos\]"
	done
	MODEL=$TINY OBJECTIVE=f1 run -2 --separate-stderr sh $P/intent-train.sh $CLINC
	assert_equal "$stderr" "intent-train: OBJECTIVE: expected balanced or abstain-f1, got 'f1'"
}

@test "from a checkout, intent-train.sh reads the shared CLINC150 data_full.json by default" {
	need_data
	# a sift-tok that notes its arguments and fails stands in for the run
	mkdir $T/bin
	printf '#!/bin/sh\necho "$@" >> %s/args; exit 1\n' $T > $T/bin/sift-tok
	chmod +x $T/bin/sift-tok
	R=$(cd $BATS_TEST_DIRNAME/.. && pwd)
	cd /
	run env -u MODEL -u SIFT_DATA PATH=$T/bin:$PATH OUT=$T/run sh $R/pipelines/intent-train.sh
	assert_failure 1
	assert_equal "$(head -n 1 $T/args)" "-m $R/models/all-MiniLM-L6-v2 -f jsonl --task cls --labels $T/run/labels.txt $T/run/train.jsonl"
	# CLINC150's counts: 15,000 in-scope training queries of 150 intents,
	# val 3,000 + 100 oos, test 4,500 + 1,000 oos
	assert_equal "$(wc -l < $T/run/train.jsonl) $(wc -l < $T/run/labels.txt)" "15000 150"
	assert_equal "$(wc -l < $T/run/val.jsonl) $(grep -c '"label":"oos"' $T/run/val.jsonl)" "3100 100"
	assert_equal "$(wc -l < $T/run/test.jsonl) $(grep -c '"label":"oos"' $T/run/test.jsonl)" "5500 1000"
	assert_equal "$(tail -n 1 $T/run/labels+abstain.txt)" oos
}
