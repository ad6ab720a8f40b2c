#!/bin/sh
# sift-retrain: retrain a model home's model on new data, for cron.
#
# The home: current -> models/STAMP, models/, holdout/, incoming/, data/,
# texts/, consumed, runs.log, config (sift-retrain(1)).  A run works in .work/,
# which the next run removes, and changes current by one rename(2).  With
# LORA=r in config, models/STAMP holds a LoRA adapter over the fixed BASE.
set -u
me=sift-retrain
usage="usage: sift-retrain init [-v] -m dir [--holdout file] [--format f] [--task t] [--labels file] home
       sift-retrain run [-v] [--wait seconds] [--epochs n] [--lr x] [--batch n] [--margin x] [--metric m] [--floor x] [--keep n] [--replay fraction] [--seed n] home"
help="
init makes a model home; run (from cron) fine-tunes its current model on
the new files of incoming/ and promotes the candidate when it scores at
least current's less --margin on holdout/, no class collapsing.
Options of run override home/config; see sift-retrain(1).
  -m, --model dir       the base model of the first run
  --holdout file        a holdout file to copy (again for more)
  --format f, --task t  sift-tok's input format and task
  --labels file         the label set of the first run
  --wait seconds        wait for the lock (default 0)
  --epochs n, --lr x, --batch n, --seed n   training (3, 5e-5, 32, 42)
  --margin x            allowed drop of the metric (default 0)
  --metric m            accuracy, f1 or macro_f1 (f1 for ner, else accuracy)
  --floor x             the score the first model must reach (default 0)
  --keep n              models kept besides current's (default 5)
  --replay fraction     share of earlier examples mixed in (default 0)
  -v, --verbose         say what a run did when all is well
With MLM=1 in config, the new texts of incoming/text/ (a text a line)
adapt the encoder by masked-language-model training before the fine-tune.
With LORA=r, each run trains a rank r LoRA adapter over BASE, afresh.
Exit: 0 promoted, 1 failed, 2 misuse, 3 kept, 4 nothing new, 5 busy."
# exit statuses
PROMOTED=0 FAILED=1 MISUSE=2 KEPT=3 NOTHING=4 BUSY=5

misuse() { printf '%s: %s\nTry '\''%s --help'\''.\n' "$me" "$1" "$me" >&2; exit "$MISUSE"; }
say() { printf '%s: %s\n' "$me" "$*" >&2; }
verbose() { [ "$opt_v" = 0 ] || say "$@"; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
isint() { case $1 in '' | *[!0-9]*) return 1 ;; esac; [ ${#1} -le 9 ]; }
isnum() { printf '%s\n' "$1" | grep -Eqx '[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?'; }
ornull() { if [ -f "$1" ]; then echo "$1"; else echo /dev/null; fi; }
needint() { { isint "$2" && [ "$2" -ge "$3" ]; } ||
	misuse "$1: expected an integer from $3 to 999999999, got '$2'"; }
needfrac() { { isnum "$2" && jq -en --argjson x "$2" '$x <= 1' >/dev/null; } ||
	misuse "$1: expected a number from 0 to 1, got '$2'"; }

# options, before or after the command and home
cmd='' home='' opt_v=0 base='' fmt='' task='' labels='' holdout='' o_wait='' o_epochs='' o_lr='' o_batch='' o_margin='' o_metric='' o_floor='' o_keep='' o_replay='' o_seed=''
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) printf '%s\n' "$usage" "$help"; exit 0 ;;
	--version) echo "$me 0.1"; exit 0 ;;
	-v | --verbose) opt_v=1; shift; continue ;;
	-m | --model | --holdout | --format | --task | --labels | --wait | --epochs | --lr | --batch | --margin | --metric | --floor | --keep | --replay | --seed)
		[ $# -ge 2 ] || misuse "option '$1' needs a value" ;;
	-?*) misuse "unknown option '$1'" ;;
	*) if [ -z "$cmd" ]; then cmd=$1; elif [ -z "$home" ]; then home=$1; else misuse "too many arguments"; fi
		shift; continue ;;
	esac
	case $1 in
	-m | --model) base=$2 ;;
	--holdout) holdout="$holdout$2
