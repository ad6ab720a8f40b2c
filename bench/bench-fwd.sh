#!/bin/sh
# bench-fwd.sh: sift-fwd against Hugging Face transformers (PyTorch eager) on CoNLL-2003 test with MiniLM-L6, and GFLOP/s against plain sgemm.
#
# usage: sh bench/bench-fwd.sh [build-dir]
# SIFT_BENCH_THREADS (default: the number of cores) threads for both;
# SIFT_BENCH_SENTENCES (default: all 3453) sentences of eng.testb;
# SIFT_BENCH_BATCH (default 32) examples per batch.
set -eu
B=${1:-build}
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
TH=${SIFT_BENCH_THREADS:-$(nproc)}
BS=${SIFT_BENCH_BATCH:-32}
OUT=bench/out
mkdir -p $OUT
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$DATA/conll2003/eng.testb" ]; then
	echo "bench-fwd: skipped (needs $MODEL and $DATA/conll2003)"
	exit 0
fi
TEST=$DATA/conll2003/eng.testb
if [ -n "${SIFT_BENCH_SENTENCES:-}" ]; then
	awk -v n="$SIFT_BENCH_SENTENCES" '!NF {s++} s >= n {exit} {print}' $TEST > $OUT/fwd-test.conll
	TEST=$OUT/fwd-test.conll
fi

# the same batches for both
$B/sift-tok -m $MODEL -f conll --iob1-to-iob2 $TEST | $B/sift-batch -b $BS > $OUT/fwd-batches
$B/sift-cat $OUT/fwd-batches > $OUT/fwd-batches.jsonl

cc -O2 -fopenmp -o $OUT/sgemm bench/sgemm.c $(pkg-config --cflags --libs openblas)
SGEMM_N=$(python3 -c "
import json
n = t = 0
for l in open('$OUT/fwd-batches.jsonl'):
    r = json.loads(l)
    if 'B' in r:
        n += 1; t += sum(r['mask'])
print(max(64, t // max(n, 1)))")

# prints "wall-seconds cpu-seconds"
sift() {
	/usr/bin/time -f "%e %U %S" -o $OUT/fwd-time $B/sift-fwd -j $TH -m $MODEL --init-head 0 $OUT/fwd-batches > $OUT/fwd-pred
	awk '{printf "%s %.2f\n", $1, $2 + $3}' $OUT/fwd-time
}

torch_run() {
	python3 - "$OUT/fwd-batches.jsonl" "$MODEL" "$TH" <<'PY'
import json, sys, time, warnings
import torch
from transformers import BertForTokenClassification
from transformers.utils import logging
logging.set_verbosity_error()
logging.disable_progress_bar()
warnings.filterwarnings("ignore")
path, model, th = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(th)
hdr, batches = None, []
for line in open(path):
    r = json.loads(line)
    if "sift" in r:
        hdr = r
    elif "B" in r:
        B, T = r["B"], r["T"]
        batches.append((torch.tensor(r["ids"]).view(B, T),
                        torch.tensor(r["type_ids"]).view(B, T),
                        torch.tensor(r["mask"]).view(B, T)))
m = BertForTokenClassification.from_pretrained(model, num_labels=len(hdr["labels"])).eval()
import resource
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t, c = time.perf_counter(), cpu()
with torch.inference_mode():
    for ids, tt, mask in batches:
        m(input_ids=ids, token_type_ids=tt, attention_mask=mask).logits.softmax(-1)
print("%.2f %.2f" % (time.perf_counter() - t, cpu() - c))
PY
}

# interleaved, best of two each, so that a busy machine hurts both alike
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
s1=$(sift); t1=$(torch_run); g1=$($OUT/sgemm $TH $SGEMM_N 384 1536)
s2=$(sift); t2=$(torch_run); g2=$($OUT/sgemm $TH $SGEMM_N 384 1536)
# "wall cpu" pairs: the CPU seconds (user + system) apart
CPU="${s1#* } ${s2#* } ${t1#* } ${t2#* }"
s1=${s1% *}; s2=${s2% *}; t1=${t1% *}; t2=${t2% *}
SG=$(echo "$g1 $g2" | awk '{print ($1 > $2 ? $1 : $2)}')
LOAD1=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$OUT/fwd-batches.jsonl" "$OUT/fwd-pred" "$s1" "$s2" "$t1" "$t2" "$SG" "$TH" "$SGEMM_N" "$B" "$LOAD0" "$LOAD1" "$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)" "$CPU" <<'PY' | tee $OUT/fwd.txt
import json, subprocess, sys
path, pred, s1, s2, t1, t2, sg, th, sgn, B, l0, l1, ncpu, cpu = sys.argv[1:]
sc1, sc2, tc1, tc2 = map(float, cpu.split())
s, t, sg = min(float(s1), float(s2)), min(float(t1), float(t2)), float(sg)
C, I, L, NH = 384, 1536, 6, 12
tokens = padded = flops = 0
for line in open(path):
    r = json.loads(line)
    if "B" not in r:
        continue
    padded += r["B"] * r["T"]
    for b in range(r["B"]):
        n = sum(r["mask"][b * r["T"]:(b + 1) * r["T"]])
        tokens += n
        # the four products of each layer, and attention's q.k and p.v
        flops += L * (2 * n * (4 * C * C + 2 * C * I) + 4 * n * n * C)
recs = subprocess.run([B + "/sift-cat", pred], capture_output=True, text=True).stdout.splitlines()
sents = len(recs) - 1
print("bench-fwd: CoNLL-2003 eng.testb, all-MiniLM-L6-v2 + token head, %s threads, batch records as sift-batch wrote them" % th)
print("  %d sentences, %d tokens (%d with padding); load average %s before, %s after, %s cores" % (sents, tokens, padded, l0, l1, ncpu))
if float(l0) > float(ncpu) or float(l1) > float(ncpu):
    print("  WARNING: the machine was busy; threads waiting on each other make these figures noisy")
print("  %-34s %10s %12s %10s %9s" % ("", "seconds", "sentences/s", "tokens/s", "GFLOP/s"))
print("  %-34s %10.2f %12.1f %10.0f %9.1f" % ("sift-fwd (whole program)", s, sents / s, tokens / s, flops / s / 1e9))
print("  %-34s %10.2f %12.1f %10.0f %9.1f" % ("transformers %s (forward only)" % __import__("transformers").__version__, t, sents / t, tokens / t, flops / t / 1e9))
print("  runs: sift-fwd %s %s s, transformers %s %s s" % (s1, s2, t1, t2))
print("  CPU seconds (user + system), best run: sift-fwd %.2f, transformers %.2f: %.2fx less work" % (min(sc1, sc2), min(tc1, tc2), min(tc1, tc2) / min(sc1, sc2)))
print("  speed-up sift-fwd / transformers (wall clock, same batches, same threads): %.2fx" % (t / s))
print("  plain OpenBLAS sgemm, %s threads, the four products of a layer at %s rows: %.1f GFLOP/s; sift-fwd reaches %.0f%% of it" % (th, sgn, sg, 100 * flops / s / 1e9 / sg))
PY
