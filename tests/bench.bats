#!/usr/bin/env bats
# bench.bats: the benchmark scripts users run by hand (bench/dapt.sh,
# bench/lora-quality.sh), on the tiny encoder and a small made-up data
# set, and their skips.

load helper

REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
TINY=$BATS_TEST_DIRNAME/fixtures/pipelines/tiny

# a data directory laid out as ../shared/data, with made-up text: CoNLL
# sentences, PhraseBank sentences@label, AG News "class","title","text"
fake_data() {
	mkdir -p "$1/conll2003" "$1/financial_phrasebank" "$1/ag_news"
	awk 'BEGIN {
		split("the a new old", d); split("city bank team game", n); split("London Paris Smith Reuters", e)
		split("I-LOC I-LOC I-PER I-ORG", t)
		print "-DOCSTART- -X- O O"; print ""
		for (s = 1; s <= 60; s++) {
			for (w = 1; w <= 5; w++) {
				i = (s * 7 + w * 3) % 4 + 1
				if (w % 2) print e[i], "NNP I-NP", t[i]; else print (w == 2 ? d[i] : n[i]), "NN I-NP O"
			}
			print ""
		}
	}' > "$1/conll2003/eng.train"
	cp "$1/conll2003/eng.train" "$1/conll2003/eng.testb"
	awk 'BEGIN {
		split("profit rose;sales fell;the company said;shares were flat", x, ";")
		split("positive negative neutral neutral", l)
		for (s = 1; s <= 120; s++) { i = s % 4 + 1; printf "%s in quarter %d .@%s\r\n", x[i], s, l[i] }
	}' > "$1/financial_phrasebank/Sentences_50Agree.txt"
	awk 'BEGIN {
		for (s = 1; s <= 40; s++)
			printf "\"%d\",\"title %d\",\"the bank said profit rose in the city , the team said \"\"game\"\" %d\"\n", s % 4 + 1, s, s
	}' > "$1/ag_news/test.csv"
}

setup() {
	T=$BATS_TEST_TMPDIR
	cd "$REPO"
}

tiny_dapt() {
	[ -d "$T/data" ] || fake_data "$T/data"
	env OUT=$T/out SIFT_DATA=$T/data SIFT_MODEL=$TINY SEEDS="1 2" NER_N=40 \
		NER_TEST_N=30 TAPT_NER_N=60 PB_N=60 TAPT_PB_N=100 NEWS_N=40 LEN=32 \
		MLM_BATCH=4 FT_BATCH=8 "$@" sh bench/dapt.sh "$SIFT_BIN"
}

@test "dapt.sh writes a row per task, variant and seed, and a table of means, spreads and differences" {
	run tiny_dapt
	assert_success
	tsv=$T/out/results.tsv
	# 2 seeds of ner base and tapt, of pb base, tapt and dapt
	assert_equal "$(tail -n +2 $tsv | cut -f1,2 | sort | uniq -c | awk '{ print $1, $2, $3 }' | tr '\n' ' ')" \
		"2 ner base 2 ner tapt 2 pb base 2 pb dapt 2 pb tapt "
	# scores are numbers between 0 and 1; MLM rows have their losses
	run awk -F '\t' 'NR > 1 && !($5 >= 0 && $5 <= 1 && $5 ~ /^[0-9.e-]+$/) { print "bad score: " $0 }
		NR > 1 && $1 == "pb" && !($7 >= 0 && $7 <= 1 && $7 ~ /^[0-9.e-]+$/) { print "bad macro_f1: " $0 }
		NR > 1 && $2 != "base" && !($8 > 0 && $9 > 0) { print "no mlm loss: " $0 }' $tsv
	assert_output ""
	md=$T/out/results.md
	assert_equal "$(grep -c '^| \(ner\|pb\) |' $md)" 5
	grep -q '^| ner | base | 2 | f1 [0-9.]* ± [0-9.]* ([0-9.]*–[0-9.]*) | +0.00 | — | — |$' $md
	grep -q '^| pb | dapt | 2 | accuracy [0-9.]* ± [0-9.]* ([0-9.]*–[0-9.]*) | [-+][0-9.]* | macro_f1 [0-9.]* ± [0-9.]* ([0-9.]*–[0-9.]*) | [-+][0-9.]* |$' $md
	# the difference is that of the means, in points, and min <= mean <= max
	want=$(awk -F '\t' '$1 == "ner" { s[$2] += $5; n[$2]++ } END { printf "%+.2f", 100 * (s["tapt"] / n["tapt"] - s["base"] / n["base"]) }' $tsv)
	run awk -F ' \\| ' '$2 == "tapt" && $1 == "| ner" { print $5 }' $md
	assert_output "$want"
	run awk -F ' \\| ' '/^\| (ner|pb) / { split($4, a, /[ ()–]+/); if (!(a[5] <= a[2] && a[2] <= a[6])) print "out of range: " $0 }' $md
	assert_output ""
}

