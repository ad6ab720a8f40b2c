#!/usr/bin/env python3
"""make_problem_fixtures.py: PyTorch/transformers references for the
multi-label and regression heads of sift-train and sift-fwd, and the
scikit-learn/scipy scores of sift-eval for them.

Run by hand (never by make):  python3 tests/ref/make_problem_fixtures.py
Writes, as make_train_fixtures.py does for seq (same shapes, HYPER):
  tests/fixtures/train/multi/, reg/
        small random BertForSequenceClassification, problem_type
        multi_label_classification (4 labels) and regression (1 label)
  tests/fixtures/train/multi.jsonl, reg.jsonl
        5 batches whose labels are f32[B*L] multi-hot or f32[B] targets,
        the examples' label_set or target in ex
  tests/fixtures/train/multi.ref.safetensors, reg.ref.safetensors
        loss0, logits0, grad.<name> on batch 0; step5.<name>, step5_loss,
        step5_lr, step5_grad_norm after 5 AdamW steps; accum3.<name>
  tests/fixtures/train/multi.expect.jsonl, reg.expect.jsonl
        sift-fwd's predictions with the model after the 5 steps: probs
        (sigmoid) and the label set at 0.5, or the value
  tests/fixtures/eval/multi.pred.jsonl, reg.pred.jsonl,
  tests/fixtures/eval/multi.expect.json, reg.expect.json
        prediction streams and their scores: sklearn f1_score
        (micro/macro, zero_division=0), precision/recall, accuracy_score
        (subset), hamming_loss on multi-hot arrays; mean_squared_error,
        mean_absolute_error, scipy pearsonr and spearmanr (ties averaged)
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import (accuracy_score, f1_score, hamming_loss,
                             mean_absolute_error, mean_squared_error,
                             precision_score, recall_score)
from transformers import BertForSequenceClassification, get_linear_schedule_with_warmup

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_train_fixtures import HYPER, VOCAB, batches, config  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "train")
EVAL = os.path.join(HERE, "..", "fixtures", "eval")
MULTI_LABELS = ["billing", "bug", "refund", "urgent"]


def problem_batches(problem, nlabels, gen):
    bs = batches("cls", nlabels, gen)
    for b in bs:
        if problem == "multi_label_classification":
            b["labels"] = (torch.rand(b["B"], nlabels, generator=gen) < 0.4).float()
        else:
            # scores with a tie, as STS-B's halves
            b["labels"] = torch.round(torch.rand(b["B"], generator=gen) * 10) / 2
    return bs


def examples(problem, labels, b, k):
    ex = []
    for i in range(b["B"]):
        e = {"id": 100 * k + i, "src": "fixture:%d" % (100 * k + i),
             "text": "text %d" % (100 * k + i)}
        if problem == "multi_label_classification":
            e["label_set"] = [j for j in range(len(labels)) if b["labels"][i, j] > 0]
        else:
            e["target"] = float(b["labels"][i])
        ex.append(e)
    return ex


def write_stream(path, problem, labels, bs):
    with open(path, "w") as f:
        hdr = {"sift": 1, "kind": "batches", "task": "cls", "labels": labels,
               "producer": "make_problem_fixtures.py", "total": len(bs),
               "epochs": 1, "batch_size": 4, "seed": 0, "problem_type": problem}
        f.write(json.dumps(hdr) + "\n")
        for k, b in enumerate(bs):
            rec = {"B": b["B"], "T": b["T"],
                   "ids": b["ids"].flatten().tolist(),
                   "type_ids": b["type_ids"].flatten().tolist(),
                   "mask": b["mask"].flatten().tolist(),
                   # floats, so that sift-cat makes an f32 array
                   "labels": [float(x) for x in b["labels"].flatten().tolist()],
                   "epoch": 0, "ex": examples(problem, labels, b, k)}
            f.write(json.dumps(rec) + "\n")
        f.write(json.dumps({"epoch_end": 0}) + "\n")


def adamw(model):
    decay = [p for n, p in model.named_parameters()
             if not (n.endswith("bias") or "LayerNorm" in n)]
    nodecay = [p for n, p in model.named_parameters()
               if n.endswith("bias") or "LayerNorm" in n]
    return torch.optim.AdamW([{"params": decay, "weight_decay": HYPER["weight_decay"]},
                              {"params": nodecay, "weight_decay": 0.0}],
                             lr=HYPER["lr"], betas=(0.9, 0.999), eps=1e-8)


def fwd(model, b):
    return model(input_ids=b["ids"], token_type_ids=b["type_ids"],
                 attention_mask=b["mask"], labels=b["labels"])


def run(name, problem, labels, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    cfg = config(labels)
    cfg.problem_type = problem
    cfg._attn_implementation = "eager"
    model = BertForSequenceClassification(cfg)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("bias") or "LayerNorm" in n:
                p.add_(0.1 * torch.randn(p.shape, generator=gen))
    mdir = os.path.join(OUT, name)
    model.save_pretrained(mdir)
    with open(os.path.join(mdir, "vocab.txt"), "w") as f:
        for i in range(VOCAB):
            f.write(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"][i] + "\n" if i < 5
                    else "w%d\n" % i)
    with open(os.path.join(mdir, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer",
                   "model_max_length": 32}, f)
    bs = problem_batches(problem, len(labels), gen)
    write_stream(os.path.join(OUT, name + ".jsonl"), problem, labels, bs)

    model.train()
    ref = {}
    out = fwd(model, bs[0])
    out.loss.backward()
    ref["loss0"] = out.loss.detach().reshape(1)
    ref["logits0"] = out.logits.detach().reshape(-1).contiguous()
    for n, p in model.named_parameters():
        ref["grad." + n] = p.grad.detach().clone()
    model.zero_grad()

    opt = adamw(model)
    sch = get_linear_schedule_with_warmup(opt, HYPER["warmup"], HYPER["total"])
    norms, losses, lrs = [], [], []
    for b in bs:
        out = fwd(model, b)
        out.loss.backward()
        lrs.append(sch.get_last_lr()[0])
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(),
                                                          HYPER["max_grad_norm"])))
        losses.append(float(out.loss))
        opt.step()
        sch.step()
        opt.zero_grad()
    for n, p in model.named_parameters():
        ref["step5." + n] = p.detach().clone()
    ref["step5_loss"] = torch.tensor(losses)
    ref["step5_lr"] = torch.tensor(lrs)
    ref["step5_grad_norm"] = torch.tensor(norms)
    model.eval()
    with open(os.path.join(OUT, name + ".expect.jsonl"), "w") as f, torch.no_grad():
        for k, b in enumerate(bs):
            logits = fwd(model, b).logits
            for i, e in enumerate(examples(problem, labels, b, k)):
                if problem == "regression":
                    rec = {"id": e["id"], "pred": round(float(logits[i, 0]), 7)}
                else:
                    p = torch.sigmoid(logits[i])
                    rec = {"id": e["id"],
                           "pred": [labels[j] for j in range(len(labels)) if p[j] >= 0.5],
                           "probs": [round(float(x), 7) for x in p]}
                f.write(json.dumps(rec) + "\n")

    model = BertForSequenceClassification.from_pretrained(mdir)
    model.train()
    opt = adamw(model)
    sch = get_linear_schedule_with_warmup(opt, 1, 3)
    for group in (bs[0:2], bs[2:4], bs[4:5]):
        for b in group:
            (fwd(model, b).loss / 2).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), HYPER["max_grad_norm"])
        opt.step()
        sch.step()
        opt.zero_grad()
    for n, p in model.named_parameters():
        ref["accum3." + n] = p.detach().clone()
    save_file({k: v.float().contiguous() for k, v in ref.items()},
              os.path.join(OUT, name + ".ref.safetensors"),
              metadata={k: str(v) for k, v in HYPER.items()})
    print(name, "loss0", float(ref["loss0"]), "norms", norms, file=sys.stderr)


def eval_fixtures():
    rng = np.random.default_rng(15)
    n, L = 40, len(MULTI_LABELS)
    gold = (rng.random((n, L)) < 0.35).astype(int)
    pred = gold.copy()
    flip = rng.random((n, L)) < 0.2
    pred[flip] = 1 - pred[flip]
    pred[:, 3] = 0  # a label never predicted: zero_division=0
    gold[0] = 0     # an empty gold set
    hdr = {"sift": 1, "kind": "predictions", "task": "cls", "labels": MULTI_LABELS,
           "producer": "make_problem_fixtures.py",
           "problem_type": "multi_label_classification"}
    names = lambda row: [MULTI_LABELS[j] for j in range(L) if row[j]]
    with open(os.path.join(EVAL, "multi.pred.jsonl"), "w") as f:
        f.write(json.dumps(hdr) + "\n")
        for i in range(n):
            f.write(json.dumps({"id": i, "pred": names(pred[i]), "gold": names(gold[i])}) + "\n")
    exp = {"examples": n,
           "subset_accuracy": accuracy_score(gold, pred),
           "hamming_loss": hamming_loss(gold, pred),
           "micro": {"precision": precision_score(gold, pred, average="micro", zero_division=0),
                     "recall": recall_score(gold, pred, average="micro", zero_division=0),
                     "f1": f1_score(gold, pred, average="micro", zero_division=0)},
           "macro": {"precision": precision_score(gold, pred, average="macro", zero_division=0),
                     "recall": recall_score(gold, pred, average="macro", zero_division=0),
                     "f1": f1_score(gold, pred, average="macro", zero_division=0)},
           "classes": {MULTI_LABELS[j]: {
               "precision": precision_score(gold[:, j], pred[:, j], zero_division=0),
               "recall": recall_score(gold[:, j], pred[:, j], zero_division=0),
               "f1": f1_score(gold[:, j], pred[:, j], zero_division=0),
               "support": int(gold[:, j].sum())} for j in range(L)}}
    with open(os.path.join(EVAL, "multi.expect.json"), "w") as f:
        json.dump(exp, f, indent=1)

    y = np.round(rng.random(30) * 10) / 2          # ties among the gold
    x = (y + rng.normal(0, 1, 30)).astype(np.float32)
    x[5] = x[6]                                      # and a tie among the predictions
    hdr = {"sift": 1, "kind": "predictions", "task": "pair", "labels": ["score"],
           "producer": "make_problem_fixtures.py", "problem_type": "regression"}
    with open(os.path.join(EVAL, "reg.pred.jsonl"), "w") as f:
        f.write(json.dumps(hdr) + "\n")
        for i in range(30):
            f.write(json.dumps({"id": i, "pred": float(x[i]), "gold": float(y[i])}) + "\n")
    x = x.astype(np.float64)
    exp = {"examples": 30, "mse": mean_squared_error(y, x), "mae": mean_absolute_error(y, x),
           "pearson": float(pearsonr(x, y)[0]), "spearman": float(spearmanr(x, y)[0])}
    with open(os.path.join(EVAL, "reg.expect.json"), "w") as f:
        json.dump(exp, f, indent=1)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    run("multi", "multi_label_classification", MULTI_LABELS, 1515)
    run("reg", "regression", ["score"], 5151)
    eval_fixtures()
