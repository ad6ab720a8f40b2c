#!/usr/bin/env bats
# mpi.bats: sift-train as N ranks under mpirun, against one process with --accum N.

load helper

# the hyperparameters: dropout on, so that a batch's seed must be its
# position in the stream whichever rank computes it
OPTS="--lr 1e-3 --weight-decay 0.01 --warmup 2 --dropout 0.2 --seed 7"

setup() {
	F=$FIXTURES/train
	T=$BATS_TEST_TMPDIR
	command -v mpirun > /dev/null || {
		[ "${SIFT_TEST_STRICT:-0}" = 1 ] && fail "mpirun missing (make deps)"
		skip "mpirun not installed (openmpi-bin)"
	}
	# as root (CI, containers) Open MPI wants to be told; 2 cores hold
	# 2 ranks, 3 need --oversubscribe; one thread a rank on the shared cores
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	export OMPI_MCA_btl_vader_single_copy_mechanism=none
	export OMP_NUM_THREADS=1
	# under make test SAN=1: Open MPI's own allocations outlive
	# MPI_Finalize, and LeakSanitizer would count them as sift-train's
	export ASAN_OPTIONS=${ASAN_OPTIONS//detect_leaks=1/detect_leaks=0}
	# 3 epochs of the 5 fixture batches: groups of 2 leave one batch over
	# at each epoch end (a ragged last group)
	epochs tok 3 > $T/e3.b
	sift-cat -s $F/tok.jsonl > $T/dev.b
	run -2 --separate-stderr mpi 2 sift-train -m $F/tok -o $T/probe - < /dev/null
	case $stderr in
	*"built without MPI"*) skip "sift-train built without MPI (mpicc not found at build time)" ;;
	esac
}

mpi() {
	local n=$1
	shift
	timeout 120 mpirun --oversubscribe -np "$n" "$@"
}

# the 5 fixture batches of task $1 repeated over $2 epochs, with markers
epochs() {
	jq -c -n --argjson E "$2" '[inputs] as $a
		| ($a[0] | .total = 5 * $E | .epochs = $E),
		  (range($E) as $e | ($a[1:6][] | .epoch = $e), {epoch_end: $e})' \
		$F/$1.jsonl | sift-cat -s
}

# the training state of two checkpoints is the same but for the
# wall-clock seconds (bytes 89..96) and the hash that covers them
same_state() {
	local n=$(($(stat -c %s $1/train_state.bin) - 96 - 8))
	cmp -i 96 -n $n $1/train_state.bin $2/train_state.bin
}

# train.log as JSON lines without the wall-clock figures
curve() {
	sift-cat $1/train.log | jq -c 'del(.elapsed, .tokens_per_s)'
}

@test "2 ranks train the bytes of one process with --accum 2, ragged groups at the epoch ends included" {
	sift-train -m $F/tok -o $T/one $OPTS --accum 2 $T/e3.b > /dev/null
	mpi 2 sift-train -m $F/tok -o $T/two $OPTS $T/e3.b
	cmp $T/one/model.safetensors $T/two/model.safetensors
	same_state $T/one $T/two
	# the loss curve: loss, lr, gradient norm and tokens of every step
	diff <(curve $T/one) <(curve $T/two)
	run jq -c '.options | [.accum, .ranks, .total_steps]' $T/two/sift-train.json
	assert_output '[1,2,9]'
}

@test "2 ranks train the bytes of one process with --accum 2 under --lora, their gradients the adapter's and the head's only" {
	sift-train -m $F/tok -o $T/one $OPTS --lora 4 --lora-dropout 0.1 --accum 2 $T/e3.b > /dev/null
	mpi 2 sift-train -m $F/tok -o $T/two $OPTS --lora 4 --lora-dropout 0.1 $T/e3.b
	cmp $T/one/adapter_model.safetensors $T/two/adapter_model.safetensors
	same_state $T/one $T/two
	diff <(curve $T/one) <(curve $T/two)
}

@test "2 ranks score --dev as one process does" {
	sift-train -m $F/tok -o $T/one $OPTS --accum 2 --dev $T/dev.b --eval-every 2 $T/e3.b > /dev/null
	mpi 2 sift-train -m $F/tok -o $T/two $OPTS --dev $T/dev.b --eval-every 2 $T/e3.b
	cmp $T/one/model.safetensors $T/two/model.safetensors
	diff <(curve $T/one | jq -c 'select(.dev)') <(curve $T/two | jq -c 'select(.dev)')
	run bash -c "sift-cat $T/two/train.log | jq -c 'select(.dev)' | wc -l"
	assert_output 6
}

