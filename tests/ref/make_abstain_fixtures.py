#!/usr/bin/env python3
"""make_abstain_fixtures.py: scikit-learn's scores for sift-eval --abstain.

Run by hand, never by make (it needs numpy and scikit-learn):

    python3 tests/ref/make_abstain_fixtures.py

Writes to tests/fixtures/eval/:
    abstain.jsonl          a hand-made predictions stream: labels a, b, c,
                           the gold out-of-scope label "oos" (not one of
                           them), and the preds of a threshold of 0.625
    abstain-random.jsonl   300 seeded random predictions over 5 labels, gold
                           "oos" for about a quarter, probabilities in 64ths
                           (exact in float32, many equal top probabilities),
                           mostly high on the gold label of in-scope ones
    abstain.sklearn.json   for each: in-scope accuracy (accuracy_score over
                           gold != oos), precision, recall and F1 of oos
                           (precision_recall_fscore_support, labels=["oos"],
                           zero_division=0) of the records' preds; and for
                           each objective the threshold a brute force over
                           the distinct top probabilities chooses (a pred is
                           oos below it, else the argmax; ties to the lower
                           threshold), its score and the scores there
"""
import json
import os

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "eval")
OOS = "oos"

HAND = [
    ([0.875, 0.0625, 0.0625], "a"),
    ([0.125, 0.75, 0.125], "b"),
    ([0.625, 0.25, 0.125], "b"),
    ([0.5, 0.25, 0.25], OOS),
    ([0.125, 0.125, 0.75], OOS),
    ([0.375, 0.3125, 0.3125], OOS),
    ([0.25, 0.5, 0.25], "b"),
]


def decide(labels, probs, t):
    p = np.asarray(probs, dtype=np.float32)
    return [OOS if row.max() < np.float32(t) else labels[int(np.argmax(row))]
            for row in p]


def scores(gold, pred):
    ins = [i for i, g in enumerate(gold) if g != OOS]
    acc = accuracy_score([gold[i] for i in ins], [pred[i] for i in ins]) if ins else 0.0
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=[OOS],
                                                 zero_division=0)
    return {"in_scope_accuracy": float(acc), "in_scope": len(ins),
            "precision": float(p[0]), "recall": float(r[0]), "f1": float(f[0]),
            "support": int(s[0]), "predicted": pred.count(OOS)}


def search(labels, probs, gold, objective):
    tops = sorted(set(float(np.float32(max(row))) for row in
                      np.asarray(probs, dtype=np.float32)))
    best = None
    for t in tops:
        s = scores(gold, decide(labels, probs, t))
        v = ((s["in_scope_accuracy"] + s["recall"]) / 2 if objective == "balanced"
             else s["f1"])
        if best is None or v > best[1]:
            best = (t, v, s)
    t, v, s = best
    return dict(s, threshold=t, objective=objective, score=v)


def write(name, labels, recs):
    with open(os.path.join(OUT, name + ".jsonl"), "w") as f:
        f.write(json.dumps({"sift": 1, "kind": "predictions", "task": "cls",
                            "labels": labels, "producer": "make_abstain_fixtures.py"}) + "\n")
        for r in recs:
            f.write(json.dumps(r) + "\n")


def main():
    ref = {}
    labels = ["a", "b", "c"]
    probs = [p for p, _ in HAND]
    gold = [g for _, g in HAND]
    pred = decide(labels, probs, 0.625)
    write("abstain", labels, [{"id": i, "pred": pred[i], "probs": probs[i],
                                "gold": gold[i]} for i in range(len(HAND))])
    ref["abstain"] = {"stream": scores(gold, pred)}
    for o in ("balanced", "abstain-f1"):
        ref["abstain"][o] = search(labels, probs, gold, o)

    rng = np.random.default_rng(15)
    labels = ["l0", "l1", "l2", "l3", "l4"]
    gold = [OOS if rng.random() < 0.25 else labels[rng.integers(5)]
            for _ in range(300)]
    # in-scope: mostly a high probability on the gold label; oos: flatter
    probs = []
    for g in gold:
        row = rng.integers(1, 40 if g != OOS else 48, size=5)
        if g != OOS and rng.random() < 0.7:
            row[labels.index(g)] = rng.integers(24, 64)
        probs.append((row / 64.0).tolist())
    pred = decide(labels, probs, 0.0)
    write("abstain-random", labels, [{"id": i, "pred": pred[i], "probs": probs[i],
                                       "gold": gold[i]} for i in range(300)])
    ref["abstain-random"] = {"stream": scores(gold, pred)}
    for o in ("balanced", "abstain-f1"):
        ref["abstain-random"][o] = search(labels, probs, gold, o)
    with open(os.path.join(OUT, "abstain.sklearn.json"), "w") as f:
        json.dump(ref, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
