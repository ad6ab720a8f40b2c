#!/usr/bin/env bats
# reliability.bats: sift-train killed at random steps and resumed.

load helper

setup() {
	F=$FIXTURES/train
	T=$BATS_TEST_TMPDIR
}

# the 5 fixture batches of task $1 repeated over $2 epochs, with markers
epochs() {
	jq -c -n --argjson E "$2" '[inputs] as $a
		| ($a[0] | .total = 5 * $E | .epochs = $E),
		  (range($E) as $e | ($a[1:6][] | .epoch = $e), {epoch_end: $e})' \
		$F/$1.jsonl | sift-cat -s
}

# make reliability runs it with SIFT_KILLS=24 and more epochs
@test "kill -9 or SIGTERM at random steps, each followed by --resume, ends with the bytes of an uninterrupted run" {
	epochs tok ${SIFT_KILL_EPOCHS:-10} > $T/long.b
	run -0 sh $BATS_TEST_DIRNAME/kill-resume.sh $F/tok $T/long.b $T ${SIFT_KILLS:-4} ${SIFT_KILL_SEED:-1}
	assert_output --regexp '^kill-resume: [0-9]+ kills landed, [0-9]+ runs ended, all with the bytes of the uninterrupted run$'
	[ -z "$SIFT_KILL_REPORT" ] || echo "$output" > "$SIFT_KILL_REPORT"
}
