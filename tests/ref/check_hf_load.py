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
"""
import json
import sys

import torch
from transformers import (AutoConfig, AutoModelForSequenceClassification,
                          AutoModelForTokenClassification)


def main(out_dir, batches, preds):
    cfg = AutoConfig.from_pretrained(out_dir)
    arch = cfg.architectures[0]
    cls = (AutoModelForTokenClassification if arch == "BertForTokenClassification"
           else AutoModelForSequenceClassification)
    model = cls.from_pretrained(out_dir)
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
            probs = torch.softmax(model(input_ids=ids, token_type_ids=tt,
                                        attention_mask=mask).logits, -1)
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
    return 0 if worst <= 1e-4 and flips == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
