#!/usr/bin/env bats
# monitor.bats: sift-monitor, news to alerts for cron, end to end with the
# small classification model of tests/fixtures/train/seq.

load helper

SEQ=$BATS_TEST_DIRNAME/fixtures/train/seq
MANPAGE=$BATS_TEST_DIRNAME/../man/man1/sift-monitor.1

setup() {
	T=$BATS_TEST_TMPDIR
}

# a copy of the fixture model that calls every text label k (0 negative,
# 1 neutral, 2 positive), whatever its probabilities were: the classifier
# bias is 20 on k and 0 elsewhere, so that no CPU can disagree
biased_model() {
	local dir=$1 k=$2 n off i
	cp -r $SEQ $dir
	n=$(head -c 8 $dir/model.safetensors | od -An -tu8 | tr -d ' ')
	off=$(tail -c +9 $dir/model.safetensors | head -c $n | jq '.["classifier.bias"].data_offsets[0]')
	for i in 0 1 2; do
		if [ $i = $k ]; then printf '\x00\x00\xa0\x41'; else printf '\x00\x00\x00\x00'; fi
	done | dd of=$dir/model.safetensors bs=1 seek=$((8 + n + off)) conv=notrunc status=none
}

# JSON-lines news: n headlines at hour hh about topic
news() {
	local hh=$1 topic=$2 n=$3 i
	for ((i = 0; i < n; i++)); do
		printf '{"text":"%s headline %d at %s","time":"2026-11-29T%s:%02d:00Z","topic":"%s"}\n' \
			"$topic" $i $hh $hh $i "$topic"
	done
}

@test "an empty hour is a quiet success: an empty file, blank lines, an empty stdin" {
	: > $T/empty.jsonl
	printf '\n \n' > $T/blank.jsonl
	run -0 --separate-stderr sift-monitor -m $SEQ --state $T/s.json $T/empty.jsonl $T/blank.jsonl
	assert_output ''
	assert_equal "$stderr" ''
	run -0 --separate-stderr sift-monitor -m $SEQ --state $T/s.json < /dev/null
	assert_output ''
	assert_equal "$stderr" ''
	[ ! -e $T/s.json ]
}

@test "an empty file beside news is skipped, not an error" {
	: > $T/empty.jsonl
	news 08 ACME 2 > $T/n.jsonl
	run -0 --separate-stderr sift-monitor -m $SEQ -n 1 -a 'negative>0.5' --table $T/empty.jsonl $T/n.jsonl
	assert_line --regexp '^2026-11-29T08:00:00Z +\* +2 '
}

@test "news without a time goes to the untimed group, not an error" {
	biased_model $T/pos 2
	{ news 08 ACME 1; echo '{"text":"no time at all","topic":"ACME"}'; } > $T/n.jsonl
	run -3 --separate-stderr sift-monitor -m $T/pos -n 1 -k 1 -a 'positive>0.5' --by-topic $T/n.jsonl
	assert_equal "$stderr" ''
	assert_line --index 0 --partial 'ALERT positive>0.5 window 2026-11-29T08:00:00Z topic ACME: positive = 1.000 (1 of 1)'
	assert_line --index 2 --partial 'ALERT positive>0.5 window untimed topic ACME: positive = 1.000 (1 of 1)'
	assert_line --index 3 --regexp '^  1\.000  -  no time at all$'
}

@test "all is well: nothing printed, status 0" {
	biased_model $T/pos 2
	news 08 ACME 3 > $T/n.jsonl
	run -0 --separate-stderr sift-monitor -m $T/pos -n 1 $T/n.jsonl
	assert_output ''
	assert_equal "$stderr" ''
}

