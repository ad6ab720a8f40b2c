#!/bin/sh
# bench-tok.sh: sift-tok beside Hugging Face tokenizers (BertTokenizerFast's
# Rust tokenizer, one thread, encode_batch) on the same text: CoNLL-2003
# train as plain lines, REPEAT times (default 8).
# usage: sh bench/bench-tok.sh [BUILD_DIR]
B=${1:-build}
REPEAT=${REPEAT:-8}
OUT=bench/out
DATA=${SIFT_DATA:-../shared/data}
VOCAB=tests/fixtures/tok/minilm
mkdir -p "$OUT"
case $B in /*) ;; *) B=$PWD/$B ;; esac

if [ ! -f "$DATA/conll2003/eng.train" ]; then
	echo "bench-tok: skipped: $DATA/conll2003/eng.train not found"
	exit 0
fi
# one sentence a line, the words joined by spaces
awk '/^-DOCSTART-/ { next }
     NF == 0 { if (s != "") print s; s = ""; next }
     { s = s == "" ? $1 : s " " $1 }
     END { if (s != "") print s }' "$DATA/conll2003/eng.train" > "$OUT/tok-1.txt"
: > "$OUT/tok-text.txt"
i=0
while [ $i -lt "$REPEAT" ]; do cat "$OUT/tok-1.txt" >> "$OUT/tok-text.txt"; i=$((i + 1)); done
words=$(wc -w < "$OUT/tok-text.txt")
bytes=$(wc -c < "$OUT/tok-text.txt")

# best of three runs, wall clock
best=
for run in 1 2 3; do
	t0=$(date +%s.%N)
	"$B/sift-tok" -m "$VOCAB" "$OUT/tok-text.txt" > "$OUT/tok-out.sift" || { echo "bench-tok: sift-tok failed"; exit 1; }
	t1=$(date +%s.%N)
	best=$(awk -v a="$t0" -v b="$t1" -v best="$best" 'BEGIN { t = b - a; print (best == "" || t < best) ? t : best }')
done
sift=$best

hf=$(TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 python3 - "$VOCAB" "$OUT/tok-text.txt" 2>/dev/null <<'PY'
import sys, time
from transformers import BertTokenizerFast
tok = BertTokenizerFast.from_pretrained(sys.argv[1]).backend_tokenizer
lines = [l for l in open(sys.argv[2], encoding="utf-8").read().split("\n") if l.strip()]
best = None
for _ in range(3):
    t0 = time.perf_counter()
    tok.encode_batch(lines)
    t = time.perf_counter() - t0
    best = t if best is None or t < best else best
print(best)
PY
)

printf 'text: CoNLL-2003 train x%s as lines: %s words, %s bytes\n' "$REPEAT" "$words" "$bytes"
printf '%-28s %10s %12s %8s\n' "" "seconds" "words/s" "MB/s"
row() {
	awk -v name="$1" -v t="$2" -v w="$words" -v b="$bytes" \
		'BEGIN { printf "%-28s %10.3f %12.0f %8.2f\n", name, t, w / t, b / t / 1e6 }'
}
row "sift-tok (file to stream)" "$sift"
if [ -z "$hf" ]; then
	echo "HF tokenizers: skipped (python3 with transformers/tokenizers not available)"
	exit 0
fi
row "HF tokenizers (1 thread)" "$hf"
awk -v h="$hf" -v s="$sift" 'BEGIN { printf "sift-tok / HF throughput ratio: %.1fx\n", h / s }'
