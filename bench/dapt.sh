#!/bin/sh
# dapt.sh: task- and domain-adaptive MLM (TAPT, DAPT) before fine-tuning,
# against fine-tuning alone, with the same settings and seeds; writes a table.
# usage: sh bench/dapt.sh [BUILD_DIR]
#
# Not part of make bench (about an hour on 2 cores with the defaults).
# Tasks (TASKS, default "ner pb"):
#   ner  CoNLL-2003: fine-tune on the first NER_N sentences of eng.train
#        (IOB2, 1 epoch), test F1 (conlleval) on the first NER_TEST_N
#        sentences of eng.testb (0: all); TAPT is MLM on the text of the
#        first TAPT_NER_N sentences of eng.train (0: all).
#   pb   Financial PhraseBank 50Agree, the seeded 80/10/10 split of
#        BENCHMARKS.md (bench/phrasebank-split.txt, made by the Python lines
#        there): fine-tune on PB_N train sentences (0: all; 1 epoch; every
#        (3876 / PB_N)th, the file being sorted by label), test accuracy
#        and macro-F1 on all of test; TAPT is MLM on TAPT_PB_N train
#        sentences (0: all; taken in the same way) without their labels
#        (the fine-tune's own and, beyond PB_N, unlabelled ones), DAPT on
#        the descriptions of the first NEWS_N rows of AG News (test.csv,
#        the only AG News split here: unlabelled news, not PhraseBank).
# Each seed of SEEDS fine-tunes every variant once; with MLM_SHARED=0 each
# seed has its own MLM run (masks, dropout and head from that seed), with
# MLM_SHARED=1 one MLM run (seed 1) serves every seed.  Masking is BERT's
# (15%, 80/10/10) over --group-texts blocks of LEN tokens, batches of
# MLM_BATCH, MLM_EPOCHS epochs, AdamW at MLM_LR with 6% warmup; the
# fine-tune is AdamW at LR, batches of FT_BATCH, no warmup.  Weight decay
# 0.01.
# Writes $OUT/results.tsv (a row per run, as it goes) and $OUT/results.md
# (mean, sd, min and max per task and variant, and the difference of the
# means from fine-tuning alone).
B=${1:-build}
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
OUT=${OUT:-bench/out/dapt}
TASKS=${TASKS:-ner pb}
SEEDS=${SEEDS:-1 2 3}
NER_N=${NER_N:-2000}
NER_TEST_N=${NER_TEST_N:-0}
PB_N=${PB_N:-0}
TAPT_PB_N=${TAPT_PB_N:-0}
FT_BATCH=${FT_BATCH:-32}
TAPT_NER_N=${TAPT_NER_N:-0}
NEWS_N=${NEWS_N:-4000}
LEN=${LEN:-128}
MLM_BATCH=${MLM_BATCH:-16}
MLM_EPOCHS=${MLM_EPOCHS:-1}
MLM_LR=${MLM_LR:-1e-4}
MLM_SHARED=${MLM_SHARED:-0}
LR=${LR:-1e-4}
SPLIT=${SPLIT:-bench/phrasebank-split.txt}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B:$PATH
if [ ! -f "$MODEL/model.safetensors" ]; then
	echo "dapt: skipped (needs the model $MODEL)"
	exit 0
fi
for t in $TASKS; do
	case $t in
	ner) f=$DATA/conll2003/eng.train ;;
	pb) f=$DATA/ag_news/test.csv ;;
	*) echo "dapt: unknown task $t (ner or pb)" >&2; exit 2 ;;
	esac
	if [ ! -f "$f" ]; then
		echo "dapt: skipped (needs $f)"
		exit 0
	fi
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# MLM models are shared between the seeds of this run only
rm -rf "$OUT"/mlm-*
log=$OUT/dapt.log
: > "$log"
printf 'task\tvariant\tseed\tmetric\tscore\tmetric2\tscore2\tmlm_loss_first\tmlm_loss_last\n' > "$OUT/results.tsv"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

die() {
	echo "dapt: $*" >&2
	exit 1
}

# mean loss of the first and of the last 10 steps of a train log
losses() {
	sift-cat "$1" | jq -rs '[.[] | select(.loss)] as $l |
		[($l[:10] | map(.loss) | add / length), ($l[-10:] | map(.loss) | add / length)] |
		map(. * 1e4 | round / 1e4) | @tsv'
}

