#!/bin/sh
# sentiment-monitor.sh: classify a stream of financial news with a
# fine-tuned sentiment model, summarise it per time window and topic, and
# raise an alert (exit status 3) when the share of negative news crosses a
# threshold.  Run it from cron over recent news (say the last hour's
# file): sift-report sums up at the end of its input, and cron mails what
# it prints when the status is not 0.
#
# usage: pipelines/sentiment-monitor.sh model_dir [news.jsonl ...]
#
# Input: JSON lines {"text": ..., "time": "2026-11-29T08:00:00Z",
# "topic": ...} (time and topic optional), or plain lines with FORMAT=lines.
#
# Settings (environment, with their defaults):
#   FORMAT=jsonl   WINDOW=1h   ALERT='negative>0.4'   MIN_COUNT=20
#   BY_TOPIC=1     group by topic too (empty: not)
#   (WINDOW= and BY_TOPIC= for input without times or topics)
#   BATCH=32       examples per batch
set -eu
[ $# -ge 1 ] || { echo "usage: sentiment-monitor.sh model_dir [news.jsonl ...]" >&2; exit 2; }
RUN=$1
shift
FORMAT=${FORMAT:-jsonl}
WINDOW=${WINDOW-1h}
ALERT=${ALERT:-negative>0.4}
MIN_COUNT=${MIN_COUNT:-20}
BATCH=${BATCH:-32}
BY_TOPIC=${BY_TOPIC-1}

# POSIX sh has no pipefail: a stage that fails notes it here
fail=$(mktemp)
trap 'rm -f "$fail"' EXIT
ok() { "$@" || echo "sentiment-monitor: $1 exited with status $?" >> "$fail"; }

# news -> examples (time and topic ride along) -> batches, streamed in
# input order -> predictions -> a table per window and topic, and alerts
status=0
ok sift-tok -m "$RUN" -f "$FORMAT" --task cls "$@" |
	ok sift-batch -b "$BATCH" |
	ok sift-fwd -m "$RUN" |
	sift-report ${WINDOW:+--window "$WINDOW"} ${BY_TOPIC:+--by-topic} \
		--min-count "$MIN_COUNT" --alert "$ALERT" || status=$?
[ ! -s "$fail" ] || { cat "$fail" >&2; exit 1; }
# sift-report's status: 0, or 3 when an alert fired (1: bad input)
exit "$status"
