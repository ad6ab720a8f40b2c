#!/usr/bin/env bats
# cat.bats: sift-cat and the stream format it shows.

load helper

KINDS="examples batches predictions metrics log"

setup() {
	S=$FIXTURES/stream
}

@test "every kind round-trips through a stream and back to the same JSON lines" {
	for k in $KINDS; do
		run bash -c "sift-cat < $S/$k.jsonl | sift-cat"
		assert_success
		assert_output "$(cat $S/$k.jsonl)"
	done
}

@test "a stream turned into JSON and back is the same stream" {
	for k in $KINDS; do
		sift-cat < $S/$k.jsonl > $BATS_TEST_TMPDIR/a
		sift-cat < $BATS_TEST_TMPDIR/a | sift-cat > $BATS_TEST_TMPDIR/b
		cmp $BATS_TEST_TMPDIR/a $BATS_TEST_TMPDIR/b
	done
}

@test "numeric arrays travel as typed arrays, not msgpack integers" {
	sift-cat < $S/batches.jsonl > $BATS_TEST_TMPDIR/s
	# 8 ids as one ext (type 1, int32): c7 20 01 then 32 bytes
	run bash -c "od -An -tx1 -v $BATS_TEST_TMPDIR/s | tr -d ' \n' | grep -c 'c7200165000000'"
	assert_output 1
}

@test "integers past 32 bits in an array keep every digit, and a reader names the record" {
	printf '%s\n' '{"sift":1,"kind":"examples","task":"cls","labels":["a"]}' \
		'{"id":0,"ids":[101,3000000001,-5000000000,102],"label":0}' > $BATS_TEST_TMPDIR/big.jsonl
	sift-cat -s $BATS_TEST_TMPDIR/big.jsonl > $BATS_TEST_TMPDIR/big.s
	run sift-cat -j $BATS_TEST_TMPDIR/big.s
	assert_success
	assert_line -n 1 '{"id":0,"ids":[101,3000000001,-5000000000,102],"label":0}'
	# msgpack integers (uint32 3000000001: ce b2 d0 5e 01), not a typed
	# array of float32 that would round them
	run bash -c "od -An -tx1 -v $BATS_TEST_TMPDIR/big.s | tr -d ' \n' | grep -c 'ceb2d05e01'"
	assert_output 1
	run sift-batch -s $BATS_TEST_TMPDIR/big.s
	assert_failure 1
	assert_output "sift-batch: $BATS_TEST_TMPDIR/big.s:2: key 'ids': expected an array of 32-bit integers, got an array"
}

@test "an integer past 2^63-1 in JSON is an error naming the line, as sift-cat(1) BUGS says" {
	printf '%s\n' '{"sift":1,"kind":"examples","task":"cls","labels":["a"]}' \
		'{"id":0,"ids":[101,102],"label":0,"seed":18446744073709551615}' > $BATS_TEST_TMPDIR/u64.jsonl
	run sift-cat -s $BATS_TEST_TMPDIR/u64.jsonl
	assert_failure 1
	assert_line -p "sift-cat: $BATS_TEST_TMPDIR/u64.jsonl:2: invalid JSON: too big integer"
}

# a log header and one record: loss NaN (f64), lr 0.5 (f64), p an f32
# typed array [NaN, Infinity, -Infinity], w the words ["NaN", "a"]
nonfinite() {
	printf '\x82\xa4sift\x01\xa4kind\xa3log'
	printf '\x84\xa4loss\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00\xa2lr\xcb\x3f\xe0\x00\x00\x00\x00\x00\x00'
	printf '\xa1p\xc7\x0c\x02\x00\x00\xc0\x7f\x00\x00\x80\x7f\x00\x00\x80\xff'
	printf '\xa1w\x92\xa3NaN\xa1a'
}

