#!/usr/bin/env python3
"""make_fwd_fixtures.py: reference logits of Hugging Face transformers for the forward-pass parity tests.

Run by hand from the repository root (never by make):

    python3 tests/ref/make_fwd_fixtures.py [DATA_DIR]

It writes tests/fixtures/fwd/:
  tok-model/, cls-model/   small randomly initialised BertForTokenClassification
                           and BertForSequenceClassification (save_pretrained)
  <case>.json              inputs (B, T, ids, type_ids, mask) and the names and
                           shapes of the reference outputs
  <case>.f32               the reference outputs, float32 little-endian, in the
                           order the .json lists them

Input ids come from real sentences (CoNLL-2003 eng.testb words, Financial
PhraseBank sentences) through the MiniLM tokenizer (models/all-MiniLM-L6-v2);
only ids are written, never text.  The small models have a vocabulary of
1000, so their ids are taken modulo 1000 (101/102/0 stay [CLS]/[SEP]/[PAD]).
"""
import json
import os
import sys

import numpy as np
import torch
from transformers import (AutoTokenizer, BertConfig, BertForSequenceClassification,
                          BertForTokenClassification, BertModel)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data")
MODEL = os.path.join(ROOT, "models", "all-MiniLM-L6-v2")
OUT = os.path.join(ROOT, "tests", "fixtures", "fwd")

torch.manual_seed(1234)
torch.set_num_threads(1)


def conll_sentences(path, n, skip=0):
    sents, cur = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                if cur:
                    sents.append(cur)
                    cur = []
                continue
            if line.startswith("-DOCSTART-"):
                continue
            cur.append(line.split(" ")[0])
    if cur:
        sents.append(cur)
    return sents[skip:skip + n]


def phrasebank(path, n, skip=0):
    out = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            text, _, label = line.rstrip("\n").rpartition("@")
            out.append(text)
    return out[skip:skip + n]


def pad(encs):
    """list of (ids, type_ids) -> (B,T) arrays with right padding"""
    B, T = len(encs), max(len(e[0]) for e in encs)
    ids = np.zeros((B, T), np.int64)
    tt = np.zeros((B, T), np.int64)
    mask = np.zeros((B, T), np.int64)
    for b, (i, t) in enumerate(encs):
        ids[b, :len(i)] = i
        tt[b, :len(t)] = t
        mask[b, :len(i)] = 1
    return ids, tt, mask


def write_case(name, ids, tt, mask, outputs, model_dir):
    """outputs: list of (name, array)"""
    meta = {
        "model": model_dir,
        "B": int(ids.shape[0]), "T": int(ids.shape[1]),
        "ids": ids.reshape(-1).tolist(),
        "type_ids": tt.reshape(-1).tolist(),
        "mask": mask.reshape(-1).tolist(),
        "outputs": [{"name": n, "shape": list(a.shape)} for n, a in outputs],
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(meta, f, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(OUT, name + ".f32"), "wb") as f:
        for _, a in outputs:
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())


def small_config(**kw):
    return BertConfig(vocab_size=1000, hidden_size=32, num_hidden_layers=2,
                      num_attention_heads=4, intermediate_size=64,
                      max_position_embeddings=128, type_vocab_size=2,
                      hidden_act="gelu", layer_norm_eps=1e-12, **kw)


def perturb(model):
    # random init gives near-zero logits whose argmax noise decides;
    # spread every parameter (LayerNorm included) so the test is sharp
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)


def run(model, ids, tt, mask):
    with torch.no_grad():
        return model(input_ids=torch.tensor(ids), token_type_ids=torch.tensor(tt),
                     attention_mask=torch.tensor(mask))


def main():
    os.makedirs(OUT, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(MODEL)
    conll = os.path.join(DATA, "conll2003", "eng.testb")
    pb = os.path.join(DATA, "financial_phrasebank", "Sentences_AllAgree.txt")

    words = conll_sentences(conll, 8, skip=3)
    ner = [tok(w, is_split_into_words=True) for w in words]
    ner = [(e["input_ids"], e["token_type_ids"]) for e in ner]
    texts = phrasebank(pb, 12, skip=40)
    single = [tok(t) for t in texts[:6]]
    pairs = [tok(texts[6 + i], texts[(7 + i) % 12]) for i in range(6)]
    single = [(e["input_ids"], e["token_type_ids"]) for e in single]
    pairs = [(e["input_ids"], e["token_type_ids"]) for e in pairs]

    def small_ids(encs):
        return [([i % 1000 for i in ids], tt) for ids, tt in encs]

    # small token classifier
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    cfg = small_config(num_labels=5, id2label=dict(enumerate(labels)),
                       label2id={l: i for i, l in enumerate(labels)})
    m = BertForTokenClassification(cfg).eval()
    perturb(m)
    m.save_pretrained(os.path.join(OUT, "tok-model"))
    ids, tt, mask = pad(small_ids(ner))
    logits = run(m, ids, tt, mask).logits.numpy()
    write_case("tok-ner", ids, tt, mask, [("logits", logits)], "tok-model")

    # small sequence classifier: single sentences and pairs
    labels = ["negative", "neutral", "positive"]
    cfg = small_config(num_labels=3, id2label=dict(enumerate(labels)),
                       label2id={l: i for i, l in enumerate(labels)})
    m = BertForSequenceClassification(cfg).eval()
    perturb(m)
    m.save_pretrained(os.path.join(OUT, "cls-model"))
    for name, encs in (("cls-single", single), ("cls-pair", pairs)):
        ids, tt, mask = pad(small_ids(encs))
        logits = run(m, ids, tt, mask).logits.numpy()
        write_case(name, ids, tt, mask, [("logits", logits)], "cls-model")

    # the real MiniLM (BertModel): last hidden state and pooler output
    if os.path.exists(os.path.join(MODEL, "model.safetensors")):
        m = BertModel.from_pretrained(MODEL).eval()
        for name, encs in (("minilm-ner", ner[:6]), ("minilm-pair", pairs[:4])):
            ids, tt, mask = pad(encs)
            o = run(m, ids, tt, mask)
            write_case(name, ids, tt, mask,
                       [("last_hidden_state", o.last_hidden_state.numpy()),
                        ("pooler_output", o.pooler_output.numpy())],
                       "../../../models/all-MiniLM-L6-v2")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