@test "an alert fires once, stays quiet while it holds, and fires again after it clears and returns" {
	biased_model $T/pos 2
	biased_model $T/neg 0
	ln -s pos $T/current
	S=$T/alerts.json
	news 08 ACME 3 > $T/h08.jsonl
	run -3 sift-monitor -m $T/current -n 1 -a 'positive>0.5' --state $S $T/h08.jsonl
	assert_line --index 0 'ALERT positive>0.5 window 2026-11-29T08:00:00Z topic *: positive = 1.000 (3 of 3)'
	news 09 ACME 3 > $T/h09.jsonl
	run -0 sift-monitor -m $T/current -n 1 -a 'positive>0.5' --state $S $T/h09.jsonl
	assert_output ''
	# a retrained model calls the news negative: the condition clears
	ln -sfn neg $T/current
	news 10 ACME 3 > $T/h10.jsonl
	run -0 sift-monitor -m $T/current -n 1 -a 'positive>0.5' --state $S $T/h10.jsonl
	assert_output ''
	run jq -c '.alerts[] | [.rule, .topic, .active, .cleared]' $S
	assert_output '["positive>0.5",null,false,"2026-11-29T10:00:00Z"]'
	ln -sfn pos $T/current
	news 11 ACME 3 > $T/h11.jsonl
	run -3 sift-monitor -m $T/current -n 1 -a 'positive>0.5' --state $S $T/h11.jsonl
	assert_line --index 0 'ALERT positive>0.5 window 2026-11-29T11:00:00Z topic *: positive = 1.000 (3 of 3)'
}

@test "two runs on one state file take turns: the second waits, or fails after --wait" {
	biased_model $T/pos 2
	S=$T/alerts.json
	news 08 ACME 3 > $T/h08.jsonl
	# another run holds the state's lock
	flock $S.lock sleep 3 &
	local holder=$!
	while ! [ -e $S.lock ]; do sleep 0.1; done
	sleep 0.2
	run -1 --separate-stderr sift-monitor -m $T/pos -n 1 -a 'positive>0.5' --state $S --wait 1 $T/h08.jsonl
	assert_output ''
	assert_equal "$stderr" "sift-monitor: $S: in use by another run for 1 s"
	[ ! -e $S ]
	# a longer wait outlasts the holder
	run -3 sift-monitor -m $T/pos -n 1 -a 'positive>0.5' --state $S --wait 60 $T/h08.jsonl
	wait $holder
	[ -s $S ]
	run -2 --separate-stderr sift-monitor -m $T/pos --state $S --wait soon $T/h08.jsonl
	assert_equal "${stderr_lines[0]}" "sift-monitor: --wait: expected whole seconds, got 'soon'"
}

@test "--every-run alerts every run, and so does a run without --state" {
	biased_model $T/pos 2
	news 08 ACME 2 > $T/n.jsonl
	run -3 sift-monitor -m $T/pos -n 1 -a 'positive>0.5' --state $T/s.json $T/n.jsonl
	run -3 sift-monitor -m $T/pos -n 1 -a 'positive>0.5' --state $T/s.json --every-run $T/n.jsonl
	assert_line --index 0 --partial 'ALERT positive>0.5 '
	# short options bundle as getopt's do
	run -3 --separate-stderr sift-monitor -m$T/pos -n1 -apositive\>0.5 -s $T/s.json -ev $T/n.jsonl
	assert_line --index 0 --regexp '^window '
	assert_equal "$stderr" "sift-monitor: model $T/pos"
	run -3 sift-monitor -m $T/pos -n 1 -a 'positive>0.5' $T/n.jsonl
	run -3 sift-monitor -m $T/pos -n 1 -a 'positive>0.5' $T/n.jsonl
}

@test "with -F json every line is JSON, and the headlines are those of the alerting label" {
	biased_model $T/pos 2
	news 08 ACME 4 > $T/n.jsonl
	news 08 BETA 1 >> $T/n.jsonl
	run -3 --separate-stderr bash -c "sift-monitor -m $T/pos -n 2 -k 3 -a 'positive>0.5' -a 'negative>0.5' --by-topic -F json --table $T/n.jsonl > $T/out"
	assert_equal "$stderr" ''
	run jq -c . $T/out
	assert_success
	assert_equal "$(wc -l < $T/out)" 3
	run jq -c 'select(.alert) | [.rule, .group.topic, .count, .n, (.top | length)]' $T/out
	assert_output '["positive>0.5","ACME",4,4,3]'
	# the headlines shown are texts of the group, all predicted positive
	run jq -r 'select(.alert) | .top[].text' $T/out
	for l in "${lines[@]}"; do
		[[ "$l" == "ACME headline "?" at 08" ]] || fail "not an ACME headline: $l"
	done
}

