#!/usr/bin/env python3
"""make_train_fixtures.py: PyTorch/transformers references for sift-train.

Run by hand (never by make):  python3 tests/ref/make_train_fixtures.py
Writes tests/fixtures/train/:
  tok/, seq/        small random BertForTokenClassification and
                    BertForSequenceClassification (config.json,
                    model.safetensors, vocab.txt, tokenizer_config.json):
                    the initial models
  nan/              tok's initial model with a NaN classifier weight
  tok.jsonl, seq.jsonl
                    a batches stream as JSON lines (header, then 5 padded
                    batches, then an epoch marker); sift-cat turns it
                    into msgpack
  tok.expect.jsonl, seq.expect.jsonl
                    what sift-fwd must predict (pred, prob/probs) with the
                    model after the 5 steps, in eval mode
  tok.ref.safetensors, seq.ref.safetensors
                    loss0 (1), logits0 (B*T*L or B*L): forward on batch 0;
                    grad.<name>: the gradient of every parameter on batch 0;
                    step5.<name>: every parameter after 5 AdamW steps (one
                    per batch) with the hyperparameters in HYPER
                    accum3.<name>: after 3 steps accumulating 2 batches
                    each (the last step 1), warmup 1 of 3
Dropout is 0 (parity needs it); eager attention.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (BertConfig, BertForSequenceClassification,
                          BertForTokenClassification,
                          get_linear_schedule_with_warmup)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "train")
HYPER = dict(lr=1e-3, weight_decay=0.01, warmup=2, total=5, max_grad_norm=0.5)
VOCAB = 500
TOK_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SEQ_LABELS = ["negative", "neutral", "positive"]


def config(labels):
    return BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2,
                      num_attention_heads=4, intermediate_size=64,
                      max_position_embeddings=32, type_vocab_size=2,
                      hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                      hidden_act="gelu", layer_norm_eps=1e-12,
                      id2label=dict(enumerate(labels)),
                      label2id={l: i for i, l in enumerate(labels)})


def batches(task, nlabels, gen):
    """5 padded batches: B rows, lengths drawn per row, [CLS] .. [SEP]."""
    out = []
    shapes = [(3, 12), (2, 9), (4, 7), (3, 16), (2, 5)]
    for k, (B, T) in enumerate(shapes):
        ids = torch.zeros(B, T, dtype=torch.long)
        tt = torch.zeros(B, T, dtype=torch.long)
        mask = torch.zeros(B, T, dtype=torch.long)
        lab = torch.full((B, T), -100, dtype=torch.long)
        for b in range(B):
            n = T if b == 0 else int(torch.randint(3, T + 1, (1,), generator=gen))
            ids[b, 0] = 2
            ids[b, 1:n - 1] = torch.randint(5, VOCAB, (n - 2,), generator=gen)
            ids[b, n - 1] = 3
            mask[b, :n] = 1
            if task == "pair" or (task == "cls" and b % 2 == 1):
                tt[b, n // 2:n] = 1
            for t in range(1, n - 1):
                # some subword continuations carry no label, as sift-tok does
                if t == 1 or torch.rand(1, generator=gen).item() < 0.8:
                    lab[b, t] = int(torch.randint(0, nlabels, (1,), generator=gen))
        if task == "ner":
            labels = lab
        else:
            labels = torch.randint(0, nlabels, (B,), generator=gen)
        out.append(dict(B=B, T=T, ids=ids, type_ids=tt, mask=mask, labels=labels, epoch=0))
    return out


def examples(task, labels, b, k):
    """the ex maps of batch k, as sift-tok/sift-batch write them: for ner a
    word per labelled token (its first sub-token), the -100 tokens inside
    continuing the previous word"""
    ex = []
    for i in range(b["B"]):
        n = int(b["mask"][i].sum())
        e = {"id": 100 * k + i, "src": "fixture:%d" % (100 * k + i)}
        if task == "ner":
            widx, words, gold = [-1], [], []
            for t in range(1, n - 1):
                lab = int(b["labels"][i, t])
                if lab != -100:
                    words.append("w%d" % len(words))
                    gold.append(labels[lab])
                widx.append(len(words) - 1)
            widx.append(-1)
            e.update(words=words, word_idx=widx, doc=100 * k + i, win=0, nwin=1,
                     word0=0, keep=[0, len(words)], gold=gold)
        else:
            e.update(text="text %d" % (100 * k + i), label=int(b["labels"][i]))
        ex.append(e)
    return ex


def expect(task, labels, model, bs):
    """the predictions sift-fwd must write for these batches"""
    out = []
    model.eval()
    with torch.no_grad():
        for k, b in enumerate(bs):
            logits = model(input_ids=b["ids"], token_type_ids=b["type_ids"],
                           attention_mask=b["mask"]).logits
            probs = torch.softmax(logits, -1)
            for i, e in enumerate(examples(task, labels, b, k)):
                if task == "ner":
                    first = [t for t in range(1, b["T"]) if int(b["labels"][i, t]) != -100]
                    p = probs[i, first]
                    out.append({"id": e["id"], "pred": [labels[int(j)] for j in p.argmax(-1)],
                                "prob": [round(float(x), 7) for x in p.max(-1).values]})
                else:
                    p = probs[i]
                    out.append({"id": e["id"], "pred": labels[int(p.argmax())],
                                "probs": [round(float(x), 7) for x in p]})
    return out


def write_stream(path, task, labels, bs):
    with open(path, "w") as f:
        hdr = {"sift": 1, "kind": "batches", "task": task, "labels": labels,
               "producer": "make_train_fixtures.py", "total": len(bs),
               "epochs": 1, "batch_size": 4, "seed": 0}
        f.write(json.dumps(hdr) + "\n")
        for b in bs:
            rec = {"B": b["B"], "T": b["T"],
                   "ids": b["ids"].flatten().tolist(),
                   "type_ids": b["type_ids"].flatten().tolist(),
                   "mask": b["mask"].flatten().tolist(),
                   "labels": b["labels"].flatten().tolist(), "epoch": 0,
                   "ex": examples(task, labels, b, bs.index(b))}
            f.write(json.dumps(rec) + "\n")
        f.write(json.dumps({"epoch_end": 0}) + "\n")


def run(name, cls, task, labels, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    cfg = config(labels)
    cfg._attn_implementation = "eager"
    model = cls(cfg)
    # non-trivial LayerNorm and bias values, so their gradients are tested
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
    bs = batches(task, len(labels), gen)
    write_stream(os.path.join(OUT, name + ".jsonl"), task, labels, bs)

    model.train()  # dropout is 0, so train() only matters for the record
    ref = {}
    b = bs[0]
    out = model(input_ids=b["ids"], token_type_ids=b["type_ids"],
                attention_mask=b["mask"], labels=b["labels"])
    out.loss.backward()
    ref["loss0"] = out.loss.detach().reshape(1)
    ref["logits0"] = out.logits.detach().reshape(-1).contiguous()
    for n, p in model.named_parameters():
        ref["grad." + n] = p.grad.detach().clone()
    model.zero_grad()

    decay = [p for n, p in model.named_parameters()
             if not (n.endswith("bias") or "LayerNorm" in n)]
    nodecay = [p for n, p in model.named_parameters()
               if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": HYPER["weight_decay"]},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=HYPER["lr"], betas=(0.9, 0.999), eps=1e-8)
    sch = get_linear_schedule_with_warmup(opt, HYPER["warmup"], HYPER["total"])
    norms, losses, lrs = [], [], []
    for b in bs:
        out = model(input_ids=b["ids"], token_type_ids=b["type_ids"],
                    attention_mask=b["mask"], labels=b["labels"])
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
    with open(os.path.join(OUT, name + ".expect.jsonl"), "w") as f:
        for e in expect(task, labels, model, bs):
            f.write(json.dumps(e) + "\n")
    ref["step5_loss"] = torch.tensor(losses)
    ref["step5_lr"] = torch.tensor(lrs)
    ref["step5_grad_norm"] = torch.tensor(norms)
    # gradient accumulation: groups of 2 batches (the last one alone), each
    # batch loss divided by 2 as HF Trainer does; warmup 1 of 3 steps
    model = cls.from_pretrained(mdir)
    model.train()
    decay = [p for n, p in model.named_parameters()
             if not (n.endswith("bias") or "LayerNorm" in n)]
    nodecay = [p for n, p in model.named_parameters()
               if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": HYPER["weight_decay"]},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=HYPER["lr"], betas=(0.9, 0.999), eps=1e-8)
    sch = get_linear_schedule_with_warmup(opt, 1, 3)
    for group in (bs[0:2], bs[2:4], bs[4:5]):
        for b in group:
            out = model(input_ids=b["ids"], token_type_ids=b["type_ids"],
                        attention_mask=b["mask"], labels=b["labels"])
            (out.loss / 2).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), HYPER["max_grad_norm"])
        opt.step()
        sch.step()
        opt.zero_grad()
    for n, p in model.named_parameters():
        ref["accum3." + n] = p.detach().clone()

    if name == "tok":
        # a copy with a NaN in the classifier: the loss of step 1 is NaN
        ndir = os.path.join(OUT, "nan")
        nan = cls.from_pretrained(mdir)
        with torch.no_grad():
            nan.classifier.weight[0, 0] = float("nan")
        nan.save_pretrained(ndir)
    save_file({k: v.float().contiguous() for k, v in ref.items()},
              os.path.join(OUT, name + ".ref.safetensors"),
              metadata={k: str(v) for k, v in HYPER.items()})
    print(name, "loss0", float(ref["loss0"]), "norms", norms, "lrs", lrs, file=sys.stderr)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    run("tok", BertForTokenClassification, "ner", TOK_LABELS, 1234)
    run("seq", BertForSequenceClassification, "cls", SEQ_LABELS, 4321)
