#!/usr/bin/env python3
"""make_lora_fixtures.py: peft references for sift-train --lora and sift-fwd --adapter.

Run by hand (never by make), after make_train_fixtures.py:
    /work/venv-ref/bin/python tests/ref/make_lora_fixtures.py
Reads the small random models and streams of tests/fixtures/train (seq, tok)
and writes tests/fixtures/lora/:
  peft-seq/, peft-tok/   adapters made by peft (save_pretrained:
                         adapter_config.json, adapter_model.safetensors),
                         rank 4, alpha 8, every target sift knows (query,
                         key, value, attention.output.dense,
                         intermediate.dense, output.dense), B random (not
                         peft's zeros, so that A's gradient is not 0)
  seq.ref.safetensors, tok.ref.safetensors
                         loss0 (1), logits0: the train-mode forward of
                         batch 0 with the adapter (dropout 0);
                         grad.<name>: the gradient of every trained tensor
                         (sift's names: encoder.layer.L.<module>.lora_A.weight,
                         classifier.weight, ...) on batch 0;
                         step5.<name>: after 5 AdamW steps, one per batch,
                         with HYPER (as make_train_fixtures.py);
                         eval0: the eval-mode logits of batch 0
  seq.expect.jsonl, tok.expect.jsonl
                         what sift-fwd --adapter peft-NAME must predict
                         over the 5 batches (pred, prob/probs), as in
                         make_train_fixtures.py
"""
import json
import os
import re

import peft
import torch
from peft import LoraConfig, TaskType, get_peft_model
from safetensors.torch import save_file
from transformers import (BertForSequenceClassification,
                          BertForTokenClassification,
                          get_linear_schedule_with_warmup)

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "..", "fixtures", "train")
OUT = os.path.join(HERE, "..", "fixtures", "lora")
HYPER = dict(lr=1e-3, weight_decay=0.01, warmup=2, total=5, max_grad_norm=0.5)
TARGETS = (r".*\.layer\.\d+\.(attention\.self\.(query|key|value)|"
           r"attention\.output\.dense|intermediate\.dense|output\.dense)")


def read_stream(path):
    with open(path) as f:
        recs = [json.loads(line) for line in f]
    bs = []
    for r in recs[1:]:
        if "B" not in r:
            continue
        B, T = r["B"], r["T"]
        lab = torch.tensor(r["labels"])
        bs.append(dict(ids=torch.tensor(r["ids"]).view(B, T),
                       type_ids=torch.tensor(r["type_ids"]).view(B, T),
                       mask=torch.tensor(r["mask"]).view(B, T),
                       labels=lab.view(B, T) if lab.numel() == B * T and T > 1 and
                       recs[0]["task"] == "ner" else lab))
    return recs[0], bs


def expect(model, labels, path, task):
    """the predictions of model (eval mode) over the stream's batches"""
    with open(path) as f:
        recs = [json.loads(line) for line in f]
    out = []
    model.eval()
    with torch.no_grad():
        for r in recs[1:]:
            if "B" not in r:
                continue
            B, T = r["B"], r["T"]
            probs = torch.softmax(model(
                input_ids=torch.tensor(r["ids"]).view(B, T),
                token_type_ids=torch.tensor(r["type_ids"]).view(B, T),
                attention_mask=torch.tensor(r["mask"]).view(B, T)).logits, -1)
            lab = torch.tensor(r["labels"])
            for i, e in enumerate(r["ex"]):
                if task == "ner":
                    first = [t for t in range(1, T) if int(lab.view(B, T)[i, t]) != -100]
                    p = probs[i, first]
                    out.append({"id": e["id"], "pred": [labels[int(j)] for j in p.argmax(-1)],
                                "prob": [round(float(x), 7) for x in p.max(-1).values]})
                else:
                    p = probs[i]
                    out.append({"id": e["id"], "pred": labels[int(p.argmax())],
                                "probs": [round(float(x), 7) for x in p]})
    return out


def sift_name(n):
    """peft's parameter name -> sift's tensor name"""
    n = n.replace("base_model.model.", "", 1).replace(".default", "")
    n = n.replace("modules_to_save.", "").replace("original_module.", "")
    return n[5:] if n.startswith("bert.") else n


def run(name, cls, task_type, seed):
    torch.manual_seed(seed)
    hdr, bs = read_stream(os.path.join(TRAIN, name + ".jsonl"))
    base = cls.from_pretrained(os.path.join(TRAIN, name), attn_implementation="eager")
    cfg = LoraConfig(task_type=task_type, r=4, lora_alpha=8, lora_dropout=0.0,
                     target_modules=TARGETS)
    model = get_peft_model(base, cfg)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
    adir = os.path.join(OUT, "peft-" + name)
    model.save_pretrained(adir)
    os.remove(os.path.join(adir, "README.md"))  # peft's model card
    cp = os.path.join(adir, "adapter_config.json")
    with open(cp) as f:
        ac = json.load(f)
    ac["base_model_name_or_path"] = "tests/fixtures/train/" + name
    with open(cp, "w") as f:
        json.dump(ac, f, indent=2, sort_keys=True)
    trained = [(sift_name(n), p) for n, p in model.named_parameters() if p.requires_grad]

    with open(os.path.join(OUT, name + ".expect.jsonl"), "w") as f:
        for e in expect(model, hdr["labels"], os.path.join(TRAIN, name + ".jsonl"),
                        hdr["task"]):
            f.write(json.dumps(e) + "\n")
    ref = {}
    model.eval()
    b = bs[0]
    with torch.no_grad():
        ref["eval0"] = model(input_ids=b["ids"], token_type_ids=b["type_ids"],
                             attention_mask=b["mask"]).logits.reshape(-1).contiguous()
    model.train()
    out = model(input_ids=b["ids"], token_type_ids=b["type_ids"],
                attention_mask=b["mask"], labels=b["labels"])
    out.loss.backward()
    ref["loss0"] = out.loss.detach().reshape(1)
    ref["logits0"] = out.logits.detach().reshape(-1).contiguous()
    for n, p in trained:
        ref["grad." + n] = p.grad.detach().clone()
    model.zero_grad()
    decay = [p for n, p in trained if not n.endswith("bias")]
    nodecay = [p for n, p in trained if n.endswith("bias")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": HYPER["weight_decay"]},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=HYPER["lr"], betas=(0.9, 0.999), eps=1e-8)
    sch = get_linear_schedule_with_warmup(opt, HYPER["warmup"], HYPER["total"])
    for b in bs:
        out = model(input_ids=b["ids"], token_type_ids=b["type_ids"],
                    attention_mask=b["mask"], labels=b["labels"])
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in trained], HYPER["max_grad_norm"])
        opt.step()
        sch.step()
        opt.zero_grad()
    for n, p in trained:
        ref["step5." + n] = p.detach().clone().contiguous()
    save_file({k: v.contiguous() for k, v in ref.items()},
              os.path.join(OUT, name + ".ref.safetensors"))


def main():
    os.makedirs(OUT, exist_ok=True)
    print("peft", peft.__version__)
    run("seq", BertForSequenceClassification, TaskType.SEQ_CLS, 11)
    run("tok", BertForTokenClassification, TaskType.TOKEN_CLS, 12)


if __name__ == "__main__":
    main()
