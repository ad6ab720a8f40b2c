#!/usr/bin/env bats
# batch.bats: sift-batch, examples streams into padded batches.

load helper

setup() {
	F=$FIXTURES/batch
	T=$BATS_TEST_TMPDIR
}

# n examples of a cls stream with lengths 3..52 in a fixed pattern
gen() {
	awk -v n="$1" 'BEGIN {
		print "{\"sift\":1,\"kind\":\"examples\",\"task\":\"cls\",\"labels\":[\"a\",\"b\"],\"producer\":\"gen\"}"
		for (i = 0; i < n; i++) {
			len = 3 + (i * 37) % 50
			ids = "101"
			for (t = 1; t < len - 1; t++) ids = ids "," (1000 + t)
			printf "{\"id\":%d,\"src\":\"gen:%d\",\"ids\":[%s,102],\"label\":%d}\n", i, i + 1, ids, i % 2
		}
	}' | sift-cat -s
}

# the padded arrays of every batch, one JSON line each
arrays() {
	sift-cat | jq -c 'select(.B) | {B, T, ids, type_ids, mask, labels}'
}

@test "ner batches are padded as Hugging Face DataCollatorForTokenClassification pads them" {
	for b in 2 3; do
		sift-cat -s $F/ner.jsonl | sift-batch -b $b > $T/s
		run arrays < $T/s
		assert_success
		assert_output "$(cat $F/ner.b$b.ref.jsonl)"
	done
}

@test "pair batches are padded as Hugging Face DataCollatorWithPadding pads them" {
	for b in 2 3; do
		sift-cat -s $F/cls.jsonl | sift-batch -b $b > $T/s
		run arrays < $T/s
		assert_success
		assert_output "$(cat $F/cls.b$b.ref.jsonl)"
	done
}

@test "ex keeps each example without ids, type_ids, offsets and labels" {
	run bash -c "sift-cat -s $F/ner.jsonl | sift-batch -b 2 | sift-cat | jq -c 'select(.B) | .ex[]'"
	assert_success
	assert_output - <<'EOF'
{"id":0,"src":"a.conll:3","words":["John","Smith","is","in","Paris"],"word_idx":[-1,0,1,2,3,4,-1],"gold":["B-PER","I-PER","O","O","B-LOC"]}
{"id":1,"src":"a.conll:9","words":["Hello"],"word_idx":[-1,0,-1],"gold":["O"]}
{"id":2,"src":"a.conll:11","words":["Paris","is"],"word_idx":[-1,0,1,-1],"gold":["B-LOC","O"]}
EOF
}

@test "the header becomes a batches header and passes other keys through" {
	run bash -c "sift-cat -s $F/ner.jsonl | sift-batch -b 2 | sift-cat | head -1"
	assert_success
	assert_output '{"sift":1,"kind":"batches","task":"ner","labels":["O","B-PER","I-PER","B-LOC","I-LOC"],"vocab":{"size":30522,"hash":"1b2c3d4e5f607182"},"producer":"sift-batch 0.1","total":-1,"epochs":1,"batch_size":2,"seed":0,"stride":8}'
}

@test "batches carry the typed arrays of the stream format" {
	sift-cat -s $F/ner.jsonl | sift-batch -b 3 > $T/s
	# mask: ext 8 (c7), 21 bytes (15), dtype u8 (03), then 1 1 1 1 1 1 1 1 1 1 0
	run bash -c "od -An -tx1 -v $T/s | tr -d ' \n' | grep -c 'c715030101010101010101010100'"
	assert_output 1
}

@test "the pad id comes from --pad-id" {
	run bash -c "sift-cat -s $F/cls.jsonl | sift-batch -b 2 --pad-id 7 | sift-cat | jq -c 'select(.B) | .ids'"
	assert_success
	assert_output - <<'EOF'
[101,2204,102,2919,102,101,7592,102,102,7]
[101,102,2204,2204,2204,102]
EOF
}

@test "the pad id comes from the header's pad_id when there is no --pad-id" {
	run bash -c "sed '1s/}\$/,\"pad_id\":5}/' $F/cls.jsonl | sift-cat -s | sift-batch -b 2 | sift-cat | jq -c 'select(.B) | .ids'"
	assert_success
	assert_line -n 0 '[101,2204,102,2919,102,101,7592,102,102,5]'
}

@test "an example with a label beside one without gives -100 to the other" {
	run bash -c "sift-cat -s $F/cls.jsonl | sift-batch -b 3 | sift-cat | jq -c 'select(.B) | .labels'"
	assert_output '[1,-100,0]'
}

@test "batches without any gold label have no labels key" {
	run bash -c "grep -v '\"label\":' $F/cls.jsonl | sift-cat -s | sift-batch | sift-cat | jq -c 'select(.B) | [.B, has(\"labels\")]'"
	assert_success
	assert_output '[1,false]'
}

