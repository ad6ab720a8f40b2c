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