" ;;
	--format) fmt=$2 ;;
	--task) task=$2 ;;
	--labels) labels=$2 ;;
	--wait) needint "$1" "$2" 0; o_wait=$2 ;;
	--epochs) needint "$1" "$2" 1; o_epochs=$2 ;;
	--lr) isnum "$2" || misuse "$1: expected a number, got '$2'"; o_lr=$2 ;;
	--batch) needint "$1" "$2" 1; o_batch=$2 ;;
	--margin) needfrac "$1" "$2"; o_margin=$2 ;;
	--floor) needfrac "$1" "$2"; o_floor=$2 ;;
	--replay) needfrac "$1" "$2"; o_replay=$2 ;;
	--metric) case $2 in accuracy | f1 | macro_f1) ;; *) misuse "$1: expected accuracy, f1 or macro_f1, got '$2'" ;; esac
		o_metric=$2 ;;
	--keep) needint "$1" "$2" 1; o_keep=$2 ;;
	--seed) needint "$1" "$2" 0; o_seed=$2 ;;
	esac
	shift 2
done
case $cmd in init | run) ;; '') misuse "a command is needed: init or run" ;; *) misuse "unknown command '$cmd'" ;; esac
[ -n "$home" ] || misuse "$cmd: the home directory is needed"

# init: the layout, the base model and the settings; the first run trains
# from the base model
if [ "$cmd" = init ]; then
	[ -n "$base" ] || misuse "init: -m dir is needed"
	[ -f "$base/config.json" ] || { say "$base: not a model directory (no config.json)"; exit "$FAILED"; }
	base=$(cd "$base" && pwd) || exit "$FAILED"
	[ ! -e "$home/config" ] || { say "$home: already a model home"; exit "$FAILED"; }
	mkdir -p "$home/models" "$home/holdout" "$home/incoming" "$home/data" || exit "$FAILED"
	: >>"$home/consumed" && : >>"$home/runs.log" || exit "$FAILED"
	printf '%s' "$holdout" | while IFS= read -r f; do
		cp -- "$f" "$home/holdout/" || exit "$FAILED"
	done || exit "$FAILED"
	if [ -n "$labels" ]; then cp -- "$labels" "$home/labels" || exit "$FAILED"; fi
	{
		echo "# sift-retrain settings (sh): see sift-retrain(1)"
		printf "BASE='%s'\n" "$base"
		[ -z "$fmt" ] || printf "FORMAT='%s'\n" "$fmt"
		[ -z "$task" ] || printf "TASK='%s'\n" "$task"
		[ -z "$labels" ] || echo "LABELS=labels"
	} >"$home/config.tmp" && mv "$home/config.tmp" "$home/config" || exit "$FAILED"
	verbose "$home: initialised from $base"
	exit 0
fi

# run: the settings, then one run under the lock
{ [ -d "$home" ] && cd "$home"; } || { say "$home: no such model home"; exit "$FAILED"; }
home=$(pwd)
BASE='' FORMAT=lines TASK='' LABELS='' EPOCHS=3 LR=5e-5 BATCH=32 MARGIN=0 METRIC='' FLOOR=0 KEEP=5 REPLAY='' SEED=42 WAIT=0 TOK_OPTS='' TRAIN_OPTS=''
MLM=0 MLM_EPOCHS=1 MLM_PROBABILITY=0.15 MLM_OPTS=''
LORA=0 LORA_ALPHA='' LORA_DROPOUT='' LORA_TARGETS=''
if [ -f config ]; then
	# shellcheck source=/dev/null
	. ./config || { say "$home/config: could not be read"; exit "$FAILED"; }