@test "batches hold --batch-size examples in input order when streaming" {
	run bash -c "$(declare -f gen); gen 10 | sift-batch -b 4 | sift-cat | jq -c 'select(.B) | [.ex[].id]'"
	assert_success
	assert_output - <<'EOF'
[0,1,2,3]
[4,5,6,7]
[8,9]
EOF
}

@test "no batch holds more padded tokens than --max-tokens" {
	gen 300 > $T/ex
	for s in "" "-s --seed 4"; do
		run bash -c "sift-batch -b 64 -t 200 $s < $T/ex | sift-cat | jq -r 'select(.B) | [.B * .T, (.mask | length), .B] | @tsv'"
		assert_success
		# every batch within the cap and its mask B*T long
		assert_equal "$(echo "$output" | awk '$1 > 200 || $1 != $2' | wc -l)" 0
		# the cap, not the batch size, cut them: more than one example
		# per batch on average, far fewer than 64
		assert_equal "$(echo "$output" | awk '{ n += $3 } END { print n }')" 300
		nb=$(echo "$output" | wc -l)
		[ "$nb" -gt 20 ] && [ "$nb" -lt 150 ]
	done
}

@test "an example longer than --max-tokens makes a batch of one" {
	run bash -c "$(declare -f gen); gen 5 | sift-batch -b 8 -t 10 | sift-cat | jq -c 'select(.B) | [.B, .T]'"
	assert_success
	assert_output - <<'EOF'
[1,3]
[1,40]
[1,27]
[1,14]
[1,51]
EOF
}