@test "3 ranks add their gradients in rank order: the bytes of --accum 3" {
	sift-train -m $F/tok -o $T/one $OPTS --accum 3 $T/e3.b > /dev/null
	mpi 3 sift-train -m $F/tok -o $T/three $OPTS $T/e3.b
	cmp $T/one/model.safetensors $T/three/model.safetensors
	diff <(curve $T/one) <(curve $T/three)
}

@test "one rank under mpirun with SIFT_DIST_FORCE=1 sums through MPI and trains the bytes of no MPI" {
	sift-train -m $F/tok -o $T/plain $OPTS --dev $T/dev.b --eval-every 4 $T/e3.b > /dev/null
	SIFT_DIST_FORCE=1 mpi 1 sift-train -m $F/tok -o $T/forced $OPTS --dev $T/dev.b --eval-every 4 $T/e3.b
	cmp $T/plain/model.safetensors $T/forced/model.safetensors
	same_state $T/plain $T/forced
	diff <(curve $T/plain) <(curve $T/forced)
	run jq -c '[.options.allreduce, .options.ranks]' $T/plain/sift-train.json
	assert_output '["none",1]'
	# the collective path was taken, not the one-process shortcut
	run jq -c '[.options.allreduce, .options.ranks]' $T/forced/sift-train.json
	assert_output '["mpi",1]'
}

@test "one rank under mpirun without SIFT_DIST_FORCE takes no collective path" {
	SIFT_DIST_FORCE=0 mpi 1 sift-train -m $F/tok -o $T/one $OPTS $T/e3.b
	run jq -r .options.allreduce $T/one/sift-train.json
	assert_output none
}

@test "one forced rank with --zero1 gathers its one shard through MPI to the same bytes" {
	sift-train -m $F/tok -o $T/plain $OPTS $T/e3.b > /dev/null
	SIFT_DIST_FORCE=1 mpi 1 sift-train -m $F/tok -o $T/zero $OPTS --zero1 $T/e3.b
	cmp $T/plain/model.safetensors $T/zero/model.safetensors
	same_state $T/plain $T/zero
	run jq -c '[.options.allreduce, .options.zero1]' $T/zero/sift-train.json
	assert_output '["mpi",true]'
}

@test "check-gpu's 1-rank collective check passes on the cpu through MPI" {
	cd $BATS_TEST_DIRNAME/..
	run -0 sh scripts/check-nccl.sh "$SIFT_BIN/sift-train" "$SIFT_BIN/sift-cat" $T/nccl cpu
	assert_line "PASS nccl: 1 rank on cpu through mpi, 15 steps: the bytes of the run without MPI"
	assert_line "PASS nccl zero1: 1 rank on cpu through mpi, 15 steps: the bytes of the run without MPI"
	assert_equal "${#lines[@]}" 2
}

@test "SIFT_DIST_FORCE without a launcher is a usage error" {
	run -2 --separate-stderr env SIFT_DIST_FORCE=1 sift-train -m $F/tok -o $T/out $OPTS $T/e3.b
	assert_equal "${stderr_lines[0]}" "sift-train: SIFT_DIST_FORCE: the collective path is for a process a launcher started (mpirun -np 1)"
	[ ! -e $T/out ]
}

