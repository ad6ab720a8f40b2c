#!/usr/bin/env python3
"""make_batch_fixtures.py: reference padded batches from Hugging Face collators.

Reads the hand-written examples streams (JSON lines) in tests/fixtures/batch/,
cuts them into batches of --batch-size in input order (as sift-batch does
without --shuffle), pads each batch with the collator a Hugging Face training
script would use -- DataCollatorForTokenClassification for ner,
DataCollatorWithPadding for cls/pair -- and writes one JSON line per batch:
{"B","T","ids","type_ids","mask","labels"} flattened row-major, as
tests/batch.bats compares them.  Run by hand; make check never runs it.

    python3 tests/ref/make_batch_fixtures.py
"""
import json
import os
import sys

from transformers import (BertTokenizerFast, DataCollatorForTokenClassification,
                          DataCollatorWithPadding)

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "batch")
# any BERT vocabulary: only its [PAD] id (0) matters to the collators
VOCAB = os.path.join(HERE, "..", "fixtures", "train", "tok", "vocab.txt")


def flat(rows):
    return [int(v) for row in rows for v in row]


def reference(name, batch_size):
    tok = BertTokenizerFast(vocab_file=VOCAB)
    with open(os.path.join(FIX, name + ".jsonl")) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    header, recs = lines[0], lines[1:]
    ner = header["task"] == "ner"
    out = []
    for s in range(0, len(recs), batch_size):
        batch = recs[s:s + batch_size]
        feats = []
        for r in batch:
            ft = {"input_ids": r["ids"],
                  "token_type_ids": r.get("type_ids", [0] * len(r["ids"])),
                  "attention_mask": [1] * len(r["ids"])}
            if ner:
                # an example without labels takes no loss anywhere
                ft["labels"] = r.get("labels", [-100] * len(r["ids"]))
            else:
                ft["labels"] = r.get("label", -100)
            feats.append(ft)
        if ner:
            coll = DataCollatorForTokenClassification(tok, return_tensors="np")
        else:
            coll = DataCollatorWithPadding(tok, return_tensors="np")
        b = coll(feats)
        B, T = b["input_ids"].shape
        rec = {"B": int(B), "T": int(T),
               "ids": flat(b["input_ids"]),
               "type_ids": flat(b["token_type_ids"]),
               "mask": flat(b["attention_mask"])}
        lab = b["labels"]
        rec["labels"] = flat(lab) if ner else [int(v) for v in lab]
        out.append(rec)
    path = os.path.join(FIX, "%s.b%d.ref.jsonl" % (name, batch_size))
    with open(path, "w") as f:
        for rec in out:
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    reference("ner", 2)
    reference("ner", 3)
    reference("cls", 2)
    reference("cls", 3)
