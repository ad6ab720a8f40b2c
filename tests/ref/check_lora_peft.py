#!/usr/bin/env python3
"""check_lora_peft.py: does peft load a sift-train --lora adapter and
compute the probabilities sift-fwd --adapter computes?

Run by hand (never by make):
  python3 tests/ref/check_lora_peft.py BASE ADAPTER BATCHES.jsonl PREDICTIONS.jsonl
BASE is the model sift-train -m was given, ADAPTER its -o directory,
BATCHES.jsonl the batches stream as JSON lines (sift-cat), PREDICTIONS the
JSON lines of `sift-fwd -m BASE --adapter ADAPTER` over it.  The script
loads BASE with AutoModelFor{Sequence,Token}Classification (by the
adapter's task_type, the labels of sift-adapter.json), then
PeftModel.from_pretrained(base, ADAPTER), runs every batch in eval mode
and compares the probabilities with sift-fwd's (per word: the predicted
label's at the first sub-token; per text: every class).  Prints the
largest difference and exits 1 above 1e-4, or when peft reports a tensor
of the adapter missing or unexpected.
"""
import json
import os
import sys

import torch
from peft import PeftModel
from transformers import (AutoModelForSequenceClassification,
                          AutoModelForTokenClassification)


def main(base, adapter, batches, preds):
    ac = json.load(open(os.path.join(adapter, "adapter_config.json")))
    labels = json.load(open(os.path.join(adapter, "sift-adapter.json")))["labels"]
    cls = (AutoModelForTokenClassification if ac["task_type"] == "TOKEN_CLS"
           else AutoModelForSequenceClassification)
    m = cls.from_pretrained(base, num_labels=len(labels),
                            id2label=dict(enumerate(labels)),
                            label2id={l: i for i, l in enumerate(labels)},
                            attn_implementation="eager")
    model = PeftModel.from_pretrained(m, adapter)
    model.eval()
    # every adapter tensor of the file went into the model
    from safetensors import safe_open
    keys = set(safe_open(os.path.join(adapter, "adapter_model.safetensors"), "pt").keys())
    sd = model.state_dict()
    loaded = {k.replace(".default", "").replace("modules_to_save.", "") for k in sd}
    missing = [k for k in keys if k not in loaded]
    if missing:
        print("tensors of the adapter not in the peft model:", missing[:5])
    lines = [json.loads(l) for l in open(batches)]
    got = {g["id"]: g for g in [json.loads(l) for l in open(preds)][1:]}
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
                seen, w = set(), 0
                for t, wi in enumerate(ex["word_idx"]):
                    if wi < 0 or wi in seen:
                        continue
                    seen.add(wi)
                    p = probs[i, t]
                    worst = max(worst, abs(float(p.max()) - g["prob"][w]))
                    flips += labels[int(p.argmax())] != g["pred"][w]
                    w += 1
                    n += 1
            else:
                for j, x in enumerate(g["probs"]):
                    worst = max(worst, abs(float(probs[i, j]) - x))
                flips += labels[int(probs[i].argmax())] != g["pred"]
                n += 1
    print("%s: PeftModel loaded on %s (%s, r %d, targets %s); %d predictions, "
          "largest probability difference %.3g, %d different labels"
          % (adapter, base, ac["task_type"], ac["r"], ac["target_modules"], n,
             worst, flips))
    return 0 if worst <= 1e-4 and flips == 0 and not missing else 1


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
