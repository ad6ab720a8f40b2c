#!/usr/bin/env python3
"""int8_peer.py: transformers' eager forward, fp32 or after torch's quantize_dynamic, over a batches stream (JSON lines), timed.

usage: int8_peer.py BATCHES.jsonl MODEL THREADS fp32|int8
Prints "wall-seconds cpu-seconds" of the forward passes alone (the model
loaded and quantised before the clock starts).  int8 is
torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8),
as PyTorch's BERT tutorial does (per-tensor weights, the default engine).
"""
import json
import resource
import sys
import time
import warnings

import torch
import torch.nn as nn
from transformers import BertForTokenClassification
from transformers.utils import logging

logging.set_verbosity_error()
logging.disable_progress_bar()
warnings.filterwarnings("ignore")
path, model, th, prec = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(th)
hdr, batches = None, []
for line in open(path):
    r = json.loads(line)
    if "sift" in r:
        hdr = r
    elif "B" in r:
        B, T = r["B"], r["T"]
        batches.append((torch.tensor(r["ids"]).view(B, T),
                        torch.tensor(r["type_ids"]).view(B, T),
                        torch.tensor(r["mask"]).view(B, T)))
m = BertForTokenClassification.from_pretrained(model, num_labels=len(hdr["labels"])).eval()
if prec == "int8":
    m = torch.ao.quantization.quantize_dynamic(m, {nn.Linear}, dtype=torch.qint8)


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


t, c = time.perf_counter(), cpu()
with torch.inference_mode():
    for ids, tt, mask in batches:
        m(input_ids=ids, token_type_ids=tt, attention_mask=mask).logits.softmax(-1)
print("%.2f %.2f" % (time.perf_counter() - t, cpu() - c))
