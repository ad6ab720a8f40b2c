#!/usr/bin/env python3
"""make_eval_fixtures.py: reference scores for sift-eval and sift-report.

Run by hand, never by make:

    python3 tests/ref/make_eval_fixtures.py --conlleval /tmp/conlleval.pl

It needs seqeval, scikit-learn and pandas (pip install seqeval scikit-learn
pandas), the shared data sets (../shared/data) and conlleval.pl, the
CoNLL-2000 evaluation script (version 2004-01-26) from any public copy; the
script is run from /tmp and never committed.

Predictions are made from the gold tags of CoNLL-2003 dev and test
(eng.testa, eng.testb) and the labels of Financial PhraseBank and AG News
by seeded corruptions.  Only tags and labels are stored: every word is "w"
and every text "t", so none of the data sets' text is written.

For each NER fixture NAME it writes to tests/fixtures/eval/:
    NAME.jsonl.gz         a predictions stream as JSON lines (sift-cat input)
    NAME.conlleval.txt    what conlleval.pl prints for word/gold/pred columns
                          (iob1 and iob2 fixtures)
    NAME.seqeval.json     seqeval's scores, default and strict mode
For each classification fixture NAME:
    NAME.jsonl.gz         predictions with gold labels, time and topic
    NAME.sklearn.txt      classification_report(digits=2), as printed
    NAME.sklearn4.txt     classification_report(digits=4)
    NAME.sklearn.json     classification_report(output_dict=True), the
                          confusion matrix, and pandas aggregates per day
                          and topic for sift-report's monitoring
"""
import argparse
import datetime
import gzip
import json
import os
import random
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")

from seqeval.metrics import accuracy_score as seq_accuracy  # noqa: E402
from seqeval.metrics import classification_report as seq_report  # noqa: E402
from seqeval.scheme import IOB2, IOBES  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "fixtures", "eval")
DATA = os.environ.get("SIFT_DATA", os.path.join(ROOT, "..", "shared", "data"))


# ---- CoNLL-2003 ----

def read_conll(path):
    """sentences of NER tags (IOB1, column 4), with the line each starts on"""
    sents, cur, start = [], [], None
    with open(path, encoding="ascii") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("-DOCSTART-"):
                continue
            if not line.strip():
                if cur:
                    sents.append((start, cur))
                cur = []
                continue
            if not cur:
                start = lineno
            cur.append(line.split(" ")[3])
    if cur:
        sents.append((start, cur))
    return sents


def spans_iob1(tags):
    """entities (start, end, type) of IOB1 tags: I- opens after O or a
    type change, B- opens a new one"""
    out, start, typ = [], None, None
    for i, t in enumerate(tags + ["O"]):
        p, _, ty = t.partition("-")
        if start is not None and (p == "O" or p == "B" or ty != typ):
            out.append((start, i, typ))
            start = None
        if p in ("B", "I") and start is None:
            start, typ = i, ty
    return out


def encode(spans, n, scheme):
    tags = ["O"] * n
    prev_end, prev_type = -1, None
    for s, e, ty in spans:
        for i in range(s, e):
            tags[i] = "I-" + ty
        if scheme == "iob1":
            if s == prev_end and ty == prev_type:
                tags[s] = "B-" + ty
        elif scheme == "iob2":
            tags[s] = "B-" + ty
        else:
            if e - s == 1:
                tags[s] = "S-" + ty
            else:
                tags[s] = "B-" + ty
                tags[e - 1] = "E-" + ty
        prev_end, prev_type = e, ty
    return tags


TYPES = ["LOC", "MISC", "ORG", "PER"]


