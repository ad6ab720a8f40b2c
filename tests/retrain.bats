#!/usr/bin/env bats
# retrain.bats: sift-retrain's runs on a model home, with the small random
# sequence classifier of the fixtures and made-up texts whose class is in
# their words, so that a run trains in a second.

load helper

SEQ=$BATS_TEST_DIRNAME/fixtures/train/seq
MAN1=$BATS_TEST_DIRNAME/../man/man1/sift-retrain.1

# gen SEED N [bad]: N rows 'label<TAB>text'; a class's words are mostly
# from its own range of the vocabulary; bad labels every row negative
gen() {
	awk -v s="$1" -v n="$2" -v bad="${3:-}" 'BEGIN {
		srand(s); split("negative neutral positive", L, " ")
		for (i = 0; i < n; i++) {
			c = int(rand() * 3); t = ""
			for (j = 0; j < 6; j++) {
				w = rand() < 0.7 ? 5 + c * 100 + int(rand() * 50) : 400 + int(rand() * 90)
				t = t (j ? " " : "") "w" w
			}
			print (bad ? "negative" : L[c + 1]) "\t" t
		}
	}'
}

# a home whose current is the seed model barely trained (a weak model),
# made once and copied for every test
setup_file() {
	T=$BATS_FILE_TMPDIR/template
	gen 2 60 >"$BATS_FILE_TMPDIR/holdout.tsv"
	sift-retrain init "$T" -m "$SEQ" --holdout "$BATS_FILE_TMPDIR/holdout.tsv" --format tsv
	printf 'EPOCHS=10\nLR=3e-3\nBATCH=8\n' >>"$T/config"
	gen 3 6 >"$T/incoming/weak.tsv"
	sift-retrain run "$T" --epochs 1 --lr 1e-5
	# the same in adapter mode: current a weak rank 4 adapter over SEQ
	A=$BATS_FILE_TMPDIR/atemplate
	sift-retrain init "$A" -m "$SEQ" --holdout "$BATS_FILE_TMPDIR/holdout.tsv" --format tsv
	printf 'EPOCHS=10\nLR=3e-3\nBATCH=8\nLORA=4\nLORA_ALPHA=16\n' >>"$A/config"
	gen 3 6 >"$A/incoming/weak.tsv"
	sift-retrain run "$A" --epochs 1 --lr 1e-5
}

setup() {
	H=$BATS_TEST_TMPDIR/home
	cp -a "$BATS_FILE_TMPDIR/template" "$H"
}

