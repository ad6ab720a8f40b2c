#!/bin/sh
# run.sh: runs each fuzz target named after $1 (seconds each) in turn, then
# prints one line a target: executions, seconds, corpus size, crashes.
# Corpus: build-fuzz/corpus/NAME (grows), seeds from tests/fuzz/seeds,
# tests/fuzz/regress and build-fuzz/seeds (samples of $FUZZ_DATA's data sets,
# made by seeds.sh).  Crashes are written as build-fuzz/NAME-crash-*.
secs=${1:-60}
shift
data=${FUZZ_DATA:-/work/shared/data}
[ -d "$data" ] && [ ! -d build-fuzz/seeds ] && sh tests/fuzz/seeds.sh "$data" build-fuzz/seeds
# a declared msgpack array of 2^32 elements asks msgpack-c for that much
# memory; the reader reports the failure as an error
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:max_allocation_size_mb=1024}
# where the targets write their inputs as files: libFuzzer ends a run
# without the targets' atexit clean-up
export TMPDIR=$PWD/build-fuzz/tmp
mkdir -p "$TMPDIR"
status=0
summary=build-fuzz/summary.txt
: >"$summary"
for t in "$@"; do
	mkdir -p "build-fuzz/corpus/$t"
	dirs=
	for d in tests/fuzz/seeds/$t tests/fuzz/regress/$t build-fuzz/seeds/$t; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	log=build-fuzz/$t.log
	start=$(date +%s)
	# -close_fd_mask=2: the readers' own diagnostics are not shown; the
	# sanitizers' and libFuzzer's reports are
	nice -n "${FUZZ_NICE:-10}" "build-fuzz/fuzz-$t" -max_total_time="$secs" \
		-timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=1048576 \
		-close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix="build-fuzz/$t-" "build-fuzz/corpus/$t" $dirs >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	ncorp=$(ls "build-fuzz/corpus/$t" | wc -l)
	crash=$(grep -c '^==[0-9]*==ERROR\|^SUMMARY: \|runtime error\|deadly signal\|fuzz target exited' "$log")
	line="fuzz $t: ${execs:-?} executions in $((end - start)) s, corpus $ncorp, exit $rc"
	[ $rc -ne 0 ] && { line="$line (see $log)"; status=1; tail -n 40 "$log"; }
	echo "$line" | tee -a "$summary"
done
exit $status