@test "dapt.sh trains one MLM model per seed unless told to share one" {
	run tiny_dapt TASKS=ner
	assert_success
	[ -f $T/out/mlm-ner-tapt-1/model.safetensors ]
	[ -f $T/out/mlm-ner-tapt-2/model.safetensors ]
	# the two seeds masked differently: their MLM losses differ
	run awk -F '\t' '$2 == "tapt" { print $8 }' $T/out/results.tsv
	[ "${lines[0]}" != "${lines[1]}" ]
	rm -rf $T/out
	run tiny_dapt TASKS=ner MLM_SHARED=1
	assert_success
	[ -f $T/out/mlm-ner-tapt-1/model.safetensors ]
	[ ! -e $T/out/mlm-ner-tapt-2 ]
}

@test "dapt.sh says that it skips without the model or the data, and exits 0" {
	run env SIFT_MODEL=$T/none sh bench/dapt.sh "$SIFT_BIN"
	assert_success
	assert_output "dapt: skipped (needs the model $T/none)"
	run env SIFT_MODEL=$TINY SIFT_DATA=$T/none sh bench/dapt.sh "$SIFT_BIN"
	assert_success
	assert_output "dapt: skipped (needs $T/none/conll2003/eng.train)"
}

@test "dapt.sh refuses an unknown task with exit 2" {
	run --separate-stderr env SIFT_MODEL=$TINY TASKS=pos sh bench/dapt.sh "$SIFT_BIN"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "dapt: unknown task pos (ner or pb)"
}

@test "bench-mlm.sh says that it skips without the data, and exits 0" {
	run env SIFT_DATA=$T/none sh bench/bench-mlm.sh "$SIFT_BIN"
	assert_success
	assert_output "bench-mlm: skipped (needs models/all-MiniLM-L6-v2 and $T/none/ag_news)"
}

@test "dapt.sh trains its MLM models anew, never reusing one left in OUT by an earlier run" {
	mkdir -p $T/out/mlm-ner-tapt-1
	echo 'not a model' > $T/out/mlm-ner-tapt-1/model.safetensors
	run tiny_dapt TASKS=ner MLM_SHARED=1
	assert_success
	[ -s $T/out/mlm-ner-tapt-1.log ]
	run awk -F '\t' '$2 == "tapt" && !($8 > 0 && $9 > 0) { print "no mlm loss: " $0 }' $T/out/results.tsv
	assert_output ""
}

@test "dapt.sh takes a PhraseBank subset across the file, which is sorted by label" {
	fake_data "$T/data"
	awk 'BEGIN {
		split("positive negative neutral", l)
		for (s = 0; s < 120; s++) printf "sales in quarter %d .@%s\r\n", s, l[int(s / 40) + 1]
	}' > "$T/data/financial_phrasebank/Sentences_50Agree.txt"
	run tiny_dapt TASKS=pb SEEDS=1 PB_N=30 TAPT_PB_N=60
	assert_success
	assert_equal "$(wc -l < $T/out/pb.ft.txt)" 30
	assert_equal "$(wc -l < $T/out/pb.tapt.txt)" 60
	assert_equal "$(sed 's/.*@//' $T/out/pb.ft.txt | tr -d '\r' | sort -u | tr '\n' ' ')" "negative neutral positive "
}

@test "bench-bf16.sh says that it skips without the data, and exits 0" {
	run env SIFT_DATA=$T/none sh bench/bench-bf16.sh "$SIFT_BIN"
	assert_success
	assert_output "bench-bf16: skipped (needs models/all-MiniLM-L6-v2, $T/none/financial_phrasebank/Sentences_50Agree.txt and $T/none/conll2003)"
}

