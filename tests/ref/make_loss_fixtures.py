#!/usr/bin/env python3
"""make_loss_fixtures.py: PyTorch references for sift-train's class weights and label smoothing.

Run by hand (never by make), after make_train_fixtures.py:
    python3 tests/ref/make_loss_fixtures.py
Reads tests/fixtures/train/{seq,tok}/ and {seq,tok}.jsonl (the small random
models and batches of make_train_fixtures.py) and writes there:
  pair.jsonl          seq.jsonl as a pair task (every row's second half is
                      segment 1), for the seq model
  loss-seq.ref.safetensors, loss-tok.ref.safetensors, loss-pair.ref.safetensors
                      <case>.loss0 (1) and <case>.grad.<name> on batch 0 with
                      torch.nn.CrossEntropyLoss(weight=W, label_smoothing=X)
                      (ignore_index -100) for the cases w (weights only), ls
                      (smoothing only) and both (pair: both only);
                      seq also both.step5.<name>, every parameter after 5
                      AdamW steps (one per batch, HYPER as the train
                      fixtures) with both, and both.step5_loss (5);
                      balanced (L): scikit-learn's
                      compute_class_weight("balanced") over the batches'
                      counted targets (what --class-weights auto must give)
  weights-seq.txt, weights-tok.txt
                      the weights W as sift-train --class-weights reads them
  balanced-seq.txt, balanced-tok.txt
                      the balanced weights, in that format too
  loss-dev.json       {"seq": {"plain", "both"}, "tok": {...}}: the loss of
                      the initial model over all 5 batches at once (sift-
                      train's dev loss with --lr 0), without and with both
Dropout is 0; eager attention.
"""
import json
import os

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.utils.class_weight import compute_class_weight
from transformers import (BertForSequenceClassification,
                          BertForTokenClassification,
                          get_linear_schedule_with_warmup)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "train")
HYPER = dict(lr=1e-3, weight_decay=0.01, warmup=2, total=5, max_grad_norm=0.5)
WEIGHTS = {"seq": [0.5, 2.0, 1.25], "tok": [1.0, 3.0, 0.5, 2.0, 0.75]}
SMOOTH = {"seq": 0.1, "tok": 0.2}


def read(path):
    with open(path) as f:
        lines = [json.loads(x) for x in f]
    hdr, bs = lines[0], [x for x in lines[1:] if "B" in x]
    for b in bs:
        B, T = b["B"], b["T"]
        for k in ("ids", "type_ids", "mask"):
            b[k + "_t"] = torch.tensor(b[k]).reshape(B, T)
        lab = torch.tensor(b["labels"])
        b["labels_t"] = lab.reshape(B, T) if hdr["task"] == "ner" else lab
    return hdr, lines, bs


def loss_of(model, b, lossf, L):
    logits = model(input_ids=b["ids_t"], token_type_ids=b["type_ids_t"],
                   attention_mask=b["mask_t"]).logits
    return lossf(logits.reshape(-1, L), b["labels_t"].reshape(-1))


def grads(cls, mdir, b, lossf, L, prefix, ref):
    model = cls.from_pretrained(mdir, attn_implementation="eager")
    model.train()
    loss = loss_of(model, b, lossf, L)
    loss.backward()
    ref[prefix + ".loss0"] = loss.detach().reshape(1)
    for n, p in model.named_parameters():
        ref[prefix + ".grad." + n] = p.grad.detach().clone()


def steps(cls, mdir, bs, lossf, L, prefix, ref):
    model = cls.from_pretrained(mdir, attn_implementation="eager")
    model.train()
    decay = [p for n, p in model.named_parameters()
             if not (n.endswith("bias") or "LayerNorm" in n)]
    nodecay = [p for n, p in model.named_parameters()
               if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": HYPER["weight_decay"]},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=HYPER["lr"], betas=(0.9, 0.999), eps=1e-8)
    sch = get_linear_schedule_with_warmup(opt, HYPER["warmup"], HYPER["total"])
    losses = []
    for b in bs:
        loss = loss_of(model, b, lossf, L)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), HYPER["max_grad_norm"])
        losses.append(float(loss))
        opt.step()
        sch.step()
        opt.zero_grad()
    for n, p in model.named_parameters():
        ref[prefix + ".step5." + n] = p.detach().clone()
    ref[prefix + ".step5_loss"] = torch.tensor(losses)