# current names a model directory that sift-fwd loads, or an adapter
# that it loads over the base its link base names
current_loads() {
	case $(readlink "$H/current") in models/*) ;; *) fail "current -> $(readlink "$H/current")" ;; esac
	if [ -f "$H/current/adapter_config.json" ]; then
		sift-tok -m "$H/current/base" -f tsv --labels <(jq -r '.labels[]' "$H/current/sift-adapter.json") "$H/holdout/holdout.tsv" |
			sift-batch | sift-fwd -m "$H/current/base" --adapter "$H/current" >/dev/null || fail "sift-fwd cannot use current's adapter"
		return
	fi
	sift-tok -m "$H/current" -f tsv --labels <(jq -r '.id2label[]' "$H/current/config.json") "$H/holdout/holdout.tsv" |
		sift-batch | sift-fwd -m "$H/current" >/dev/null || fail "sift-fwd cannot use current"
}

@test "init makes the layout and a config, and refuses a home that has one" {
	d=$BATS_TEST_TMPDIR/new
	run -0 --separate-stderr sift-retrain init "$d" -m "$SEQ" --format tsv --holdout "$BATS_FILE_TMPDIR/holdout.tsv"
	assert_output ""
	for p in models holdout incoming data; do [ -d "$d/$p" ] || fail "no $p/"; done
	[ -f "$d/consumed" ] && [ -f "$d/runs.log" ] && [ -f "$d/holdout/holdout.tsv" ] && [ ! -e "$d/current" ]
	grep -qx "FORMAT='tsv'" "$d/config"
	run -1 --separate-stderr sift-retrain init "$d" -m "$SEQ"
	assert_equal "$stderr" "sift-retrain: $d: already a model home"
}

@test "misuse exits 2 with one line and the hint" {
	run -2 --separate-stderr sift-retrain run --bogus "$H"
	assert_equal "$stderr" "sift-retrain: unknown option '--bogus'
Try 'sift-retrain --help'."
	run -2 --separate-stderr sift-retrain run "$H" --keep 0
	assert_equal "$stderr" "sift-retrain: --keep: expected an integer from 1 to 999999999, got '0'
Try 'sift-retrain --help'."
	run -2 --separate-stderr sift-retrain fly "$H"
	assert_equal "$stderr" "sift-retrain: unknown command 'fly'
Try 'sift-retrain --help'."
	run -2 --separate-stderr sift-retrain run "$H" --wait
	assert_equal "$stderr" "sift-retrain: option '--wait' needs a value
Try 'sift-retrain --help'."
	echo 'MARGIN=lots' >>"$H/config"
	run -2 --separate-stderr sift-retrain run "$H"
	assert_equal "$stderr" "sift-retrain: MARGIN: expected a number from 0 to 1, got 'lots'
Try 'sift-retrain --help'."
}

@test "the first run trains from the base model and promotes it, quietly" {
	current_loads
	stamp=$(jq -r 'select(.decision == "promoted") | .model' "$H/runs.log")
	assert_equal "$(readlink "$H/current")" "models/$stamp"
	run jq -r '.reason' "$H/runs.log"
	assert_output --regexp '^first model: accuracy [0-9.e-]+ >= floor 0$'
	[ -f "$H/current/card.json" ] && [ ! -e "$H/current/train_state.bin" ]
	assert_equal "$(jq -r '.stages | keys_unsorted | join(" ")' "$H/runs.log")" "lock collect tokenize train score promote retain log"
	assert_equal "$(jq -r '.decision, .files[0].name, .from' "$H/current/card.json")" "promoted
weak.tsv
$SEQ"
	assert_equal "$(cut -f 1,4 "$H/consumed")" "weak.tsv	$stamp"
	[ -f "$H/data/$stamp/weak.tsv" ]
	[ ! -e "$H/.work" ]
}

@test "a first model under --floor is not promoted" {
	d=$BATS_TEST_TMPDIR/new
	sift-retrain init "$d" -m "$SEQ" --format tsv --holdout "$BATS_FILE_TMPDIR/holdout.tsv"
	gen 3 6 >"$d/incoming/weak.tsv"
	run -3 --separate-stderr sift-retrain run "$d" --floor 1 --epochs 1
	assert_output ""
	assert_regex "$stderr" "^sift-retrain: $d: kept current: first model: accuracy [0-9.e-]+ < floor 1$"
	[ ! -e "$d/current" ]
	assert_equal "$(ls "$d/models")" ""
}

@test "nothing new exits 4 quietly, logs it, and makes no model" {
	run -4 --separate-stderr sift-retrain run "$H"
	assert_output ""
	assert_equal "$stderr" ""
	assert_equal "$(ls "$H/models" | wc -l)" 1
	assert_equal "$(tail -n 1 "$H/runs.log" | jq -r .decision)" nothing
	run -4 --separate-stderr sift-retrain run -v "$H"
	assert_equal "$stderr" "sift-retrain: $H: nothing new in incoming/"
}

@test "a better model is promoted over a weak current" {
	old=$(readlink "$H/current")
	gen 4 90 >"$H/incoming/good.tsv"
	run -0 --separate-stderr sift-retrain run "$H"
	assert_output ""
	assert_equal "$stderr" ""
	new=$(readlink "$H/current")
	[ "$new" != "$old" ]
	current_loads
	run jq -r 'select(.files[0].name == "good.tsv") | [.decision, .candidate >= .current] | @tsv' "$H/runs.log"
	assert_output "promoted	true"
	assert_equal "$(jq -r '.holdout.current' "$H/$new/card.json")" "$(jq -r '.holdout.candidate' "$H/$old/card.json")"
}

@test "a worse model is refused: exit 3, one line, current unchanged, runs.log says why" {
	gen 4 90 >"$H/incoming/good.tsv"
	sift-retrain run "$H"
	good=$(readlink "$H/current")
	gen 5 90 bad >"$H/incoming/bad.tsv"
	run -3 --separate-stderr sift-retrain run "$H"
	assert_output ""
	assert_regex "$stderr" "^sift-retrain: $H: kept current: class (neutral|positive) collapses: the candidate never finds it on holdout, current does$"
	assert_equal "$(readlink "$H/current")" "$good"
	assert_equal "$(ls "$H/models" | wc -l)" 2
	run jq -r 'select(.files[0].name == "bad.tsv") | .decision, .reason, .card.decision' "$H/runs.log"
	assert_line -n 0 kept
	assert_line -n 1 --regexp '^class (neutral|positive) collapses'
	assert_line -n 2 kept
	# refused data is consumed all the same
	grep -q '^bad.tsv	' "$H/consumed"
}

# genner SEED N [bad]: N CoNLL sentences of 6 words, PER and LOC words from
# their own ranges; bad tags every LOC word O
genner() {
	awk -v s="$1" -v n="$2" -v bad="${3:-}" 'BEGIN {
		srand(s)
		for (i = 0; i < n; i++) {
			for (j = 0; j < 6; j++) {
				r = rand()
				if (r < 0.25) { w = 5 + int(rand() * 40); t = "B-PER" }
				else if (r < 0.5) { w = 100 + int(rand() * 40); t = bad ? "O" : "B-LOC" }
				else { w = 300 + int(rand() * 150); t = "O" }
				print "w" w " " t
			}
			print ""
		}
	}'
}

@test "a ner candidate that never finds an entity type is refused, f1 the metric" {
	d=$BATS_TEST_TMPDIR/ner
	genner 2 40 >"$BATS_TEST_TMPDIR/holdout.conll"
	sift-retrain init "$d" -m "$FIXTURES/train/tok" --format conll --holdout "$BATS_TEST_TMPDIR/holdout.conll"
	genner 3 60 >"$d/incoming/a.conll"
	run -0 sift-retrain run "$d" --epochs 10 --lr 3e-3 --batch 8
	cur=$(readlink "$d/current")
	genner 5 60 bad >"$d/incoming/b.conll"
	run -3 --separate-stderr sift-retrain run "$d" --epochs 10 --lr 3e-3 --batch 8 --margin 1
	assert_equal "$stderr" "sift-retrain: $d: kept current: type LOC collapses: the candidate never finds it on holdout, current does"
	assert_equal "$(readlink "$d/current")" "$cur"
	assert_equal "$(jq -r .metric "$d/runs.log" | sort -u)" f1
}

@test "a candidate that scores as current does is promoted under margin 0" {
	gen 4 90 >"$H/incoming/good.tsv"
	sift-retrain run "$H"
	gen 7 12 >"$H/incoming/more.tsv"
	# a learning rate of 0 leaves the head as current has it: the same score
	run -0 sift-retrain run "$H" --lr 0 --margin 0
	run jq -r 'select(.files[0].name == "more.tsv") | .reason' "$H/runs.log"
	assert_output --regexp '^accuracy [0-9.e-]+ >= current [0-9.e-]+ - margin 0$'
}

@test "a bad incoming file fails the run naming file and line, and is not consumed" {
	cur=$(readlink "$H/current")
	printf 'positive\tw5 w6\nangry\tw7 w8\n' >"$H/incoming/bad.tsv"
	run -1 --separate-stderr sift-retrain run "$H"
	assert_output ""
	assert_equal "$stderr" "sift-tok: incoming/bad.tsv:2: label 'angry' not in --labels
sift-retrain: $H: run failed at tokenize: incoming/bad.tsv: sift-tok exited with status 1"
	assert_equal "$(readlink "$H/current")" "$cur"
	run ! grep -q '^bad.tsv' "$H/consumed"
	assert_equal "$(tail -n 1 "$H/runs.log" | jq -r '.decision, .reason')" "failed
incoming/bad.tsv: sift-tok exited with status 1"
	[ ! -e "$H/.work" ]
	# fixed, it is used by the next run
	printf 'positive\tw205 w206\nnegative\tw7 w8\n' >"$H/incoming/bad.tsv"
	run sift-retrain run "$H"
	[ "$status" = 0 ] || [ "$status" = 3 ]
	grep -q '^bad.tsv	' "$H/consumed"
}

@test "consumed files are never read twice; a file re-dropped with new content is new" {
	gen 8 12 >"$H/incoming/a.tsv"
	run -0 sift-retrain run "$H" --lr 0 --epochs 1
	run -4 sift-retrain run "$H"
	gen 9 12 >"$H/incoming/a.tsv"
	gen 10 12 >"$H/incoming/b.tsv"
	run -0 sift-retrain run "$H" --lr 0 --epochs 1
	run jq -c '[.files[].name]' "$H/runs.log"
	assert_output '["weak.tsv"]
["a.tsv"]
[]
["a.tsv","b.tsv"]'
	assert_equal "$(cut -f 1 "$H/consumed" | sort | uniq -c | awk '{ print $1 $2 }' | tr '\n' ' ')" "2a.tsv 1b.tsv 1weak.tsv "
}

@test "--replay mixes in the examples of the files consumed before" {
	gen 8 20 >"$H/incoming/a.tsv"
	run -0 sift-retrain run "$H" --lr 0 --epochs 1 --replay 1
	assert_equal "$(tail -n 1 "$H/runs.log" | jq .replayed)" 6
	gen 9 10 >"$H/incoming/b.tsv"
	run -0 sift-retrain run "$H" --lr 0 --epochs 1 --replay 0
	assert_equal "$(tail -n 1 "$H/runs.log" | jq .replayed)" 0
}

@test "retention keeps the last --keep models and current's, with no train state" {
	for i in 1 2 3 4; do
		gen "1$i" 12 >"$H/incoming/f$i.tsv"
		run sift-retrain run "$H" --lr 0 --epochs 1 --keep 2
		[ "$status" = 0 ] || fail "run $i: $status"
	done
	assert_equal "$(ls "$H/models" | wc -l)" 2
	assert_equal "$(ls "$H/models" | tail -n 1)" "$(readlink "$H/current" | sed 's|models/||')"
	assert_equal "$(find "$H/models" -name train_state.bin)" ""
	assert_equal "$(find "$H/models" -name '.*')" ""
	# current is kept even when it is not among the newest
	gen 20 12 bad >"$H/incoming/bad.tsv"
	cur=$(readlink "$H/current")
	run -3 sift-retrain run "$H" --keep 1
	assert_equal "$(ls "$H/models")" "${cur#models/}"
}

@test "an overlapping run exits 5 with one line, a waiting one goes on" {
	gen 8 12 >"$H/incoming/a.tsv"
	run -5 --separate-stderr flock "$H/.lock" sift-retrain run "$H" --wait 0
	assert_output ""
	assert_equal "$stderr" "sift-retrain: $H: busy: another run holds $H/.lock"
	assert_equal "$(tail -n 1 "$H/runs.log" | jq -r .decision)" busy
	run ! grep -q '^a.tsv' "$H/consumed"
	flock "$H/.lock" sleep 1 &
	run sift-retrain run "$H" --wait 60 --lr 0 --epochs 1
	wait
	assert_success
	grep -q '^a.tsv' "$H/consumed"
}

# (a run with --lr 0 makes a candidate that scores as current does, so it
# is promoted under margin 0: for tests of what happens around the gate)

# kill_at SIGNAL STAGE: a run that gets the signal at the stage, then the
# checks: current loads, nothing half made, the next run completes
# (TEMPLATE=atemplate for adapter mode, NEXT_OPTS extra options of the run after)
kill_at() {
	rm -rf "$H"
	cp -a "$BATS_FILE_TMPDIR/${TEMPLATE:-template}" "$H"
	gen 8 12 >"$H/incoming/a.tsv"
	run env SIFT_RETRAIN_STOP_AT="$2" SIFT_RETRAIN_STOP_SIGNAL="$1" sift-retrain run "$H" --epochs 1
	case $1 in KILL) [ "$status" = 137 ] ;; TERM) [ "$status" = 143 ] ;; esac ||
		fail "$1 at $2: status $status"
	current_loads
	if [ "$1" = TERM ]; then
		[ ! -e "$H/.work" ] || fail "TERM at $2 left .work"
		[ "$2" = log ] || assert_equal "$(tail -n 1 "$H/runs.log" | jq -r .reason)" "interrupted by SIGTERM during $2"
	fi
	run ! grep -q '^a.tsv' "$H/consumed"
	# a training left going by kill -9 holds the lock until it ends
	run sift-retrain run "$H" --wait 120 --lr 0 --epochs 1 ${NEXT_OPTS:-}
	[ "$status" = 0 ] || fail "the run after $1 at $2: status $status: $output"
	current_loads
	grep -q '^a.tsv' "$H/consumed"
	assert_equal "$(find "$H" -name '.work' -o -name '.current.new' -o -name '.*.del' -o -name '*sift-tmp*')" ""
}

@test "kill -9 at every stage leaves current loadable and the next run completes" {
	for s in lock collect tokenize train score promote retain log; do kill_at KILL "$s"; done
}

@test "SIGTERM at every stage stops the run, exits 143, leaves no work behind" {
	for s in lock collect tokenize train score promote retain log; do kill_at TERM "$s"; done
}

@test "SIGTERM during training stops sift-train before the run exits" {
	# a sift-train that would train for a minute; the run's programs hold
	# its lock, so a free lock says that it is gone
	mkdir "$BATS_TEST_TMPDIR/bin"
	printf '#!/bin/sh\nexec sleep 60 2>/dev/null\n' >"$BATS_TEST_TMPDIR/bin/sift-train"
	chmod +x "$BATS_TEST_TMPDIR/bin/sift-train"
	gen 8 12 >"$H/incoming/a.tsv"
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" SIFT_RETRAIN_STOP_AT=train SIFT_RETRAIN_STOP_SIGNAL=TERM \
		sift-retrain run "$H"
	[ "$status" = 143 ]
	assert_output "sift-retrain: $H: interrupted by SIGTERM during train"
	flock -n "$H/.lock" true || fail "sift-train goes on after the run"
	[ ! -e "$H/.work" ]
}

@test "the crontab line of the man page is a cron entry whose command runs" {
	line=$(grep -E '^[0-9*]+ [0-9*]+ [0-9*]+ [0-9*]+ [0-9*]+ sift-retrain run ' "$MAN1")
	# five time fields, then a command with no % (cron's newline)
	run awk '{ for (i = 1; i <= 5; i++) if ($i !~ /^([0-9]+|\*)$/) exit 1 }' <<<"$line"
	assert_success
	cmd=$(cut -d ' ' -f 6- <<<"$line")
	[[ $cmd != *%* ]]
	command -v logger >/dev/null || skip "no logger(1)"
	run sh -c "${cmd//\/srv\/sift\/news/$H}"
	assert_success
	assert_equal "$(tail -n 1 "$H/runs.log" | jq -r .decision)" nothing
}

@test "the roll-back of the man page switches current back" {
	gen 4 90 >"$H/incoming/good.tsv"
	old=$(readlink "$H/current")
	sift-retrain run "$H"
	[ "$(readlink "$H/current")" != "$old" ]
	cmd=$(sed -n '/^Roll back/,/^\.Ed/p' "$MAN1" | sed -n '/^cd /,/^\.Ed/p' | sed '$d' | sed 's/\\e$/\\/')
	cmd=${cmd//\/srv\/sift\/news/$H}
	cmd=${cmd//models\/20261202T021700Z/$old}
	run sh -c "$cmd"
	assert_success
	assert_equal "$(readlink "$H/current")" "$old"
	current_loads
}

# gen_text SEED N: N unlabelled texts of the generator's words, a text a line
gen_text() {
	gen "$1" "$2" | cut -f 2
}

@test "with MLM=1 the new texts of incoming/text/ adapt the encoder first, and the fine-tune starts from it" {
	printf 'MLM=1\nMLM_EPOCHS=2\n' >>"$H/config"
	mkdir "$H/incoming/text"
	gen_text 5 40 >"$H/incoming/text/news.txt"
	gen 4 30 >"$H/incoming/more.tsv"
	run --separate-stderr sift-retrain run "$H"
	[ "$status" = 0 ] || [ "$status" = 3 ] || fail "exit $status: $stderr"
	# the stage ran between tokenize and train, and the log says on what
	assert_equal "$(tail -n 1 "$H/runs.log" | jq -r '.stages | keys_unsorted | join(" ")')" \
		"lock collect tokenize mlm train score promote retain log"
	run jq -c '.mlm | [.files, .examples, .steps > 0, (.loss | isfinite)]' <(tail -n 1 "$H/runs.log")
	assert_output '[["text/news.txt"],40,true,true]'
	stamp=$(tail -n 1 "$H/runs.log" | jq -r .model)
	# the candidate was fine-tuned from the mlm checkpoint (its card is
	# current's if promoted, in runs.log if kept)
	from=$( { tail -n 1 "$H/runs.log" | jq -r '.card.sift_train.model.path // empty'
		jq -r '.sift_train.model.path' "$H/current/card.json"; } | head -n 1)
	assert_equal "$from" "$H/.work/mlm"
	# consumed as text/NAME, archived in texts/STAMP, not among data/ for --replay
	assert_equal "$(cut -f 1,4 "$H/consumed" | tail -n 2 | sort)" "more.tsv	$stamp
text/news.txt	$stamp"
	[ -f "$H/texts/$stamp/news.txt" ] && [ ! -e "$H/data/$stamp/text" ]
	[ ! -e "$H/.work" ]
}

@test "without MLM=1 the texts of incoming/text/ wait, and texts alone are nothing new" {
	mkdir "$H/incoming/text"
	gen_text 5 10 >"$H/incoming/text/news.txt"
	run -4 --separate-stderr sift-retrain run "$H"
	printf 'MLM=1\n' >>"$H/config"
	run -4 --separate-stderr sift-retrain run "$H"
	run ! grep -q '^text/' "$H/consumed"
	gen 4 12 >"$H/incoming/more.tsv"
	sed -i '/^MLM=1$/d' "$H/config"
	run --separate-stderr sift-retrain run "$H"
	[ "$status" = 0 ] || [ "$status" = 3 ]
	assert_equal "$(tail -n 1 "$H/runs.log" | jq -r 'has("mlm"), (.stages | has("mlm"))')" "false
false"
	run ! grep -q '^text/' "$H/consumed"
}

@test "a failed MLM step fails the run: nothing promoted, nothing consumed" {
	cur=$(readlink "$H/current")
	printf "MLM=1\nMLM_OPTS='--max-steps 0'\n" >>"$H/config"
	mkdir "$H/incoming/text"
	gen_text 5 20 >"$H/incoming/text/news.txt"
	gen 4 30 >"$H/incoming/more.tsv"
	run -1 --separate-stderr sift-retrain run "$H"
	assert_equal "${stderr_lines[${#stderr_lines[@]} - 1]}" "sift-retrain: $H: run failed at mlm: sift-train exited with status 2"
	assert_equal "$(readlink "$H/current")" "$cur"
	assert_equal "$(tail -n 1 "$H/runs.log" | jq -r '.decision, .reason')" "failed
sift-train exited with status 2"
	run ! grep -q 'more.tsv\|text/' "$H/consumed"
	[ -f "$H/incoming/text/news.txt" ] && [ ! -e "$H/.work" ]
}

# adapter mode (LORA=r): the home of atemplate, whose current is a weak
# rank 4 adapter over SEQ
adapter_home() {
	rm -rf "$H"
	cp -a "$BATS_FILE_TMPDIR/atemplate" "$H"
}

# holdout_batches FILE: the holdout as the runs batch it
holdout_batches() {
	sift-tok -m "$SEQ" -f tsv --labels <(jq -r '.labels[]' "$H/current/sift-adapter.json") "$H/holdout/holdout.tsv" |
		sift-batch -b 8 >"$1"
}

@test "in adapter mode a run promotes an adapter of a few kB with a link to BASE, not a model" {
	adapter_home
	current_loads
	stamp=$(jq -r 'select(.decision == "promoted") | .model' "$H/runs.log")
	assert_equal "$(readlink "$H/current")" "models/$stamp"
	[ -f "$H/current/adapter_model.safetensors" ] && [ -f "$H/current/sift-adapter.json" ] && [ -f "$H/current/card.json" ]
	[ ! -e "$H/current/model.safetensors" ] && [ ! -e "$H/current/train_state.bin" ]
	assert_equal "$(readlink "$H/current/base")" "$SEQ"
	assert_equal "$(jq -r '.from, .adapter.r, .adapter.alpha, .adapter.targets, .adapter.base' "$H/current/card.json")" "$SEQ
4
16
query,value
$SEQ"
	assert_equal "$(jq -r .adapter.base_hash "$H/current/card.json")" "$(jq -r .base_hash "$H/current/sift-adapter.json")"
	# the adapter's safetensors against the full home's whole model
	a=$(stat -c %s "$H/current/adapter_model.safetensors")
	m=$(stat -c %s "$BATS_FILE_TMPDIR/template/current/model.safetensors")
	[ "$a" -lt 10000 ] && [ $((a * 10)) -lt "$m" ] || fail "adapter $a bytes, model $m"
}

@test "the promoted adapter is scored and read as base + adapter: the gate's score and sift-monitor are sift-fwd --adapter's" {
	# a first run on 90 examples, for an adapter that moves predictions
	sift-retrain init "$H.new" -m "$SEQ" --holdout "$BATS_FILE_TMPDIR/holdout.tsv" --format tsv
	rm -rf "$H" && mv "$H.new" "$H"
	printf 'EPOCHS=10\nLR=3e-3\nBATCH=8\nLORA=4\nLORA_ALPHA=16\n' >>"$H/config"
	gen 4 90 >"$H/incoming/good.tsv"
	run -0 --separate-stderr sift-retrain run "$H"
	new=$(readlink "$H/current")
	holdout_batches "$BATS_TEST_TMPDIR/ho.batches"
	# the candidate's holdout score in the card is sift-fwd --adapter's of current
	acc=$(sift-fwd -m "$SEQ" --adapter "$H/$new" "$BATS_TEST_TMPDIR/ho.batches" | sift-eval | sift-cat | tail -n 1 | jq .accuracy)
	assert_equal "$(jq .holdout.candidate "$H/current/card.json")" "$acc"
	# sift-monitor on current reports what the base + adapter pipeline does,
	# which is not what the base alone does
	cut -f 2 "$H/holdout/holdout.tsv" | jq -R -c '{text: ., time: "2026-12-01T08:00:00Z"}' >"$BATS_TEST_TMPDIR/news.jsonl"
	run -0 --separate-stderr sift-monitor -m "$H/current" -n 1 -a 'positive>0.99' -F json --table -v "$BATS_TEST_TMPDIR/news.jsonl"
	assert_equal "$stderr" "sift-monitor: model $SEQ, adapter $H/$new"
	mon=$output
	pipe() { sift-tok -m "$SEQ" -f jsonl --task cls "$BATS_TEST_TMPDIR/news.jsonl" | sift-batch -b 32 | sift-fwd -m "$SEQ" "$@" |
		sift-report --min-count 1 --top 3 -F json --window 1h --alert 'positive>0.99'; }
	assert_equal "$mon" "$(pipe --adapter "$H/$new")"
	[ "$mon" != "$(pipe)" ] || fail "the base alone reports as the adapter does"
}

@test "in adapter mode a failing gate keeps the old adapter; the run trained on all the data" {
	adapter_home
	cur=$(readlink "$H/current")
	gen 5 90 bad >"$H/incoming/bad.tsv"
	run -3 --separate-stderr sift-retrain run "$H"
	assert_regex "$stderr" "^sift-retrain: $H: kept current: class (neutral|positive) collapses: the candidate never finds it on holdout, current does$"
	assert_equal "$(readlink "$H/current")" "$cur"
	current_loads
	assert_equal "$(ls "$H/models")" "${cur#models/}"
	# current was scored as SEQ + its adapter
	holdout_batches "$BATS_TEST_TMPDIR/ho.batches"
	acc=$(sift-fwd -m "$SEQ" --adapter "$H/$cur" "$BATS_TEST_TMPDIR/ho.batches" | sift-eval | sift-cat | tail -n 1 | jq .accuracy)
	assert_equal "$(tail -n 1 "$H/runs.log" | jq .current)" "$acc"
	# REPLAY is 1 in adapter mode: the 6 examples of the first run too
	assert_equal "$(tail -n 1 "$H/runs.log" | jq -r '.decision, .replayed, .card.adapter.r, .card.from')" "kept
6
4
$SEQ"
}

@test "in adapter mode the archive keeps the last --keep adapters, each with its base link" {
	adapter_home
	first=$(readlink "$H/current")
	for i in 1 2; do
		gen "1$i" 12 >"$H/incoming/f$i.tsv"
		run sift-retrain run "$H" --lr 0 --epochs 1 --margin 1 --keep 2
		[ "$status" = 0 ] || fail "run $i: $status"
	done
	assert_equal "$(ls "$H/models" | wc -l)" 2
	run ! ls -d "$H/$first"
	assert_equal "$(ls "$H/models" | tail -n 1)" "$(readlink "$H/current" | sed 's|models/||')"
	for m in "$H"/models/*; do
		[ -f "$m/adapter_model.safetensors" ] && [ "$(readlink "$m/base")" = "$SEQ" ] || fail "$m"
	done
}

@test "in adapter mode kill -9 around promotion, and SIGTERM in it, leave a valid current adapter" {
	TEMPLATE=atemplate NEXT_OPTS='--margin 1'
	for s in train score promote retain; do kill_at KILL "$s"; done
	kill_at TERM promote
	[ -f "$H/current/adapter_config.json" ] && [ -d "$H/current/base" ]
}

@test "an adapter current of another base than BASE fails the run before training, naming the config line" {
	adapter_home
	cur=$(readlink "$H/current")
	# another base: the seed model after one step of full fine-tuning
	sift-cat -s "$FIXTURES/train/seq.jsonl" >"$BATS_TEST_TMPDIR/seq.batches"
	sift-train -m "$SEQ" -o "$BATS_TEST_TMPDIR/other" --no-state --lr 1e-2 --max-steps 1 "$BATS_TEST_TMPDIR/seq.batches" >/dev/null
	echo "BASE='$BATS_TEST_TMPDIR/other'" >>"$H/config"
	n=$(wc -l <"$H/config")
	gen 4 30 >"$H/incoming/more.tsv"
	run -1 --separate-stderr sift-retrain run "$H"
	assert_output ""
	assert_regex "${stderr_lines[0]}" '^sift-fwd: current/sift-adapter.json: the adapter was trained on another base model \(base_hash [0-9a-f]{16}, this base [0-9a-f]{16}\)$'
	assert_equal "${stderr_lines[1]}" "sift-retrain: $H: run failed at tokenize: $H/config:$n: current's adapter over BASE: sift-fwd exited with status 1"
	assert_equal "${#stderr_lines[@]}" 2
	assert_equal "$(readlink "$H/current")" "$cur"
	assert_equal "$(jq -r '.stages | has("train")' <(tail -n 1 "$H/runs.log"))" false
	run ! grep -q '^more.tsv' "$H/consumed"
}

@test "adapter-mode config errors name the config line and exit 2" {
	adapter_home
	cp "$H/config" "$BATS_TEST_TMPDIR/config"
	n=$(($(wc -l <"$H/config") + 1))
	try() { # try LINE MESSAGE
		cp "$BATS_TEST_TMPDIR/config" "$H/config"
		printf '%s\n' "$1" >>"$H/config"
		run -2 --separate-stderr sift-retrain run "$H"
		assert_output ""
		assert_equal "$stderr" "sift-retrain: $H/config:$n: $2"
	}
	try MLM=1 "MLM=1 contradicts LORA=4: the mlm stage adapts the base encoder, which adapter mode keeps fixed"
	try LORA=eight "LORA: expected 0 (whole models) or an adapter rank from 1 to 1048576, got 'eight'"
	try LORA_TARGETS=query,quay "LORA_TARGETS: expected a comma-separated list of query, key, value, attn-out, intermediate and output, got 'query,quay'"
	try LORA_DROPOUT=1 "LORA_DROPOUT: expected a number from 0 to 1, 1 excluded, got '1'"
	try LORA_ALPHA=big "LORA_ALPHA: expected a number, got 'big'"
	# the --lora-* settings without a rank, as sift-train refuses them
	cp "$BATS_TEST_TMPDIR/config" "$H/config"
	sed -i 's/^LORA=4$/LORA=0/' "$H/config"
	run -2 --separate-stderr sift-retrain run "$H"
	assert_equal "$stderr" "sift-retrain: $H/config:$((n - 1)): LORA_ALPHA needs LORA, an adapter rank"
	assert_equal "$(ls "$H/models" | wc -l)" 1
}

@test "LORA=0 over an adapter current fails the run; current stays" {
	adapter_home
	cur=$(readlink "$H/current")
	sed -i '/^LORA/d' "$H/config"
	gen 4 12 >"$H/incoming/more.tsv"
	run -1 --separate-stderr sift-retrain run "$H"
	assert_equal "$stderr" "sift-retrain: $H: run failed at tokenize: current is an adapter ($cur) and LORA is 0: set LORA in config, or roll current back to a model"
	assert_equal "$(readlink "$H/current")" "$cur"
}

@test "LORA set in a home of whole models trains an adapter, gated against the current model" {
	cur=$(readlink "$H/current")
	printf 'LORA=4\n' >>"$H/config"
	gen 4 30 >"$H/incoming/more.tsv"
	run -0 --separate-stderr sift-retrain run "$H" --margin 1
	assert_equal "$(jq -r '.holdout.current' "$H/current/card.json")" "$(jq -r '.holdout.candidate' "$H/$cur/card.json")"
	[ -f "$H/current/adapter_config.json" ]
	current_loads
}

@test "the adapter-mode example of the man page runs as written" {
	gen 4 30 >"$H/incoming/more.tsv"
	gen 6 30 | cut -f 2 | jq -R -c '{text: ., time: "2026-12-01T08:00:00Z"}' >"$BATS_TEST_TMPDIR/news.jsonl"
	cmd=$(sed -n '/^Adapter mode: nightly/,/^\.Ed/p' "$MAN1" | sed '1,/^\.Bd/d; $d' | sed 's/\\e/\\/g')
	[ -n "$cmd" ] || fail "no block"
	cmd=${cmd//\/srv\/sift\/news/$H}
	run --separate-stderr sh -c "cd '$BATS_TEST_TMPDIR' && $cmd"
	# the run may keep current (3, one line), sift-monitor alert (3)
	[ "$status" = 0 ] || [ "$status" = 3 ] || fail "status $status: $stderr"
	# the run made a rank 8 adapter: current's card if promoted, in runs.log if kept
	run jq -r 'select(.files[0].name == "more.tsv") | .decision' "$H/runs.log"
	assert_output --regexp '^(promoted|kept)$'
	if [ "$output" = promoted ]; then r=$(jq -r .adapter.r "$H/current/card.json")
	else r=$(tail -n 1 "$H/runs.log" | jq -r .card.adapter.r); fi
	assert_equal "$r" 8
}