# mlm TEXT-EXAMPLES SEED DIR: MLM from MODEL on an mlm examples stream,
# once a run
mlm() {
	if [ -f "$3/model.safetensors" ]; then
		return 0
	fi
	sift-batch -s --seed "$2" -e "$MLM_EPOCHS" -b "$MLM_BATCH" "$1" > "$3.batches" || die "sift-batch failed on $1"
	sift-train --task mlm -m "$MODEL" -o "$3" --no-state --lr "$MLM_LR" --warmup-ratio 0.06 \
		--weight-decay 0.01 --seed "$2" "$3.batches" > "$3.log" 2>> "$log" || die "sift-train --task mlm failed ($3)"
	rm -f "$3.batches"
	echo "$(date -u +%T) mlm $3: loss first/last 10 steps $(losses "$3.log")" >> "$log"
}

# finetune TASK VARIANT SEED INIT TRAIN-EXAMPLES TEST-BATCHES [MLM-DIR]
finetune() {
	d=$OUT/$1-$2-$3
	sift-batch -s --seed "$3" -e 1 -b "$FT_BATCH" "$5" > "$d.batches" || die "sift-batch failed on $5"
	sift-train -m "$4" -o "$d" --no-state --lr "$LR" --weight-decay 0.01 --seed "$3" \
		"$d.batches" > "$d.log" 2>> "$log" || die "sift-train failed ($d)"
	sift-fwd -m "$d" "$6" | sift-eval | sift-cat > "$d.metrics" || die "scoring failed ($d)"
	ml=$(printf '\t')
	if [ -n "$7" ]; then
		ml=$(losses "$7.log")
	fi
	if [ "$1" = ner ]; then
		jq -r --arg t "$1" --arg v "$2" --arg s "$3" --arg ml "$ml" \
			'select(.sift | not) | [$t, $v, $s, "f1", .overall.f1, "", ""] | map(tostring) | join("\t") + "\t" + $ml' "$d.metrics"
	else
		jq -r --arg t "$1" --arg v "$2" --arg s "$3" --arg ml "$ml" \
			'select(.sift | not) | [$t, $v, $s, "accuracy", .accuracy, "macro_f1", .macro.f1] | map(tostring) | join("\t") + "\t" + $ml' "$d.metrics"
	fi >> "$OUT/results.tsv" || die "no score in $d.metrics"
	rm -rf "$d.batches" "$d"
	echo "$(date -u +%T) $1 $2 seed $3: $(tail -1 "$OUT/results.tsv" | cut -f4-7)" >> "$log"
}

mlmseed() {
	if [ "$MLM_SHARED" = 1 ]; then echo 1; else echo "$1"; fi
}

