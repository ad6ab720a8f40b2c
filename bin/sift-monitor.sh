#!/bin/sh
# sift-monitor: classifies a news feed and alerts once per condition, for cron.
#
# news -> sift-tok -> sift-batch -> sift-fwd -> sift-report, with one
# model path resolved at the start, each stage's diagnostics held until
# the end (the first stage that failed is the one to tell), and the
# report and its alert state kept back unless every stage succeeded.
# See sift-monitor(1).

usage='usage: sift-monitor [-ev] [-a rule] [-b size] [-F format] [-f format] [-k count] [-m model] [-n count] [-s file] [-w window] [--by-topic] [--table] [file ...]'

prog=sift-monitor
misuse() {
	printf '%s: %s\n' "$prog" "$1" >&2
	printf "Try '%s --help'.\n" "$prog" >&2
	exit 2
}
die() {
	printf '%s: %s\n' "$prog" "$1" >&2
	exit 1
}

help() {
	printf '%s\n' "$usage" "" \
		"Classify news with a fine-tuned model, group the predictions by time" \
		"window (and topic), and write an alert when a label's share crosses a" \
		"rule: once, while the condition holds (with --state), for cron." \
		"Quiet when all is well; exit 3 on a new alert." \
		"" \
		"  -m, --model DIR       the fine-tuned classification model (resolved once)" \
		"  -s, --state FILE      remember ongoing alerts in FILE" \
		"      --wait SEC        wait up to SEC for another run on FILE (default 300)" \
		"  -a, --alert RULE      LABEL>SHARE, >=, < or <= (default negative>0.4)" \
		"  -w, --window DUR      time windows (default 1h; none: one group)" \
		"      --by-topic        group by topic too" \
		"  -n, --min-count N     alert only for groups of at least N (default 20)" \
		"  -k, --top N           the N most confident headlines per alert (3)" \
		"  -F, --format F        text (default) or json, as sift-report writes" \
		"  -f, --input-format F  jsonl (default: {\"text\",\"time\",\"topic\"}) or lines" \
		"  -b, --batch N         examples per batch (default 32)" \
		"  -e, --every-run       alert for ongoing conditions too" \
		"      --table           print the table of groups, not only the alerts" \
		"  -v, --verbose         the table, and the resolved model on stderr" \
		"  -h, --help            this help" \
		"      --version         the version"
	exit 0
}

model=${SIFT_MODEL-} state='' window=1h by_topic='' min_count=20 top=3
format=text input=jsonl batch=32 every_run='' table='' verbose='' rules=
wait=300

# one option's value: $2 of "-x value", or what follows "=" in "--x=value"
need() {
	[ $# -ge 2 ] || misuse "option '$1' needs a value"
}

while [ $# -gt 0 ]; do
	opt=$1
	case $opt in
	--*=*)
		val=${opt#*=}
		opt=${opt%%=*}
		shift
		set -- "$opt" "$val" "$@"
		continue
		;;
	-[ev]?*)
		# -ev as -e -v
		rest=${opt#-?}
		shift
		set -- "${opt%"$rest"}" "-$rest" "$@"
		continue
		;;
	-[abFfkmnsw]?*)
		# -n5 as -n 5
		rest=${opt#-?}
		shift
		set -- "${opt%"$rest"}" "$rest" "$@"
		continue
		;;
	-m | --model) need "$@"; model=$2; shift ;;
	-s | --state) need "$@"; state=$2; shift ;;
	--wait) need "$@"; wait=$2; shift ;;
	-a | --alert)
		need "$@"
		rules="$rules
$2"
		shift
		;;
	-w | --window) need "$@"; window=$2; shift ;;
	--by-topic) by_topic=1 ;;
	-n | --min-count) need "$@"; min_count=$2; shift ;;
	-k | --top) need "$@"; top=$2; shift ;;
	-F | --format) need "$@"; format=$2; shift ;;
	-f | --input-format) need "$@"; input=$2; shift ;;
	-b | --batch) need "$@"; batch=$2; shift ;;
	-e | --every-run) every_run=1 ;;
	--table) table=1 ;;
	-v | --verbose) verbose=1; table=1 ;;
	-h | --help) help ;;
	--version) echo "$prog 0.1"; exit 0 ;;
	--) shift; break ;;
	-?*) misuse "unknown option '${opt%%=*}'" ;;
	*) break ;;
	esac
	shift
done

case $wait in
'' | *[!0-9]*) misuse "--wait: expected whole seconds, got '$wait'" ;;
esac
case $format in
text | json) ;;
*) misuse "--format: expected text or json, got '$format'" ;;
esac
[ -n "$model" ] || misuse "no model: give -m DIR (or SIFT_MODEL)"
[ -n "$rules" ] || rules=negative\>0.4

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sift-monitor.XXXXXX") || die "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
printf '%s\n' "$rules" | grep -v '^$' > "$tmp/rules"
state_copy=

