#!/usr/bin/env bats
# docs.bats: the commands of README.md and of the man pages' EXAMPLES run
# as written, on small slices of the real data sets.
#
# What runs, so that a new block is tested by default:
# - README.md: every code block, fenced or indented by four spaces, in
#   order, each as `sh -e BLOCK` in one temporary directory (a block sees
#   the files of the blocks before it), unless its first line is in
#   README_NOT_RUN below.
# - a man page: every `.Bd -literal` display and every `.Dl` line of its
#   EXAMPLES, roff's escapes undone (\e \- \(aq \&), in order, the same
#   way, unless a line of it is in MAN_NOT_RUN below.
# Each block must exit 0 with nothing on stderr, and the test checks what
# it claims to make.  The test makes the files the commands name
# (train.conll, dev.conll, news.txt ...) from slices of $SIFT_DATA and the
# fixtures, and links models/all-MiniLM-L6-v2 to the model; it changes
# nothing in a command but the install prefix /usr/local (the test installs
# into a temporary one), and it may set what a pipeline reads from the
# environment (EPOCHS=1).

load helper

REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
TINY=$BATS_TEST_DIRNAME/fixtures/pipelines/tiny

# README blocks not run, by their first line: they install system packages
# or take the whole build and test time
README_NOT_RUN='make demo     # installs what is missing, builds, runs the main job
make deps                 # Debian packages and the model (idempotent)'

# man page blocks not run: page@@a line of the block@@why
MAN_NOT_RUN='sift-batch.1@@tail -f news.txt | sift-tok -m model -f lines |@@an endless feed, never exits (tests/pipelines.bats runs a live feed)
sift-train.1@@mpirun -np 2 sift-train -m tests/fixtures/train/tok -o runs/mpi \@@needs mpirun and an MPI build (tests/mpi.bats runs the same block)
sift-train.1@@srun --mpi=pmix -N 2 --ntasks-per-node 4 sift-train -m base \@@needs a Slurm cluster
sift-report.1@@sift-cat preds.jsonl | sift-report -c | perl conlleval.pl@@needs conlleval.pl, which is not in the repository
sift-report.1@@[ $? -eq 3 ] && mail -s '"'sentiment alert'"' ops < report.txt@@sends mail (and exits 3 by design)'

# man page blocks that exit with another status than 0, by design:
# page@@a line of the block@@status
MAN_EXIT='sift-tok.1@@sift-tok -m run/model -f jsonl --time-key published \@@3
sift-report.1@@sift-report -w 1h -t -q -a '"'negative>0.4'"' -s alerts.json news.sift@@3'

# man page blocks whose stderr is a notice by design (sift-tok says what
# it dropped): page@@a line of the block@@an extended regex every line of
# stderr matches
MAN_STDERR='sift-tok.1@@sift-tok -m models/all-MiniLM-L6-v2 --task mlm --group-texts \@@^sift-tok: [0-9]+ tokens dropped: '

# the man pages of section 1 whose EXAMPLES this file runs: all of them
MAN1_RUN='sift-batch sift-cat sift-eval sift-fwd sift-report sift-tok sift-train'
# and those whose own bats file runs them (page@@file), with the state
# and models they need
MAN1_ELSEWHERE='sift-monitor@@monitor.bats
sift-retrain@@retrain.bats'

setup() {
	T=$BATS_TEST_TMPDIR
}

# the first n sentences of a CoNLL file, -DOCSTART- lines left out
conll_head() {
	awk -v n="$2" '/^-DOCSTART-/ { getline; next } NF == 0 && ++k >= n { exit } { print }' "$1"
}

# the words of the first n sentences of a CoNLL file, a sentence a line
conll_lines() {
	conll_head "$1" "$2" | awk 'NF { s = s (s ? " " : "") $1; next } s { print s; s = "" } END { if (s) print s }'
}

