#!/bin/sh
# reliability.sh: the long reliability runs; prints RELIABILITY.md's figures.
# usage: reliability.sh [build-dir]  (make reliability)
# Kills (24) and resumes of sift-train, the injected faults, a soak of
# 10k, 100k and 1M lines through sift-tok | sift-batch | sift-fwd, and
# make test SAN=1 (SIFT_RELIABILITY_SAN=0 leaves it out). Prints one line
# "reliability: ..." per figure, writes them between the figures markers
# of RELIABILITY.md, and exits 1 if any run failed.
B=${1:-build}
PATH=$PWD/$B:$PATH
DATA=${SIFT_DATA:-$PWD/../shared/data}
TINY=$PWD/tests/fixtures/pipelines/tiny
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
status=0
out=$w/figures

say() {
	echo "reliability: $*" | tee -a "$out"
}

# 1. kill -9 at random steps, each followed by --resume
if SIFT_KILLS=${SIFT_KILLS:-24} SIFT_KILL_EPOCHS=20 SIFT_KILL_REPORT=$w/kills \
	SIFT_BIN=$PWD/$B bats tests/reliability.bats > $w/log 2>&1; then
	say "kills: $(sed 's/^kill-resume: //' $w/kills)" \
		"(SIFT_KILLS=${SIFT_KILLS:-24} SIFT_KILL_EPOCHS=20 bats tests/reliability.bats)"
else
	cat $w/log
	say "kills: FAILED (bats tests/reliability.bats)"
	status=1
fi

# 2. injected write, fsync and rename failures
: > $w/tally
SIFT_FAILIO_TALLY=$w/tally SIFT_BIN=$PWD/$B bats tests/faults.bats > $w/log 2>&1 || status=1
ok=$(grep -c '^ok' $w/log) bad=$(grep -c '^not ok' $w/log)
[ "$bad" -eq 0 ] || cat $w/log
say "faults: $(grep -c '^run:' $w/tally) runs with an injected failure" \
	"($(grep -c '^failio: write' $w/tally) writes, $(grep -c '^failio: fsync' $w/tally) fsyncs," \
	"$(grep -c '^failio: rename' $w/tally) renames failed: ENOSPC or EIO, once or from the Nth on)," \
	"$(grep '^run:' $w/tally | grep -vc 'exit 1$') not exiting 1;" \
	"tests/faults.bats $ok passed, $bad failed"

# 3. the soak: n AG News titles (the 7,600 of test.csv over and over),
# their line number carried through as the src of each prediction
soak() {
	n=$1
	cut -d, -f2 "$DATA/ag_news/test.csv" > $w/titles
	awk -v n="$n" -v f=$w/titles 'BEGIN { while (k < n) {
		while (k < n && (getline l < f) > 0) { print l; k++ }
		close(f) } }' > $w/lines
	printf 'a\nb\n' > $w/labels
	t0=$(date +%s)
	/usr/bin/time -f %M -o $w/rss.tok sift-tok -m "$TINY" --labels $w/labels --task cls $w/lines 2> $w/err.tok |
		/usr/bin/time -f %M -o $w/rss.batch sift-batch 2> $w/err.batch |
		/usr/bin/time -f %M -o $w/rss.fwd sift-fwd -m "$TINY" --init-head 1 2> $w/err.fwd |
		sift-cat | sed -E -n '2,$ s/^\{"id":([0-9]+),"src":"[^"]*:([0-9]+)".*/\1 \2/p' |
		awk '$1 != NR - 1 || $2 != NR { bad++ } END { print NR, bad + 0 }' > $w/count
	t1=$(date +%s)
	read -r got bad < $w/count
	mib() { awk '{ printf "%.1f", $1 / 1024 }' "$1"; }
	verdict="$got predictions, $bad out of order"
	if [ "$got" -ne "$n" ] || [ "$bad" -ne 0 ] || grep -v truncated $w/err.* | grep -q .; then
		cat $w/err.*
		verdict="FAILED: $verdict"
		status=1
	fi
	say "soak $n lines: $verdict; peak RSS (MiB) sift-tok $(mib $w/rss.tok)," \
		"sift-batch $(mib $w/rss.batch), sift-fwd $(mib $w/rss.fwd); $((t1 - t0)) s"
}
if [ -f "$DATA/ag_news/test.csv" ]; then
	for n in 10000 100000 1000000; do
		soak $n
	done
else
	say "soak: SKIPPED (no $DATA/ag_news/test.csv)"
fi

# 4. every test under ASan and UBSan, leaks included
if [ "${SIFT_RELIABILITY_SAN:-1}" = 1 ]; then
	make --no-print-directory test SAN=1 > $w/log 2>&1 || status=1
	say "sanitizers: make test SAN=1: $(grep '^check: ' $w/log | tail -n 1 | sed 's/^check: //')," \
		"$(grep -c '^runtests: sanitizer report' $w/log) sanitizer reports"
	grep -E '^(not ok|runtests:)' $w/log
fi

# the figures into RELIABILITY.md, between its markers
if [ -f RELIABILITY.md ] && grep -q '^<!-- figures -->$' RELIABILITY.md; then
	awk -v f=$out '/^<!-- \/figures -->$/ { skip = 0 }
		!skip { print }
		/^<!-- figures -->$/ { print "```"; while ((getline l < f) > 0) print l; print "```"; skip = 1 }' \
		RELIABILITY.md > $w/doc && cat $w/doc > RELIABILITY.md
fi
exit $status