def corrupt(spans, n, rng):
    """type swaps, boundary shifts, dropped and extra entities"""
    out = []
    for s, e, ty in spans:
        r = rng.random()
        if r < 0.05:
            continue                                    # dropped
        if r < 0.11:
            ty = rng.choice([t for t in TYPES if t != ty])  # type swap
        elif r < 0.15:
            s = max(0, s + rng.choice([-1, 1]))          # start shift
        elif r < 0.19:
            e = min(n, e + rng.choice([-1, 1]))          # end shift
        if e > s:
            out.append((s, e, ty))
    for i in range(n):                                  # extra entities
        if rng.random() < 0.01:
            out.append((i, min(n, i + rng.choice([1, 1, 2, 3])), rng.choice(TYPES)))
    # no overlaps: keep the earliest of overlapping spans
    out.sort()
    kept, end = [], 0
    for s, e, ty in out:
        if s >= end:
            kept.append((s, e, ty))
            end = e
    return kept


def noise(tags, scheme, rng):
    """ill-formed tag sequences that conlleval and seqeval read differently"""
    tags = list(tags)
    for i, t in enumerate(tags):
        r = rng.random()
        if t.startswith("B-") and r < 0.03:
            tags[i] = "I-" + t[2:]          # an entity opened by I-
        elif scheme == "iob1" and t.startswith("I-") and r < 0.01:
            tags[i] = "B-" + t[2:]          # IOB1 B- where IOB1 has none
        elif scheme == "iobes" and t.startswith("E-") and r < 0.03:
            tags[i] = "I-" + t[2:]          # an entity never closed
        elif scheme == "iobes" and t.startswith("S-") and r < 0.02:
            tags[i] = "B-" + t[2:]
        elif t == "O" and r < 0.002:
            tags[i] = "I-" + rng.choice(TYPES)  # a stray inside tag
    return tags


def conlleval(script, sents):
    lines = []
    for gold, pred in sents:
        lines += ["w %s %s" % (g, p) for g, p in zip(gold, pred)]
        lines.append("")
    res = subprocess.run(["perl", script], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True)
    return res.stdout


def seqeval_scores(golds, preds, mode=None, scheme=None):
    kw = {"output_dict": True, "zero_division": 0}
    if mode:
        kw.update(mode=mode, scheme=scheme)
    rep = seq_report(golds, preds, **kw)
    out = {}
    for k, v in rep.items():
        out[k] = {"precision": v["precision"], "recall": v["recall"],
                  "f1": v["f1-score"], "support": int(v["support"])}
    return out


def windows(n, size, stride):
    """[(start, end, keep_from, keep_to)] covering n words: each window
    owns the words from the middle of its overlap with the previous one"""
    if n <= size:
        return [(0, n, 0, n)]
    starts = list(range(0, n - size, stride)) + [n - size]
    starts = sorted(set(starts))
    out = []
    for k, s in enumerate(starts):
        e = s + size
        lo = 0 if k == 0 else (starts[k - 1] + size + s) // 2 - s
        hi = size if k == len(starts) - 1 else (e + starts[k + 1]) // 2 - s
        out.append((s, e, lo, hi))
    return out


def write_ner(name, split, scheme, records_in, labels):
    path = os.path.join(OUT, name + ".jsonl.gz")
    hdr = {"sift": 1, "kind": "predictions", "task": "ner", "labels": labels,
           "producer": "make_eval_fixtures.py"}
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write((json.dumps(hdr, separators=(",", ":")) + "\n").encode())
        for rec in records_in:
            f.write((json.dumps(rec, separators=(",", ":")) + "\n").encode())


