#!/bin/sh
# run.sh: runs every benchmark (bench/bench-*.sh) against the build in $1.
B=${1:-build}
mkdir -p bench/out
for s in bench/bench-*.sh; do
	[ -f "$s" ] || continue
	echo "== $s"
	sh "$s" "$B" || echo "bench: $s failed"
done