fi
# a config error names the line that set the value (the last one)
cfgat() { # cfgat KEY: config:LINE
	n=$(grep -n "^[[:space:]]*$1=" config 2>/dev/null | tail -n 1 | cut -d : -f 1)
	printf '%s' "$home/config${n:+:$n}"
}
cfgerr() { printf '%s: %s: %s\n' "$me" "$(cfgat "$1")" "$2" >&2; exit "$MISUSE"; }
# adapter mode (LORA=r): an adapter over the fixed BASE, retrained afresh
# on all the data (REPLAY 1 unless set), for an adapter has no warm start
{ isint "$LORA" && [ "$LORA" -le 1048576 ]; } ||
	cfgerr LORA "LORA: expected 0 (whole models) or an adapter rank from 1 to 1048576, got '$LORA'"
if [ "$LORA" = 0 ]; then
	for v in LORA_ALPHA LORA_DROPOUT LORA_TARGETS; do
		eval "[ -z \"\$$v\" ]" || cfgerr "$v" "$v needs LORA, an adapter rank"
	done
else
	[ -z "$LORA_ALPHA" ] || isnum "$LORA_ALPHA" || cfgerr LORA_ALPHA "LORA_ALPHA: expected a number, got '$LORA_ALPHA'"
	[ -z "$LORA_DROPOUT" ] || { isnum "$LORA_DROPOUT" && jq -en --argjson x "$LORA_DROPOUT" '$x < 1' >/dev/null; } ||
		cfgerr LORA_DROPOUT "LORA_DROPOUT: expected a number from 0 to 1, 1 excluded, got '$LORA_DROPOUT'"
	[ -z "$LORA_TARGETS" ] || printf '%s\n' "$LORA_TARGETS" |
		grep -Eqx '(query|key|value|attn-out|intermediate|output)(,(query|key|value|attn-out|intermediate|output))*' ||
		cfgerr LORA_TARGETS "LORA_TARGETS: expected a comma-separated list of query, key, value, attn-out, intermediate and output, got '$LORA_TARGETS'"
	[ -n "$BASE" ] || cfgerr LORA "LORA=$LORA needs BASE, the base model the adapters are for"
	[ "$MLM" != 1 ] ||
		cfgerr MLM "MLM=1 contradicts LORA=$LORA: the mlm stage adapts the base encoder, which adapter mode keeps fixed"
fi
[ -n "$REPLAY" ] || { [ "$LORA" = 0 ] && REPLAY=0 || REPLAY=1; }
epochs=${o_epochs:-$EPOCHS} lr=${o_lr:-$LR} batch=${o_batch:-$BATCH} margin=${o_margin:-$MARGIN}
metric=${o_metric:-$METRIC} floor=${o_floor:-$FLOOR} keep=${o_keep:-$KEEP} replay=${o_replay:-$REPLAY}
seed=${o_seed:-$SEED} wait_s=${o_wait:-$WAIT}
# config values pass the checks of the options
needint EPOCHS "$epochs" 1; needint BATCH "$batch" 1; needint KEEP "$keep" 1; needint SEED "$seed" 0
needint WAIT "$wait_s" 0; needfrac MARGIN "$margin"; needfrac FLOOR "$floor"; needfrac REPLAY "$replay"
isnum "$lr" || misuse "LR: expected a number, got '$lr'"
case $MLM in 0 | 1) ;; *) misuse "MLM: expected 0 or 1, got '$MLM'" ;; esac
needint MLM_EPOCHS "$MLM_EPOCHS" 1
{ isnum "$MLM_PROBABILITY" && jq -en --argjson x "$MLM_PROBABILITY" '$x > 0 and $x < 1' >/dev/null; } ||
	misuse "MLM_PROBABILITY: expected a number between 0 and 1, both excluded, got '$MLM_PROBABILITY'"

