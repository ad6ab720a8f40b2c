#!/usr/bin/env python3
"""ddp_train.py: the PyTorch peer of sift-train under mpirun, on the very same batches.

usage: torchrun --nproc_per_node N bench/ddp_train.py MODEL TRAIN.jsonl [--accum A]
       python3 bench/ddp_train.py MODEL TRAIN.jsonl --accum A     (one process)

TRAIN.jsonl is a batches stream as JSON lines (sift-cat of sift-batch's
output).  As sift-train's ranks do, rank r of N takes batches r, r+N, ...
of each group of N x A; one AdamW step per group, the gradients averaged
by DistributedDataParallel (gloo allreduce on the CPU), each batch's
loss divided by A (and DDP's mean over the ranks).  Dropout off (as the
benchmark's sift-train run), lr 5e-5.  Rank 0 prints one line: steps,
real tokens, seconds, tokens/s, and the gradient bytes a step exchanges.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.distributed as dist
from transformers import AutoModelForTokenClassification


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("train")
    ap.add_argument("--accum", type=int, default=1)
    a = ap.parse_args()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("gloo")
    recs = [json.loads(l) for l in open(a.train)]
    head, batches = recs[0], [r for r in recs[1:] if "B" in r]
    torch.manual_seed(1)
    model = AutoModelForTokenClassification.from_pretrained(
        a.model, num_labels=len(head["labels"]), hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0)
    model.train()
    nparams = sum(p.numel() for p in model.parameters() if p.requires_grad)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    group = world * a.accum
    steps = tokens = 0
    t0 = time.perf_counter()
    for g in range(0, len(batches), group):
        mine = batches[g + rank:g + group:world]
        for i, r in enumerate(mine):
            B, T = r["B"], r["T"]
            out = net(input_ids=torch.tensor(r["ids"]).view(B, T),
                      token_type_ids=torch.tensor(r["type_ids"]).view(B, T),
                      attention_mask=torch.tensor(r["mask"]).view(B, T),
                      labels=torch.tensor(r["labels"]).view(B, T))
            loss = out.loss / a.accum
            if world > 1 and i < len(mine) - 1:
                with net.no_sync():
                    loss.backward()
            else:
                loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        steps += 1
        tokens += sum(sum(r["mask"]) for r in batches[g:g + group])
    secs = time.perf_counter() - t0
    if rank == 0:
        print(f"{steps} steps {tokens} tokens {secs:.2f} s {tokens / secs:.1f} tokens/s "
              f"{nparams * 4} gradient bytes", file=sys.stderr)
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