def dev_loss(cls, mdir, bs, lossf, L):
    """the loss over every batch at once: the sum over all counted
    targets divided by all their weights"""
    model = cls.from_pretrained(mdir, attn_implementation="eager")
    model.eval()
    lossf = torch.nn.CrossEntropyLoss(weight=lossf.weight, label_smoothing=lossf.label_smoothing,
                                      reduction="sum")
    s, n = 0.0, 0.0
    with torch.no_grad():
        for b in bs:
            s += float(loss_of(model, b, lossf, L))
            y = b["labels_t"].reshape(-1)
            y = y[y != -100]
            n += float(lossf.weight[y].sum()) if lossf.weight is not None else len(y)
    return s / n


DEV = {}


def balanced(hdr, bs):
    y = np.concatenate([b["labels_t"].reshape(-1).numpy() for b in bs])
    y = y[y != -100]
    return torch.tensor(compute_class_weight("balanced", classes=np.arange(len(hdr["labels"])), y=y))


def run(name, cls, jsonl, model_name, cases, step5):
    hdr, _, bs = read(os.path.join(OUT, jsonl))
    L = len(hdr["labels"])
    key = model_name
    w = torch.tensor(WEIGHTS[key])
    x = SMOOTH[key]
    mdir = os.path.join(OUT, model_name)
    ref = {}
    for case in cases:
        lossf = torch.nn.CrossEntropyLoss(weight=w if case in ("w", "both") else None,
                                          label_smoothing=x if case in ("ls", "both") else 0.0)
        grads(cls, mdir, bs[0], lossf, L, case, ref)
    if step5:
        steps(cls, mdir, bs, torch.nn.CrossEntropyLoss(weight=w, label_smoothing=x),
              L, "both", ref)
    ref["balanced"] = balanced(hdr, bs)
    if name != "pair":
        DEV[name] = {"plain": dev_loss(cls, mdir, bs, torch.nn.CrossEntropyLoss(), L),
                     "both": dev_loss(cls, mdir, bs, torch.nn.CrossEntropyLoss(
                         weight=w, label_smoothing=x), L)}
    if name != "pair":
        with open(os.path.join(OUT, "balanced-%s.txt" % name), "w") as f:
            f.write("# compute_class_weight('balanced') of %s\n" % jsonl)
            for lab, v in zip(hdr["labels"], ref["balanced"].tolist()):
                f.write("%s\t%.9g\n" % (lab, v))
    save_file({k: v.float().contiguous() for k, v in ref.items()},
              os.path.join(OUT, "loss-%s.ref.safetensors" % name),
              metadata={"weights": json.dumps(WEIGHTS[key]), "smoothing": str(x)})
    print(name, {k: float(v) for k, v in ref.items() if k.endswith("loss0")},
          "balanced", ref["balanced"].tolist())


def pair_stream():
    """seq.jsonl as a pair task: segment 1 from the middle of each row"""
    _, lines, _ = read(os.path.join(OUT, "seq.jsonl"))
    with open(os.path.join(OUT, "pair.jsonl"), "w") as f:
        for rec in lines:
            rec = {k: v for k, v in rec.items() if not k.endswith("_t")}
            if "task" in rec:
                rec["task"] = "pair"
                rec["producer"] = "make_loss_fixtures.py"
            if "B" in rec:
                B, T = rec["B"], rec["T"]
                tt = []
                for i in range(B):
                    n = sum(rec["mask"][i * T:(i + 1) * T])
                    tt += [1 if n // 2 <= t < n else 0 for t in range(T)]
                rec["type_ids"] = tt
            f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    for key, labels in (("seq", ["negative", "neutral", "positive"]),
                        ("tok", ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])):
        with open(os.path.join(OUT, "weights-%s.txt" % key), "w") as f:
            f.write("# class weights of make_loss_fixtures.py\n")
            for lab, v in zip(labels, WEIGHTS[key]):
                f.write("%s\t%s\n" % (lab, v))
    pair_stream()
    run("seq", BertForSequenceClassification, "seq.jsonl", "seq", ("w", "ls", "both"), True)
    run("tok", BertForTokenClassification, "tok.jsonl", "tok", ("w", "ls", "both"), False)
    run("pair", BertForSequenceClassification, "pair.jsonl", "seq", ("both",), False)
    with open(os.path.join(OUT, "loss-dev.json"), "w") as f:
        json.dump(DEV, f, indent=1)
        f.write("\n")