t0=$(date +%s) started=$(now) stage=lock stamp='' child='' logged=0 replayed=0 files='[]' cand=null cur=null mlm=null
ts=$t0 stages=''
begin() { # begin STAGE: the seconds of the stage before go into stages
	stages="$stages${stages:+, }\"$stage\": $(($(date +%s) - ts))" ts=$(date +%s) stage=$1
}
stop_at() { # for tests only: SIFT_RETRAIN_STOP_AT=stage kills the run there
	[ "${SIFT_RETRAIN_STOP_AT:-}" != "$1" ] || kill "-${SIFT_RETRAIN_STOP_SIGNAL:-KILL}" $$
}
# one line of runs.log: decision, reason, and what the run knows so far
log() {
	[ "$logged" = 0 ] || return 0
	jq -n -c --arg start "$started" --arg finish "$(now)" --argjson seconds "$(($(date +%s) - t0))" \
		--argjson stages "{$stages${stages:+, }\"$stage\": $(($(date +%s) - ts))}" \
		--arg decision "$1" --arg reason "$2" --arg stamp "$stamp" --argjson files "$files" \
		--arg metric "$metric" --argjson candidate "$cand" --argjson current "$cur" \
		--argjson margin "$margin" --argjson replayed "$replayed" --argjson card "$(cat .work/card.json 2>/dev/null || echo null)" \
		--argjson mlm "$mlm" \
		'{start: $start, "end": $finish, seconds: $seconds, stages: $stages, decision: $decision, reason: $reason,
		  model: (if $stamp == "" then null else $stamp end), files: $files, metric: $metric,
		  replayed: $replayed, candidate: $candidate, current: $current, margin: $margin}
		 + (if $mlm != null then {mlm: $mlm} else {} end)
		 + if $card != null and $decision != "promoted" then {card: $card} else {} end' >>runs.log || return 1
	logged=1
}
cleanup() { rm -rf .work .current.new .consumed.new; }
fail() { # a failed run: the stage's own message went before
	log failed "$1"; cleanup; say "$home: run failed at $stage: $1"; exit "$FAILED"
}
# shellcheck disable=SC2317 # called by the traps
on_signal() {
	trap '' TERM INT
	[ -z "$child" ] || { kill "$child" 2>/dev/null; wait "$child"; }
	log failed "interrupted by SIG$1 during $stage"; cleanup
	say "$home: interrupted by SIG$1 during $stage"
	[ "$1" = TERM ] && exit 143; exit 130
}
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT
# a stage's program, in the background so that a signal reaches the trap
# at once; its status is the program's
step() {
	"$@" &
	child=$!
	stop_at "$stage"
	wait "$child"
	set -- $? "$1"
	child=''
	[ "$2" != tok ] || set -- "$1" sift-tok
	[ "$1" = 0 ] || fail "${ctx:+$ctx: }$2 exited with status $1"
}

# lock: one run at a time; the lock passes to the run's programs, so that
# training a killed run left going is waited for too
exec 9>.lock || exit "$FAILED"
if ! flock -w "$wait_s" 9; then
	log busy "another run holds $home/.lock"
	say "$home: busy: another run holds $home/.lock"; exit "$BUSY"
fi
# what a killed run left: its work, a half-made link, models being removed
cleanup; rm -rf models/.*.del
mkdir .work .work/incoming || fail "cannot create $home/.work"
stop_at lock