# waits up to 10 s for file $1 to hold $2 JSON lines through sift-cat
wait_lines() {
	for i in $(seq 100); do
		[ "$(sift-cat "$1" 2>/dev/null | wc -l)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "a batch is written before the input ends" {
	sift-cat -s $F/ner.jsonl > $T/s
	mkfifo $T/in
	sift-batch -b 2 < $T/in > $T/out &
	pid=$!
	exec 7> $T/in
	cat $T/s >&7
	# the input stays open: header and first batch come all the same
	wait_lines $T/out 2
	run bash -c "sift-cat $T/out | jq -c '[.kind, .B]'"
	exec 7>&-
	wait $pid
	assert_output - <<'EOF'
["batches",null]
[null,2]
EOF
	# at the end of the input, the rest
	run bash -c "sift-cat $T/out | jq -c '[.kind, .B, .epoch_end]'"
	assert_line -n 2 '[null,1,null]'
	assert_line -n 3 '[null,null,0]'
}

@test "--flush-after writes the open batch when a live input pauses" {
	sift-cat -s $F/ner.jsonl > $T/s
	mkfifo $T/in
	sift-batch -b 32 --flush-after 0.2 < $T/in > $T/out &
	pid=$!
	exec 7> $T/in
	cat $T/s >&7
	# three examples in a batch of 32, the input open and silent
	wait_lines $T/out 2
	run bash -c "sift-cat $T/out | jq -c '[.kind, .B, [.ex[]?.id]]'"
	assert_output - <<'EOF'
["batches",null,[]]
[null,3,[0,1,2]]
EOF
	# the next pause after more input writes what came since
	cat $T/s >&7
	wait_lines $T/out 3
	exec 7>&-
	wait $pid
	run bash -c "sift-cat $T/out | jq -c '[.B, .epoch_end]'"
	assert_output - <<'EOF'
[null,null]
[3,null]
[3,null]
[null,0]
EOF
}

@test "without --flush-after a short batch waits for the input to end" {
	sift-cat -s $F/ner.jsonl > $T/s
	mkfifo $T/in
	sift-batch -b 32 < $T/in > $T/out &
	pid=$!
	exec 7> $T/in
	cat $T/s >&7
	wait_lines $T/out 1
	sleep 0.5
	run bash -c "sift-cat $T/out | wc -l"
	assert_output 1
	exec 7>&-
	wait $pid
	run bash -c "sift-cat $T/out | jq -c '[.B, .epoch_end]'"
	assert_line -n 1 '[3,null]'
	assert_line -n 2 '[null,0]'
}

@test "--flush-after is misuse with --shuffle or --epochs, or without a duration" {
	run sift-batch --flush-after 1 -s < /dev/null
	assert_failure 2
	assert_line -n 0 'sift-batch: --flush-after: batches stream out only without --shuffle and --epochs'
	run sift-batch --flush-after 1 -e 2 < /dev/null
	assert_failure 2
	run sift-batch --flush-after 0 < /dev/null
	assert_failure 2
	assert_line -n 0 "sift-batch: --flush-after: expected a number from 0.001 to 86400, got '0'"
	run sift-batch --flush-after soon < /dev/null
	assert_failure 2
}

@test "the same seed gives the same batches" {
	gen 500 > $T/ex
	sift-batch -s --seed 7 -e 2 < $T/ex > $T/a
	sift-batch -s --seed 7 -e 2 < $T/ex > $T/b
	cmp $T/a $T/b
}

@test "another seed gives another order" {
	gen 500 > $T/ex
	sift-batch -s --seed 7 < $T/ex | sift-cat | jq -c 'select(.B) | [.ex[].id]' > $T/a
	sift-batch -s --seed 8 < $T/ex | sift-cat | jq -c 'select(.B) | [.ex[].id]' > $T/b
	run cmp -s $T/a $T/b
	assert_failure
}

@test "a shuffled epoch holds every example once" {
	gen 500 > $T/ex
	run bash -c "sift-batch -s --seed 3 -b 16 < $T/ex | sift-cat | jq -r 'select(.B) | .ex[].id' | sort -n | uniq | wc -l"
	assert_output 500
	run bash -c "sift-batch -s --seed 3 -b 16 < $T/ex | sift-cat | jq -r 'select(.B) | .ex[].id' | wc -l"
	assert_output 500
}

@test "shuffling changes the order of examples and of batches" {
	gen 500 > $T/ex
	run bash -c "sift-batch -s --seed 3 -b 10 < $T/ex | sift-cat | jq -c 'select(.B) | [.ex[].id]' | head -3"
	refute_output --partial '[0,1,2,3,4,5,6,7,8,9]'
	# bucketing: batches of like length come out in no length order
	run bash -c "sift-batch -s --seed 3 -b 10 < $T/ex | sift-cat | jq -r 'select(.B) | .T' | head -20 | sort -c -n"
	assert_failure
}

@test "bucketing by length pads less than a plain shuffle" {
	gen 2000 > $T/ex
	bucketed=$(sift-batch -s -b 32 < $T/ex | sift-cat | jq -s '[.[] | select(.B) | .B * .T] | add')
	plain=$(sift-batch -s --pool 0 -b 32 < $T/ex | sift-cat | jq -s '[.[] | select(.B) | .B * .T] | add')
	real=$(sift-batch -b 32 < $T/ex | sift-cat | jq -s '[.[] | select(.B) | .mask | add] | add')
	echo "real $real bucketed $bucketed plain $plain"
	[ "$bucketed" -lt $((real * 11 / 10)) ]
	[ "$plain" -gt $((real * 3 / 2)) ]
}

@test "epochs are reshuffled and each ends with a marker" {
	gen 50 > $T/ex
	run bash -c "sift-batch -s --seed 1 -b 16 -e 3 < $T/ex | sift-cat | jq -c 'if .B then [.epoch, .B] elif .sift then .total else . end'"
	assert_success
	assert_line -n 0 12
	assert_equal "$(echo "$output" | grep -c epoch_end)" 3
	assert_line -n 5 '{"epoch_end":0}'
	assert_line -n 10 '{"epoch_end":1}'
	assert_line -n 15 '{"epoch_end":2}'
	assert_equal "$(echo "$output" | sed -n 2,5p | grep -c '^\[0,')" 4
	assert_equal "$(echo "$output" | sed -n 12,15p | grep -c '^\[2,')" 4
	e0=$(sift-batch -s --seed 1 -b 16 -e 3 < $T/ex | sift-cat | jq -c 'select(.epoch == 0) | [.ex[].id]')
	e1=$(sift-batch -s --seed 1 -b 16 -e 3 < $T/ex | sift-cat | jq -c 'select(.epoch == 1) | [.ex[].id]')
	[ "$e0" != "$e1" ]
}

@test "the header total counts the batches of every epoch" {
	gen 103 > $T/ex
	for opts in "-e 2" "-s -e 3 -b 10" "-s -t 300 -e 2" "-s -e 2 --drop-last -b 10"; do
		run bash -c "sift-batch $opts < $T/ex | sift-cat | jq -s '(.[0].total == ([.[] | select(.B)] | length))'"
		assert_output true
	done
}

@test "epochs without --shuffle repeat the input order" {
	run bash -c "$(declare -f gen); gen 5 | sift-batch -b 2 -e 2 | sift-cat | jq -c 'select(.sift | not) | if .B then [.epoch, .ex[].id] else . end'"
	assert_success
	assert_output - <<'EOF'
[0,0,1]
[0,2,3]
[0,4]
{"epoch_end":0}
[1,0,1]
[1,2,3]
[1,4]
{"epoch_end":1}
EOF
}

@test "--drop-last drops the short last batch of every epoch" {
	gen 10 > $T/ex
	run bash -c "sift-batch -b 4 --drop-last < $T/ex | sift-cat | jq -c 'select(.B) | [.ex[].id]'"
	assert_output - <<'EOF'
[0,1,2,3]
[4,5,6,7]
EOF
	run bash -c "sift-batch -s -b 4 -e 2 --drop-last < $T/ex | sift-cat | jq -c 'select(.B) | .B'"
	assert_output "$(printf '4\n4\n4\n4')"
}

@test "--drop-last keeps a full last batch" {
	gen 8 > $T/ex
	run bash -c "sift-batch -b 4 --drop-last < $T/ex | sift-cat | jq -c 'select(.B) | .B'"
	assert_output "$(printf '4\n4')"
}

@test "a stream arriving a byte at a time gives the same batches" {
	gen 40 > $T/ex
	sift-batch -b 8 < $T/ex > $T/a
	dd if=$T/ex bs=1 status=none | sift-batch -b 8 > $T/b
	cmp $T/a $T/b
	dd if=$T/ex bs=1 status=none | sift-batch -s -e 2 -b 8 > $T/c
	sift-batch -s -e 2 -b 8 < $T/ex > $T/d
	cmp $T/c $T/d
}

@test "concatenated examples streams are batched as one" {
	sift-cat -s $F/ner.jsonl > $T/s
	run bash -c "cat $T/s $T/s | sift-batch -b 4 - | sift-cat | jq -c 'select(.B) | [.ex[].id]'"
	assert_success
	assert_output - <<'EOF'
[0,1,2,0]
[1,2]
EOF
}

@test "a stream of another kind is an error naming the record" {
	sift-cat -s $FIXTURES/stream/batches.jsonl > $T/s
	run -1 --separate-stderr sift-batch $T/s
	assert_equal "$stderr" "sift-batch: $T/s:1: expected an examples stream (from sift-tok), got kind 'batches'"
}

@test "a record without ids is an error naming the record and the batches before it stay valid" {
	{ cat $F/ner.jsonl; echo '{"id":3,"src":"a.conll:20"}'; } | sift-cat -s > $T/s
	run -1 --separate-stderr sift-batch -b 2 $T/s
	assert_equal "$stderr" "sift-batch: $T/s:5: missing key 'ids'"
	sift-batch -b 2 $T/s > $T/out || true
	run bash -c "sift-cat < $T/out | jq -c '[.B, [.ex[]?.id]]'"
	assert_success
	assert_output - <<'EOF'
[null,[]]
[2,[0,1]]
[1,[2]]
EOF
}

@test "type_ids of another length than ids is an error naming the record" {
	{ head -1 $F/cls.jsonl; echo '{"id":0,"ids":[101,102],"type_ids":[0]}'; } | sift-cat -s > $T/s
	run -1 --separate-stderr sift-batch $T/s
	assert_equal "$stderr" "sift-batch: $T/s:2: type_ids has 1 elements, ids has 2"
}

@test "empty ids is an error naming the record" {
	{ head -1 $F/cls.jsonl; echo '{"id":0,"ids":[]}'; } | sift-cat -s > $T/s
	run -1 --separate-stderr sift-batch -s $T/s
	assert_equal "$stderr" "sift-batch: $T/s:2: ids is empty"
	assert_equal "$output" ""
}

@test "ner labels of another length than ids are an error naming the record" {
	{ head -1 $F/ner.jsonl; echo '{"id":0,"ids":[101,102],"labels":[0,0,0]}'; } | sift-cat -s > $T/s
	run -1 --separate-stderr sift-batch $T/s
	assert_equal "$stderr" "sift-batch: $T/s:2: labels has 3 elements, ids has 2"
}

@test "a truncated stream is an error naming the record" {
	sift-cat -s $F/ner.jsonl > $T/s
	# cut the stream 5 bytes into its third record
	n=$(head -2 $F/ner.jsonl | sift-cat -s | wc -c)
	head -c $((n + 5)) $T/s > $T/cut
	run -1 --separate-stderr sift-batch $T/cut
	assert_equal "$stderr" "sift-batch: $T/cut:3: truncated record"
}

@test "empty input is an error" {
	run -1 --separate-stderr sift-batch < /dev/null
	assert_equal "$stderr" "sift-batch: stdin: empty stream (no header)"
}

@test "a missing file is an error" {
	run -1 --separate-stderr sift-batch $T/nonesuch
	assert_equal "$stderr" "sift-batch: $T/nonesuch: No such file or directory"
}

@test "an unknown option is misuse, named as typed, after the program's name and not its path" {
	run -2 --separate-stderr $SIFT_BIN/sift-batch --bogus=1
	assert_equal "$stderr" "sift-batch: unknown option '--bogus'
Try 'sift-batch --help'."
}

@test "a batch size that is no positive integer is misuse" {
	run -2 --separate-stderr sift-batch -b 0
	assert_equal "$stderr" "sift-batch: --batch-size: expected an integer from 1 to 1048576, got '0'
Try 'sift-batch --help'."
	run -2 --separate-stderr sift-batch --batch-size 3x
	assert_equal "$stderr" "sift-batch: --batch-size: expected an integer from 1 to 1048576, got '3x'
Try 'sift-batch --help'."
}

@test "a seed that is no integer from 0 to 2^64-1 is misuse, with the words of every program" {
	for s in '-1' '+1' ' 1' '1e3' '18446744073709551616'; do
		run -2 --separate-stderr sift-batch --seed "$s" < /dev/null
		assert_equal "$stderr" "sift-batch: --seed: expected an integer from 0 to 18446744073709551615, got '$s'
Try 'sift-batch --help'."
	done
}

@test "an option without its value is misuse" {
	run -2 --separate-stderr sift-batch --max-tokens
	assert_equal "$stderr" "sift-batch: option '--max-tokens' needs a value
Try 'sift-batch --help'."
}

@test "two input files are misuse" {
	run -2 --separate-stderr sift-batch a b
	assert_equal "$stderr" "sift-batch: one input file at most, got 'b' too
Try 'sift-batch --help'."
}

@test "a full disk is an error" {
	sift-cat -s $F/ner.jsonl > $T/s
	for opts in "" "-s -e 2"; do
		run -1 --separate-stderr bash -c "sift-batch $opts $T/s > /dev/full"
		assert_equal "$stderr" "sift-batch: stdout: write error: No space left on device"
	done
}

@test "a closed pipe ends quietly" {
	gen 3000 > $T/ex
	for opts in "-b 1" "-s -e 2"; do
		run --separate-stderr bash -c "sift-batch $opts < $T/ex | head -c 100 > /dev/null; echo \${PIPESTATUS[0]}"
		assert_output 0
		assert_equal "$stderr" ""
	done
}

@test "a terminal is refused unless --force" {
	sift-cat -s $F/ner.jsonl > $T/s
	# script(1) gives the command a terminal for its standard output
	run script -qec "sift-batch $T/s" /dev/null
	assert_failure 2
	assert_output --partial "sift-batch: refusing to write a binary stream to a terminal"
	run script -qec "sift-batch -f $T/s" /dev/null
	assert_success
	assert_output --partial "batches"
}

@test "--help prints the man page synopsis on stdout" {
	run --separate-stderr sift-batch --help
	assert_success
	assert_equal "$stderr" ""
	synopsis=$(mandoc -Tascii $BATS_TEST_DIRNAME/../man/man1/sift-batch.1 | col -bx |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \n' '  ' | sed 's/^ //;s/ $//')
	assert_line -n 0 "usage: $synopsis"
}

@test "--version prints the version" {
	run sift-batch --version
	assert_success
	assert_output "sift-batch 0.1"
}

@test "the first man page example works" {
	# the first literal display of EXAMPLES, with roff's \e as \
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh DIAGNOSTICS/p' $BATS_TEST_DIRNAME/../man/man1/sift-batch.1 |
		sed -n '/^\.Bd/,/^\.Ed/{/^\.[BE]d/d;p}' | sed '/^\.Ed/q' > $T/all
	awk '/^sift-cat -s/ { print; exit } { print }' $T/all | sed 's/\\e/\\/g' > $T/example.sh
	run sh $T/example.sh
	assert_success
	assert_line -n 1 --partial '"B":2,"T":4,"ids":[101,2204,102,0,101,2919,2154,102]'
	assert_line -n 2 --partial '"B":1,"T":2,"ids":[101,102]'
	assert_line -n 3 '{"epoch_end":0}'
}

@test "the second man page example works on a slice of CoNLL-2003" {
	need_model
	need_data
	awk 'NF == 0 && ++n > 100 { exit } { print }' $DATA/conll2003/eng.train > $T/eng.train
	# the second literal display of EXAMPLES, run in $T with the model
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh DIAGNOSTICS/p' $BATS_TEST_DIRNAME/../man/man1/sift-batch.1 |
		awk '/^\.Bd/ { n++; on = 1; next } /^\.Ed/ { on = 0 } on && n == 2' > $T/example.sh
	grep -q 'sift-batch -s --seed 1 -e 3' $T/example.sh
	cd $T && run sh -c "$(sed "s|models/all-MiniLM-L6-v2|$MODEL|" $T/example.sh)"
	assert_success
	# every example in each of 3 epochs, every batch announced, within the cap
	n=$(sift-tok -m $MODEL -f conll $T/eng.train | sift-cat | jq -s '[.[] | select(.ids)] | length')
	[ "$n" -gt 80 ]
	run bash -c "sift-cat $T/train.batches | jq -s -c '[.[] | select(.B)] as \$b | [.[0].total == (\$b | length), (\$b | map(.B * .T <= 4096) | all), (\$b | map(.ex[]) | length)]'"
	assert_output "[true,true,$((3 * n))]"
}

# the rows of each batch without their padding, one JSON array each
unpadded() {
	sift-cat | jq -c 'select(.B) | . as $x | range(.B) as $b |
		($x.mask[$b * $x.T:($b + 1) * $x.T] | add) as $n |
		{id: $x.ex[$b].id, ids: $x.ids[$b * $x.T:$b * $x.T + $n],
		 labels: $x.labels[$b * $x.T:$b * $x.T + $n],
		 pad: ($x.ids[$b * $x.T + $n:($b + 1) * $x.T] | unique),
		 padlab: ($x.labels[$b * $x.T + $n:($b + 1) * $x.T] | unique)}'
}

@test "sift-tok | sift-batch keeps every CoNLL sentence's tokens and labels and pads with [PAD]" {
	need_model
	need_data
	# the first 60 sentences of the CoNLL-2003 dev set
	awk 'NF == 0 && ++n > 60 { exit } { print }' $DATA/conll2003/eng.testa > $T/dev.conll
	sift-tok -m $MODEL -f conll --iob1-to-iob2 $T/dev.conll > $T/ex
	sift-cat $T/ex | jq -c 'select(.ids) | {id, ids, labels}' > $T/want
	[ "$(wc -l < $T/want)" -ge 55 ]
	for opts in "-b 8" "-b 64 -t 300" "-s --seed 2 -b 8"; do
		sift-batch $opts < $T/ex | unpadded > $T/got
		# the same examples, in input order unless shuffled
		run bash -c "jq -c '{id, ids, labels}' $T/got | sort > $T/a; sort $T/want > $T/b; cmp $T/a $T/b"
		assert_success
		# [PAD] of vocab.txt (id 0) and -100 fill every padded place
		run bash -c "jq -c '[.pad, .padlab]' $T/got | sort -u"
		assert_output - <<'EOF2'
[[0],[-100]]
[[],[]]
EOF2
	done
	sift-batch -b 8 < $T/ex | unpadded | jq -c '{id, ids, labels}' > $T/inorder
	run cmp $T/inorder $T/want
	assert_success
}

@test "sift-tok | sift-batch writes a batch for each line of a live input before it ends" {
	need_model
	mkfifo $T/in
	sift-tok -m $MODEL -f lines < $T/in | sift-batch -b 1 > $T/out &
	pid=$!
	exec 7> $T/in
	printf 'Stocks fell in Frankfurt.\nMarkets rose.\n' >&7
	wait_lines $T/out 3
	run bash -c "sift-cat $T/out | jq -c 'select(.B) | [.B, .ex[0].text]'"
	exec 7>&-
	wait $pid
	assert_output - <<'EOF2'
[1,"Stocks fell in Frankfurt."]
[1,"Markets rose."]
EOF2
}

# n examples of an mlm stream, lengths 3..52: token t of each is 1000 + t,
# words of 1 to 3 tokens (word_idx), [CLS] and [SEP] at the ends
gen_mlm() {
	awk -v n="$1" 'BEGIN {
		print "{\"sift\":1,\"kind\":\"examples\",\"task\":\"mlm\",\"labels\":[],\"vocab\":{\"size\":30522,\"hash\":\"1a8955ef43215668\"},\"producer\":\"gen\",\"pad_id\":0,\"mask_id\":103,\"special_ids\":[101,102,0]}"
		for (i = 0; i < n; i++) {
			len = 3 + (i * 37) % 50
			ids = "101"; w = "-1"; word = -1; left = 0
			for (t = 1; t < len - 1; t++) {
				if (left == 0) { word++; left = 1 + (i + t) % 3 }
				left--
				ids = ids "," (1000 + t); w = w "," word
			}
			printf "{\"id\":%d,\"src\":\"gen:%d\",\"ids\":[%s,102],\"word_idx\":[%s,-1]}\n", i, i + 1, ids, w
		}
	}' | sift-cat -s
}

# per example, sorted by id: its masked ids and labels without padding
masks() {
	unpadded | jq -s -c 'sort_by(.id)[] | {id, ids, labels}'
}

@test "mlm batches label the original id where a token is chosen, -100 elsewhere and on padding, never [CLS] or [SEP]" {
	gen_mlm 400 | sift-batch -b 16 > $T/s
	unpadded < $T/s > $T/u
	# 400 examples, 10,800 tokens that may be chosen at 0.15: 1620 +- 5 sigma (37.1)
	run jq -s -c '[
		(map(.labels | to_entries[] | select(.value != -100) | .value == 1000 + .key) | all),
		(map(.labels | first, last) | unique),
		(map(.ids | first, last) | unique),
		(map(.padlab[]) | unique),
		(map(.pad[]) | unique),
		(map(.labels[] | select(. != -100)) | length | . > 1620 - 5 * 37.1 and . < 1620 + 5 * 37.1)]' $T/u
	assert_success
	assert_output '[true,[-100],[101,102],[-100],[0],true]'
}

