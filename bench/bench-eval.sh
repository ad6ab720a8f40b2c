#!/bin/sh
# bench-eval.sh: sift-eval beside seqeval (default and strict mode) and
# scikit-learn, scoring the committed CoNLL-2003 and AG News predictions.
# usage: sh bench/bench-eval.sh [BUILD_DIR]   (R=repeats of the NER set, default 10)
B=${1:-build}
R=${R:-10}
OUT=bench/out
E=tests/fixtures/eval
mkdir -p "$OUT"
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B:$PATH

# R copies of CoNLL-2003 test (46,435 words each), ids renumbered
zcat $E/conll-testb-iob2.jsonl.gz | python3 -c "
import json, sys
lines = sys.stdin.read().splitlines()
print(lines[0])
n = 0
for r in range($R):
    for l in lines[1:]:
        d = json.loads(l); d['id'] = n; n += 1
        print(json.dumps(d, separators=(',', ':')))
" > "$OUT/eval-ner.jsonl"
sift-cat -s "$OUT/eval-ner.jsonl" > "$OUT/eval-ner.sift" || exit 1
zcat $E/agnews-test.jsonl.gz | sift-cat -s > "$OUT/eval-cls.sift" || exit 1

now() { date +%s.%N; }
t() { t0=$(now); "$@" > /dev/null || exit 1; t1=$(now); python3 -c "print($t1 - $t0)"; }
ner=$(t sift-eval -s iob2 "$OUT/eval-ner.sift")
strict=$(t sift-eval -m strict -s iob2 "$OUT/eval-ner.sift")
cls=$(t sift-eval "$OUT/eval-cls.sift")

# the peers, timed on tags already in memory (reading JSON not counted)
python3 - "$OUT/eval-ner.jsonl" "$ner" "$strict" "$cls" <<'EOF'
import gzip, json, sys, time, warnings
warnings.filterwarnings("ignore")
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2
from sklearn.metrics import classification_report as skreport
rows = [json.loads(l) for l in open(sys.argv[1])][1:]
gold = [r["gold"] for r in rows]
pred = [r["pred"] for r in rows]
t0 = time.time(); classification_report(gold, pred, digits=4); t1 = time.time()
classification_report(gold, pred, digits=4, mode="strict", scheme=IOB2); t2 = time.time()
cl = [json.loads(l) for l in gzip.open("tests/fixtures/eval/agnews-test.jsonl.gz")][1:]
g = [r["gold"] for r in cl]; p = [r["pred"] for r in cl]
t3 = time.time(); skreport(g, p, digits=4); t4 = time.time()
words = sum(map(len, gold))
ner, strict, cls = map(float, sys.argv[2:5])
print("%-34s %10s %10s %8s" % ("", "sift-eval", "reference", "ratio"))
print("%-34s %9.3fs %9.3fs %7.1fx" % ("NER %d words, conlleval mode" % words, ner, t1 - t0, (t1 - t0) / ner))
print("%-34s %9.3fs %9.3fs %7.1fx" % ("NER strict IOB2 (seqeval strict)", strict, t2 - t1, (t2 - t1) / strict))
print("%-34s %9.3fs %9.3fs %7.1fx" % ("AG News %d texts (scikit-learn)" % len(g), cls, t4 - t3, (t4 - t3) / cls))
print("(sift-eval times include reading the stream and starting the program)")
EOF
