#!/usr/bin/env python3
"""check_hf_load.py: does transformers load a sift-train checkpoint and
compute the logits sift-fwd computes?

Run by hand (never by make):
  python3 tests/ref/check_hf_load.py OUT_DIR BATCHES.jsonl PREDICTIONS.jsonl
BATCHES.jsonl is the batches stream as JSON lines (sift-cat), PREDICTIONS
the JSON lines of `sift-fwd -m OUT_DIR` over it.  The script loads OUT_DIR
with AutoModelFor{Token,Sequence}Classification.from_pretrained (chosen
by config.json's architectures), runs every batch in eval mode and
compares its probabilities with sift-fwd's (per word: the probability of
the predicted label at the first sub-token; per text: every class).
Prints the largest difference and exits 1 above 1e-4.

  python3 tests/ref/check_hf_load.py OUT_DIR DEV.jsonl LOG.jsonl
for a BertForMaskedLM checkpoint (sift-train --task mlm --dev DEV): LOG is
the run's log as JSON lines, whose last dev round scored the model that
was saved (the last step's); the script loads OUT_DIR with
BertForMaskedLM.from_pretrained, computes the mean cross-entropy and the
masked-token accuracy over DEV's labelled tokens and compares them with
that dev record's loss (within 1e-5) and accuracy (equal).

A sequence checkpoint whose config.json has problem_type
multi_label_classification is compared by the sigmoid of each label
(and the label set at 0.5, as sift-fwd's default --threshold), one of
problem_type regression by its one output, the value sift-fwd writes.

Either way, transformers must report no missing, unexpected or
mismatched tensor (output_loading_info), else the exit is 1.
"""
import json
import sys

import torch
from transformers import (AutoConfig, AutoModelForSequenceClassification,
                          AutoModelForTokenClassification, BertForMaskedLM)


def load(cls, out_dir):
    """the model, and 1 when transformers reports a tensor missing,
    unexpected or of another shape"""
    model, info = cls.from_pretrained(out_dir, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k != "error_msgs"}
    if bad or info.get("error_msgs"):
        print("%s: loading info %s" % (out_dir, info))
    return model, 1 if bad or info.get("error_msgs") else 0


def main_mlm(out_dir, batches, log):
    model, bad = load(BertForMaskedLM, out_dir)
    model.eval()
    dev = [r["dev"] for r in map(json.loads, open(log)) if "dev" in r][-1]
    loss, hits, n = 0.0, 0, 0
    for rec in map(json.loads, open(batches)):
        if "B" not in rec:
            continue
        B, T = rec["B"], rec["T"]
        ids = torch.tensor(rec["ids"]).view(B, T)
        tt = torch.tensor(rec["type_ids"]).view(B, T)
        mask = torch.tensor(rec["mask"]).view(B, T)
        lab = torch.tensor(rec["labels"]).view(B, T)
        with torch.no_grad():
            logits = model(input_ids=ids, token_type_ids=tt,
                           attention_mask=mask).logits.double()
        sel = (lab != -100) & (mask != 0)
        x, y = logits[sel], lab[sel]
        loss += float(torch.nn.functional.cross_entropy(x, y, reduction="sum"))
        hits += int((x.argmax(-1) == y).sum())
        n += int(sel.sum())
    loss /= n
    print("%s: BertForMaskedLM loaded; %d masked tokens, loss %.7f (sift %.7f), "
          "accuracy %.4f (sift %.4f)" % (out_dir, n, loss, dev["loss"], hits / n,
                                         dev["accuracy"]))
    ok = abs(loss - dev["loss"]) <= 1e-5 and abs(hits / n - dev["accuracy"]) < 1e-9
    return 0 if ok and not bad and n == dev["n"] else 1


def main(out_dir, batches, preds):
    cfg = AutoConfig.from_pretrained(out_dir)
    arch = cfg.architectures[0]
    if arch == "BertForMaskedLM":
        return main_mlm(out_dir, batches, preds)
    cls = (AutoModelForTokenClassification if arch == "BertForTokenClassification"
           else AutoModelForSequenceClassification)
    model, bad = load(cls, out_dir)
    model.eval()
    lines = [json.loads(l) for l in open(batches)]
    got = [json.loads(l) for l in open(preds)][1:]
    got = {g["id"]: g for g in got}
    worst, n, flips = 0.0, 0, 0
    for rec in lines[1:]:
        if "B" not in rec:
            continue
        B, T = rec["B"], rec["T"]
        ids = torch.tensor(rec["ids"]).view(B, T)
        tt = torch.tensor(rec["type_ids"]).view(B, T)
        mask = torch.tensor(rec["mask"]).view(B, T)
        with torch.no_grad():
            logits = model(input_ids=ids, token_type_ids=tt, attention_mask=mask).logits
        problem = getattr(cfg, "problem_type", None)
        if problem == "regression":
            for i, ex in enumerate(rec["ex"]):
                x = float(logits[i, 0])
                worst = max(worst, abs(x - got[ex["id"]]["pred"]) / (1 + abs(x)))
                n += 1
            continue
        if problem == "multi_label_classification":
            probs = torch.sigmoid(logits)
            for i, ex in enumerate(rec["ex"]):
                g = got[ex["id"]]
                for j, x in enumerate(g["probs"]):
                    worst = max(worst, abs(float(probs[i, j]) - x))
                want = [cfg.id2label[j] for j in range(probs.shape[1]) if probs[i, j] >= 0.5]
                flips += want != g["pred"]
                n += 1
            continue
        probs = torch.softmax(logits, -1)
        for i, ex in enumerate(rec["ex"]):
            g = got[ex["id"]]
            if "word_idx" in ex:
                seen = set()
                w = 0
                for t, wi in enumerate(ex["word_idx"]):
                    if wi < 0 or wi in seen:
                        continue
                    seen.add(wi)
                    p = probs[i, t]
                    worst = max(worst, abs(float(p.max()) - g["prob"][w]))
                    flips += cfg.id2label[int(p.argmax())] != g["pred"][w]
                    w += 1
                    n += 1
            else:
                for j, x in enumerate(g["probs"]):
                    worst = max(worst, abs(float(probs[i, j]) - x))
                flips += cfg.id2label[int(probs[i].argmax())] != g["pred"]
                n += 1
    print("%s: %s loaded; %d predictions, largest probability difference %.3g, "
          "%d different labels" % (out_dir, arch, n, worst, flips))
    return 0 if worst <= 1e-4 and flips == 0 and not bad else 1


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