@test "mlm chosen tokens become [MASK], a random id or themselves, and unchosen ones stay" {
	gen_mlm 400 | sift-batch -b 16 > $T/s
	unpadded < $T/s > $T/u
	run jq -s -c '[.[] | [.ids, .labels] | transpose[] |
		if .[1] == -100 then (if .[0] >= 1000 or .[0] == 101 or .[0] == 102 then "kept" else "changed" end)
		elif .[0] == 103 then "mask" elif .[0] == .[1] then "same" else "random" end] |
		group_by(.) | map({(.[0]): length}) | add |
		[.changed, .kept > 9000, .mask > 0.8 * 1620 - 5 * 40, .same > 0, .random > 0]' $T/u
	assert_success
	assert_output '[null,true,true,true,true]'
}

@test "the mlm batches header names the masking and passes mask_id and special_ids through" {
	gen_mlm 3 > $T/ex
	sift-batch --mlm-probability 0.25 --whole-word-mask --seed 9 $T/ex > $T/s
	run bash -c "sift-cat $T/s | head -1"
	assert_success
	assert_output '{"sift":1,"kind":"batches","task":"mlm","labels":[],"vocab":{"size":30522,"hash":"1a8955ef43215668"},"producer":"sift-batch 0.1","total":-1,"epochs":1,"batch_size":32,"seed":9,"mlm_probability":0.25,"whole_word":true,"pad_id":0,"mask_id":103,"special_ids":[101,102,0]}'
}