@test "bench-bf16.sh says that it skips where oneDNN has no bf16, and exits 0" {
	need_model
	need_data
	ONEDNN_MAX_CPU_ISA=AVX2 run sh bench/bench-bf16.sh "$SIFT_BIN"
	assert_success
	assert_output "bench-bf16: skipped (bf16 precision on the cpu needs AVX512-BF16 or AMX (oneDNN's ISA here: avx2))"
}

@test "lora-quality.sh TABLE_ONLY=1 puts each sift run beside its Hugging Face twin: the tokens/s ratio and the RSS against full fine-tuning" {
	[ -f "$TINY/model.safetensors" ] || skip "no tiny model"
	mkdir -p $T/out
	sift-cat -s $BATS_TEST_DIRNAME/fixtures/train/tok.jsonl > $T/out/ner.batches
	printf '05:00:00 3.00 2.00 1.00\n05:01:00 5.00 4.00 3.00\n' > $T/out/load.log
	{
		printf 'task\trun\tprogram\tmetric\tscore\tmetric2\tscore2\ttokens_per_s\trss_kib\tckpt_bytes\tstate_bytes\tload\n'
		printf 'ner\tfull\tsift\tf1\t0.5\t\t\t100\t4096\t900\t2700\t3.0\n'
		printf 'ner\tfull\thf\tf1\t0.4\t\t\t200\t8192\t901\t\t3.0\n'
		printf 'ner\tr8\tsift\tf1\t0.1\t\t\t150\t3072\t30\t90\t5.0\n'
		printf 'ner\tr8\thf\tf1\t0.2\t\t\t100\t4096\t31\t\t5.0\n'
	} > $T/out/results.tsv
	run -0 env TABLE_ONLY=1 TASKS=ner OUT=$T/out SIFT_MODEL=$TINY SIFT_DATA=$T/nodata PYTHON=false sh bench/lora-quality.sh "$SIFT_BIN"
	assert_line --index 0 --partial "5 steps of 32"
	assert_line "| ner | full | sift-train | f1 0.5000 |  | 100.0 | 0.50x | 4 |  | 900 | 2700 | 3.0 |"
	assert_line "| ner | r8 | sift-train | f1 0.1000 |  | 150.0 | 1.50x | 3 | 0.75x | 30 | 90 | 5.0 |"
	assert_line "| ner | r8 | peft + Trainer | f1 0.2000 |  | 100.0 |  | 4 | 0.50x | 31 |  | 5.0 |"
	assert_line "load average (1 min) from 3.00 to 5.00"
	# nothing was trained: the results are the ones given
	[ "$(wc -l < $T/out/results.tsv)" -eq 5 ]
}

@test "lora-quality.sh PB_N above half the split takes lines from every label of the label-sorted file" {
	[ -f "$TINY/model.safetensors" ] || skip "no tiny model"
	mkdir -p $T/data/conll2003 $T/data/financial_phrasebank
	for l in negative neutral positive; do
		for s in $(seq 40); do printf 'profit %s in quarter %d .@%s\r\n' "$l" "$s" "$l"; done
	done > $T/data/financial_phrasebank/Sentences_50Agree.txt
	{ seq 110 | sed 's/.*/train/'; seq 10 | sed 's/.*/test/'; } | paste -d'\n' - /dev/null | grep . > $T/split.txt
	# every label: without Python (PYTHON=true passes the import check) and with no runs
	run -0 env TASKS=pb PB_N=80 RUNS=" " OUT=$T/out SIFT_MODEL=$TINY SIFT_DATA=$T/data \
		SPLIT=$T/split.txt PYTHON=true sh bench/lora-quality.sh "$SIFT_BIN"
	[ "$(wc -l < $T/out/pb.train.txt)" -eq 80 ]
	# at least 20 of each (the first 80 lines would hold no positive)
	run bash -c "sed 's/.*@//' $T/out/pb.train.txt | tr -d '\r' | sort | uniq -c | awk '\$1 >= 20 { printf \"%s \", \$2 }'"
	assert_output "negative neutral positive "
}

