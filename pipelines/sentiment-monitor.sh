#!/bin/sh
# sentiment-monitor.sh: the first name of sift-monitor(1), kept for the
# crontabs that call it: the same settings, mapped onto its options, with
# the table printed and every alert every run as before (no --state).
# New jobs call sift-monitor itself.
#
# usage: pipelines/sentiment-monitor.sh model_dir [news.jsonl ...]
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
WINDOW=${WINDOW-1h}
BY_TOPIC=${BY_TOPIC-1}
exec sift-monitor -m "$RUN" -f "${FORMAT:-jsonl}" -w "${WINDOW:-none}" \
	${BY_TOPIC:+--by-topic} -n "${MIN_COUNT:-20}" -a "${ALERT:-negative>0.4}" \
	-b "${BATCH:-32}" --table -- "$@"