# the batches of one epoch of a planned stream, as a stream of their own
epoch_of() {
	sift-cat | jq -c --argjson e "$1" 'select(.sift or .epoch == $e)' | sift-cat -s
}

@test "the same seed gives the same masks, byte for byte, and another epoch or seed others" {
	gen_mlm 200 > $T/ex
	sift-batch --seed 5 $T/ex > $T/a
	sift-batch --seed 5 $T/ex > $T/b
	cmp $T/a $T/b
	masks < $T/a > $T/ma
	[ "$(wc -l < $T/ma)" -eq 200 ]
	sift-batch --seed 6 $T/ex | masks > $T/mc
	! cmp -s $T/ma $T/mc
	# epoch 0 of a planned run masks as the stream does; epoch 1 anew
	sift-batch --seed 5 -e 2 $T/ex > $T/p
	epoch_of 0 < $T/p | masks > $T/m0
	epoch_of 1 < $T/p | masks > $T/m1
	cmp $T/ma $T/m0
	[ "$(wc -l < $T/m1)" -eq 200 ]
	! cmp -s $T/ma $T/m1
}

@test "an example's mask does not depend on the batch size, bucketing, shuffling or streaming" {
	gen_mlm 300 > $T/ex
	sift-batch -b 1 --seed 3 --whole-word-mask $T/ex | masks > $T/ref
	[ "$(wc -l < $T/ref)" -eq 300 ]
	for o in '-b 7' '-b 64 -t 500' '-s --pool 3 -b 5' '-s --pool 0 -b 32'; do
		sift-batch $o --seed 3 --whole-word-mask $T/ex | masks > $T/got
		cmp $T/ref $T/got
	done
}

