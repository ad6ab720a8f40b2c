#!/usr/bin/env python3
"""make_mlm_fixtures.py: reference MLM examples from Hugging Face for sift-tok --task mlm.

Run by hand from the repository root (needs transformers and tokenizers from
PyPI, the data sets in ../shared/data; torch is not needed):
    python3 tests/ref/make_mlm_fixtures.py
It tokenizes with BertTokenizerFast from tests/fixtures/tok/minilm (the
vocabulary and tokenizer_config.json of all-MiniLM-L6-v2) as transformers'
examples/pytorch/language-modeling/run_mlm.py prepares its data, and writes
under tests/fixtures/tok/:
  mlm-cases.tsv  name, data file (under $DATA), vocabulary, sift-tok options,
                 read by test-tok as cases.tsv is
  NAME.hashes    per example: FNV-1a 64 of its ids (int32 little-endian)
Two modes, as run_mlm.py has them:
  --line_by_line   each text whose len > 0 and not str.isspace(), tokenized
                   with truncation=True, max_length=N
  (default)        every text (blank lines of a text file included) tokenized
                   whole, [CLS] text [SEP]; the texts of each datasets.map
                   batch of 1000 concatenated and cut into blocks of N, the
                   remainder dropped unless the batch is shorter than N
Only ids and hashes are written, never text.

With --fill-mask it writes instead the references of sift-fwd's fill-mask
(needs torch; the MiniLM part needs models/all-MiniLM-L6-v2), under
tests/fixtures/fwd/:
  mlm-model/     a small random BertForMaskedLM (2 layers, hidden 32, the
                 vocabulary of tests/fixtures/train/mlm; initializer_range
                 0.5, so that its predictions are peaked, not near uniform)
  mlm.txt        lines with [MASK] (one without) for sift-tok --task mlm
  mlm.expect.jsonl
                 per line, transformers' pipeline("fill-mask", top_k=5):
                 {masks: [{pos, top: [{token, token_str, prob}]}]}, pos
                 the index of the [MASK] in input_ids ([CLS] is 0)
  minilm-mlm-head.safetensors
                 the cls.predictions.* tensors that BertForMaskedLM
                 .from_pretrained(all-MiniLM-L6-v2) initialises after
                 torch.manual_seed(0) (the checkpoint has no MLM head)
  minilm-mlm.expect.jsonl
                 per sentence of MINILM_TEXTS: {text, ids, masks} as
                 above, of MiniLM with that head
"""
import csv
import json
import os
import shutil
import sys
from itertools import chain

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tok_fixtures import DATA, FIX, fnv, lines_of  # noqa: E402

from transformers import BertTokenizerFast  # noqa: E402

GROUP = 1000  # datasets.Dataset.map(batched=True)'s default batch_size


def csv_col(path, col):
    with open(path, newline="", encoding="utf-8") as f:
        return [r[col - 1] for r in csv.reader(f)]


def text_lines(enc):
    """a text file as datasets' "text" loader reads it: every line, blank ones
    too (lines_of drops one \\r, which the tokenizer drops all the same)"""
    return lambda path: lines_of(path, enc)


def line_by_line(tok, texts, n):
    texts = [t for t in texts if len(t) > 0 and not t.isspace()]
    return tok(texts, truncation=True, max_length=n)["input_ids"]


def group_texts(tok, texts, n):
    out = []
    for i in range(0, len(texts), GROUP):
        ids = list(chain(*tok(texts[i:i + GROUP])["input_ids"]))
        total = len(ids)
        if total >= n:
            total = total // n * n
        out += [ids[j:j + n] for j in range(0, total, n)]
    return out


CASES = [
    # name, file under $DATA, reader, mode, N, sift-tok options
    ("agnews-mlm-lines", "ag_news/test.csv", lambda p: csv_col(p, 3), line_by_line, 48,
     "-f csv --text-col 3 --task mlm --max-length 48"),
    ("agnews-mlm-group", "ag_news/test.csv", lambda p: csv_col(p, 3), group_texts, 128,
     "-f csv --text-col 3 --task mlm --group-texts --max-length 128"),
    ("fpb-readme-mlm-lines", "financial_phrasebank/README.txt", text_lines("utf-8"), line_by_line, 16,
     "-f lines --task mlm --max-length 16"),
    ("fpb-readme-mlm-group", "financial_phrasebank/README.txt", text_lines("utf-8"), group_texts, 32,
     "-f lines --task mlm --group-texts --max-length 32"),
    ("fpb-50-mlm-group", "financial_phrasebank/Sentences_50Agree.txt", text_lines("latin-1"),
     group_texts, 512, "-f lines --encoding latin1 --task mlm --group-texts"),
]