# sift-report with the options, each rule one argument
report() {
	set -- --min-count "$min_count" --top "$top" -F "$format"
	[ "$window" = none ] || set -- "$@" --window "$window"
	[ -z "$by_topic" ] || set -- "$@" --by-topic
	[ -n "$table" ] || set -- "$@" --alerts-only
	[ -z "$every_run" ] || set -- "$@" --every-run
	[ -z "$state_copy" ] || set -- "$@" --state "$state_copy"
	while IFS= read -r r; do
		set -- "$@" --alert "$r"
	done < "$tmp/rules"
	sift-report "$@"
}

# the options checked before any model is loaded: sift-report reads its
# options before its input, so misuse shows on an empty one
report < /dev/null > /dev/null 2> "$tmp/pre"
if [ $? -eq 2 ]; then
	head -n 1 "$tmp/pre" >&2
	printf "Try '%s --help'.\n" "$prog" >&2
	exit 2
fi

# one model for the whole run: a 'current' symlink switched by a
# retraining job mid-run must not give sift-tok one model, sift-fwd another
if ! resolved=$(readlink -f -- "$model") || [ ! -d "$resolved" ]; then
	die "$model: no such model directory"
fi
# a LoRA adapter (sift-retrain's in adapter mode) is read over the base
# model its link base names, resolved once too
base=$resolved adapter=
if [ -f "$resolved/adapter_config.json" ]; then
	if ! base=$(readlink -f -- "$resolved/base") || [ ! -d "$base" ]; then
		die "$model: an adapter with no base model (no link $model/base, which sift-retrain makes)"
	fi
	adapter=$resolved
fi
[ -z "$verbose" ] || printf '%s: model %s%s\n' "$prog" "$base" "${adapter:+, adapter $adapter}" >&2

# news from stdin is spooled, so that an empty hour can be seen as such;
# files with nothing but blank lines are no news (sift-tok refuses them)
[ $# -gt 0 ] || set -- -
for f do
	shift
	if [ "$f" = - ]; then
		cat > "$tmp/stdin" || die "stdin: read error"
		f=$tmp/stdin
	fi
	if [ -f "$f" ] && ! grep -q '[^[:space:]]' "$f"; then
		continue
	fi
	set -- "$@" "$f"
done
if [ $# -eq 0 ]; then
	[ -z "$verbose" ] || printf '%s: no news\n' "$prog" >&2
	exit 0
fi

# one run at a time on a state file: two overlapping runs would each read
# the old state and the last to end would drop the other's alerts
if [ -n "$state" ]; then
	exec 9> "$state.lock" || die "$state.lock: cannot open"
	flock -w "$wait" 9 || die "$state: in use by another run for $wait s"
fi

# the state goes through a copy: only a run whose every stage succeeded
# may change it (a stage that dies between records leaves a stream that
# reads as fewer news, not as an error)
if [ -n "$state" ]; then
	if [ -e "$state" ]; then
		cp "$state" "$tmp/state" || die "$state: cannot read"
	fi
	state_copy=$tmp/state
fi

# POSIX sh has no pipefail: each stage leaves its status and its
# diagnostics in $tmp
stage() {
	name=$1
	shift
	# the shell's own word on a killed stage ("Killed") is not the news
	{ "$@" 2> "$tmp/$name.err" || echo "$?" > "$tmp/$name.rc"; } 2> /dev/null
}
stage tok sift-tok -m "$base" -f "$input" --task cls "$@" |
	stage batch sift-batch -b "$batch" |
	stage fwd sift-fwd -m "$base" ${adapter:+--adapter "$adapter"} |
	stage report report > "$tmp/out"

# the stage to blame is the first that failed: the stages after it failed
# for want of input; none before it failed of a closed pipe, for a sift
# program whose reader goes away ends with 0
failed=
for name in tok batch fwd report; do
	[ -e "$tmp/$name.rc" ] || continue
	[ "$name" = report ] && [ "$(cat "$tmp/report.rc")" -eq 3 ] && continue
	failed=$name
	break
done
if [ -n "$failed" ]; then
	rc=$(cat "$tmp/$failed.rc")
	# its message, or for one killed by a signal (128 + its number),
	# the status
	if [ "$rc" -le 128 ] && [ -s "$tmp/$failed.err" ]; then
		head -n 1 "$tmp/$failed.err" >&2
	else
		printf '%s: sift-%s exited with status %s\n' "$prog" "$failed" "$rc" >&2
	fi
	exit 1
fi
for name in tok batch fwd report; do
	cat "$tmp/$name.err" >&2
done
if [ -n "$state" ] && [ -e "$tmp/state" ]; then
	if ! cp "$tmp/state" "$state.$$" || ! mv -f "$state.$$" "$state"; then
		rm -f "$state.$$"
		die "$state: cannot write"
	fi
fi
cat "$tmp/out"
[ ! -e "$tmp/report.rc" ] || exit 3
exit 0
