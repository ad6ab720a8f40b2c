#!/usr/bin/env bats
# man.bats: every program's usage is its man page's SYNOPSIS, and the man
# pages have the sections of mdoc(7) in order.

load helper

MAN=$BATS_TEST_DIRNAME/../man

# the SYNOPSIS of a man page as one line, spaces around | folded
synopsis() {
	MANWIDTH=1000 mandoc -Tascii -O width=1000 "$1" | col -b |
		sed -n '/^SYNOPSIS/,/^[A-Z]/p' | sed '1d;$d' |
		tr -s ' \n' '  ' | sed 's/^ //; s/ $//; s/ | /|/g'
}

@test "every program has a man page" {
	for b in $BATS_TEST_DIRNAME/../bin/sift-*.c $BATS_TEST_DIRNAME/../bin/sift-*.sh; do
		p=$(basename $b); p=${p%.*}
		[ -f $MAN/man1/$p.1 ] || fail "$p has no man page"
	done
}

@test "the usage line of every program is its man page's SYNOPSIS" {
	for m in $MAN/man1/sift-*.1; do
		p=$(basename $m .1)
		# the usage: its first line and those that go on with the program's name
		usage=$($p --help | awk 'NR == 1 { print; next } !/^ +sift-/ { exit } { print }' |
			tr -s ' \n' '  ' | sed 's/^usage: //; s/ $//; s/ | /|/g')
		assert_equal "$usage" "$(synopsis $m)"
	done
}

@test "every man page has its sections in the order of mdoc(7)" {
	order="NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES EXIT STATUS EXAMPLES DIAGNOSTICS SEE ALSO"
	for m in $MAN/man*/*.[0-9]; do
		got=$(grep '^\.Sh ' $m | sed 's/^\.Sh //' | tr '\n' ' ')
		last=-1
		for s in $got; do
			# position of the section's first word in the canonical order
			pos=$(echo "$order" | tr ' ' '\n' | grep -n -x "$s" | head -n 1 | cut -d: -f1)
			[ -n "$pos" ] || continue
			[ "$pos" -gt "$last" ] || fail "$(basename $m): $s out of order"
			last=$pos
		done
	done
}

@test "every man page of a program lists its exit statuses" {
	for m in $MAN/man1/sift-*.1; do
		grep -q '^\.Sh EXIT STATUS' $m || fail "$(basename $m) has no EXIT STATUS"
	done
}

@test "the man pages are mandoc -Tlint clean" {
	run mandoc -Tlint -W warning $MAN/man*/*.[0-9]
	assert_success
	assert_output ""
}
