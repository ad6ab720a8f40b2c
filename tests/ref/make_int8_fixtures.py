#!/usr/bin/env python3
"""make_int8_fixtures.py: predictions of PyTorch's dynamically quantised (int8) BERT for sift-fwd --precision int8.

Run by hand from the repository root (never by make), after
make_fwd_fixtures.py:

    /work/venv-ref/bin/python tests/ref/make_int8_fixtures.py

It reads the small random models and batches streams that
make_fwd_fixtures.py wrote (tests/fixtures/fwd/{tok,cls}-model,
{ner,cls}.batches.jsonl) and writes tests/fixtures/fwd/ner.int8.expect.jsonl
and cls.int8.expect.jsonl: the predictions of each model after

    torch.ao.quantization.quantize_dynamic(model, {nn.Linear: per_channel_dynamic_qconfig})

on the fbgemm engine: every nn.Linear (encoder, pooler, classifier) with
per-output-channel symmetric qint8 weights and 7-bit (reduce_range)
activations.  quantize_dynamic quantises a linear's whole input tensor with
one scale; sift quantises each row (token) on its own, so each quantised
Linear here is applied row by row: the same torch module, its own
quantisation parameters and kernels, over one row at a time, which is
sift's scheme.  It prints how far the predictions are from fp32, per row
(the fixture) and per tensor (quantize_dynamic as is), for the record.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
from transformers import BertForSequenceClassification, BertForTokenClassification

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures", "fwd")

torch.backends.quantized.engine = "fbgemm"
torch.set_num_threads(1)


class PerRow(nn.Module):
    """a dynamically quantised Linear applied to one row at a time"""

    def __init__(self, q):
        super().__init__()
        self.q = q

    def forward(self, x):
        shape = x.shape
        rows = x.reshape(-1, shape[-1])
        y = torch.cat([self.q(rows[i:i + 1]) for i in range(rows.shape[0])])
        return y.reshape(*shape[:-1], y.shape[-1])


def quantised(model, per_row):
    q = quantize_dynamic(model, {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
    if per_row:
        for name, mod in list(q.named_modules()):
            for cname, child in list(mod.named_children()):
                if isinstance(child, torch.ao.nn.quantized.dynamic.Linear):
                    setattr(mod, cname, PerRow(child))
    return q.eval()


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def write_jsonl(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def probs_of(model, b):
    B, T = b["B"], b["T"]
    t = lambda k: torch.tensor(b[k], dtype=torch.int64).reshape(B, T)
    with torch.no_grad():
        logits = model(input_ids=t("ids"), token_type_ids=t("type_ids"),
                       attention_mask=t("mask")).logits
    return torch.softmax(logits.double(), -1).numpy()


def ner(model, stream):
    hdr, batches = stream[0], stream[1:]
    labels = hdr["labels"]
    docs = {}
    for b in batches:
        probs = probs_of(model, b)
        for i, ex in enumerate(b["ex"]):
            d = docs.setdefault(ex["doc"], {"id": ex["doc"], "src": ex["src"], "w": {}})
            k0, k1 = ex["keep"]
            seen = set()
            for t, w in enumerate(ex["word_idx"]):
                if w < 0 or w in seen:
                    continue
                seen.add(w)
                if k0 <= w < k1:
                    d["w"][ex["word0"] + w] = (ex["words"][w], probs[i, t])
    out = []
    for k in sorted(docs):
        d = docs[k]
        n = len(d["w"])
        out.append({"id": d["id"], "src": d["src"],
                    "words": [d["w"][j][0] for j in range(n)],
                    "pred": [labels[int(d["w"][j][1].argmax())] for j in range(n)],
                    "prob": [round(float(d["w"][j][1].max()), 7) for j in range(n)]})
    return out


def cls(model, stream):
    hdr, batches = stream[0], stream[1:]
    out = []
    for b in batches:
        probs = probs_of(model, b)
        for i, ex in enumerate(b["ex"]):
            out.append({"id": ex["id"], "pred": hdr["labels"][int(probs[i].argmax())],
                        "probs": [round(float(x), 7) for x in probs[i]]})
    return out


def gap(a, b):
    key = "prob" if "prob" in a[0] else "probs"
    return max(float(np.max(np.abs(np.array(x[key]) - np.array(y[key])))) for x, y in zip(a, b))


def main():
    for name, cls_, fn in (("ner", BertForTokenClassification, ner),
                           ("cls", BertForSequenceClassification, cls)):
        model = cls_.from_pretrained(os.path.join(FIX, "tok-model" if name == "ner" else "cls-model")).eval()
        stream = read_jsonl(os.path.join(FIX, name + ".batches.jsonl"))
        fp32 = fn(model, stream)
        row = fn(quantised(model, True), stream)
        tensor = fn(quantised(model, False), stream)
        write_jsonl(os.path.join(FIX, name + ".int8.expect.jsonl"), row)
        print("%s: max |p - p_fp32|: per row %.2e, per tensor %.2e; per row vs per tensor %.2e"
              % (name, gap(row, fp32), gap(tensor, fp32), gap(row, tensor)))


if __name__ == "__main__":
    main()
