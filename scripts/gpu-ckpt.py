# gpu-ckpt.py: writes a randomly initialised BERT checkpoint (config.json + model.safetensors) for the GPU checks.
# usage: python3 scripts/gpu-ckpt.py OUTDIR base|small
import sys

import torch
from transformers import BertConfig, BertModel

out, kind = sys.argv[1], sys.argv[2]
if kind == "base":
    # bert-base-uncased's shape: 12 layers, hidden 768, 12 heads, 3072
    cfg = BertConfig()
elif kind == "small":
    # small enough for 50 CPU steps in seconds; head size 64 as BERT-base
    cfg = BertConfig(hidden_size=256, num_hidden_layers=4,
                     num_attention_heads=4, intermediate_size=1024)
else:
    sys.exit("gpu-ckpt.py: kind is base or small")
torch.manual_seed(0)
BertModel(cfg).save_pretrained(out)