@test "the model is resolved once: sift-tok and sift-fwd get one path though current is switched mid-run" {
	biased_model $T/pos 2
	biased_model $T/neg 0
	ln -s pos $T/current
	mkdir $T/fake
	# sift-tok switches the link as a retraining job would, then runs
	cat > $T/fake/sift-tok <<EOF
#!/bin/sh
ln -sfn neg $T/current
echo "sift-tok \$*" >> $T/args
exec $SIFT_BIN/sift-tok "\$@"
EOF
	cat > $T/fake/sift-fwd <<EOF
#!/bin/sh
echo "sift-fwd \$*" >> $T/args
exec $SIFT_BIN/sift-fwd "\$@"
EOF
	chmod +x $T/fake/sift-tok $T/fake/sift-fwd
	news 08 ACME 2 > $T/n.jsonl
	PATH=$T/fake:$PATH run -3 --separate-stderr sift-monitor -m $T/current -n 1 -a 'positive>0.5' -v $T/n.jsonl
	assert_equal "$stderr" "sift-monitor: model $T/pos"
	run grep -c -- "-m $T/pos\( \|\$\)" $T/args
	assert_output 2
	[ "$(readlink $T/current)" = neg ]
}

@test "a failing stage is its one line and status 1; output and state are left alone" {
	biased_model $T/pos 2
	news 08 ACME 2 > $T/n.jsonl
	run -3 sift-monitor -m $T/pos -n 1 -a 'positive>0.5' --state $T/s.json $T/n.jsonl
	cp $T/s.json $T/before.json
	printf '%s\n' '{"text":"fine","time":"2026-11-29T09:00:00Z"}' '{"text":' > $T/bad.jsonl
	run -1 --separate-stderr sift-monitor -m $T/pos -n 1 -a 'positive>0.5' --state $T/s.json $T/bad.jsonl
	assert_output ''
	assert_equal "$stderr" "sift-tok: $T/bad.jsonl:2: unexpected token near end of file"
	cmp $T/s.json $T/before.json
	# a stage that fails after a whole stream: what it let through is
	# not reported, a new alert included, and the state is not changed
	mkdir $T/fake
	printf '#!/bin/sh\n%s/sift-fwd "$@"\necho "sift-fwd: stdin:3: out of memory" >&2\nexit 1\n' $SIFT_BIN > $T/fake/sift-fwd
	chmod +x $T/fake/sift-fwd
	news 09 ACME 2 > $T/n9.jsonl
	PATH=$T/fake:$PATH run -1 --separate-stderr sift-monitor -m $T/pos -n 1 -a 'neutral<0.5' --state $T/s.json $T/n9.jsonl
	assert_output ''
	assert_equal "$stderr" "sift-fwd: stdin:3: out of memory"
	cmp $T/s.json $T/before.json
	# killed in the middle of its output: it is named, not the stage
	# after it that found a truncated record
	printf '#!/bin/sh\n%s/sift-fwd "$@" | head -c 200\nkill -9 $$\n' $SIFT_BIN > $T/fake/sift-fwd
	PATH=$T/fake:$PATH run -1 --separate-stderr sift-monitor -m $T/pos -n 1 -a 'neutral<0.5' --state $T/s.json $T/n9.jsonl
	assert_output ''
	assert_equal "$stderr" "sift-monitor: sift-fwd exited with status 137"
	cmp $T/s.json $T/before.json
}

@test "a model that is not there is an error naming it" {
	run -1 --separate-stderr sift-monitor -m $T/nothing $T/n.jsonl
	assert_equal "$stderr" "sift-monitor: $T/nothing: no such model directory"
}

@test "an unknown option and a bad rule are misuse" {
	run -2 --separate-stderr sift-monitor -m $SEQ --bogus
	assert_equal "$stderr" "sift-monitor: unknown option '--bogus'
Try 'sift-monitor --help'."
	run -2 --separate-stderr sift-monitor -m $SEQ --alert 'negative=0.4' /dev/null
	assert_equal "$stderr" "sift-report: --alert: expected LABEL>SHARE such as negative>0.4, got 'negative=0.4'
Try 'sift-monitor --help'."
	run -2 --separate-stderr sift-monitor -m $SEQ --state
	assert_equal "$stderr" "sift-monitor: option '--state' needs a value
Try 'sift-monitor --help'."
}

