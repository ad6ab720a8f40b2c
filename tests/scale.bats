#!/usr/bin/env bats
# scale.bats: inference sharded by GNU parallel, against one process (sift(7), LARGE INPUTS).

load helper

TINY=$BATS_TEST_DIRNAME/fixtures/pipelines/tiny

setup() {
	T=$BATS_TEST_TMPDIR
	command -v parallel > /dev/null || {
		[ "${SIFT_TEST_STRICT:-0}" = 1 ] && fail "GNU parallel missing (make deps)"
		skip "GNU parallel not installed"
	}
	printf 'neg\npos\n' > $T/labels
	# 3000 labelled texts of 1 to 30 words of the tiny model's vocabulary
	# (w0 ... w499), about 60 kB: 20 kB blocks make 3 or 4 parts
	awk 'BEGIN { srand(3); for (i = 1; i <= 3000; i++) {
		s = (rand() < 0.5 ? "neg" : "pos") "\tw" int(rand() * 490)
		for (k = int(rand() * 30); k > 0; k--) s = s " w" int(rand() * 490)
		print s } }' > $T/news.tsv
	# the pipeline of each part, batches of $1 texts
	pipe() {
		echo "sift-tok -m $TINY -f tsv --task cls --labels $T/labels | sift-batch -b $1 | sift-fwd -j 1 -m $TINY --init-head 3"
	}
}

# ids numbered again in order across the parts (each part's start at 0)
renumber() {
	sift-cat "$1" | jq -nc 'foreach inputs as $r (-1;
		. + (if $r | has("id") then 1 else 0 end);
		if $r | has("id") then $r + {id: .} else $r end)' | sift-cat -s
}

# the predictions as JSON lines, without the ids and lines of each part
preds() {
	sift-cat "$1" | jq -c 'del(.id, .src)'
}

@test "parallel --pipepart -k over a text file predicts byte for byte what one process does, in order, with batches of 1" {
	sh -c "$(pipe 1)" < $T/news.tsv > $T/one.sift
	parallel --pipepart -k --block 20k -a $T/news.tsv "$(pipe 1)" > $T/par.sift
	# several parts, a header each, which readers skip (sift-stream(5))
	run bash -c "grep -a -o 'sift-fwd 0.1' $T/par.sift | wc -l"
	[ "$output" -ge 3 ]
	run bash -c "sift-cat $T/par.sift | grep -c '\"sift\":'"
	assert_output 1
	cmp <(preds $T/one.sift) <(preds $T/par.sift)
	# ids restart in each part
	run bash -c "sift-cat $T/par.sift | jq 'select(.id == 0) | .id' | wc -l"
	[ "$output" -ge 3 ]
	# the recipe of sift(7) is this command
	grep -qF 'parallel --pipepart -k --block 100M -a news.tsv \e' $BATS_TEST_DIRNAME/../man/man7/sift.7
}

@test "parallel --pipepart with batches of 8 cut at other places predicts the same labels, probabilities within rounding" {
	sh -c "$(pipe 8)" < $T/news.tsv > $T/one.sift
	parallel --pipepart -k --block 20k -a $T/news.tsv "$(pipe 8)" > $T/par.sift
	jq -n -e --slurpfile a <(preds $T/one.sift) --slurpfile b <(preds $T/par.sift) '
		($a | length) == 3001 and ($a | length) == ($b | length) and
		([$a[1:], $b[1:]] | transpose | all(.[0] as $x | .[1] as $y |
			$x.text == $y.text and $x.pred == $y.pred and
			([$x.probs, $y.probs] | transpose | all((.[0] - .[1]) | fabs < 1e-6))))'
}

@test "parallel --pipe -N a multiple of the batch size: numbered again, one process's bytes, and sift-eval scores them the same" {
	sh -c "$(pipe 8)" < $T/news.tsv > $T/one.sift
	parallel --pipe -k -N 800 "$(pipe 8)" < $T/news.tsv > $T/par.sift
	# as they are, a repeated id is refused
	run -1 --separate-stderr sift-eval $T/par.sift
	[[ $stderr == "sift-eval: $T/par.sift:"*": id 0 appears twice: each text is scored once" ]]
	renumber $T/par.sift > $T/all.sift
	cmp <(sift-cat $T/one.sift | jq -c 'del(.src)') <(sift-cat $T/all.sift | jq -c 'del(.src)')
	sift-eval $T/one.sift > $T/one.metrics
	sift-eval $T/all.sift > $T/all.metrics
	cmp $T/one.metrics $T/all.metrics
}

@test "a Slurm array's parts, cut by split -n l/K, concatenate to one process's predictions" {
	sh -c "$(pipe 1)" < $T/news.tsv > $T/one.sift
	# the recipe of sift(7), each task's SLURM_ARRAY_TASK_ID set by hand
	for i in 0 1 2; do
		split -n l/$((i + 1))/3 $T/news.tsv | sh -c "$(pipe 1)" > $T/part.$i.sift
	done
	cat $T/part.0.sift $T/part.1.sift $T/part.2.sift > $T/cat.sift
	cmp <(preds $T/one.sift) <(preds $T/cat.sift)
}

@test "a Hadoop Streaming mapper's JSON lines, parts concatenated and made a stream again by sift-cat -s, are one process's predictions" {
	sh -c "$(pipe 1)" < $T/news.tsv > $T/one.sift
	# the mapper of sift(7) on each input split; a map-only job's
	# TextOutputFormat writes each line as a key with an empty value,
	# which leaves a tab at the end of the line
	for i in 1 2 3; do
		split -n l/$i/3 $T/news.tsv | sh -c "$(pipe 1) | sift-cat" |
			sed 's/$/\t/' > $T/part-0000$i
	done
	cat $T/part-* | sift-cat -s > $T/preds.sift
	cmp <(preds $T/one.sift) <(preds $T/preds.sift)
	grep -qF "hdfs dfs -cat 'preds/part-*' | sift-cat -s > preds.sift" $BATS_TEST_DIRNAME/../man/man7/sift.7
}

@test "parallel --pipepart with sift-tok --id-offset {#}000000 gives ids apart that sift-eval scores as one process's" {
	sh -c "$(pipe 8)" < $T/news.tsv > $T/one.sift
	p=$(pipe 8)
	parallel --pipepart -k --block 20k -a $T/news.tsv "${p/--task cls/--task cls --id-offset \{#\}000000}" > $T/par.sift
	run bash -c "sift-cat $T/par.sift | jq -r 'select(.id) | .id / 1000000 | floor' | uniq | wc -l"
	[ "$output" -ge 3 ]
	sift-eval $T/one.sift > $T/one.metrics
	sift-eval $T/par.sift > $T/par.metrics
	cmp <(sift-report $T/one.metrics) <(sift-report $T/par.metrics)
	grep -qF -- "--id-offset {#}000000" $BATS_TEST_DIRNAME/../man/man7/sift.7
}
