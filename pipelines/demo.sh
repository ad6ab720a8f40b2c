#!/bin/sh
# demo.sh: the main job on a small default: fine-tune MiniLM for NER on a
# slice of CoNLL-2003, tag the dev set, score it and show the report.
# usage: pipelines/demo.sh [BUILD_DIR]
set -e
B=${1:-build}
PATH=$PWD/$B:$PATH
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
OUT=${SIFT_DEMO_OUT:-build/demo}
mkdir -p "$OUT"

if [ ! -f "$DATA/conll2003/eng.testa" ]; then
	echo "demo: CoNLL-2003 not found in $DATA (set SIFT_DATA)" >&2
	exit 1
fi
if [ ! -x "$B/sift-tok" ]; then
	echo "demo: sift-tok not built yet; showing a hand-written stream" >&2
	sift-cat tests/fixtures/stream/examples.jsonl </dev/null | sift-cat
	exit 0
fi
echo "demo: tokenizing a slice of CoNLL-2003 with $MODEL"
head -n 2000 "$DATA/conll2003/eng.testa" |
	sift-tok -m "$MODEL" -f conll --iob1 > "$OUT/dev.sift"
sift-cat "$OUT/dev.sift" | head -n 3