for t in $TASKS; do
	if [ "$t" = ner ]; then
		D=$DATA/conll2003
		printf '%s\n' B-LOC B-MISC B-ORG B-PER I-LOC I-MISC I-ORG I-PER O > "$OUT/ner.labels"
		# the first NER_N sentences, and the text of the first TAPT_NER_N
		awk -v n="$NER_N" 'NF == 0 && ++k > n { exit } { print }' "$D/eng.train" > "$OUT/ner.train.conll"
		awk -v n="$TAPT_NER_N" '
			/^-DOCSTART-/ { next }
			NF == 0 { if (s != "") { print s; if (++k == n) exit }; s = ""; next }
			{ s = s == "" ? $1 : s " " $1 }
			END { if (s != "" && k != n) print s }' "$D/eng.train" > "$OUT/ner.tapt.txt"
		sift-tok -m "$MODEL" -f conll --iob1-to-iob2 --labels "$OUT/ner.labels" "$OUT/ner.train.conll" > "$OUT/ner.train.examples" || die "sift-tok failed"
		awk -v n="$NER_TEST_N" 'NF == 0 && ++k == n { exit } { print }' "$D/eng.testb" > "$OUT/ner.test.conll"
		sift-tok -m "$MODEL" -f conll --iob1-to-iob2 --labels "$OUT/ner.labels" "$OUT/ner.test.conll" | sift-batch -b 64 > "$OUT/ner.test.batches" || die "sift-tok failed"
		sift-tok -m "$MODEL" --task mlm -f lines --group-texts --max-length "$LEN" "$OUT/ner.tapt.txt" > "$OUT/ner.tapt.examples" 2>> "$log" || die "sift-tok --task mlm failed"
		for s in $SEEDS; do
			finetune ner base "$s" "$MODEL" "$OUT/ner.train.examples" "$OUT/ner.test.batches"
			m=$OUT/mlm-ner-tapt-$(mlmseed "$s")
			mlm "$OUT/ner.tapt.examples" "$(mlmseed "$s")" "$m"
			finetune ner tapt "$s" "$m" "$OUT/ner.train.examples" "$OUT/ner.test.batches" "$m"
		done
	else
		F=$DATA/financial_phrasebank/Sentences_50Agree.txt
		printf '%s\n' negative neutral positive > "$OUT/pb.labels"
		for p in train test; do
			awk -v p="$p" 'NR == FNR { part[FNR] = $1; next } part[FNR] == p' "$SPLIT" "$F" > "$OUT/pb.$p.txt"
		done
		# the file is sorted by label: a subset of n is every (lines / n)th
		# line, in file order
		for p in ft:$PB_N tapt:$TAPT_PB_N; do
			awk -v n="${p#*:}" 'NR == FNR { c++; next }
				!n || n >= c || (FNR - 1) % int(c / n) == 0 && k++ < n' \
				"$OUT/pb.train.txt" "$OUT/pb.train.txt" > "$OUT/pb.${p%%:*}.txt"
		done
		sift-tok -m "$MODEL" -f at --encoding latin1 --labels "$OUT/pb.labels" "$OUT/pb.ft.txt" > "$OUT/pb.train.examples" || die "sift-tok failed"
		sift-tok -m "$MODEL" -f at --encoding latin1 --labels "$OUT/pb.labels" "$OUT/pb.test.txt" | sift-batch -b 64 > "$OUT/pb.test.batches" || die "sift-tok failed"
		sift-tok -m "$MODEL" --task mlm -f at --encoding latin1 --group-texts --max-length "$LEN" "$OUT/pb.tapt.txt" > "$OUT/pb.tapt.examples" 2>> "$log" || die "sift-tok --task mlm failed"
		head -n "$NEWS_N" "$DATA/ag_news/test.csv" > "$OUT/news.csv"
		sift-tok -m "$MODEL" --task mlm -f csv --text-col 3 --group-texts --max-length "$LEN" "$OUT/news.csv" > "$OUT/pb.dapt.examples" 2>> "$log" || die "sift-tok --task mlm failed"
		for s in $SEEDS; do
			finetune pb base "$s" "$MODEL" "$OUT/pb.train.examples" "$OUT/pb.test.batches"
			for v in tapt dapt; do
				m=$OUT/mlm-pb-$v-$(mlmseed "$s")
				mlm "$OUT/pb.$v.examples" "$(mlmseed "$s")" "$m"
				finetune pb "$v" "$s" "$m" "$OUT/pb.train.examples" "$OUT/pb.test.batches" "$m"
			done
		done
	fi
done

# the table: mean, sd (n - 1), min, max of each metric, and mean - base mean
awk -F '\t' '
NR == 1 { next }
{
	k = $1 "\t" $2
	if (!(k in n)) order[++nk] = k
	n[k]++; m1[k] = $4; m2[k] = $6
	s1[k] += $5; q1[k] += $5 * $5
	if (n[k] == 1 || $5 < lo1[k]) lo1[k] = $5
	if (n[k] == 1 || $5 > hi1[k]) hi1[k] = $5
	if ($6 != "") {
		s2[k] += $7; q2[k] += $7 * $7
		if (n[k] == 1 || $7 < lo2[k]) lo2[k] = $7
		if (n[k] == 1 || $7 > hi2[k]) hi2[k] = $7
	}
}
function sd(s, q, c) { return c > 1 ? sqrt((q - s * s / c) / (c - 1) > 0 ? (q - s * s / c) / (c - 1) : 0) : 0 }
function cell(s, q, lo, hi, c, base, bc) {
	return sprintf("%.4f ± %.4f (%.4f–%.4f) | %+.2f", s / c, sd(s, q, c), lo, hi, bc ? 100 * (s / c - base / bc) : 0)
}
END {
	print "| task | variant | runs | " "metric: mean ± sd (min–max) | Δ vs base (points) | metric 2: mean ± sd (min–max) | Δ vs base (points) |"
	print "|---|---|---|---|---|---|---|"
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, a, "\t"); b = a[1] "\tbase"
		c2 = m2[k] == "" ? "— | —" : m2[k] " " cell(s2[k], q2[k], lo2[k], hi2[k], n[k], s2[b], n[b])
		printf "| %s | %s | %d | %s %s | %s |\n", a[1], a[2], n[k], m1[k], cell(s1[k], q1[k], lo1[k], hi1[k], n[k], s1[b], n[b]), c2
	}
}' "$OUT/results.tsv" > "$OUT/results.md"
cat "$OUT/results.md"
