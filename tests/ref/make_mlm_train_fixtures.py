#!/usr/bin/env python3
"""make_mlm_train_fixtures.py: PyTorch/transformers references for sift-train --task mlm.

Run by hand (never by make):  python3 tests/ref/make_mlm_train_fixtures.py
Writes tests/fixtures/train/:
  mlm/              a small random BertForMaskedLM (2 layers, hidden 32,
                    vocabulary 100; config.json, model.safetensors as
                    transformers saves it: no decoder tensors, they are
                    tied; vocab.txt, tokenizer_config.json): the
                    initial model
  mlm.jsonl         a batches stream of task mlm as JSON lines (header
                    with mask_id, 5 padded batches whose ids are already
                    masked and whose labels are the original ids at the
                    masked positions, -100 elsewhere, then an epoch
                    marker); sift-cat turns it into msgpack
  mlm.ref.safetensors
                    loss0 (1); logits0 (M*V): the logits of batch 0's M
                    labelled positions, in row-major (b, t) order;
                    grad.<name>: the gradient of every parameter on
                    batch 0 (the word embeddings' includes the tied
                    decoder's); step5.<name>: every parameter after 5
                    AdamW steps with HYPER; step5_loss, step5_lr,
                    step5_grad_norm; accum3.<name>: after 3 steps
                    accumulating 2 batches each (each batch loss / 2,
                    as sift and make_train_fixtures.py take it), warmup
                    1 of 3
Dropout is 0 (parity needs it); eager attention.  The hyperparameters are
those of make_train_fixtures.py, so test-trainer.c runs all heads alike.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertForMaskedLM, get_linear_schedule_with_warmup

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "train")
HYPER = dict(lr=1e-3, weight_decay=0.01, warmup=2, total=5, max_grad_norm=0.5)
VOCAB = 100
MASK_ID = 4
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tok(i):
    return SPECIAL[i] if i < len(SPECIAL) else "w%d" % i


def config():
    return BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2,
                      num_attention_heads=4, intermediate_size=64,
                      max_position_embeddings=32, type_vocab_size=2,
                      hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                      hidden_act="gelu", layer_norm_eps=1e-12)


def batches(gen):
    """5 padded batches, masked as BERT does: 15% of the real non-special
    tokens (at least one a batch) are labelled; of those 80% become
    [MASK], 10% a random token, 10% stay"""
    out = []
    shapes = [(3, 12), (2, 9), (4, 7), (3, 16), (2, 5)]
    for B, T in shapes:
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
            if b % 2 == 1:
                tt[b, n // 2:n] = 1
            for t in range(1, n - 1):
                if (b == 0 and t == 1) or torch.rand(1, generator=gen).item() < 0.15:
                    lab[b, t] = ids[b, t]
                    u = torch.rand(1, generator=gen).item()
                    if u < 0.8:
                        ids[b, t] = MASK_ID
                    elif u < 0.9:
                        ids[b, t] = int(torch.randint(5, VOCAB, (1,), generator=gen))
        out.append(dict(B=B, T=T, ids=ids, type_ids=tt, mask=mask, labels=lab, epoch=0))
    return out


def write_stream(path, bs):
    with open(path, "w") as f:
        # sift-stream(5): size and FNV-1a 64 over the tokens, each with
        # a newline (vocab.txt's bytes)
        x = 0xcbf29ce484222325
        for c in "".join(tok(i) + "\n" for i in range(VOCAB)).encode():
            x = ((x ^ c) * 0x100000001b3) & 0xffffffffffffffff
        vocab = {"size": VOCAB, "hash": "%016x" % x}
        hdr = {"sift": 1, "kind": "batches", "task": "mlm", "labels": [],
               "vocab": vocab, "mask_id": MASK_ID,
               "producer": "make_mlm_train_fixtures.py", "total": len(bs),
               "epochs": 1, "batch_size": 4, "seed": 0}
        f.write(json.dumps(hdr) + "\n")
        for k, b in enumerate(bs):
            rec = {"B": b["B"], "T": b["T"],
                   "ids": b["ids"].flatten().tolist(),
                   "type_ids": b["type_ids"].flatten().tolist(),
                   "mask": b["mask"].flatten().tolist(),
                   "labels": b["labels"].flatten().tolist(), "epoch": 0,
                   "ex": [{"id": 100 * k + i} for i in range(b["B"])]}
            f.write(json.dumps(rec) + "\n")
        f.write(json.dumps({"epoch_end": 0}) + "\n")


def forward(model, b):
    return model(input_ids=b["ids"], token_type_ids=b["type_ids"],
                 attention_mask=b["mask"], labels=b["labels"])


def optimizer(model, warmup, total):
    decay = [p for n, p in model.named_parameters()
             if not (n.endswith("bias") or "LayerNorm" in n)]
    nodecay = [p for n, p in model.named_parameters()
               if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": HYPER["weight_decay"]},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=HYPER["lr"], betas=(0.9, 0.999), eps=1e-8)
    return opt, get_linear_schedule_with_warmup(opt, warmup, total)


def main():
    os.makedirs(OUT, exist_ok=True)
    seed = 2718
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    cfg = config()
    cfg._attn_implementation = "eager"
    model = BertForMaskedLM(cfg)
    # non-trivial LayerNorm and bias values, so their gradients are tested
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("bias") or "LayerNorm" in n:
                p.add_(0.1 * torch.randn(p.shape, generator=gen))
    mdir = os.path.join(OUT, "mlm")
    model.save_pretrained(mdir)
    with open(os.path.join(mdir, "vocab.txt"), "w") as f:
        for i in range(VOCAB):
            f.write(tok(i) + "\n")
    with open(os.path.join(mdir, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer",
                   "model_max_length": 32}, f)
    bs = batches(gen)
    write_stream(os.path.join(OUT, "mlm.jsonl"), bs)

    model.train()  # dropout is 0, so train() only matters for the record
    names = [n for n, _ in model.named_parameters()]
    assert "cls.predictions.decoder.weight" not in names  # tied to wte
    ref = {}
    b = bs[0]
    out = forward(model, b)
    out.loss.backward()
    ref["loss0"] = out.loss.detach().reshape(1)
    sel = b["labels"].reshape(-1) != -100
    ref["logits0"] = out.logits.detach().reshape(-1, VOCAB)[sel].reshape(-1).contiguous()
    for n, p in model.named_parameters():
        ref["grad." + n] = p.grad.detach().clone()
    model.zero_grad()

    opt, sch = optimizer(model, HYPER["warmup"], HYPER["total"])
    norms, losses, lrs = [], [], []
    for b in bs:
        out = forward(model, b)
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

    model = BertForMaskedLM.from_pretrained(mdir, attn_implementation="eager")
    model.train()
    opt, sch = optimizer(model, 1, 3)
    for group in (bs[0:2], bs[2:4], bs[4:5]):
        for b in group:
            (forward(model, b).loss / 2).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), HYPER["max_grad_norm"])
        opt.step()
        sch.step()
        opt.zero_grad()
    for n, p in model.named_parameters():
        ref["accum3." + n] = p.detach().clone()
    save_file({k: v.float().contiguous() for k, v in ref.items()},
              os.path.join(OUT, "mlm.ref.safetensors"),
              metadata={k: str(v) for k, v in HYPER.items()})
    print("mlm loss0", float(ref["loss0"]), "masked", int(sel.sum()), "norms", norms,
          "lrs", lrs, file=sys.stderr)


if __name__ == "__main__":
    main()
