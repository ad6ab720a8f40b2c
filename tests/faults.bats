#!/usr/bin/env bats
# faults.bats: injected write, fsync and rename failures (tests/shim/failio.c).

load helper

setup() {
	F=$FIXTURES/train
	T=$BATS_TEST_TMPDIR
	TINY=$FIXTURES/pipelines/tiny
	SHIM=$SIFT_BIN/tests/failio.so
	[ -f "$SHIM" ] || fail "no $SHIM (make all builds it)"
	sift-cat -s $F/tok.jsonl > $T/tok.b
}

# runs "$@" with the Nth ($2) call of $1 on a path containing $4 failing
# with errno $3, and records the failed calls in $T/failio.log (afresh); ASan, which
# wants to be first among the libraries, is told the shim is allowed
# with SIFT_FAILIO_TALLY set (make reliability), the failed calls are
# added to that file
inject() {
	local op=$1 n=$2 e=$3 p=$4 rc=0
	shift 4
	rm -f $T/failio.log
	FAILIO_OP=$op FAILIO_N=$n FAILIO_ERRNO=$e FAILIO_PATH=$p \
		FAILIO_LOG=$T/failio.log \
		ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0 \
		LD_PRELOAD=$SHIM "$@" || rc=$?
	if [ -n "$SIFT_FAILIO_TALLY" ] && [ -f $T/failio.log ]; then
		cat $T/failio.log >> "$SIFT_FAILIO_TALLY"
		echo "run: $op $n $e exit $rc" >> "$SIFT_FAILIO_TALLY"
	fi
	return $rc
}

# "$@" without its stdout (the log stream of sift-train)
quiet() {
	"$@" > /dev/null
}

# the checkpoint in $T/out is still the one copied to $T/prev, whole, and
# sift-fwd loads it; no temporary directory is left
still_prev() {
	cmp $T/prev/model.safetensors $T/out/model.safetensors
	cmp $T/prev/train_state.bin $T/out/train_state.bin
	cmp $T/prev/config.json $T/out/config.json
	cmp $T/prev/vocab.txt $T/out/vocab.txt
	cmp $T/prev/sift-train.json $T/out/sift-train.json
	cmp $T/prev/train.log $T/out/train.log
	! compgen -G "$T/.out.sift-tmp*" > /dev/null
	sift-fwd -m $T/out $T/tok.b > $T/pred
	[ "$(sift-cat $T/pred | wc -l)" -gt 1 ]
}

# a checkpoint in $T/out, and its copy in $T/prev
first_checkpoint() {
	sift-train -m $F/tok -o $T/out $T/tok.b > /dev/null
	cp -r $T/out $T/prev
}

# a failed call ($1 $2 $3 on $4) while sift-train writes the next
# checkpoint over $T/out: exit 1, the one line $5, the previous checkpoint
save_fails() {
	run -1 --separate-stderr inject "$1" "$2" "$3" "$4" \
		quiet sift-train -m $F/tok -o $T/out --seed 3 --dropout 0.1 $T/tok.b
	grep -q "^failio: $1 #" $T/failio.log
	# $5 may hold a '*' for the random part of the temporary directory
	[[ $stderr == $5 ]] || fail "stderr: '$stderr', expected '$5'"
	still_prev
}

@test "the shim fails the call it is told to, and only that one" {
	run -1 --separate-stderr inject write 2 EIO $T/o sh -c "exec sift-fwd -m $F/tok $T/tok.b > $T/o"
	assert_equal "$stderr" "sift-fwd: stdout: write error: Input/output error"
	assert_equal "$(cat $T/failio.log)" "failio: write #2 $T/o: Input/output error"
	sift-fwd -m $F/tok $T/tok.b > $T/want
	run -0 inject write 1 EIO $T/elsewhere sh -c "exec sift-fwd -m $F/tok $T/tok.b > $T/o"
	cmp $T/o $T/want
}

@test "a failed write of the next checkpoint leaves the previous one" {
	first_checkpoint
	tmp="$T/.out.sift-tmp.*"
	save_fails write 1 ENOSPC "$tmp/model.safetensors" \
		"sift-train: $tmp/model.safetensors.tmp: No space left on device"
	save_fails write 9 EIO "$tmp/model.safetensors" \
		"sift-train: $tmp/model.safetensors.tmp: Input/output error"
	save_fails write 1 ENOSPC "$tmp/config.json" \
		"sift-train: $tmp/config.json: cannot write"
	save_fails write 1 EIO "$tmp/vocab.txt" \
		"sift-train: $F/tok/vocab.txt: cannot copy to $tmp"
	save_fails write 3 ENOSPC "$tmp/train_state.bin" \
		"sift-train: $tmp/train_state.bin: No space left on device"
	save_fails write 1 ENOSPC "$tmp/sift-train.json" \
		"sift-train: $tmp/sift-train.json: No space left on device"
	save_fails write 1 EIO "$tmp/train.log" \
		"sift-train: $tmp/train.log: Input/output error"
}