@test "NaN and infinities are printed as the strings NaN, Infinity and -Infinity, not dropped" {
	nonfinite > $BATS_TEST_TMPDIR/s
	run sift-cat $BATS_TEST_TMPDIR/s
	assert_success
	assert_line --index 1 '{"loss":"NaN","lr":0.5,"p":["NaN","Infinity","-Infinity"],"w":["NaN","a"]}'
	run bash -c "sift-cat $BATS_TEST_TMPDIR/s | jq -c 'select(.loss) | [.loss, .p[2]]'"
	assert_output '["NaN","-Infinity"]'
}

@test "NaN, Infinity and -Infinity read back as numbers where numbers stand, and a round trip keeps every byte" {
	nonfinite > $BATS_TEST_TMPDIR/want
	printf '%s\n' '{"sift":1,"kind":"log"}' \
		'{"loss":"NaN","lr":0.5,"p":["NaN","Infinity","-Infinity"],"w":["NaN","a"]}' |
		sift-cat -s > $BATS_TEST_TMPDIR/got
	cmp $BATS_TEST_TMPDIR/want $BATS_TEST_TMPDIR/got
	sift-cat $BATS_TEST_TMPDIR/want | sift-cat -s | cmp - $BATS_TEST_TMPDIR/want
	# beside other numbers: an f32 array, NaN in it
	run bash -c "echo '{\"sift\":1,\"kind\":\"log\"}{\"p\":[0.25,\"Infinity\",1]}' | sed 's/}{/}\n{/' | sift-cat -s | od -An -tx1 -v | tr -d ' \n'"
	assert_output --partial 'a170c70c020000803e0000807f0000803f'
}

@test "files named as arguments are read in turn with one header" {
	sift-cat < $S/examples.jsonl > $BATS_TEST_TMPDIR/s
	run sift-cat $BATS_TEST_TMPDIR/s $BATS_TEST_TMPDIR/s
	assert_success
	assert_equal "$(echo "$output" | grep -c '"sift":1')" 1
	assert_equal "$(echo "$output" | wc -l)" 5
}

@test "concatenated streams with agreeing headers read as one" {
	sift-cat < $S/examples.jsonl > $BATS_TEST_TMPDIR/s
	run bash -c "cat $BATS_TEST_TMPDIR/s $BATS_TEST_TMPDIR/s | sift-cat"
	assert_success
	assert_equal "$(echo "$output" | wc -l)" 5
}

@test "concatenated streams with another label set are an error naming the record" {
	sift-cat < $S/examples.jsonl > $BATS_TEST_TMPDIR/a
	sed 's/"B-LOC","I-LOC"/"B-ORG","I-ORG"/' $S/examples.jsonl | sift-cat > $BATS_TEST_TMPDIR/b
	run -1 --separate-stderr bash -c "cat $BATS_TEST_TMPDIR/a $BATS_TEST_TMPDIR/b | sift-cat"
	assert_equal "$stderr" "sift-cat: stdin:4: concatenated stream has another label set than the first"
	# what came before the error was printed
	assert_equal "$(echo "$output" | wc -l)" 3
}

@test "concatenated streams with another vocabulary are an error" {
	sift-cat < $S/examples.jsonl > $BATS_TEST_TMPDIR/a
	sed 's/1b2c3d4e5f607182/ffffffffffffffff/' $S/examples.jsonl | sift-cat > $BATS_TEST_TMPDIR/b
	run -1 --separate-stderr bash -c "cat $BATS_TEST_TMPDIR/a $BATS_TEST_TMPDIR/b | sift-cat"
	assert_equal "$stderr" "sift-cat: stdin:4: concatenated stream has another vocabulary than the first"
}

@test "a truncated stream is an error naming the record" {
	sift-cat < $S/examples.jsonl > $BATS_TEST_TMPDIR/s
	size=$(stat -c %s $BATS_TEST_TMPDIR/s)
	run -1 --separate-stderr bash -c "head -c $((size - 3)) $BATS_TEST_TMPDIR/s | sift-cat"
	assert_equal "$stderr" "sift-cat: stdin:3: truncated record"
	assert_equal "$(echo "$output" | wc -l)" 2
}

