#!/usr/bin/env python3
"""make_fwd_variants.py: checkpoints derived from tests/fixtures/fwd/tok-model
for fwd.bats, written once so that make check runs no Python:
  enc/            the encoder alone, as BertModel saves it (no head)
  missing/        one tensor (layer 1's attention key weight) removed
  float16/ bfloat16/  every tensor in that type, and *.f32.safetensors: the
                  same values widened back to float32
Run from the repository root: python3 tests/ref/make_fwd_variants.py"""
import json
import os

import torch
from safetensors.torch import load_file, save_file

SRC = "tests/fixtures/fwd/tok-model"
DST = "tests/fixtures/fwd/variants"

t = load_file(f"{SRC}/model.safetensors")
cfg = json.load(open(f"{SRC}/config.json"))


def put(name, tensors, config):
    os.makedirs(f"{DST}/{name}", exist_ok=True)
    save_file(tensors, f"{DST}/{name}/model.safetensors")
    with open(f"{DST}/{name}/config.json", "w") as f:
        json.dump(config, f, indent=2)


enc_cfg = {k: v for k, v in cfg.items() if k not in ("architectures", "id2label", "label2id")}
put("enc", {k[5:]: v for k, v in t.items() if k.startswith("bert.")}, enc_cfg)
put("missing", {k: v for k, v in t.items()
                if k != "bert.encoder.layer.1.attention.self.key.weight"}, cfg)
for dt in ("float16", "bfloat16"):
    d = getattr(torch, dt)
    put(dt, {k: v.to(d) for k, v in t.items()}, cfg)
    save_file({k: v.to(d).float() for k, v in t.items()}, f"{DST}/{dt}/f32.safetensors")