@test "a disk that stays full during the next checkpoint leaves the previous one" {
	first_checkpoint
	save_fails write 5+ ENOSPC .sift-tmp \
		"sift-train: $T/.out.sift-tmp.*/model.safetensors.tmp: No space left on device"
}

@test "a failed fsync of the next checkpoint leaves the previous one" {
	first_checkpoint
	tmp="$T/.out.sift-tmp.*"
	save_fails fsync 1 EIO .sift-tmp \
		"sift-train: $tmp/train_state.bin: Input/output error"
	save_fails fsync 2 ENOSPC .sift-tmp "sift-train: $tmp: fsync: No space left on device"
	save_fails fsync 5 EIO .sift-tmp "sift-train: $tmp: fsync: Input/output error"
}

@test "a failed rename of the next checkpoint leaves the previous one" {
	first_checkpoint
	tmp="$T/.out.sift-tmp.*"
	save_fails rename 1 EIO .sift-tmp "sift-train: $tmp/model.safetensors: Input/output error"
	save_fails rename 2 ENOSPC .sift-tmp "sift-train: $tmp/config.json: cannot write"
	save_fails rename 3 EIO .sift-tmp "sift-train: $T/out: cannot replace: Input/output error"
}

@test "a run resumed after a failed save ends with the bytes of an uninterrupted one" {
	jq -c -n '[inputs] as $a | ($a[0] | .total = 15 | .epochs = 3),
		(range(3) as $e | ($a[1:6][] | .epoch = $e), {epoch_end: $e})' \
		$F/tok.jsonl | sift-cat -s > $T/e3.b
	opts="--dropout 0.2 --seed 7 --save-every 1"
	export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
	sift-train -m $F/tok -o $T/full $opts $T/e3.b > /dev/null
	# a save is 3 renames (the first 4: the swap finds no directory, a
	# rename follows): the third save's swap fails, the second stays
	run -1 --separate-stderr inject rename 10 EIO .sift-tmp \
		quiet sift-train -m $F/tok -o $T/half $opts $T/e3.b
	assert_equal "$stderr" "sift-train: $T/half: cannot replace: Input/output error"
	[ "$(od -An -j8 -N8 -t d8 $T/half/train_state.bin | tr -d ' ')" = 2 ]
	sift-train -m $F/tok -o $T/half $opts --resume $T/e3.b > /dev/null
	cmp $T/full/model.safetensors $T/half/model.safetensors
}

# stream writers: the first write, one in the middle, or every write from
# the middle on fails; exit 1 and one message
stream_fails() {
	local prog=$1 cmd=$2 n e
	for spec in "1 ENOSPC" "40 EIO" "40+ ENOSPC"; do
		read -r n e <<< "$spec"
		run -1 --separate-stderr inject write $n $e $T/o sh -c "exec $cmd > $T/o"
		grep -q "^failio: write #" $T/failio.log
		case $e in
		EIO) assert_equal "$stderr" "$prog: stdout: write error: Input/output error" ;;
		*) assert_equal "$stderr" "$prog: stdout: write error: No space left on device" ;;
		esac
	done
}

# 3000 AG News titles, one a line
titles() {
	need_data
	cut -d, -f2 $DATA/ag_news/test.csv | head -n 3000 > $T/lines
	printf 'a\nb\n' > $T/labels
}

@test "sift-tok: a failed write is one error" {
	titles
	stream_fails sift-tok "sift-tok -m $TINY --labels $T/labels --task cls $T/lines"
}

@test "sift-tok reading a pipe: a failed write is one error" {
	titles
	stream_fails sift-tok "sift-tok -m $TINY --labels $T/labels --task cls < $T/lines"
}

@test "sift-tok holding records for their labels: a failed write is one error" {
	titles
	sed 's/$/@a/' $T/lines > $T/at
	stream_fails sift-tok "sift-tok -m $TINY -f at $T/at"
}

@test "sift-cat: a failed write is one error" {
	titles
	sift-tok -m $TINY --labels $T/labels --task cls $T/lines | sift-cat > $T/ex.jsonl
	stream_fails sift-cat "sift-cat -s $T/ex.jsonl"
}

@test "sift-train: a failed write of the log is one error" {
	jq -c -n '[inputs] as $a | ($a[0] | .total = 50 | .epochs = 10),
		(range(10) as $e | ($a[1:6][] | .epoch = $e), {epoch_end: $e})' \
		$F/tok.jsonl | sift-cat -s > $T/e10.b
	stream_fails sift-train "sift-train -m $F/tok -o $T/out $T/e10.b"
}

@test "sift-batch: a failed write is one error" {
	titles
	sift-tok -m $TINY --labels $T/labels --task cls $T/lines > $T/ex
	stream_fails sift-batch "sift-batch -b 8 $T/ex"
}

@test "sift-fwd: a failed write is one error" {
	titles
	sift-tok -m $TINY --labels $T/labels --task cls $T/lines | sift-batch -b 8 > $T/b
	stream_fails sift-fwd "sift-fwd -m $TINY --init-head 1 $T/b"
}
