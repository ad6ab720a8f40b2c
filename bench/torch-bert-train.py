# torch-bert-train.py: the PyTorch peer of cuda-train --bench: BERT training steps in eager mode, bf16 autocast or fp32.
# usage: python3 bench/torch-bert-train.py bf16|fp32 [B T warmup steps]
import sys
import time

import torch
from transformers import BertConfig, BertForSequenceClassification

prec = sys.argv[1]
B, T, warm, steps = (int(x) for x in (sys.argv[2:6] or (32, 128, 10, 30)))
torch.manual_seed(0)
cfg = BertConfig(num_labels=3)
model = BertForSequenceClassification(cfg).cuda().train()
opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
ids = torch.randint(1000, cfg.vocab_size, (B, T), device="cuda")
mask = torch.ones(B, T, dtype=torch.long, device="cuda")
labels = torch.randint(0, 3, (B,), device="cuda")


def step():
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=prec == "bf16"):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)


for _ in range(warm):
    step()
torch.cuda.synchronize()
t0 = time.perf_counter()
for _ in range(steps):
    step()
torch.cuda.synchronize()
dt = time.perf_counter() - t0
n = sum(p.numel() for p in model.parameters())
nemb = sum(p.numel() for p in model.bert.embeddings.parameters()) - 2 * cfg.hidden_size
fpt = 6 * (n - nemb) + 12 * cfg.num_hidden_layers * cfg.hidden_size * T
tps = B * T * steps / dt
print("tokens/s %.1f step_ms %.3f tflops %.2f mfu_989 %.4f mfu_790 %.4f attn %s"
      % (tps, 1e3 * dt / steps, tps * fpt / 1e12, tps * fpt / 989e12,
         tps * fpt / 790e12, model.config._attn_implementation))
