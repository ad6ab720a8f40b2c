#!/bin/sh
# runtests.sh: runs the C unit tests and the bats tests against build dir $1
# and ends with one line: "check: N passed, N failed, N skipped".
B=${1:-build}
log=$(mktemp)
pass=0 fail=0 skip=0
# under the sanitizers (make test SAN=1 sets ASAN_OPTIONS), every report of
# every program, in a pipeline or in the background too, lands in $san
san=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$san"' EXIT
if [ -n "$ASAN_OPTIONS" ]; then
	export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$san/asan"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$san/ubsan"
fi
for t in "$B"/tests/test-*; do
	case $t in *.o|*.d) continue ;; esac
	[ -x "$t" ] || continue
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	line=$(grep -E '^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	s=$(grep -cE '(^|: )SKIP' "$log")
	pass=$((pass + ${p:-0})) skip=$((skip + s))
	if [ -z "$line" ] || [ $rc -ne 0 ]; then
		[ "${f:-0}" -gt 0 ] || f=1
		echo "runtests: $t failed (exit $rc)"
	fi
	fail=$((fail + ${f:-0}))
done
SIFT_BIN=$PWD/$B bats --tap tests >"$log" 2>&1
cat "$log"
bp=$(grep -Ec '^ok [0-9]+ ' "$log")
bs=$(grep -Ec '^ok [0-9]+ .*# skip' "$log")
bf=$(grep -Ec '^not ok [0-9]+ ' "$log")
bt=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n 1)
[ -n "$bt" ] && [ $((bp + bf)) -lt "$bt" ] && bf=$((bf + bt - bp - bf))
pass=$((pass + bp - bs)) fail=$((fail + bf)) skip=$((skip + bs))
# a leak or an error report is a failure, whatever the test checked
# (a warning such as a refused huge allocation is not)
for r in "$san"/*; do
	[ -f "$r" ] || continue
	grep -qE 'ERROR: [A-Za-z]+Sanitizer|Sanitizer has encountered a fatal error|runtime error' "$r" ||
		continue
	cat "$r"
	echo "runtests: sanitizer report $(basename "$r")"
	fail=$((fail + 1))
done
echo "check: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
