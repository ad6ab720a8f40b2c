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


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def conll_tagged(path, n, skip):
    """sentences as (words, IOB2 tags limited to PER and LOC)"""
    sents, cur = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("-DOCSTART-"):
                continue
            if not line:
                if cur:
                    sents.append(cur)
                cur = []
                continue
            cols = line.split(" ")
            cur.append((cols[0], cols[-1]))
    out = []
    for s in sents[skip:skip + n]:
        tags, prev = [], "O"
        for _, t in s:
            typ = t[2:] if t != "O" else ""
            if typ not in ("PER", "LOC"):
                tags.append("O")
                prev = "O"
                continue
            # IOB1 -> IOB2: I- opens unless it continues the same type
            b = t.startswith("B-") or prev[2:] != typ
            tags.append(("B-" if b else "I-") + typ)
            prev = tags[-1]
        out.append(([w for w, _ in s], tags))
    return out


def write_jsonl(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def stream_fixtures(tok, conll, pb):
    """batches streams (JSON lines for sift-cat -s) and the predictions
    transformers makes of them, for tests/fwd.bats; words are placeholders
    (w<doc>.<index>), never the text"""
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    lid = {l: i for i, l in enumerate(labels)}
    m = BertForTokenClassification.from_pretrained(os.path.join(OUT, "tok-model")).eval()
    sents = conll_tagged(conll, 7, 20)
    # the longest sentence becomes two overlapping windows
    longest = max(range(len(sents)), key=lambda i: len(sents[i][0]))
    examples = []
    for d, (words, tags) in enumerate(sents):
        names = ["w%d.%d" % (d, j) for j in range(len(words))]
        n = len(words)
        if d == longest:
            a1, b0, k = (2 * n) // 3, n // 3, n // 2
            wins = [(0, a1, 0, k), (b0, n, k - b0, n - b0)]
        else:
            wins = [(0, n, 0, n)]
        for win, (a, b, k0, k1) in enumerate(wins):
            enc = tok(words[a:b], is_split_into_words=True)
            ids = [i % 1000 for i in enc["input_ids"]]
            widx = [-1 if w is None else w for w in enc.word_ids()]
            lab, prev = [], -1
            for w in widx:
                lab.append(-100 if w < 0 or w == prev else lid[tags[a + w]])
                prev = w
            ex = {"id": len(examples), "src": "fix.conll:%d" % (d + 1),
                  "words": names[a:b], "word_idx": widx, "doc": d,
                  "win": win, "nwin": len(wins), "word0": a, "keep": [k0, k1]}
            if d % 2 == 0:
                ex["gold"] = tags[a:b]
            examples.append((ids, lab, ex))
    batches, expect = [], {}
    for i in range(0, len(examples), 3):
        chunk = examples[i:i + 3]
        T = max(len(c[0]) for c in chunk)
        B = len(chunk)
        ids = np.zeros((B, T), np.int64)
        mask = np.zeros((B, T), np.int64)
        labs = np.full((B, T), -100, np.int64)
        for b, (ii, ll, _) in enumerate(chunk):
            ids[b, :len(ii)] = ii
            mask[b, :len(ii)] = 1
            labs[b, :len(ll)] = ll
        probs = softmax(run(m, ids, np.zeros_like(ids), mask).logits.numpy())
        batches.append({"B": B, "T": T, "ids": ids.reshape(-1).tolist(),
                        "type_ids": [0] * (B * T), "mask": mask.reshape(-1).tolist(),
                        "labels": labs.reshape(-1).tolist(), "epoch": 0,
                        "ex": [c[2] for c in chunk]})
        for b, (_, _, ex) in enumerate(chunk):
            d = ex["doc"]
            e = expect.setdefault(d, {"id": d, "src": ex["src"], "words": {},
                                      "pred": {}, "prob": {}, "gold": {}})
            k0, k1 = ex["keep"]
            seen = set()
            for t, w in enumerate(ex["word_idx"]):
                if w < 0 or w in seen:
                    continue
                seen.add(w)
                if not k0 <= w < k1:
                    continue
                j = ex["word0"] + w
                e["words"][j] = ex["words"][w]
                e["pred"][j] = labels[int(probs[b, t].argmax())]
                e["prob"][j] = float(probs[b, t].max())
                e["gold"][j] = sents[d][1][j]
    hdr = {"sift": 1, "kind": "batches", "task": "ner", "labels": labels,
           "producer": "make_fwd_fixtures.py", "total": len(batches),
           "epochs": 1, "batch_size": 3, "seed": 0}
    write_jsonl(os.path.join(OUT, "ner.batches.jsonl"), [hdr] + batches)
    out = []
    for d in sorted(expect):
        e = expect[d]
        n = len(e["words"])
        out.append({"id": e["id"], "src": e["src"],
                    "words": [e["words"][j] for j in range(n)],
                    "pred": [e["pred"][j] for j in range(n)],
                    "prob": [round(e["prob"][j], 7) for j in range(n)],
                    "gold": [e["gold"][j] for j in range(n)]})
    write_jsonl(os.path.join(OUT, "ner.expect.jsonl"), out)

    # sentence pairs and single sentences for the sequence classifier
    labels = ["negative", "neutral", "positive"]
    m = BertForSequenceClassification.from_pretrained(os.path.join(OUT, "cls-model")).eval()
    texts = phrasebank(pb, 10, skip=100)
    encs = []
    for i in range(7):
        e = tok(texts[i], texts[i + 3]) if i % 2 else tok(texts[i])
        encs.append(([x % 1000 for x in e["input_ids"]], e["token_type_ids"]))
    batches, out = [], []
    for i in range(0, len(encs), 4):
        chunk = encs[i:i + 4]
        ids, tt, mask = pad(chunk)
        probs = softmax(run(m, ids, tt, mask).logits.numpy())
        gold = [(i + b) % 3 for b in range(len(chunk))]
        exs = []
        for b in range(len(chunk)):
            ex = {"id": i + b, "src": "fix.txt:%d" % (i + b + 1),
                  "text": "text %d" % (i + b)}
            if (i + b) % 2:
                ex["text_b"] = "text b %d" % (i + b)
            exs.append(ex)
            o = dict(ex)
            o["pred"] = labels[int(probs[b].argmax())]
            o["probs"] = [round(float(x), 7) for x in probs[b]]
            o["gold"] = labels[gold[b]]
            out.append(o)
        batches.append({"B": len(chunk), "T": int(ids.shape[1]),
                        "ids": ids.reshape(-1).tolist(),
                        "type_ids": tt.reshape(-1).tolist(),
                        "mask": mask.reshape(-1).tolist(), "labels": gold,
                        "epoch": 0, "ex": exs})
    hdr = {"sift": 1, "kind": "batches", "task": "pair", "labels": labels,
           "producer": "make_fwd_fixtures.py", "total": len(batches),
           "epochs": 1, "batch_size": 4, "seed": 0}
    write_jsonl(os.path.join(OUT, "cls.batches.jsonl"), [hdr] + batches)
    write_jsonl(os.path.join(OUT, "cls.expect.jsonl"), out)


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

    stream_fixtures(tok, conll, pb)

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