def ner_fixture(args, name, split, scheme, seed, strict_scheme=None, win=None):
    sents = read_conll(os.path.join(DATA, "conll2003", split))
    rng = random.Random(seed)
    golds, preds, srcs = [], [], []
    for start, tags in sents:
        n = len(tags)
        spans = spans_iob1(tags)
        gold = tags if scheme == "iob1" else encode(spans, n, scheme)
        pred = noise(encode(corrupt(spans, n, rng), n, scheme), scheme, rng)
        golds.append(gold)
        preds.append(pred)
        srcs.append("%s:%d" % (split, start))
    labels = sorted({t for s in golds + preds for t in s})
    recs = []
    for i, (g, p, src) in enumerate(zip(golds, preds, srcs)):
        base = {"id": i, "src": src}
        if win and len(g) > win[0]:
            ws = windows(len(g), *win)
            for k, (s, e, lo, hi) in enumerate(ws):
                recs.append(dict(base, doc=i, win=k, nwin=len(ws), word0=s,
                                 keep=[lo, hi], words=["w"] * (e - s),
                                 pred=p[s:e], gold=g[s:e]))
        else:
            recs.append(dict(base, words=["w"] * len(g), pred=p, gold=g))
    write_ner(name, split, scheme, recs, labels)
    if scheme in ("iob1", "iob2"):
        with open(os.path.join(OUT, name + ".conlleval.txt"), "w") as f:
            f.write(conlleval(args.conlleval, list(zip(golds, preds))))
    ref = {"accuracy": seq_accuracy(golds, preds),
           "default": seqeval_scores(golds, preds)}
    if strict_scheme is not None:
        ref["strict"] = seqeval_scores(golds, preds, "strict", strict_scheme)
    with open(os.path.join(OUT, name + ".seqeval.json"), "w") as f:
        json.dump(ref, f, indent=1, sort_keys=True)
        f.write("\n")
    print(name, len(golds), "sentences,", sum(map(len, golds)), "words,",
          len(recs), "records; seqeval f1 %.4f" % ref["default"]["micro avg"]["f1"])


def random_fixture(args, name, alphabet, seed, strict_scheme, conll):
    """random tag sequences, ill-formed ones included: every rule of the
    chunkers gets exercised"""
    rng = random.Random(seed)
    golds, preds = [], []
    for _ in range(3000):
        n = rng.randint(1, 12)
        golds.append([rng.choice(alphabet) for _ in range(n)])
        preds.append([rng.choice(alphabet) for _ in range(n)])
    labels = sorted(set(alphabet))
    recs = [{"id": i, "words": ["w"] * len(g), "pred": p, "gold": g}
            for i, (g, p) in enumerate(zip(golds, preds))]
    write_ner(name, None, None, recs, labels)
    if conll:
        with open(os.path.join(OUT, name + ".conlleval.txt"), "w") as f:
            f.write(conlleval(args.conlleval, list(zip(golds, preds))))
    ref = {"accuracy": seq_accuracy(golds, preds),
           "default": seqeval_scores(golds, preds),
           "strict": seqeval_scores(golds, preds, "strict", strict_scheme)}
    with open(os.path.join(OUT, name + ".seqeval.json"), "w") as f:
        json.dump(ref, f, indent=1, sort_keys=True)
        f.write("\n")
    print(name, len(golds), "random sentences")


# ---- classification ----

def read_fpb():
    out = []
    path = os.path.join(DATA, "financial_phrasebank", "Sentences_AllAgree.txt")
    with open(path, encoding="latin-1") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if line:
                out.append(("Sentences_AllAgree.txt:%d" % lineno,
                            line.rsplit("@", 1)[1]))
    return out, ["negative", "neutral", "positive"]


def read_ag():
    import csv
    labels = open(os.path.join(DATA, "ag_news", "classes.txt")).read().split()
    out = []
    with open(os.path.join(DATA, "ag_news", "test.csv"), newline="") as f:
        for lineno, row in enumerate(csv.reader(f), 1):
            out.append(("test.csv:%d" % lineno, labels[int(row[0]) - 1]))
    return out, labels


TOPICS = ["ACME", "Globex", "Initech", "Umbrella"]