# the code blocks of README.md, into $1/1.sh, $1/2.sh ... in order
readme_blocks() {
	mkdir -p "$1"
	awk -v d="$1" '
		/^```/ { if (fence) { fence = 0; close(f) } else { fence = 1; f = d "/" ++n ".sh" } next }
		fence { print > f; next }
		/^    / && (blank || ind) { if (!ind) { ind = 1; f = d "/" ++n ".sh" } sub(/^    /, ""); print > f; blank = 0; next }
		{ if (ind && NF) { ind = 0; close(f) } blank = (NF == 0) }
	' "$REPO/README.md"
}

# the displays and .Dl lines of a man page's EXAMPLES, into $2/1.sh ...
man_blocks() {
	mkdir -p "$2"
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$1" | awk -v d="$2" '
		/^\.Bd -literal/ { on = 1; f = d "/" ++n ".sh"; next }
		/^\.Ed/ { on = 0; close(f); next }
		on { print > f; next }
		/^\.Dl / { sub(/^\.Dl /, ""); f = d "/" ++n ".sh"; print > f; close(f) }
	'
	for f in "$2"/*.sh; do
		[ -f "$f" ] || continue
		sed -i "s/\\\\(aq/'/g; s/\\\\-/-/g; s/\\\\&//g; s/\\\\e/\\\\/g" "$f"
	done
}

# the field of list $1 (page@@line@@value) for page $2 and a line of
# block file $3
man_listed() {
	echo "$1" | while read -r entry; do
		page=${entry%%@@*} rest=${entry#*@@}
		[ "$page" = "$2" ] || continue
		grep -qxF -- "${rest%%@@*}" "$3" && { echo "${rest#*@@}"; break; }
	done
	return 0
}

# runs the blocks in directory $1, in order, in the working directory,
# each as sh -e: it must exit 0 (or what function $3 says for the block
# file) with an empty stderr; those that function $2 gives a reason for
# are skipped and noted in $T/not-run
run_blocks() {
	local dir=$1 skip=$2 want=${3:-} nb blk why st note
	nb=$(find "$dir" -name '*.sh' | wc -l)
	[ "$nb" -gt 0 ] || fail "no blocks in $dir"
	for blk in $(seq "$nb"); do
		why=$($skip "$dir/$blk.sh")
		if [ -n "$why" ]; then
			echo "$(head -n 1 "$dir/$blk.sh"): $why" >> "$T/not-run"
			continue
		fi
		st=0
		[ -z "$want" ] || st=$($want "$dir/$blk.sh")
		run --separate-stderr sh -e "$dir/$blk.sh"
		note=
		[ -z "$want" ] || note=$(man_listed "$MAN_STDERR" "$PAGE" "$dir/$blk.sh")
		[ -z "$note" ] || stderr=$(printf '%s\n' "$stderr" | grep -Ev -- "$note" || true)
		[ "$status" -eq "${st:-0}" ] && [ -z "$stderr" ] ||
			fail "block $blk exited $status: $(cat "$dir/$blk.sh")
stderr: $stderr"
		printf '%s\n' "$output" > "$dir/$blk.out"
	done
}

# for run_blocks on the man page $PAGE (sift-tok.1)
man_not_run() { man_listed "$MAN_NOT_RUN" "$PAGE" "$1"; }
man_exit() { man_listed "$MAN_EXIT" "$PAGE" "$1"; }

# runs the EXAMPLES of man page $1 (sift-tok.1) in the working directory;
# block i's stdout is then in $T/b/i.out
run_man() {
	PAGE=$1
	local sec=${1##*.}
	man_blocks "$REPO/man/man$sec/$1" $T/b
	run_blocks $T/b man_not_run man_exit
}

readme_not_run() {
	first=$(head -n 1 "$1")
	echo "$README_NOT_RUN" | grep -qxF -- "$first" && echo "not run by tests"
	return 0
}

# the files the README and sift(7) name: CoNLL-2003 train and dev as
# train.conll and dev.conll, three test sentences as news.txt, the model
ner_files() {
	conll_head $DATA/conll2003/eng.train 16 > train.conll
	conll_head $DATA/conll2003/eng.testa 8 > dev.conll
	conll_lines $DATA/conll2003/eng.testb 3 > news.txt
	mkdir -p models
	ln -s "$MODEL" models/all-MiniLM-L6-v2
	# no runs/: sift-train -o makes the missing parents of its directory,
	# and neither the README nor sift(7) makes it
}

# checks what the NER example claims: runs/ner a model sift-fwd loads,
# trained with dev scored (an f1), and news.txt tagged word for word
check_ner_example() {
	[ -f runs/ner/config.json ] && [ -f runs/ner/model.safetensors ] || fail "no model in runs/ner"
	run --separate-stderr sh -c 'sift-fwd -m runs/ner < dev.batches | sift-cat | jq -c "select(.pred)" | wc -l'
	assert_success
	assert_output 8
	grep -q '^best dev  *f1 ' "$1" || fail "no dev f1 in the report: $(cat "$1")"
	# the tagged sentences, their brackets taken out, are news.txt
	tail -n 3 "$1" | sed 's/\[[A-Z]* //g; s/\]//g' > tagged
	diff tagged news.txt
}

@test "README.md: every code block is a fenced or an indented block the test finds" {
	readme_blocks $T/b
	# each command line of README.md is in a block the test runs or lists
	n=$(find $T/b -name '*.sh' | wc -l)
	[ "$n" -ge 4 ]
	grep -qxF 'sift-tok -m runs/ner -f lines --words news.txt | sift-batch |' $T/b/1.sh
	# every exception still names a block
	echo "$README_NOT_RUN" | while read -r line; do
		cat $T/b/*.sh | grep -qxF -- "$line" || fail "README_NOT_RUN: no block starts '$line'"
	done
}

@test "the README's commands run as written: a model sift-fwd loads, dev scored, text tagged, an installed job" {
	need_model
	need_data
	cd $T
	ner_files
	readme_blocks $T/b
	# the jobs block runs the installed pipelines: installed here
	make -s -C "$REPO" install PREFIX=$T/prefix DESTDIR= $(case $SIFT_BIN in *build-san) echo SAN=1 ;; *build-avx2) echo AVX2=1 ;; esac) > $T/make.out 2>&1 ||
		fail "make install: $(cat $T/make.out)"
	grep -l '^P=/usr/local/share/sift/pipelines$' $T/b/*.sh > $T/jobs
	[ "$(wc -l < $T/jobs)" -eq 1 ]
	sed -i "s|^P=/usr/local/|P=$T/prefix/|" "$(cat $T/jobs)"
	EPOCHS=1 run_blocks $T/b readme_not_run
	check_ner_example $T/b/1.out
	# the job: a model, and the tagged text
	[ -f runs/job/model/config.json ]
	grep -q '^best dev  *f1 ' runs/job/report.txt
	# the retraining block: a first model promoted into current
	assert_equal "$(jq -r .decision ner-home/runs.log)" promoted
	[ -f ner-home/current/model.safetensors ] && [ -f ner-home/current/card.json ]
	# the MLM block: a BertForMaskedLM checkpoint
	assert_equal "$(jq -r '.architectures[0]' runs/news-mlm/config.json)" BertForMaskedLM
	assert_equal "$(grep -c . $T/not-run)" 2
}

@test "sift(7)'s examples run as written: a model sift-fwd loads, dev scored, text tagged" {
	need_model
	need_data
	cd $T
	ner_files
	run_man sift.7
	check_ner_example $T/b/1.out
	# the look inside dev.batches: one batch of 8 sentences
	assert_equal "$(head -c 3 $T/b/2.out)" '[8,'
}

@test "make install puts the pipelines in PREFIX/share/sift/pipelines, and they run from another directory" {
	need_data
	make -s -C "$REPO" install PREFIX=$T/prefix DESTDIR= $(case $SIFT_BIN in *build-san) echo SAN=1 ;; *build-avx2) echo AVX2=1 ;; esac) > $T/make.out 2>&1 ||
		fail "make install: $(cat $T/make.out)"
	P=$T/prefix/share/sift/pipelines
	for f in ner-train.sh ner-predict.sh sentiment-train.sh; do
		[ -x $P/$f ] || fail "$f not installed"
	done
	conll_head $DATA/conll2003/eng.train 20 > $T/train.conll
	conll_head $DATA/conll2003/eng.testa 5 > $T/dev.conll
	printf 'John Smith lives in Paris .\n' > $T/news.txt
	# installed, the model is a required setting
	cd /
	run --separate-stderr env -u MODEL PATH=$T/prefix/bin:$PATH sh $P/ner-train.sh $T/train.conll $T/dev.conll
	assert_failure 2
	assert_equal "$stderr" "ner-train: MODEL not set (a model directory)"
	run --separate-stderr env -u MODEL -u SIFT_DATA PATH=$T/prefix/bin:$PATH MODEL=$TINY sh $P/ner-train.sh
	assert_failure 2
	assert_equal "$stderr" "usage: ner-train.sh train.conll dev.conll (or set SIFT_DATA)"
	# the installed programs, from /, on tiny data
	PATH=$T/prefix/bin:$PATH MODEL=$TINY OUT=$T/run EPOCHS=1 run sh $P/ner-train.sh $T/train.conll $T/dev.conll
	assert_success
	assert_output --partial "best dev     f1"
	PATH=$T/prefix/bin:$PATH OUT=$T/pred run sh $P/ner-predict.sh $T/run/model $T/news.txt
	assert_success
	[ -s $T/pred/predictions ]
	[ ! -e /runs ]
}

@test "from a checkout, ner-train.sh and sentiment-train.sh find the checkout's model and data from any directory" {
	need_data
	# the defaults only: no MODEL, no SIFT_DATA, no files; a sift-tok that
	# notes its arguments and fails stands in for the run (the whole of
	# eng.train is too long for a test)
	mkdir $T/bin
	printf '#!/bin/sh\necho "$@" >> %s/args; exit 1\n' $T > $T/bin/sift-tok
	chmod +x $T/bin/sift-tok
	cd /
	run env -u MODEL -u SIFT_DATA PATH=$T/bin:$PATH OUT=$T/run sh $REPO/pipelines/ner-train.sh
	assert_failure 1
	assert_equal "$(head -n 1 $T/args)" "-m $REPO/models/all-MiniLM-L6-v2 -f conll --iob1-to-iob2 $REPO/../shared/data/conll2003/eng.train $REPO/../shared/data/conll2003/eng.testa"
	rm $T/args
	run env -u MODEL -u SIFT_DATA PATH=$T/bin:$PATH OUT=$T/run2 sh $REPO/pipelines/sentiment-train.sh
	assert_failure 1
	assert_equal "$(head -n 1 $T/args)" "-m $REPO/models/all-MiniLM-L6-v2 -f at --encoding latin1 --task cls --labels $T/run2/labels.txt $T/run2/dev.txt"
	cmp $T/run2/dev.txt <(awk 'NR % 10 == 0' $REPO/../shared/data/financial_phrasebank/Sentences_66Agree.txt)
}

# the files that the man pages of section 1 name, from slices of the data
# sets and the fixtures: CoNLL-2003 as eng.train, eng.testa, eng.testb,
# Financial PhraseBank, AG News, Weibo NER, predictions, a training log
man1_files() {
	mkdir -p models
	ln -s "$MODEL" models/all-MiniLM-L6-v2
	conll_head $DATA/conll2003/eng.train 32 > eng.train
	conll_head $DATA/conll2003/eng.testa 8 > eng.testa
	conll_head $DATA/conll2003/eng.testb 8 > eng.testb
	head -n 20 $DATA/financial_phrasebank/Sentences_AllAgree.txt > Sentences_AllAgree.txt
	head -n 20 $DATA/ag_news/test.csv > test.csv
	conll_head $DATA/weibo_ner/weiboNER_2nd_conll.dev 4 > weiboNER_2nd_conll.dev
	zcat $FIXTURES/eval/conll-testa-iob1.jsonl.gz | head -n 200 > preds.jsonl
	zcat $FIXTURES/eval/fpb-allagree.jsonl.gz | sift-cat > preds.sift
	cp preds.sift news.sift
	cut -d '"' -f 6 test.csv > news.txt
	head -n 5 news.txt > dev.txt
	ln -s "$REPO/tests" tests
	sift-cat < $FIXTURES/eval/train-log.jsonl > train.log
	sift-tok -m models/all-MiniLM-L6-v2 -f at --encoding latin1 Sentences_AllAgree.txt > train.sift
}

@test "every man page of section 1 has its EXAMPLES run here, and every exception names a block" {
	got=$(cd $REPO/man/man1 && ls sift-*.1 | sed 's/\.1$//' | sort | tr '\n' ' ')
	want=$( { printf '%s\n' $MAN1_RUN; echo "$MAN1_ELSEWHERE" | sed 's/@@.*//'; } | sort | tr '\n' ' ')
	assert_equal "$got" "$want"
	echo "$MAN1_ELSEWHERE" | while read -r entry; do
		grep -q "man1/${entry%%@@*}\.1" "$BATS_TEST_DIRNAME/${entry#*@@}" ||
			fail "${entry#*@@} does not read ${entry%%@@*}.1"
	done
	echo "$MAN_NOT_RUN
$MAN_EXIT
$MAN_STDERR" | while read -r entry; do
		page=${entry%%@@*} rest=${entry#*@@}
		rm -rf $T/b
		man_blocks $REPO/man/man${page##*.}/$page $T/b
		cat $T/b/*.sh | grep -qxF -- "${rest%%@@*}" || fail "$page has no block with '${rest%%@@*}'"
	done
}

@test "sift-eval(1)'s examples run as written" {
	need_model
	need_data
	cd $T
	man1_files
	# a classifier and its val batches, for the threshold example
	ln -s $FIXTURES/fwd/cls-model model
	sift-cat -s $FIXTURES/fwd/cls.batches.jsonl > val.batches
	run_man sift-eval.1
	grep -q '^accuracy: ' $T/b/1.out
	assert_equal "$(jq -r '.overall | has("f1")' $T/b/2.out)" true
	grep -Eqx '0\.[0-9]+' $T/b/3.out
	# the held-out MLM loss and its perplexity
	run jq -e '.[0] > 0 and ((.[1] / (.[0] | exp) - 1) | fabs) < 1e-6' $T/b/4.out
	assert_success
	grep -Eqx '0\.[0-9]+' $T/b/5.out
	grep -q 'class="accuracy"' reliability.svg
}

@test "sift-fwd(1)'s examples run as written" {
	need_model
	need_data
	cd $T
	man1_files
	# a fine-tuned NER model: the tiny encoder, a few steps on eng.train
	printf '%s\n' O B-LOC B-MISC B-ORG B-PER I-LOC I-MISC I-ORG I-PER > $T/labels9
	sift-tok -m $TINY -f conll --iob1-to-iob2 --labels $T/labels9 eng.train |
		sift-batch -s -e 1 -b 8 | sift-train -m $TINY -o model > /dev/null
	# CLINC150 cut to a few queries of each split, for the routing example
	jq '{val: .val[:24], oos_val: .oos_val[:8], test: .test[:24], oos_test: .oos_test[:8]}' \
		$DATA/clinc150/data_full.json > data_full.json
	run_man sift-fwd.1
	assert_equal "$(sed -n 2p $T/b/1.out | jq -r '.overall.sentences')" 8
	assert_equal "$(jq -s -c '(.[0].labels | length) as $n | [.[1:][] | .probs | length == $n] | all' $T/b/2.out)" true
	assert_equal "$(grep -c . $T/b/2.out)" 21
	# fill-mask: three tokens with their probabilities; the held-out scores
	assert_equal "$(grep -Ec '^[^ ]+ [0-9.e-]+$' $T/b/5.out)" 3
	grep -q '^loss: .* perplexity: ' $T/b/6.out
	# the adapter's scores, merged or not, are the same
	[ -f merged/model.safetensors ]
	sed -n 2p $T/b/7.out | jq -e '.accuracy and .examples == 14'
	assert_equal "$(sed -n 2p $T/b/7.out)" "$(sed -n 4p $T/b/7.out)"
	# int8 against fp32: a count of the same labels among the 20
	grep -Eqx '(1[6-9]|20) of 20 the same' $T/b/8.out || fail "int8: $(cat $T/b/8.out)"
}

@test "sift-cat(1)'s examples run as written" {
	need_model
	need_data
	cd $T
	man1_files
	run_man sift-cat.1
	[ -s $T/b/1.out ]
	assert_equal "$(sift-cat one.sift | jq -c 'select(.B) | .ids')" '[101,2204,102]'
}

@test "sift-report(1)'s examples run as written" {
	need_model
	need_data
	cd $T
	man1_files
	run_man sift-report.1
	grep -q '^accuracy: ' $T/b/1.out
	grep -q '<svg' run.svg
	grep -q 'class="accuracy"' reliability.svg
	assert_equal "$(grep -c . $T/not-run)" 2
}

@test "sift-tok(1)'s examples run as written" {
	need_model
	need_data
	cd $T
	man1_files
	# a sentiment classifier (a fixture) with the first 1000 tokens of
	# the MiniLM vocabulary as its own, and news with a time and a ticker
	mkdir -p run/model
	cp $FIXTURES/fwd/cls-model/* $MODEL/tokenizer_config.json run/model/
	head -n 1000 $MODEL/vocab.txt > run/model/vocab.txt
	printf '%s\n' '{"text": "Profits fell .", "published": "2026-11-29T08:05:00Z", "ticker": "ACME"}' \
		'{"text": "Sales rose .", "published": "2026-11-29T09:10:00Z", "ticker": "BETA"}' > news.jsonl
	run_man sift-tok.1
	assert_equal "$(sift-cat dev.batches | jq -s '[.[] | select(.B) | .B] | add')" 8
	assert_equal "$(sed -n 1p $T/b/2.out | jq -r .kind)" examples
	assert_equal "$(sift-cat agnews.examples | jq -s '[.[] | select(.text_b)] | length')" 20
	grep -Eq '^2026-11-29T09:00:00Z +BETA +1 ' $T/b/4.out
	[ "$(sift-cat weibo-dev.examples | jq -s '[.[] | select(.ids)] | length')" -ge 3 ]
}

@test "sift-batch(1)'s examples run as written" {
	need_model
	need_data
	cd $T
	man1_files
	run_man sift-batch.1
	assert_equal "$(sift-cat train.batches | head -n 1 | jq .epochs)" 3
	assert_equal "$(grep -c . $T/not-run)" 1
}

@test "sift-train(1)'s examples run as written" {
	need_model
	need_data
	cd $T
	man1_files
	# a base model (the tiny encoder), and more than 100 steps of batches
	ln -s $TINY base
	sift-tok -m base -f conll --iob1-to-iob2 eng.train | sift-batch -s -e 8 -b 2 > train.batches
	run_man sift-train.1
	[ -f ner-model/model.safetensors ]
	grep -q '"dev"' <(sift-cat train.log)
	assert_equal "$(jq -c '[(.options.class_weights | keys), .options.label_smoothing]' cls/sift-train.json)" '[["negative","neutral","positive"],0.1]'
	assert_equal "$(sift-cat log1 | tail -n 1 | jq -c '[.step, .end]')" '[100,"stopped"]'
	assert_equal "$(sift-cat log2 | tail -n 1 | jq -r .end)" done
	assert_equal "$(tail -n 1 $T/b/9.out)" '[8,16,["query","value"]]'
}
