#!/usr/bin/env python3
"""make_calib_fixtures.py: a numpy reference for sift-eval's expected calibration error.

Run by hand (never by make):  python3 tests/ref/make_calib_fixtures.py
Writes tests/fixtures/eval/:
  calib.jsonl         a cls predictions stream (JSON lines: header, then 300
                      records with probs over 4 labels and a gold label),
                      probabilities float32 values written exactly, some
                      top probabilities on the bin edges k/15 (as float32)
  calib.numpy.json    ece, count, correct, confidence (mean top probability
                      per bin, 0 when empty): 15 equal-width bins, bin b
                      holding b/15 < p <= (b+1)/15 (p = 0 in the first), the
                      argmax correct when it is the gold label; sum over
                      bins of |acc - conf| * n_bin / n
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "eval")
LABELS = ["billing", "cancel", "greeting", "oos"]
NB = 15


def f32(x):
    return float(np.float32(x))


def main():
    rng = np.random.default_rng(15)
    recs = []
    for i in range(300):
        z = rng.normal(0, 1.0 + 2.0 * rng.random(), len(LABELS))
        p = np.exp(z - z.max())
        p = (p / p.sum()).astype(np.float32)
        if i % 25 == 0:
            # a top probability on a bin edge, the rest shared out
            k = 5 + i // 25 % 10
            top = np.float32(k / NB)
            rest = (1 - float(top)) / 3
            p = np.array([top, rest, rest, rest], dtype=np.float32)
            rng.shuffle(p)
        arg = int(np.argmax(p))
        # gold: the argmax with the top probability's chance, a bit
        # overconfident, else another label
        if rng.random() < float(p[arg]) * 0.85:
            gold = LABELS[arg]
        else:
            gold = LABELS[int(rng.integers(len(LABELS)))]
        recs.append({"id": i, "text": "request %d" % i, "pred": LABELS[arg],
                     "probs": [f32(x) for x in p], "gold": gold})
    with open(os.path.join(OUT, "calib.jsonl"), "w") as f:
        f.write(json.dumps({"sift": 1, "kind": "predictions", "task": "cls",
                            "labels": LABELS, "producer": "make_calib_fixtures.py"}) + "\n")
        for r in recs:
            f.write(json.dumps(r) + "\n")
    probs = np.array([r["probs"] for r in recs], dtype=np.float32).astype(np.float64)
    top = probs.max(1)
    correct = np.array([LABELS[int(np.argmax(r["probs"]))] == r["gold"] for r in recs])
    edges = np.linspace(0, 1, NB + 1)
    # np.digitize(right=True): i such that edges[i-1] < p <= edges[i]
    b = np.clip(np.digitize(top, edges[1:-1], right=True), 0, NB - 1)
    count = np.bincount(b, minlength=NB)
    hits = np.bincount(b, weights=correct.astype(float), minlength=NB)
    conf = np.bincount(b, weights=top, minlength=NB)
    ece = sum(abs(hits[k] - conf[k]) / len(recs) for k in range(NB) if count[k])
    with open(os.path.join(OUT, "calib.numpy.json"), "w") as f:
        json.dump({"ece": ece, "count": count.tolist(), "correct": hits.astype(int).tolist(),
                   "confidence": [conf[k] / count[k] if count[k] else 0.0 for k in range(NB)]},
                  f, indent=1)
        f.write("\n")
    print("ece", ece, "count", count.tolist())


if __name__ == "__main__":
    main()