@test "a stream cut at every byte offset never crashes and always says why" {
	sift-cat < $S/predictions.jsonl > $BATS_TEST_TMPDIR/s
	size=$(stat -c %s $BATS_TEST_TMPDIR/s)
	for ((k = 1; k < size; k++)); do
		head -c $k $BATS_TEST_TMPDIR/s > $BATS_TEST_TMPDIR/cut
		run --separate-stderr sift-cat $BATS_TEST_TMPDIR/cut
		[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
		if [ "$status" -eq 1 ]; then
			[[ "$stderr" =~ ^sift-cat:\ .*cut:[0-9]+:\ truncated\ record$ ]]
		fi
	done
}

@test "random garbage is one line of error and exit 1" {
	head -c 4096 /dev/urandom > $BATS_TEST_TMPDIR/g
	# make sure it is not taken for JSON
	printf '\x93' | cat - $BATS_TEST_TMPDIR/g > $BATS_TEST_TMPDIR/garbage
	run -1 --separate-stderr sift-cat $BATS_TEST_TMPDIR/garbage
	assert_equal "$(echo "$stderr" | wc -l)" 1
	[[ "$stderr" == sift-cat:\ * ]]
}

@test "a first record that is no header is an error" {
	run -1 --separate-stderr bash -c 'echo "{\"id\":1}" | sift-cat'
	assert_equal "$stderr" 'sift-cat: stdin:1: the first line must be a header (an object with the key "sift")'
}

@test "an unknown format version is an error" {
	# {"sift":2,"kind":"log"}, written by hand: sift-cat -s refuses it
	run -1 --separate-stderr bash -c "printf '\x82\xa4sift\x02\xa4kind\xa3log' | sift-cat"
	assert_equal "$stderr" "sift-cat: stdin:1: unknown stream format version 2 (this is version 1)"
}

@test "a header without a kind is an error naming the key" {
	run -1 --separate-stderr bash -c "printf '\x81\xa4sift\x01' | sift-cat"
	assert_equal "$stderr" "sift-cat: stdin:1: missing key 'kind'"
}

@test "sift-cat -s refuses a header no reader accepts, and writes nothing" {
	for h in '{"sift":2,"kind":"log"}' '{"sift":1}' '{"sift":1.5,"kind":"log"}' '{"sift":1,"kind":"log","labels":[1]}'; do
		run -1 --separate-stderr bash -c "echo '$h' | sift-cat -s > $BATS_TEST_TMPDIR/out"
		case $h in
		*2,*) want="unknown stream format version 2 (this is version 1)" ;;
		*1.5*) want="key 'sift': expected an integer, got a number" ;;
		*labels*) want="key 'labels': expected an array of strings" ;;
		*) want="missing key 'kind'" ;;
		esac
		assert_equal "$stderr" "sift-cat: stdin:1: $want"
		[ ! -s $BATS_TEST_TMPDIR/out ]
	done
}

@test "sift-cat -s refuses a later header that no reader would take or that disagrees with the first" {
	run -1 --separate-stderr bash -c "printf '%s\n' '{\"sift\":1,\"kind\":\"log\"}' '{\"step\":1}' '{\"sift\":2,\"kind\":\"log\"}' | sift-cat -s > $BATS_TEST_TMPDIR/out"
	assert_equal "$stderr" "sift-cat: stdin:3: unknown stream format version 2 (this is version 1)"
	run -1 --separate-stderr bash -c "sift-cat -s $S/log.jsonl $S/examples.jsonl > $BATS_TEST_TMPDIR/out"
	assert_equal "$stderr" "sift-cat: $S/examples.jsonl:1: concatenated stream has another kind than the first"
	# what came before is a stream every reader reads
	run bash -c "sift-cat $BATS_TEST_TMPDIR/out"
	assert_success
	assert_output "$(cat $S/log.jsonl)"
	# an agreeing header is kept, and skipped by readers
	run bash -c "sift-cat -s $S/log.jsonl $S/log.jsonl | sift-cat | wc -l"
	assert_output $((2 * $(wc -l < $S/log.jsonl) - 1))
}