def main():
    tok = BertTokenizerFast.from_pretrained(os.path.join(FIX, "minilm"))
    with open(os.path.join(FIX, "mlm-cases.tsv"), "w") as cases:
        for name, file, read, mode, n, opts in CASES:
            name += ".minilm"
            exs = mode(tok, read(os.path.join(DATA, file)), n)
            with open(os.path.join(FIX, name + ".hashes"), "w") as f:
                for ids in exs:
                    f.write("%016x\n" % fnv(ids))
            cases.write("%s\t%s\tminilm\t%s\n" % (name, file, opts))
            print("%s: %d examples, %d tokens" % (name, len(exs), sum(map(len, exs))))


MLM_TEXTS = [
    "w5 w6 [MASK] w8 w9",
    "[MASK] w20 w21 [MASK] w23",
    "w40 w41 w42 w43",
    "w7 [MASK] [MASK] w9 w10 w11 w12 w13",
    "w99 w98 w97 [MASK]",
]

MINILM_TEXTS = [
    "The capital of France is [MASK].",
    "Shares of the bank [MASK] sharply after the results.",
    "The [MASK] won the match in the last minute.",
    "Oil prices rose as [MASK] cut output.",
    "He said the [MASK] would be [MASK] next week.",
]


def fill_records(tok, model, texts):
    """transformers' fill-mask pipeline, top 5, with the [MASK] positions
    and a check that its scores are the softmaxed logits"""
    import torch
    from transformers import pipeline
    fill = pipeline("fill-mask", model=model, tokenizer=tok, top_k=5, device="cpu")
    out = []
    for text in texts:
        enc = tok(text, return_tensors="pt")
        ids = enc["input_ids"][0].tolist()
        pos = [i for i, t in enumerate(ids) if t == tok.mask_token_id]
        got = fill(text) if pos else []
        if len(pos) == 1:
            got = [got]
        with torch.no_grad():
            probs = model(**enc).logits[0].softmax(-1)
        masks = []
        for p, g in zip(pos, got):
            top = [{"token": c["token"], "token_str": c["token_str"],
                    "prob": c["score"]} for c in g]
            for c in top:
                assert abs(probs[p, c["token"]].item() - c["prob"]) < 1e-6
            v, i = probs[p].topk(5)
            assert i.tolist() == [c["token"] for c in top]
            gaps = (v[:-1] - v[1:]).min().item()
            if gaps < 1e-4:
                print("%r: close probabilities at %d (gap %.2g)" % (text, p, gaps))
            masks.append({"pos": p, "top": top})
        out.append({"text": text, "ids": ids, "masks": masks})
    return out


def fill_mask():
    import torch
    from safetensors.torch import save_file
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer
    here = os.path.dirname(os.path.abspath(__file__))
    fwd = os.path.join(here, "..", "fixtures", "fwd")
    small = os.path.join(here, "..", "fixtures", "train", "mlm")
    tok = BertTokenizer.from_pretrained(small)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=64,
                     max_position_embeddings=32, type_vocab_size=2,
                     initializer_range=0.5, hidden_act="gelu")
    model = BertForMaskedLM(cfg).eval()
    out = os.path.join(fwd, "mlm-model")
    model.save_pretrained(out)
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(small, name), out)
    with open(os.path.join(fwd, "mlm.txt"), "w") as f:
        f.write("".join(t + "\n" for t in MLM_TEXTS))
    with open(os.path.join(fwd, "mlm.expect.jsonl"), "w") as f:
        for r in fill_records(tok, model, MLM_TEXTS):
            f.write(json.dumps({"masks": r["masks"]}) + "\n")
    minilm = os.path.join(here, "..", "..", "models", "all-MiniLM-L6-v2")
    tok = BertTokenizer.from_pretrained(minilm)
    torch.manual_seed(0)
    model = BertForMaskedLM.from_pretrained(minilm).eval()
    sd = model.state_dict()
    head = {k: sd[k].contiguous() for k in sd
            if k.startswith("cls.predictions.") and "decoder" not in k}
    print("minilm head:", {k: tuple(v.shape) for k, v in head.items()})
    save_file(head, os.path.join(fwd, "minilm-mlm-head.safetensors"))
    with open(os.path.join(fwd, "minilm-mlm.expect.jsonl"), "w") as f:
        for r in fill_records(tok, model, MINILM_TEXTS):
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--fill-mask"]:
        fill_mask()
    else:
        main()