@test "bench-ops.sh OPS=none profiles the steps alone and puts their product rate against the best GEMM, as the profile and the log give it" {
	fake_data "$T/data"
	run env OUT=$T/out OPS=none STEPS=2 SIFT_MODEL=$TINY SIFT_DATA=$T/data \
		OMP_NUM_THREADS=1 REPS=1 sh bench/bench-ops.sh "$SIFT_BIN"
	[ "$status" -eq 0 ]
	refute_output --partial "| op |"
	line=$(printf '%s\n' "$output" | grep '^step against the GEMM: ')
	# two passes over the same 2 batches by default
	[ "$(sift-cat "$T/out/train.log" | jq -s '[.[] | select(.loss)] | length')" -eq 4 ]
	# a pass's GFLOP: half of each product line's ms times its GFLOP/s;
	# the seconds: the log's tokens over tokens_per_s, step by step
	g=$(awk '$2 ~ /^matmul_/ { g += $3 / 1000 * $6 } END { printf "%.6f", g / 2 }' "$T/out/profile.txt")
	g2=$(jq -n "$g * 100 | round / 100")
	t=$(sift-cat "$T/out/train.log" | jq -s '[.[] | select(.loss) | .tokens / .tokens_per_s] | .[0:2] | add * 100 | round / 100')
	[[ $line == *"the products' $g2 GFLOP in $t s of steps"* ]]
	t2=$(sift-cat "$T/out/train.log" | jq -s '[.[] | select(.loss) | .tokens / .tokens_per_s] | .[2:4] | add * 100 | round / 100')
	[[ $line == *"; second pass $t2 s, "* ]]
	# each share is its rate over the best library's rate, both as printed
	best=$(printf '%s\n' "$line" | sed -n 's/.*(best: [a-z]* at \([0-9.]*\) GFLOP\/s, 1 thread(s).*/\1/p')
	rate=$(printf '%s\n' "$line" | sed -n 's/.* s of steps, \([0-9.]*\) GFLOP\/s, \([0-9]*\)% of the best.*/\1 \2/p')
	rate2=$(printf '%s\n' "$line" | sed -n 's/.*; second pass [0-9.]* s, \([0-9.]*\) GFLOP\/s, \([0-9]*\)%.*/\1 \2/p')
	[ -n "$rate" ] && [ -n "$rate2" ] && [ -n "$best" ]
	for r in "$rate" "$rate2"; do
		awk -v r="${r% *}" -v p="${r#* }" -v b="$best" \
			'BEGIN { d = 100 * r / b - p; exit !(b > 0 && d > -1 && d < 1) }'
	done
	# the second pass's rate is a pass's GFLOP over its seconds
	t2=$(sift-cat "$T/out/train.log" | jq -s '[.[] | select(.loss) | .tokens / .tokens_per_s] | .[2:4] | add')
	awk -v r="${rate2% *}" -v g="$g" -v t="$t2" \
		'BEGIN { d = g / t - r; exit !(t > 0 && d > -0.06 - r * 0.01 && d < 0.06 + r * 0.01) }'
}

@test "bench-ops.sh PASSES=1 runs the batches once and prints no second pass; a bad PASSES is a usage error" {
	fake_data "$T/data"
	run env OUT=$T/out OPS=none STEPS=2 PASSES=1 SIFT_MODEL=$TINY SIFT_DATA=$T/data \
		OMP_NUM_THREADS=1 REPS=1 sh bench/bench-ops.sh "$SIFT_BIN"
	[ "$status" -eq 0 ]
	assert_output --partial "step against the GEMM: the products'"
	refute_output --partial "second pass"
	[ "$(sift-cat "$T/out/train.log" | jq -s '[.[] | select(.loss)] | length')" -eq 2 ]
	run env OUT=$T/out OPS=none PASSES=0 SIFT_MODEL=$TINY SIFT_DATA=$T/data \
		sh bench/bench-ops.sh "$SIFT_BIN"
	[ "$status" -eq 2 ]
	assert_output "bench-ops: PASSES must be 1 to 9"
	# more steps than the data has batches: said, not a wrong figure
	run env OUT=$T/out OPS=none STEPS=9 SIFT_MODEL=$TINY SIFT_DATA=$T/data \
		OMP_NUM_THREADS=1 sh bench/bench-ops.sh "$SIFT_BIN"
	[ "$status" -eq 1 ]
	assert_output --partial "bench-ops: only 3 batches in eng.train, not 9"
}
