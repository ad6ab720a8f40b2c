#!/bin/sh
# bench-batch.sh: sift-batch beside a PyTorch DataLoader with Hugging Face's
# DataCollatorForTokenClassification, padding the same NER examples.
# usage: sh bench/bench-batch.sh [BUILD_DIR]   (N=examples, default 100000)
B=${1:-build}
N=${N:-100000}
OUT=bench/out
mkdir -p "$OUT"
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B:$PATH

# synthetic CoNLL-like examples: lengths 3..60 tokens, a label per token
python3 - "$N" > "$OUT/batch-ex.jsonl" <<'EOF'
import json, random, sys
n = int(sys.argv[1])
rng = random.Random(1)
print(json.dumps({"sift": 1, "kind": "examples", "task": "ner",
                  "labels": ["O", "B-PER", "I-PER"], "producer": "bench"}))
for i in range(n):
    T = rng.randint(3, 60)
    ids = [101] + [rng.randint(1000, 30000) for _ in range(T - 2)] + [102]
    lab = [-100] + [rng.randint(0, 2) for _ in range(T - 2)] + [-100]
    print(json.dumps({"id": i, "src": "bench:%d" % (i + 1), "ids": ids,
                      "labels": lab, "words": ["w"] * (T - 2),
                      "word_idx": [-1] + list(range(T - 2)) + [-1]},
                     separators=(",", ":")))
EOF
sift-cat -s "$OUT/batch-ex.jsonl" > "$OUT/batch-ex.sift" || exit 1

now() { date +%s.%N; }
t0=$(now)
sift-batch -s --seed 1 -b 32 < "$OUT/batch-ex.sift" > "$OUT/batch-out.sift" || exit 1
t1=$(now)
sift=$(python3 -c "print($t1 - $t0)")
stream_t0=$(now)
sift-batch -b 32 < "$OUT/batch-ex.sift" > /dev/null || exit 1
stream_t1=$(now)
stream=$(python3 -c "print($stream_t1 - $stream_t0)")

# the peer: examples already in memory as Python lists (not timed), then
# one shuffled epoch through DataLoader + the collator, one process
hf=$(python3 - "$OUT/batch-ex.jsonl" <<'EOF'
import json, sys, time
import torch
from torch.utils.data import DataLoader
from transformers import BertTokenizerFast, DataCollatorForTokenClassification
tok = BertTokenizerFast(vocab_file="tests/fixtures/train/tok/vocab.txt")
rows = [json.loads(l) for l in open(sys.argv[1])][1:]
data = [{"input_ids": r["ids"], "labels": r["labels"]} for r in rows]
torch.manual_seed(1)
dl = DataLoader(data, batch_size=32, shuffle=True,
                collate_fn=DataCollatorForTokenClassification(tok))
t = time.time()
for b in dl:
    pass
print(time.time() - t)
EOF
) || { echo "bench-batch: the Hugging Face peer failed"; exit 1; }

python3 - "$N" "$sift" "$stream" "$hf" <<'EOF'
import sys
n, s, st, hf = int(sys.argv[1]), *map(float, sys.argv[2:])
print("padding %d NER examples (3-60 tokens) into batches of 32" % n)
print("%-46s %9s %12s" % ("", "seconds", "examples/s"))
print("%-46s %9.3f %12.0f" % ("sift-batch -s (read all, bucket, shuffle, write)", s, n / s))
print("%-46s %9.3f %12.0f" % ("sift-batch (streaming, input order)", st, n / st))
print("%-46s %9.3f %12.0f" % ("DataLoader + DataCollatorForTokenClassification", hf, n / hf))
print("ratio sift-batch -s / Hugging Face: %.1fx faster" % (hf / s))
EOF

# padding: the share of real tokens among padded ones, one shuffled epoch,
# beside Hugging Face Trainer's group_by_length (LengthGroupedSampler)
eff() {
	sift-cat | jq -s '[.[] | select(.B)] | ((map(.mask | add) | add) / (map(.B * .T) | add))'
}
ours=$(sift-batch -s --seed 1 -b 32 < "$OUT/batch-ex.sift" | eff)
plain=$(sift-batch -s --seed 1 -b 32 --pool 0 < "$OUT/batch-ex.sift" | eff)
grouped=$(python3 - "$OUT/batch-ex.jsonl" <<'PYEOF'
import json, sys
import torch
from transformers.trainer_pt_utils import LengthGroupedSampler
lens = [len(json.loads(l)["ids"]) for l in list(open(sys.argv[1]))[1:]]
g = torch.Generator()
g.manual_seed(1)
order = list(LengthGroupedSampler(32, lengths=lens, generator=g))
real = padded = 0
for s in range(0, len(order), 32):
    b = [lens[i] for i in order[s:s + 32]]
    real += sum(b)
    padded += len(b) * max(b)
print(real / padded)
PYEOF
) || { echo "bench-batch: LengthGroupedSampler failed"; exit 1; }
python3 - "$ours" "$plain" "$grouped" <<'PYEOF'
import sys
o, p, g = map(float, sys.argv[1:])
print("real tokens / padded tokens, batches of 32, one shuffled epoch")
print("%-46s %9.3f" % ("sift-batch -s (pool of 100 batches)", o))
print("%-46s %9.3f" % ("sift-batch -s --pool 0 (plain shuffle)", p))
print("%-46s %9.3f" % ("HF LengthGroupedSampler (group_by_length)", g))
PYEOF
