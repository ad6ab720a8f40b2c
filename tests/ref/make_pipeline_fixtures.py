#!/usr/bin/env python3
"""make_pipeline_fixtures.py: a tiny pretrained-style encoder for the pipeline tests.

The pipelines start from a pretrained encoder without a task head, as
MiniLM is.  This takes the tiny BERT of tests/fixtures/train/tok (2 layers,
hidden 32, 500 tokens), drops its classifier and its labels, and writes it
as tests/fixtures/pipelines/tiny/, loadable by transformers' BertModel.
Run by hand; make check never runs it.

    python3 tests/ref/make_pipeline_fixtures.py
"""
import json
import os
import shutil

from safetensors.numpy import load_file, save_file
from transformers import BertModel

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "fixtures", "train", "tok")
DST = os.path.join(HERE, "..", "fixtures", "pipelines", "tiny")

os.makedirs(DST, exist_ok=True)
for f in ("vocab.txt", "tokenizer_config.json"):
    shutil.copy(os.path.join(SRC, f), os.path.join(DST, f))
with open(os.path.join(SRC, "config.json")) as f:
    cfg = json.load(f)
for k in ("id2label", "label2id"):
    cfg.pop(k, None)
cfg["architectures"] = ["BertModel"]
with open(os.path.join(DST, "config.json"), "w") as f:
    json.dump(cfg, f, indent=2, sort_keys=True)
    f.write("\n")
w = load_file(os.path.join(SRC, "model.safetensors"))
base = {k: v for k, v in w.items() if k.startswith("bert.")}
save_file(base, os.path.join(DST, "model.safetensors"), metadata={"format": "pt"})
os.chmod(os.path.join(DST, "model.safetensors"), 0o644)
# it loads as a plain encoder (the pooler, unused by token and sequence
# heads here, is the only thing missing), every weight used
m, info = BertModel.from_pretrained(DST, output_loading_info=True)
assert all(k.startswith("pooler.") for k in info["missing_keys"]), info
assert not info["unexpected_keys"], info
print("wrote", DST)