# collect: the files of incoming/ not in consumed (name, size, sha256),
# copied, so that a file rewritten during the run is not half read
begin collect
: >.work/new
for f in incoming/*; do
	[ -f "$f" ] || continue
	n=${f#incoming/}
	case $n in *'	'* | *'
'*) say "$f: a tab or newline in the name; skipped"; continue ;; esac
	cp -- "$f" ".work/incoming/$n" || fail "cannot copy $f"
	sz=$(wc -c <".work/incoming/$n") h=$(sha256sum <".work/incoming/$n") h=${h%% *}
	if awk -F '\t' -v n="$n" -v s="$sz" -v h="$h" '$1 == n && $2 == s && $3 == h { f = 1 } END { exit !f }' consumed 2>/dev/null; then
		rm -f ".work/incoming/$n"
	else
		printf '%s\t%s\t%s\n' "$n" "$sz" "$h" >>.work/new
	fi
done
# with MLM=1, the unlabelled texts of incoming/text/ too (a text a line),
# consumed as text/NAME; they wait there until labelled files come
: >.work/newtext
if [ "$MLM" = 1 ] && [ -d incoming/text ]; then
	mkdir .work/incoming/text || fail "cannot create $home/.work/incoming/text"
	for f in incoming/text/*; do
		[ -f "$f" ] || continue
		n=${f#incoming/}
		case $n in *'	'* | *'
'*) say "$f: a tab or newline in the name; skipped"; continue ;; esac
		cp -- "$f" ".work/incoming/$n" || fail "cannot copy $f"
		sz=$(wc -c <".work/incoming/$n") h=$(sha256sum <".work/incoming/$n") h=${h%% *}
		if awk -F '\t' -v n="$n" -v s="$sz" -v h="$h" '$1 == n && $2 == s && $3 == h { f = 1 } END { exit !f }' consumed 2>/dev/null; then
			rm -f ".work/incoming/$n"
		else
			printf '%s\t%s\t%s\n' "$n" "$sz" "$h" >>.work/newtext
		fi
	done
fi
if [ ! -s .work/new ]; then
	log nothing "no new file in incoming/"; cleanup
	verbose "$home: nothing new in incoming/"; exit "$NOTHING"
fi
ls holdout/* >/dev/null 2>&1 || fail "holdout/ is empty"
stop_at collect

# tokenize: the model's labels (current's, or at the first run the label
# file or those of the fresh data and holdout), each file on its own so
# that its examples are counted; the dev set is every 10th example
begin tokenize
# the model trained from (and tokenized with): current, or BASE at the
# first run and in adapter mode; curkind: what current is (model, adapter)
basedir=$BASE
case $basedir in '' | /*) ;; *) basedir=$home/$basedir ;; esac
curkind=
if [ -e current ]; then
	if [ -f current/adapter_config.json ]; then curkind=adapter; else curkind=model; fi
fi
if [ "$curkind" = adapter ] && [ "$LORA" = 0 ]; then
	fail "current is an adapter ($(readlink current)) and LORA is 0: set LORA in config, or roll current back to a model"
fi
if [ "$curkind" = model ] && [ "$LORA" = 0 ]; then model=$home/current; else
	model=$basedir
	[ -n "$model" ] || fail "no current, and no BASE in $home/config"
fi
{ ln -s ../holdout .work/holdout && ln -s ../data .work/data; } || fail "cannot link into .work"
labfile=labels
# shellcheck disable=SC2317 # called by step
tok() { # tok OUT FILE...: examples; run in .work, where incoming/ holds the fresh files
	o=$1; shift; cd .work || exit 1
	# shellcheck disable=SC2086 # TOK_OPTS is a list of options
	exec sift-tok -m "$model" -f "$FORMAT" ${TASK:+--task "$TASK"} ${labfile:+--labels "$labfile"} $TOK_OPTS "$@" >"../$o"
}
id2label='.id2label | to_entries | sort_by(.key | tonumber) | .[].value'
if [ "$curkind" = adapter ]; then
	jq -r '.labels[]' current/sift-adapter.json >.work/labels || fail "current/sift-adapter.json: no labels"
elif [ "$curkind" = model ]; then
	jq -r "$id2label" current/config.json >.work/labels || fail "current/config.json: no id2label"
elif [ -n "$LABELS" ]; then
	cp -- "$LABELS" .work/labels || fail "cannot read $LABELS"
elif jq -e '.id2label and any(.architectures[]?; test("For(Sequence|Token)Classification$"))' \
	"$model/config.json" >/dev/null 2>&1; then
	# a base model with a head: its labels, which sift-train holds it to
	jq -r "$id2label" "$model/config.json" >.work/labels || fail "$model/config.json: no id2label"
else
	set --
	while IFS='	' read -r n sz h; do set -- "$@" "incoming/$n"; done <.work/new
	labfile=
	step tok .work/all.ex "$@" holdout/*
	labfile=labels
	sift-cat .work/all.ex | head -n 1 | jq -r '.labels[]' >.work/labels || fail "no labels in the data"
fi
i=0
while IFS='	' read -r n sz h; do
	i=$((i + 1))
	ctx=incoming/$n
	step tok ".work/$i.ex" "incoming/$n"
	ctx=
	c=$(($(sift-cat ".work/$i.ex" | wc -l) - 1))
	files=$(printf '%s' "$files" | jq -c --arg n "$n" --argjson s "$sz" --arg h "$h" --argjson c "$c" \
		'. + [{name: $n, size: $s, sha256: $h, examples: $c}]')
done <.work/new
sift-cat .work/[0-9]*.ex >.work/fresh.jsonl || fail "sift-cat exited with status $?"
task=$(head -n 1 .work/fresh.jsonl | jq -r .task)
[ -n "$metric" ] || { [ "$task" = ner ] && metric=f1 || metric=accuracy; }
# every 10th text or sentence (the windows of a source line) is dev; ids
# and docs numbered anew, as the files each count from 0
split() { jq -c -n --argjson dev "$1" 'input, (foreach inputs as $e ({n: -1, src: null, i: -1};
	(if $e.src != .src then .n += 1 | .src = $e.src else . end) | .i += 1;
	. as $s | if (.n % 10 == 9) == ($dev == 1)
	then $e | .id = $s.i | if has("doc") then .doc = $s.n else . end else empty end))' .work/fresh.jsonl; }
{ split 0 >.work/train.jsonl && split 1 >.work/dev.jsonl; } || fail "jq could not split the data"
# the replay: --replay of the examples of the files consumed before, seeded
if [ "$replay" != 0 ] && ls data/*/* >/dev/null 2>&1; then
	step tok .work/replay.ex data/*/*
	sift-cat .work/replay.ex | awk -v p="$replay" -v s="$seed" 'BEGIN { srand(s) } NR > 1 && rand() < p' >.work/replay.jsonl
	replayed=$(wc -l <.work/replay.jsonl)
	cat .work/replay.jsonl >>.work/train.jsonl
fi
sift-cat -s .work/train.jsonl >.work/train.ex || fail "sift-cat exited with status $?"
devopt=
if [ "$(wc -l <.work/dev.jsonl)" -gt 1 ]; then
	sift-cat -s .work/dev.jsonl | sift-batch -b "$batch" >.work/dev.batches || fail "could not batch the dev set"
	devopt=--dev
fi
step tok .work/holdout.ex holdout/*
step sift-batch -b "$batch" .work/holdout.ex >.work/holdout.batches
step sift-batch -s --seed "$seed" -e "$epochs" -b "$batch" .work/train.ex >.work/train.batches
# current's adapter predicts the holdout now: an adapter of another base
# than BASE (sift-fwd checks the base hash) fails the run before training
if [ "$curkind" = adapter ]; then
	ctx="$(cfgat BASE): current's adapter over BASE"
	step sift-fwd -m "$basedir" --adapter current .work/holdout.batches >.work/cur.preds
	ctx=
fi

# mlm: with MLM=1 and new texts, masked-language-model training of the
# encoder on them first (the classifier head is dropped: the fine-tune
# starts a new one from the adapted encoder)
ftmodel=$model
if [ -s .work/newtext ]; then
	begin mlm
	set --
	while IFS='	' read -r n sz h; do set -- "$@" ".work/incoming/$n"; done <.work/newtext
	ctx=incoming/text
	step sift-tok -m "$model" --task mlm -f lines "$@" >.work/mlm.ex
	ctx=
	step sift-batch -s --seed "$seed" -e "$MLM_EPOCHS" -b "$batch" --mlm-probability "$MLM_PROBABILITY" \
		.work/mlm.ex >.work/mlm.batches
	# shellcheck disable=SC2086 # MLM_OPTS is a list of options
	step sift-train -m "$model" -o .work/mlm --no-state --task mlm --lr "$lr" --seed "$seed" $MLM_OPTS \
		.work/mlm.batches >.work/mlm.log
	mlm=$(sift-cat .work/mlm.log | jq -s -c --arg texts "$(cut -f 1 .work/newtext)" \
		--argjson examples "$(($(sift-cat .work/mlm.ex | wc -l) - 1))" '
		[.[] | select(.loss)] as $s | {files: ($texts | split("\n")), examples: $examples,
		steps: ($s | length), loss: ($s | last | .loss)}') || fail "cannot read the mlm log"
	ftmodel=$home/.work/mlm
fi

# train: warm-started from current (from the base model at the first run),
# or from the encoder the mlm step adapted; in adapter mode an adapter
# over BASE, from nothing
begin train
set --
[ "$LORA" = 0 ] || set -- --lora "$LORA" ${LORA_ALPHA:+--lora-alpha "$LORA_ALPHA"} \
	${LORA_DROPOUT:+--lora-dropout "$LORA_DROPOUT"} ${LORA_TARGETS:+--lora-targets "$LORA_TARGETS"}
# shellcheck disable=SC2086 # TRAIN_OPTS is a list of options
step sift-train -m "$ftmodel" -o .work/model --no-state --lr "$lr" --seed "$seed" ${devopt:+--dev .work/dev.batches} \
	--metric "$metric" "$@" $TRAIN_OPTS .work/train.batches >.work/train.log

# score: candidate and current on holdout/, by sift-fwd | sift-eval
begin score
score() { # score NAME SIFT-FWD-OPTION...: the metrics record as JSON, in .work/NAME.json
	n=$1; shift
	[ -f ".work/$n.preds" ] || step sift-fwd "$@" .work/holdout.batches >".work/$n.preds"
	step sift-eval ".work/$n.preds" >".work/$n.metrics"
	sift-cat ".work/$n.metrics" | tail -n 1 >".work/$n.json" || fail "sift-cat exited with status $?"
}
# shellcheck disable=SC2016 # $m is jq's
pick='if $m == "f1" then .overall.f1 elif $m == "macro_f1" then .macro.f1
	elif .task == "ner" then .overall.accuracy else .accuracy end'
if [ "$LORA" = 0 ]; then score cand -m .work/model; else score cand -m "$basedir" --adapter .work/model; fi
cand=$(jq --arg m "$metric" "$pick" .work/cand.json)
if [ -n "$curkind" ]; then
	score cur -m current	# an adapter's predictions were made at tokenize
	cur=$(jq --arg m "$metric" "$pick" .work/cur.json)
	# a class (cls) or entity type (ner) of holdout that current finds and
	# the candidate never does
	collapsed=$(jq -r -n --slurpfile k .work/cur.json --slurpfile c .work/cand.json '
		$k[0] as $k | $c[0] as $c | if $k.task == "ner"
		then $k.types | to_entries[] | select(.value.phrases_gold > 0 and .value.f1 > 0 and ($c.types[.key].f1 // 0) == 0) | "type \(.key)"
		else $k.classes | to_entries[] | select(.value.support > 0 and .value.recall > 0 and ($c.classes[.key].recall // 0) == 0) | "class \(.key)"
		end' | head -n 1)
	if [ -n "$collapsed" ]; then
		decision=kept reason="$collapsed collapses: the candidate never finds it on holdout, current does"
	elif jq -en --argjson c "$cand" --argjson k "$cur" --argjson m "$margin" '$c >= $k - $m' >/dev/null; then
		decision=promoted reason="$metric $cand >= current $cur - margin $margin"
	else
		decision=kept reason="$metric $cand < current $cur - margin $margin"
	fi
elif jq -en --argjson c "$cand" --argjson f "$floor" '$c >= $f' >/dev/null; then
	decision=promoted reason="first model: $metric $cand >= floor $floor"
else
	decision=kept reason="first model: $metric $cand < floor $floor"
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
k=0 s=$stamp
while [ -e "models/$stamp" ] || [ -e "data/$stamp" ]; do k=$((k + 1)) stamp=$s-$k; done
if [ "$LORA" = 0 ]; then from=$(readlink current 2>/dev/null) || from=$model; else from=$basedir; fi
lora=null
[ "$LORA" = 0 ] || lora=$(jq -n -c --argjson r "$LORA" --arg a "$LORA_ALPHA" --arg p "$LORA_DROPOUT" --arg t "$LORA_TARGETS" \
	--arg base "$basedir" --slurpfile s .work/model/sift-adapter.json \
	'{r: $r, alpha: ($a | if . == "" then null else tonumber end), dropout: ($p | if . == "" then null else tonumber end),
	  targets: $s[0].targets, base: $base, base_hash: $s[0].base_hash}') || fail "cannot read .work/model/sift-adapter.json"
jq -n --arg stamp "$stamp" --arg date "$(now)" --arg from "$from" --arg version "$(sift-train --version)" \
	--argjson files "$files" --arg metric "$metric" --argjson margin "$margin" --argjson candidate "$cand" \
	--argjson current "$cur" --arg decision "$decision" --arg reason "$reason" --argjson mlm "$mlm" --argjson lora "$lora" \
	--argjson options "{\"epochs\": $epochs, \"lr\": $lr, \"batch\": $batch, \"replay\": $replay, \"seed\": $seed, \"dev\": \"${devopt:+every 10th fresh example}\"}" \
	--slurpfile run "$(ornull .work/model/sift-train.json)" \
	--slurpfile cj .work/cand.json --slurpfile kj "$(ornull .work/cur.json)" \
	'{model: $stamp, date: $date, from: $from, sift: $version, files: $files, options: $options,
	  holdout: {metric: $metric, margin: $margin, candidate: $candidate, current: $current,
	            candidate_metrics: $cj[0], current_metrics: $kj[0]},
	  decision: $decision, reason: $reason, sift_train: $run[0]}
	 + (if $mlm != null then {mlm: $mlm} else {} end)
	 + if $lora != null then {adapter: $lora} else {} end' >.work/card.json || fail "cannot write the card"

# promote: the candidate, card and all (an adapter with its link base to
# BASE, for the readers of current), into models/, then current switched by
# one rename(2); a refused candidate is removed, its card kept in runs.log
begin promote
if [ "$decision" = promoted ]; then
	{ cp .work/card.json .work/model/card.json && { [ "$LORA" = 0 ] || ln -s "$basedir" .work/model/base; } &&
		mv .work/model "models/$stamp" &&
		ln -s "models/$stamp" .current.new && mv -T .current.new current; } || fail "cannot promote models/$stamp"
	sync . 2>/dev/null || sync
fi
stop_at promote

# retain: the last --keep models and current's, without their train state
begin retain
target=$(readlink current 2>/dev/null) || target=
for m in models/[0-9]*; do [ ! -d "$m" ] || echo "$m"; done | sort -r | awk -v k="$keep" -v t="$target" 'NR > k && $0 != t' |
	while IFS= read -r m; do
		mv "$m" "models/.${m#models/}.del" && rm -rf "models/.${m#models/}.del"
	done
rm -f models/*/train_state.bin
stop_at retain

# log, then the fresh files consumed (kept in data/STAMP for --replay)
begin log
log "$decision" "$reason" || fail "cannot write runs.log"
stop_at log
if [ -s .work/newtext ]; then
	{ mkdir -p "texts/$stamp" && mv .work/incoming/text/* "texts/$stamp/"; } || fail "cannot archive the fresh texts"
fi
rm -rf .work/incoming/text
{ mkdir -p "data/$stamp" && mv .work/incoming/* "data/$stamp/"; } || fail "cannot archive the fresh files"
{ { cat consumed 2>/dev/null; sed "s/\$/	$stamp/" .work/new .work/newtext; } >.consumed.new && mv .consumed.new consumed; } ||
	fail "cannot write consumed"
cleanup
if [ "$decision" = promoted ]; then
	verbose "$home: promoted models/$stamp: $reason"; exit "$PROMOTED"
fi
say "$home: kept current: $reason"
exit "$KEPT"
