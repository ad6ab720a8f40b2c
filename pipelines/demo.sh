#!/bin/sh
# demo.sh: the whole loop of a news-sentiment service on a small default,
# a few minutes on two cores: fine-tune all-MiniLM-L6-v2 on Financial
# PhraseBank behind a quality gate (sift-retrain), let fresh labelled data
# arrive and retrain, watch a feed of news for a negative mood
# (sift-monitor), then feed the gate a candidate trained on wrong labels
# and watch it refuse it.  Then it shows where everything
# went.  (pipelines/demo-ner.sh is the named-entity job.)
# usage: pipelines/demo.sh [build_dir]
#
# Settings (environment, with their defaults):
#   SIFT_DATA=../shared/data   where financial_phrasebank/ is
#   MODEL=models/all-MiniLM-L6-v2
#   OUT=build/demo             the model home and the feed
#   FRESH=300                  sentences in each delivery of labelled data
#   HOLDOUT=200                sentences of the fixed holdout set
#   EPOCHS=3 LR=1e-4
set -eu
B=${1:-build}
PATH=$PWD/$B:$PATH
export PATH
DATA=${SIFT_DATA:-../shared/data}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
OUT=${OUT:-build/demo}
FRESH=${FRESH:-300}
HOLDOUT=${HOLDOUT:-200}
EPOCHS=${EPOCHS:-3}
LR=${LR:-1e-4}
FPB=$DATA/financial_phrasebank/Sentences_66Agree.txt
[ -f "$FPB" ] || { echo "demo: $FPB not found (set SIFT_DATA)" >&2; exit 1; }
[ -f "$MODEL/model.safetensors" ] ||
	{ echo "demo: no model in $MODEL (make model)" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT/drop"
HOME_=$OUT/home

# the data: the file is sorted by label, so first a fixed shuffle (line i
# goes to place 7919 i mod n, a permutation for n not a multiple of 7919);
# every 10th sentence is the holdout, the rest arrives in deliveries of
# FRESH; the third delivery has its labels rotated (negative -> neutral
# -> positive -> negative), a labelling job gone wrong
n=$(wc -l < "$FPB")
awk -v n="$n" '{ print (NR * 7919) % n "\t" $0 }' "$FPB" | sort -n | cut -f 2- > "$OUT/all.txt"
awk -v n="$HOLDOUT" 'NR % 10 == 0 && k++ < n' "$OUT/all.txt" > "$OUT/holdout.txt"
awk 'NR % 10 != 0' "$OUT/all.txt" > "$OUT/rest.txt"
delivery() {
	awk -v a="$(($1 * FRESH))" -v n="$FRESH" 'NR > a && NR <= a + n' "$OUT/rest.txt"
}
delivery 0 > "$OUT/drop/monday.txt"
delivery 1 > "$OUT/drop/tuesday.txt"
delivery 2 | sed 's/@negative$/@X/; s/@positive$/@negative/; s/@neutral$/@positive/; s/@X$/@neutral/' \
	> "$OUT/drop/wednesday.txt"
printf 'negative\nneutral\npositive\n' > "$OUT/labels.txt"
# the feed: news of the day, twenty an hour from 08:00, the labels taken
# off (sentences no delivery has); at 10:00 a run of bad news
hour() {
	jq -R -c --arg t "2026-12-01T$1:00:00Z" '{text: sub("@[a-z]+$"; ""), time: $t}'
}
rest=$(($(wc -l < "$OUT/rest.txt") - 3 * FRESH))
{ tail -n "$rest" "$OUT/rest.txt" | grep -v '@negative$' | head -n 40 | iconv -f latin1 -t utf-8 |
	awk 'NR <= 20' | hour 08
  tail -n "$rest" "$OUT/rest.txt" | grep -v '@negative$' | head -n 40 | iconv -f latin1 -t utf-8 |
	awk 'NR > 20' | hour 09
  tail -n "$rest" "$OUT/rest.txt" | grep '@negative$' | head -n 20 | iconv -f latin1 -t utf-8 | hour 10
} > "$OUT/feed.jsonl"

# a drop is atomic: written beside incoming/, then renamed into it
drop() {
	cp "$OUT/drop/$1" "$HOME_/.$1" && mv "$HOME_/.$1" "$HOME_/incoming/$1"
}
run() {
	st=0
	sift-retrain run -v --epochs "$EPOCHS" --lr "$LR" "$HOME_" || st=$?
	case $st in
	0) echo "demo: -> promoted (exit 0): current is now $(readlink "$HOME_/current")" ;;
	3) echo "demo: -> kept (exit 3): the gate refused the candidate; current stays $(readlink "$HOME_/current")" ;;
	4) echo "demo: -> nothing new (exit 4)" ;;
	*) echo "demo: sift-retrain exited with status $st" >&2; exit 1 ;;
	esac
}

echo "demo: 1. a model home for news sentiment, a holdout of $HOLDOUT sentences"
sift-retrain init "$HOME_" -m "$MODEL" --holdout "$OUT/holdout.txt" --format at \
	--task cls --labels "$OUT/labels.txt"
echo "TOK_OPTS='--encoding latin1'" >> "$HOME_/config"

echo
echo "demo: 2. Monday's $FRESH labelled sentences arrive; the first model is trained"
drop monday.txt
run

echo
echo "demo: 3. Tuesday's sentences arrive; a candidate warm-started from current"
drop tuesday.txt
run

echo
echo "demo: 4. the feed, watched for a negative mood (alerts once per condition)"
st=0
sift-monitor -m "$HOME_/current" --state "$OUT/alerts.json" --table \
	-a 'negative>0.5' -n 10 "$OUT/feed.jsonl" || st=$?
[ "$st" -eq 0 ] || [ "$st" -eq 3 ] || exit 1
echo "demo: the same hours again: an ongoing condition does not alert twice"
st=0
sift-monitor -m "$HOME_/current" --state "$OUT/alerts.json" \
	-a 'negative>0.5' -n 10 "$OUT/feed.jsonl" || st=$?
[ "$st" -eq 0 ] || exit 1
echo "demo: (nothing printed, exit $st)"

echo
echo "demo: 5. Wednesday's sentences arrive with their labels rotated"
drop wednesday.txt
run

echo
echo "demo: 6. nothing new: cron's next night is quiet"
run

echo
echo "demo: where everything went:"
( cd "$HOME_" && ls -l current | sed 's/.* current/current/' &&
	find models holdout data -maxdepth 2 | sort && ls consumed runs.log config )
echo
echo "demo: runs.log, one line a run (decision, holdout accuracy of candidate and current, reason):"
jq -r '[.decision, (.candidate // "-"), (.current // "-"), .reason // ""] | @tsv' "$HOME_/runs.log"
echo
echo "demo: the model card of current: $HOME_/current/card.json; alert state: $OUT/alerts.json"