@test "2 ranks with --accum 2 each give one process's --accum 4 within rounding" {
	sift-train -m $F/tok -o $T/one $OPTS --accum 4 $T/e3.b > /dev/null
	mpi 2 sift-train -m $F/tok -o $T/two $OPTS --accum 2 $T/e3.b
	# the same steps and tokens, losses within 1e-5
	jq -n -e --slurpfile a <(curve $T/one | jq -c 'select(.loss)') \
		--slurpfile b <(curve $T/two | jq -c 'select(.loss)') '
		($a | length) == 6 and ($b | length) == 6 and
		([$a, $b] | transpose | all(.[0].step == .[1].step and .[0].tokens == .[1].tokens and
			((.[0].loss - .[1].loss) | fabs) < 1e-5))'
	# the models predict the same labels, probabilities within 1e-5
	sift-fwd -m $T/one < $T/dev.b | sift-cat > $T/one.jsonl
	sift-fwd -m $T/two < $T/dev.b | sift-cat > $T/two.jsonl
	jq -n -e --slurpfile a $T/one.jsonl --slurpfile b $T/two.jsonl '
		($a | length) > 1 and ($a | length) == ($b | length) and
		([$a[1:], $b[1:]] | transpose | all(.[0].pred == .[1].pred and
			([(.[0].probs // [.[0].prob] | flatten), (.[1].probs // [.[1].prob] | flatten)]
			 | transpose | all((.[0] - .[1]) | fabs < 1e-5))))'
}

@test "--zero1 shards the moments and changes no byte, of the model or of the state" {
	mpi 2 sift-train -m $F/tok -o $T/plain $OPTS $T/e3.b
	mpi 2 sift-train -m $F/tok -o $T/zero $OPTS --zero1 $T/e3.b
	cmp $T/plain/model.safetensors $T/zero/model.safetensors
	same_state $T/plain $T/zero
	run jq .options.zero1 $T/zero/sift-train.json
	assert_output true
}

@test "a 2-rank run stopped and resumed on 2 ranks ends with the bytes of an uninterrupted one" {
	mpi 2 sift-train -m $F/tok -o $T/full $OPTS $T/e3.b
	mpi 2 sift-train -m $F/tok -o $T/half $OPTS --stop-after 4 $T/e3.b
	! cmp -s $T/full/model.safetensors $T/half/model.safetensors
	run jq -r .end $T/half/sift-train.json
	assert_output stopped
	mpi 2 sift-train -m $F/tok -o $T/half $OPTS --resume $T/e3.b
	cmp $T/full/model.safetensors $T/half/model.safetensors
	same_state $T/full $T/half
	diff <(curve $T/full) <(curve $T/half | grep -v '"end":"stopped"')
}

@test "a --zero1 run resumes from its gathered moments to the same bytes" {
	mpi 2 sift-train -m $F/tok -o $T/full $OPTS $T/e3.b
	mpi 2 sift-train -m $F/tok -o $T/half $OPTS --zero1 --stop-after 4 $T/e3.b
	mpi 2 sift-train -m $F/tok -o $T/half $OPTS --zero1 --resume $T/e3.b
	cmp $T/full/model.safetensors $T/half/model.safetensors
	same_state $T/full $T/half
}

@test "a 2-rank checkpoint resumes on one process with --accum 2, and with another group size is an error" {
	sift-train -m $F/tok -o $T/one $OPTS --accum 2 $T/e3.b > /dev/null
	mpi 2 sift-train -m $F/tok -o $T/half $OPTS --stop-after 4 $T/e3.b
	run -1 --separate-stderr sift-train -m $F/tok -o $T/half $OPTS --max-steps 9 --resume $T/e3.b
	assert_equal "$stderr" "sift-train: $T/half: saved with 2 batches a step (2 ranks x --accum 1), resumed with 1 (1 x 1); resume with the same product"
	sift-train -m $F/tok -o $T/half $OPTS --accum 2 --resume $T/e3.b > /dev/null
	cmp $T/one/model.safetensors $T/half/model.safetensors
}

@test "rank 0 alone writes: no log stream on the ranks' stdout, the log in train.log" {
	mpi 2 sift-train -m $F/tok -o $T/two $OPTS $T/e3.b > $T/stdout
	[ ! -s $T/stdout ]
	run bash -c "sift-cat $T/two/train.log | jq -r 'select(.end) | .end'"
	assert_output done
	run ls -A $T
	refute_output --partial sift-tmp
}

@test "stdin is no batches stream for 2 ranks: a usage error" {
	run -2 --separate-stderr mpi 2 sift-train -m $F/tok -o $T/out - < $T/e3.b
	# rank 0 alone says so
	assert_equal "$(printf '%s\n' "$stderr" | grep '^sift-train:')" "sift-train: 2 ranks read the batches from a file, not stdin"
	[ ! -e $T/out ]
}

@test "a rank that fails on its batch ends the job with its message and status 1" {
	# batch 2 (rank 1's) has a label outside the 5 classes
	jq -c 'if input_line_number == 3 then .labels[1] = 9 else . end' \
		$F/tok.jsonl | sift-cat -s > $T/bad.b
	run -1 --separate-stderr mpi 2 sift-train -m $F/tok -o $T/out $OPTS $T/bad.b
	assert_equal "$(printf '%s\n' "$stderr" | grep '^sift-train:')" "sift-train: $T/bad.b:3: label id 9 outside 0..4"
}

@test "a rank killed in the middle of a run ends the job at once with a non-zero status, no rank left waiting" {
	# 15,000 steps: several seconds, not the one in which 2,000 end
	epochs tok 3000 > $T/long.b
	mpirun --oversubscribe -np 2 sift-train -m $F/tok -o $T/out --lr 1e-3 $T/long.b 2> $T/err &
	mp=$!
	# the ranks are mpirun's children, each with its rank in its environment
	# (up to 30 s: mpirun starts slowly on a loaded machine)
	r1=
	for _ in $(seq 300); do
		for p in $(pgrep -P $mp); do
			tr '\0' '\n' < /proc/$p/environ 2> /dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && r1=$p
		done
		[ -n "$r1" ] && [ -e $T/.out.sift-lock ] && break
		sleep 0.1
	done
	[ -n "$r1" ] || { cat $T/err; fail "rank 1 not found 30 s after mpirun started"; }
	[ -e $T/.out.sift-lock ] || { cat $T/err; fail "no lock on the output 30 s after mpirun started"; }
	ranks=$(pgrep -P $mp)
	sleep 0.5	# in the middle of the run: rank 0 holds the lock
	kill -9 $r1
	# mpirun ends within 20 s (it takes about 1 here), else it hung
	for _ in $(seq 200); do
		kill -0 $mp 2> /dev/null || break
		sleep 0.1
	done
	if kill -0 $mp 2> /dev/null; then
		kill -9 $mp $ranks
		fail "mpirun still running 20 s after rank 1 was killed"
	fi
	st=0
	wait $mp || st=$?
	[ "$st" -ne 0 ]
	grep -q 'rank 1 .* exited on signal 9' $T/err
	for p in $ranks; do
		! kill -0 $p 2> /dev/null
	done
}

@test "the mpirun example of sift-train(1) runs as written" {
	cd $T
	ln -s "$BATS_TEST_DIRNAME" tests
	run --separate-stderr sh -e -c "sift-cat -s tests/fixtures/train/tok.jsonl > tok.batches
mpirun -np 2 sift-train -m tests/fixtures/train/tok -o runs/mpi \\
    --lr 1e-3 tok.batches &&
sift-report runs/mpi/train.log | grep '^end'"
	assert_success
	[ -z "$stderr" ]
	assert_output --partial "end"
	grep -qF 'mpirun -np 2 sift-train -m tests/fixtures/train/tok -o runs/mpi \e' $BATS_TEST_DIRNAME/../man/man1/sift-train.1
}

@test "SIGTERM to mpirun stops the ranks together with a checkpoint that resumes to the bytes of an uninterrupted run" {
	# mpirun passes a TERM on to the ranks a second after it gets one
	# (SIGCONT first, then SIGTERM, then SIGKILL, a second apart), so
	# the run must last well past that on the fastest machine: 15,000
	# steps took 1.5 s on a Zen 5.  A short run at first gives the rate,
	# and the epochs are as many as make ~6 s of it (3,000 at least)
	epochs tok 600 > $T/short.b
	mpi 2 sift-train -m $F/tok -o $T/short --lr 1e-3 $T/short.b
	e=$(jq '.elapsed' $T/short/sift-train.json)
	E=$(awk -v e="$e" 'BEGIN { n = int(600 * 6 / (e > 0 ? e : 1)); print (n > 3000 ? n : 3000) }')
	epochs tok $E > $T/long.b
	mpi 2 sift-train -m $F/tok -o $T/full --lr 1e-3 $T/long.b
	mpirun --oversubscribe -np 2 sift-train -m $F/tok -o $T/out --lr 1e-3 $T/long.b 2> $T/err &
	mp=$!
	# (up to 30 s: mpirun starts slowly on a loaded machine)
	for _ in $(seq 300); do
		[ "$(pgrep -P $mp | wc -l)" -eq 2 ] && [ -e $T/.out.sift-lock ] && break
		sleep 0.1
	done
	[ -e $T/.out.sift-lock ] || { cat $T/err; fail "no lock on the output 30 s after mpirun started"; }
	# rank 0 takes the output's lock after the handlers are in place
	# (and the ranks start together): from here a TERM is a checkpoint
	sleep 0.5
	kill -TERM $mp || { cat $T/err; false; }
	st=0
	wait $mp || st=$?
	[ "$st" -ne 0 ]
	run grep -c '^sift-train: SIGTERM: checkpoint at step [0-9]* in ' $T/err
	assert_output 1
	run jq -c '[.end, .state]' $T/out/sift-train.json
	assert_output '["stopped",true]'
	mpi 2 sift-train -m $F/tok -o $T/out --lr 1e-3 --resume $T/long.b
	cmp $T/full/model.safetensors $T/out/model.safetensors
}