def cls_fixture(name, rows, labels, seed, flip):
    from sklearn.metrics import classification_report, confusion_matrix
    rng = random.Random(seed)
    recs, gold, pred = [], [], []
    t0 = 1790000000  # 2026-09-21T10:13:20Z
    for i, (src, g) in enumerate(rows):
        p = g if rng.random() >= flip else rng.choice([x for x in labels if x != g])
        w = [rng.random() for _ in labels]
        w[labels.index(p)] += len(labels)
        s = sum(w)
        probs = [round(x / s, 6) for x in w]
        t = t0 + i * 1234 + rng.randrange(600)
        ts = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
        rec = {"id": i, "src": src, "text": "t", "pred": p, "probs": probs,
               "gold": g, "topic": rng.choice(TOPICS)}
        # both spellings sift-report must read: ISO 8601 and epoch seconds
        rec["time"] = ts.strftime("%Y-%m-%dT%H:%M:%SZ") if i % 3 else str(t)
        recs.append(rec)
        gold.append(g)
        pred.append(p)
    hdr = {"sift": 1, "kind": "predictions", "task": "cls", "labels": labels,
           "producer": "make_eval_fixtures.py"}
    with gzip.GzipFile(os.path.join(OUT, name + ".jsonl.gz"), "wb", mtime=0) as f:
        for r in [hdr] + recs:
            f.write((json.dumps(r, separators=(",", ":")) + "\n").encode())
    kw = {"labels": labels, "zero_division": 0}
    with open(os.path.join(OUT, name + ".sklearn.txt"), "w") as f:
        f.write(classification_report(gold, pred, **kw))
    with open(os.path.join(OUT, name + ".sklearn4.txt"), "w") as f:
        f.write(classification_report(gold, pred, digits=4, **kw))
    ref = {"report": classification_report(gold, pred, output_dict=True, **kw),
           "confusion": confusion_matrix(gold, pred, labels=labels).tolist()}

    # pandas: the share of each predicted label per UTC day and topic
    import pandas as pd
    df = pd.DataFrame({
        "time": [pd.Timestamp(int(r["time"]), unit="s", tz="UTC")
                 if r["time"].isdigit() else pd.Timestamp(r["time"])
                 for r in recs],
        "topic": [r["topic"] for r in recs],
        "pred": pred})
    g = df.groupby([pd.Grouper(key="time", freq="1D"), "topic"])["pred"]
    shares = g.value_counts(normalize=True).unstack(fill_value=0.0)
    counts = g.size()
    agg = []
    for (day, topic), row in shares.iterrows():
        agg.append({"window": day.strftime("%Y-%m-%dT%H:%M:%SZ"), "topic": topic,
                    "n": int(counts[(day, topic)]),
                    "share": {lab: float(row.get(lab, 0.0)) for lab in labels}})
    ref["daily_topic"] = agg
    with open(os.path.join(OUT, name + ".sklearn.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(name, len(recs), "texts; accuracy %.4f" % ref["report"]["accuracy"],
          len(agg), "day/topic groups")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conlleval", required=True, help="path of conlleval.pl")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    ner_fixture(args, "conll-testa-iob1", "eng.testa", "iob1", 1)
    ner_fixture(args, "conll-testb-iob2", "eng.testb", "iob2", 2, IOB2)
    ner_fixture(args, "conll-testb-iobes", "eng.testb", "iobes", 3, IOBES)
    # the testa fixture again, long sentences cut into overlapping windows
    ner_fixture(args, "conll-testa-iob1-win", "eng.testa", "iob1", 1, win=(16, 12))
    random_fixture(args, "random-iob", ["O", "O", "B-A", "I-A", "B-B", "I-B"],
                   6, IOB2, True)
    random_fixture(args, "random-iobes", ["O", "O", "B-A", "I-A", "E-A", "S-A",
                                          "B-B", "I-B", "E-B", "S-B"], 7, IOBES, False)
    rows, labels = read_fpb()
    cls_fixture("fpb-allagree", rows, labels, 4, 0.2)
    rows, labels = read_ag()
    cls_fixture("agnews-test", rows, labels, 5, 0.12)


if __name__ == "__main__":
    sys.exit(main())