@test "the usage line is the man page synopsis, and the help goes to stdout" {
	run -0 sift-monitor --help
	assert_line --index 0 "usage: $(mandoc -Tascii -O width=300 $MANPAGE | col -b | sed -n '/^SYNOPSIS/{n;s/^ *//;p;q}')"
}

# the man page's example containing $1, as written, with the paths of the
# host mapped into $T
example() {
	sed -n 's/^\.Dl //p' $MANPAGE | grep -F -- "$1" |
		sed -e "s|/srv/sift/news|$T/news|g; s|/var/lib/sift|$T|g; s|/srv/feed|$T|g"
}

@test "the man page's crontab line runs as written, and alerts once" {
	mkdir $T/news
	biased_model $T/news/model-2 0
	ln -s model-2 $T/news/current
	{ news 08 ACME 15; news 08 BETA 10; } > $T/last-hour.jsonl
	line=$(example 'crontab' ; example '*/10 ')
	[ -n "$line" ]
	cmd=$(echo "$line" | cut -d' ' -f6-)
	run -3 --separate-stderr sh -c "$cmd"
	assert_equal "$stderr" ''
	assert_line --index 0 'ALERT negative>0.4 window 2026-11-29T08:00:00Z topic *: negative = 1.000 (25 of 25)'
	assert_equal "${#lines[@]}" 4
	run -0 sh -c "$cmd"
	assert_output ''
	run jq -c '[.alerts[] | .active]' $T/alerts.json
	assert_output '[true]'
}

@test "the man page's other examples run as written" {
	mkdir -p $T/runs/sentiment
	biased_model $T/runs/sentiment/model 0
	cd $T
	{ news 08 ACME 20; news 09 BETA 20; } > news.jsonl
	printf 'Profits fell .\nSales rose .\n' > headlines.txt
	run -3 --separate-stderr sh -c "$(example ' -v news.jsonl')"
	assert_equal "$stderr" "sift-monitor: model $T/runs/sentiment/model"
	assert_line --index 0 --regexp '^window +topic +n +negative +neutral +positive$'
	assert_line --index 1 --regexp '^2026-11-29T08:00:00Z +ACME +20 +1.000 '
	# hour 09 is the same condition going on (no --by-topic): one alert
	run -0 sh -c "$(example 'jq -r')"
	assert_output "ACME headline 0 at 08
ACME headline 1 at 08
ACME headline 2 at 08"
	run -0 sh -c "$(example 'jq -r')"
	assert_output ''
	run -3 sh -c "$(example 'headlines.txt')"
	assert_line --index 0 'ALERT negative>0.5 window all topic *: negative = 1.000 (2 of 2)'
}

# an adapter of the fixture model made by sift-train --lora, whose head
# is trained on the fixture's examples
lora_adapter() {
	sift-cat -s $BATS_TEST_DIRNAME/fixtures/train/seq.jsonl > $T/seq.batches
	sift-train -m $SEQ -o $1 --no-state --lora 4 --lr 1e-2 $T/seq.batches > /dev/null
}

@test "an adapter with a link to its base classifies as base + adapter" {
	lora_adapter $T/lora
	ln -s $SEQ $T/lora/base
	ln -s lora $T/current
	news 08 ACME 30 > $T/n.jsonl
	run -0 --separate-stderr sift-monitor -m $T/current -n 1 -a 'positive>0.99' -F json --table -v $T/n.jsonl
	assert_equal "$stderr" "sift-monitor: model $SEQ, adapter $T/lora"
	pipe() { sift-tok -m $SEQ -f jsonl --task cls $T/n.jsonl | sift-batch -b 32 | sift-fwd -m $SEQ "$@" |
		sift-report --min-count 1 --top 3 -F json --window 1h --alert 'positive>0.99'; }
	assert_equal "$output" "$(pipe --adapter $T/lora)"
	[ "$output" != "$(pipe)" ] || fail "the base alone reports as the adapter does"
}

@test "an adapter without a base link is an error naming it" {
	lora_adapter $T/lora
	news 08 ACME 2 > $T/n.jsonl
	run -1 --separate-stderr sift-monitor -m $T/lora $T/n.jsonl
	assert_output ''
	assert_equal "$stderr" "sift-monitor: $T/lora: an adapter with no base model (no link $T/lora/base, which sift-retrain makes)"
}