@test "--whole-word-mask chooses every token of a word or none" {
	gen_mlm 400 | sift-batch --whole-word-mask --seed 2 | sift-cat > $T/j
	run jq -s -c '[.[] | select(.B) | . as $x | range(.B) as $b | $x.ex[$b].word_idx as $w |
		[range($w | length)] | map({w: $w[.], c: ($x.labels[$b * $x.T + .] != -100)}) |
		map(select(.w >= 0)) | group_by(.w)[] | map(.c) | unique | length] | [max, length > 5000]' $T/j
	assert_success
	assert_output '[1,true]'
	run jq -s '[.[] | select(.B) | .labels[] | select(. != -100)] | length > 500' $T/j
	assert_output true
}

@test "masking options on a stream that is not mlm are misuse" {
	gen 3 > $T/cls
	run -2 --separate-stderr sift-batch --whole-word-mask $T/cls
	assert_equal "$stderr" "sift-batch: --whole-word-mask: masking is for an mlm examples stream, $T/cls has task 'cls'
Try 'sift-batch --help'."
	[ -z "$output" ]
}

@test "an mlm probability of 1 or beyond is misuse" {
	for p in 1 1.5 -0.1 x; do
		run -2 --separate-stderr sift-batch --mlm-probability $p
		assert_equal "${stderr_lines[1]}" "Try 'sift-batch --help'."
		[[ "${stderr_lines[0]}" == "sift-batch: --mlm-probability: expected a number "* ]]
	done
}