@test "the header sift-cat -s writes is read by the other programs" {
	printf '%s\n' '{"sift":1,"kind":"predictions","task":"cls","labels":["a","b"]}' \
		'{"id":0,"pred":"a","gold":"a"}' '{"id":1,"pred":"b","gold":"a"}' | sift-cat -s > $BATS_TEST_TMPDIR/p
	run bash -c "sift-eval $BATS_TEST_TMPDIR/p | sift-cat | jq -c 'select(.accuracy) | .accuracy'"
	assert_success
	assert_output 0.5
	run bash -c "sift-cat -s $S/log.jsonl | sift-report | head -1"
	assert_success
	assert_output --partial 'steps'
}

@test "unknown keys are kept by sift-cat and ignored by readers" {
	run bash -c "sed 's/\"producer\"/\"future_key\":[1,2],\"producer\"/' $S/log.jsonl | sift-cat | sift-cat"
	assert_success
	assert_line --index 0 --partial '"future_key":[1,2]'
}

@test "invalid JSON is an error naming the line and keeps what came before" {
	{ cat $S/log.jsonl; echo '{"step": 3,'; } > $BATS_TEST_TMPDIR/bad.jsonl
	run -1 --separate-stderr bash -c "sift-cat $BATS_TEST_TMPDIR/bad.jsonl > $BATS_TEST_TMPDIR/out"
	[[ "$stderr" == "sift-cat: $BATS_TEST_TMPDIR/bad.jsonl:4: invalid JSON: "* ]]
	run sift-cat $BATS_TEST_TMPDIR/out
	assert_success
	assert_output "$(cat $S/log.jsonl)"
}

@test "a full disk is an error with exit 1" {
	run -1 --separate-stderr bash -c "sift-cat < $S/examples.jsonl > /dev/full"
	assert_equal "$stderr" "sift-cat: stdout: write error: No space left on device"
	sift-cat < $S/examples.jsonl > $BATS_TEST_TMPDIR/s
	run -1 --separate-stderr bash -c "sift-cat $BATS_TEST_TMPDIR/s > /dev/full"
	assert_equal "$stderr" "sift-cat: stdout: write error: No space left on device"
}

@test "a full disk for a written stream is one message, never 'Success'" {
	run -1 --separate-stderr bash -c "sift-cat -s $FIXTURES/train/tok.jsonl > /dev/full"
	assert_equal "$stderr" "sift-cat: stdout: write error: No space left on device"
}

@test "a reader that closes the pipe ends sift-cat quietly" {
	for i in $(seq 2000); do sed -n 2p $S/examples.jsonl; done > $BATS_TEST_TMPDIR/many
	cat $S/examples.jsonl $BATS_TEST_TMPDIR/many > $BATS_TEST_TMPDIR/big.jsonl
	run --separate-stderr bash -c "set -o pipefail; sift-cat < $BATS_TEST_TMPDIR/big.jsonl | head -c 10 >/dev/null"
	assert_success
	assert_equal "$stderr" ""
	sift-cat < $BATS_TEST_TMPDIR/big.jsonl > $BATS_TEST_TMPDIR/big
	run --separate-stderr bash -c "set -o pipefail; sift-cat $BATS_TEST_TMPDIR/big | head -c 10 >/dev/null"
	assert_success
	assert_equal "$stderr" ""
}

@test "a binary stream is not written to a terminal" {
	command -v script >/dev/null || skip "script(1) not installed"
	run script -qec "sift-cat < $S/log.jsonl" /dev/null
	assert_failure 2
	assert_output --partial "sift-cat: refusing to write a binary stream to a terminal"
}

@test "empty input is an error" {
	run -1 --separate-stderr sift-cat < /dev/null
	assert_equal "$stderr" "sift-cat: stdin: empty input"
}

