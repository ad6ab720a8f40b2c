#!/usr/bin/env python3
"""hf_train.py: the Hugging Face Trainer peer of sift-train, on the very same batches.

usage: python3 bench/hf_train.py MODEL TRAIN.jsonl OUT [--lr X] [--weight-decay X]
           [--warmup N] [--max-grad-norm X] [--seed N] [--threads N] [--bf16]

TRAIN.jsonl is a batches stream as JSON lines (sift-cat of sift-batch's
output): the Trainer gets those padded batches one by one, in stream order
(an IterableDataset, one batch per step), so both programs see the same
data, padding and order; for an mlm stream (sift-batch's masked batches)
that is the same masked ids and the same labels (-100 but at the masked
positions), into BertForMaskedLM (a new MLM head, initialised by
transformers, where the model has none).  The hyperparameters are
Trainer's defaults unless given (linear schedule, AdamW, dropout of the config);
--bf16 is Trainer's bf16=True (torch.autocast in bf16 on the CPU, fp32
master weights), the peer of sift-train --precision bf16.  Saves the
model into OUT (sift-fwd and sift-eval score it with the code that scores
sift-train's) and prints one line: steps, real tokens, seconds, tokens/s.
"""
import argparse
import json
import shutil
import sys
import time

import torch
from torch.utils.data import IterableDataset
from transformers import (AutoModelForMaskedLM,
                          AutoModelForSequenceClassification,
                          AutoModelForTokenClassification, Trainer,
                          TrainingArguments)


class Batches(IterableDataset):
    def __init__(self, recs, ner):
        self.recs, self.ner = recs, ner

    def __iter__(self):
        for r in self.recs:
            B, T = r["B"], r["T"]
            lab = torch.tensor(r["labels"])
            yield {"input_ids": torch.tensor(r["ids"]).view(B, T),
                   "token_type_ids": torch.tensor(r["type_ids"]).view(B, T),
                   "attention_mask": torch.tensor(r["mask"]).view(B, T),
                   "labels": lab.view(B, T) if self.ner else lab}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("train")
    ap.add_argument("out")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--lora", type=int, default=0,
                    help="train a peft LoRA adapter of this rank (query,value) and the head")
    ap.add_argument("--lora-alpha", type=float, default=8)
    ap.add_argument("--bf16", action="store_true",
                    help="Trainer's bf16=True: autocast to bf16, fp32 master weights")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    lines = [json.loads(l) for l in open(a.train)]
    hdr = lines[0]
    recs = [r for r in lines[1:] if "B" in r]
    labels = hdr.get("labels", [])
    ner = hdr["task"] in ("ner", "mlm")  # labels per token
    if hdr["task"] == "mlm":
        model = AutoModelForMaskedLM.from_pretrained(a.model)
    else:
        cls = (AutoModelForTokenClassification if ner
               else AutoModelForSequenceClassification)
        model = cls.from_pretrained(a.model, num_labels=len(labels),
                                    id2label=dict(enumerate(labels)),
                                    label2id={l: i for i, l in enumerate(labels)})
    if a.lora:
        from peft import LoraConfig, TaskType, get_peft_model
        model = get_peft_model(model, LoraConfig(
            task_type=TaskType.TOKEN_CLS if ner else TaskType.SEQ_CLS, r=a.lora,
            lora_alpha=a.lora_alpha, lora_dropout=0.0, target_modules=["query", "value"]))
    args = TrainingArguments(
        output_dir=a.out + ".trainer", per_device_train_batch_size=1,
        learning_rate=a.lr, weight_decay=a.weight_decay, warmup_steps=a.warmup,
        max_grad_norm=a.max_grad_norm, lr_scheduler_type="linear",
        max_steps=len(recs), logging_steps=50, save_strategy="no",
        report_to=[], seed=a.seed, use_cpu=True, dataloader_num_workers=0,
        disable_tqdm=True, bf16=a.bf16)
    trainer = Trainer(model=model, args=args, train_dataset=Batches(recs, ner),
                      data_collator=lambda xs: xs[0])
    t0 = time.perf_counter()
    trainer.train()
    dt = time.perf_counter() - t0
    trainer.save_model(a.out)
    for f in ("vocab.txt", "tokenizer_config.json", "tokenizer.json",
              "special_tokens_map.json"):
        try:
            shutil.copy(a.model + "/" + f, a.out + "/" + f)
        except FileNotFoundError:
            pass
    tokens = sum(sum(r["mask"]) for r in recs)
    print("hf_train: %d steps, %d tokens, %.1f s, %.1f tokens/s"
          % (len(recs), tokens, dt, tokens / dt), file=sys.stderr)


if __name__ == "__main__":
    main()