@test "an mlm probability of 0 masks nothing: the ids as they came, no labels" {
	gen_mlm 20 > $T/ex
	sift-batch -b 8 --mlm-probability 0 $T/ex | sift-cat > $T/s
	run jq -s -c '[.[0] | has("mlm_probability"), .mask_id]' $T/s
	assert_output '[false,103]'
	run jq -s -c '[.[1:][] | select(.B) | has("labels")] | unique' $T/s
	assert_output '[false]'
	# the same ids as the examples, padding aside
	diff <(sift-cat $T/ex | jq -c 'select(.ids) | .ids') \
		<(jq -c 'select(.B) | .T as $t | .mask as $m | .ids as $i
			| range(.B) as $b | [range($t) as $k | select($m[$b * $t + $k] == 1) | $i[$b * $t + $k]]' $T/s)
}

@test "an mlm stream without mask_id or special_ids is an error naming the header" {
	printf '%s\n' '{"sift":1,"kind":"examples","task":"mlm","vocab":{"size":30522,"hash":"x"},"special_ids":[101]}' |
		sift-cat -s > $T/s
	run -1 --separate-stderr sift-batch $T/s
	assert_equal "$stderr" "sift-batch: $T/s:1: missing key 'mask_id'"
	printf '%s\n' '{"sift":1,"kind":"examples","task":"mlm","vocab":{"size":30522,"hash":"x"},"mask_id":103}' |
		sift-cat -s > $T/s
	run -1 --separate-stderr sift-batch $T/s
	assert_equal "$stderr" "sift-batch: $T/s:1: missing key 'special_ids'"
	printf '%s\n' '{"sift":1,"kind":"examples","task":"mlm","mask_id":103,"special_ids":[101]}' |
		sift-cat -s > $T/s
	run -1 --separate-stderr sift-batch $T/s
	assert_equal "$stderr" "sift-batch: $T/s:1: key 'mask_id': 103 is no token id of a vocabulary of 0"
}

@test "whole-word masking of examples without word_idx is an error naming the record" {
	printf '%s\n' '{"sift":1,"kind":"examples","task":"mlm","vocab":{"size":30522,"hash":"x"},"mask_id":103,"special_ids":[101,102]}' \
		'{"id":0,"ids":[101,2000,102]}' | sift-cat -s > $T/s
	run -1 --separate-stderr sift-batch --whole-word-mask $T/s
	assert_equal "$stderr" "sift-batch: $T/s:2: missing key 'word_idx' (whole-word masking needs the words)"
	run -0 sift-batch $T/s
}

@test "the man page's mlm examples run: three epochs of whole-word masks, and a fixed dev set" {
	need_model
	printf '%s\n' 'Stocks rallied on Tuesday after the central bank held rates.' \
		'The unaffable striker scored twice in the second half.' \
		'Researchers unveiled a chip that sorts photons.' > $T/news.txt
	cp $T/news.txt $T/dev.txt
	# the fourth and fifth literal displays of EXAMPLES, run in $T
	for n in 4 5; do
		sed -n '/^\.Sh EXAMPLES/,/^\.Sh DIAGNOSTICS/p' $BATS_TEST_DIRNAME/../man/man1/sift-batch.1 |
			awk -v n=$n '/^\.Bd/ { k++; on = 1; next } /^\.Ed/ { on = 0 } on && k == n' > $T/example$n.sh
	done
	grep -q -- '--task mlm -f lines news.txt' $T/example4.sh
	grep -q -- '--seed 7 > dev.batches' $T/example5.sh
	cd $T
	run sh -c "$(sed "s|models/all-MiniLM-L6-v2|$MODEL|" $T/example4.sh)"
	assert_success
	run bash -c "sift-cat mlm.batches | jq -s -c '[.[0].whole_word, ([.[] | select(.B) | .epoch] | unique), ([.[] | select(.B) | .labels[]] | length > 0)]'"
	assert_output '[true,[0,1,2],true]'
	sh -c "$(sed "s|models/all-MiniLM-L6-v2|$MODEL|" $T/example5.sh)"
	mv dev.batches dev1.batches
	sh -c "$(sed "s|models/all-MiniLM-L6-v2|$MODEL|" $T/example5.sh)"
	cmp dev.batches dev1.batches
}