@test "a missing file is an error naming it" {
	run -1 --separate-stderr sift-cat /nonexistent
	assert_equal "$stderr" "sift-cat: /nonexistent: No such file or directory"
}

@test "help goes to stdout and begins with the synopsis" {
	run --separate-stderr sift-cat --help
	assert_success
	assert_line --index 0 "usage: sift-cat [-fjs] [-p digits] [file ...]"
	assert_equal "$stderr" ""
}

@test "an unknown option is misuse, named as typed, after the program's name and not its path" {
	run -2 --separate-stderr $SIFT_BIN/sift-cat --bogus=1
	assert_equal "$stderr" "sift-cat: unknown option '--bogus'
Try 'sift-cat --help'."
}

@test "version is printed" {
	run sift-cat --version
	assert_success
	assert_output --regexp '^sift-cat [0-9]+\.[0-9]+'
}

@test "the example of sift-cat(1) writes a batch that reads back" {
	cd $BATS_TEST_TMPDIR
	printf '%s\n' \
	  '{"sift":1,"kind":"batches","task":"cls","labels":["neg","pos"]}' \
	  '{"B":1,"T":3,"ids":[101,2204,102],"mask":[1,1,1],"epoch":0}' |
	sift-cat > one.sift
	run sift-cat one.sift
	assert_success
	assert_line --index 1 '{"B":1,"T":3,"ids":[101,2204,102],"mask":[1,1,1],"epoch":0}'
}

@test "the example of sift-stream(5) writes examples that read back" {
	cd $BATS_TEST_TMPDIR
	printf '%s\n' \
	  '{"sift":1,"kind":"examples","task":"cls","labels":["neg","pos"]}' \
	  '{"id":0,"src":"-:1","ids":[101,2204,102],"text":"good","label":1}' |
	sift-cat > hand.sift
	run bash -c "sift-cat hand.sift | jq -r '.label // empty'"
	assert_success
	assert_output 1
}

@test "a header whose labels are not distinct is an error naming record 1, in every reader" {
	cd $BATS_TEST_TMPDIR
	# {"sift":1,"kind":"examples","task":"cls","labels":["neg","pos","neg"]}
	# then {"id":0}, by hand: sift-cat -s refuses to write such a header
	printf '\x84\xa4sift\x01\xa4kind\xa8examples\xa4task\xa3cls' > dup.sift
	printf '\xa6labels\x93\xa3neg\xa3pos\xa3neg\x81\xa2id\x00' >> dup.sift
	run -1 --separate-stderr sift-cat dup.sift
	assert_equal "$stderr" "sift-cat: dup.sift:1: key 'labels': label 'neg' twice"
	run -1 --separate-stderr bash -c "sift-batch < dup.sift"
	assert_equal "$stderr" "sift-batch: stdin:1: key 'labels': label 'neg' twice"
	[ -z "$output" ]
}

@test "a stream from a FIFO comes out as JSON lines record by record, before the writer closes" {
	T=$BATS_TEST_TMPDIR
	sift-cat -s $S/predictions.jsonl > $T/p.sift
	mkfifo $T/fifo
	# fd 3 keeps the FIFO open for writing; sift-cat must not hold it
	run -0 bash -c "exec 3<>$T/fifo; cat $T/p.sift >&3; timeout 5 head -n 2 < <(sift-cat $T/fifo 3>&-)"
	assert_output "$(head -n 2 $S/predictions.jsonl)"
}

@test "JSON lines from a FIFO come out as stream records one by one, before the writer closes" {
	T=$BATS_TEST_TMPDIR
	head -n 2 $S/predictions.jsonl | sift-cat -s > $T/two.sift
	mkfifo $T/fifo
	run -0 bash -c "exec 3<>$T/fifo; head -n 2 $S/predictions.jsonl >&3; timeout 5 head -c $(stat -c %s $T/two.sift) < <(sift-cat -s $T/fifo 3>&-) | cmp - $T/two.sift"
}
