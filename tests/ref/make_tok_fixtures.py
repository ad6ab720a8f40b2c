#!/usr/bin/env python3
"""make_tok_fixtures.py: reference token ids from Hugging Face for sift-tok's tests.

Run by hand from the repository root (needs transformers and tokenizers from
PyPI, the data sets in ../shared/data, and the MiniLM model in models/):
    python3 tests/ref/make_tok_fixtures.py [NAME ...]
With NAMEs (e.g. weibo-dev), only those data sets' hashes are written again
(cases.tsv always lists every data set).
It writes, under tests/fixtures/tok/:
  minilm/       vocab.txt + tokenizer_config.json of all-MiniLM-L6-v2 (uncased)
  cased/        a cased WordPiece vocabulary (8000) trained on CoNLL-2003 train
  cases.tsv     name, data file (under $DATA), vocabulary, sift-tok options
  NAME.hashes   per sentence or text: FNV-1a 64 of its ids (int32 little-
                endian bytes), as BertTokenizerFast gives them; NER sentences
                whole ([CLS] words... [SEP], no windows: the test stitches
                sift-tok's windows back by their keep ranges), texts with
                truncation=True at the model's 512
  hard.VOCAB.ids  full ids and offsets for hard.jsonl and hard-pair.jsonl
  ner.labels[-all].jsonl  ids and labels of ner.conll as run_ner.py aligns
                them (label_all_tokens off and on), with ner.labels.txt
  unicode.hash  FNV-1a 64 of the basic tokenizer's words for "a" c "a", every
                code point c, per mode (see make_tok_unicode.py)
"""
import csv
import io
import json
import os
import re
import shutil
import struct
import sys

from tokenizers import BertWordPieceTokenizer
from transformers import BertTokenizerFast

DATA = os.environ.get("SIFT_DATA", "../shared/data")
FIX = "tests/fixtures/tok"
MODEL = os.environ.get("SIFT_MODEL", "models/all-MiniLM-L6-v2")


def fnv(ids):
    h = 0xcbf29ce484222325
    for b in b"".join(struct.pack("<i", i) for i in ids):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def fnv_bytes(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def lines_of(path, enc="utf-8"):
    """lines as sift-tok's textin reads them: split on \\n, one \\r dropped, a BOM dropped"""
    data = open(path, "rb").read().decode(enc)
    if enc == "utf-8" and data.startswith("\ufeff"):
        data = data[1:]
    ls = data.split("\n")
    if ls and ls[-1] == "":
        ls.pop()
    return [l[:-1] if l.endswith("\r") else l for l in ls]


BLANK = re.compile(r"[ \t\r\v\f]*\Z")
FIELDS = re.compile(r"[ \t\r\v\f]+")


def read_conll(path):
    sents, cur = [], []
    for l in lines_of(path):
        if BLANK.match(l) or l.startswith("-DOCSTART-"):
            if cur:
                sents.append(cur)
                cur = []
            continue
        cur.append(FIELDS.split(l.strip(" \t\r\v\f"))[0])
    if cur:
        sents.append(cur)
    return [("words", s) for s in sents]


def strip_digits(w):
    """Weibo NER's "char + segmentation position" token: the digits that end
    it dropped, never its first character ("310" is the digit 3 at 10)"""
    return w[0] + re.sub(r"[0-9]+\Z", "", w[1:])


def read_weibo(path):
    return [("words", [strip_digits(w) for w in s]) for _, s in read_conll(path)]


def read_at(path):
    out = []
    for l in lines_of(path, "latin-1"):
        if BLANK.match(l):
            continue
        out.append(("text", l.rsplit("@", 1)[0], None))
    return out


def read_cluener(path):
    return [("words", list(json.loads(l)["text"])) for l in lines_of(path) if not BLANK.match(l)]


def read_csv_pair(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [("text", r[1], r[2]) for r in csv.reader(f)]


def read_jsonl(path):
    out = []
    for l in lines_of(path):
        if BLANK.match(l):
            continue
        j = json.loads(l)
        out.append(("text", j["text"], j.get("text_b")))
    return out


DATASETS = [
    # name, file under $DATA, reader, sift-tok options
    ("conll-testa", "conll2003/eng.testa", read_conll, "-f conll --iob1-to-iob2"),
    ("conll-testb", "conll2003/eng.testb", read_conll, "-f conll --iob1-to-iob2"),
    ("fpb-all", "financial_phrasebank/Sentences_AllAgree.txt", read_at, "-f at --encoding latin1"),
    ("fpb-75", "financial_phrasebank/Sentences_75Agree.txt", read_at, "-f at --encoding latin1"),
    ("fpb-66", "financial_phrasebank/Sentences_66Agree.txt", read_at, "-f at --encoding latin1"),
    ("fpb-50", "financial_phrasebank/Sentences_50Agree.txt", read_at, "-f at --encoding latin1"),
    ("pd-dev", "peoples_daily_ner/example.dev", read_conll, "-f conll"),
    ("cluener-dev", "cluener2020/dev.json", read_cluener, "-f jsonl"),
    ("weibo-dev", "weibo_ner/weiboNER_2nd_conll.dev", read_weibo, "-f conll --strip-word-digits"),
    ("weibo-test", "weibo_ner/weiboNER_2nd_conll.test", read_weibo, "-f conll --strip-word-digits"),
    ("agnews-test", "ag_news/test.csv", read_csv_pair, "-f csv --text-col 2 --text-b-col 3 --label-col 1"),
]


def encode(tok, ex, **kw):
    if ex[0] == "words":
        return tok(ex[1], is_split_into_words=True, **kw)
    return tok(ex[1], ex[2], truncation=True, max_length=512, **kw)


def train_cased():
    d = os.path.join(FIX, "cased")
    os.makedirs(d, exist_ok=True)
    words = [" ".join(s[1]) for s in read_conll(os.path.join(DATA, "conll2003/eng.train"))]
    t = BertWordPieceTokenizer(lowercase=False, strip_accents=False, clean_text=True,
                               handle_chinese_chars=True)
    t.train_from_iterator(words, vocab_size=8000, min_frequency=2, limit_alphabet=1000)
    vocab = sorted(t.get_vocab().items(), key=lambda kv: kv[1])
    with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8") as f:
        for w, _ in vocab:
            f.write(w + "\n")
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": False, "strip_accents": None, "tokenize_chinese_chars": True,
                   "model_max_length": 512, "tokenizer_class": "BertTokenizer",
                   "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                   "cls_token": "[CLS]", "mask_token": "[MASK]"}, f)
        f.write("\n")


def tags_of(path):
    """the tag column of a CoNLL file, sentence by sentence, IOB1 to IOB2"""
    sents, cur = [], []
    for l in lines_of(path):
        if BLANK.match(l) or l.startswith("-DOCSTART-"):
            if cur:
                sents.append(cur)
                cur = []
            continue
        cur.append(FIELDS.split(l.strip(" \t\r\v\f"))[-1])
    if cur:
        sents.append(cur)
    for t in sents:
        for i, x in enumerate(t):
            if x.startswith("I-"):
                p = t[i - 1] if i else "O"
                if p[2:] != x[2:] or p == "O":
                    t[i] = "B-" + x[2:]
    return sents


def ner_labels(tok):
    """labels as transformers' examples/pytorch/token-classification/run_ner.py
    aligns them (tokenize_and_align_labels), both label_all_tokens settings"""
    path = os.path.join(FIX, "ner.conll")
    words = [w for _, w in read_conll(path)]
    tags = tags_of(path)
    label_list = sorted({t for s in tags for t in s})
    label_to_id = {l: i for i, l in enumerate(label_list)}
    b_to_i = []
    for i, l in enumerate(label_list):
        if l.startswith("B-") and l.replace("B-", "I-") in label_list:
            b_to_i.append(label_list.index(l.replace("B-", "I-")))
        else:
            b_to_i.append(i)
    for label_all in (False, True):
        name = "ner.labels%s.jsonl" % ("-all" if label_all else "")
        with open(os.path.join(FIX, name), "w") as f:
            for w, t in zip(words, tags):
                e = tok(w, is_split_into_words=True)
                prev, labels = None, []
                for wi in e.word_ids():
                    if wi is None:
                        labels.append(-100)
                    elif wi != prev:
                        labels.append(label_to_id[t[wi]])
                    else:
                        labels.append(b_to_i[label_to_id[t[wi]]] if label_all else -100)
                    prev = wi
                f.write(json.dumps({"ids": e["input_ids"], "labels": labels},
                                   separators=(",", ":")) + "\n")
    with open(os.path.join(FIX, "ner.labels.txt"), "w") as f:
        f.write("\n".join(label_list) + "\n")


def unicode_hashes():
    sys.path.insert(0, os.path.dirname(__file__))
    from make_tok_unicode import MODES, hf_lines
    with open(os.path.join(FIX, "unicode.hash"), "w") as f:
        for mode, name in MODES:
            data = "".join(l + "\n" for l in hf_lines(mode)).encode()
            f.write("%s %016x\n" % (name, fnv_bytes(data)))


def main():
    os.makedirs(os.path.join(FIX, "minilm"), exist_ok=True)
    for n in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(MODEL, n), os.path.join(FIX, "minilm", n))
    if not os.path.exists(os.path.join(FIX, "cased", "vocab.txt")):
        train_cased()
    toks = {v: BertTokenizerFast.from_pretrained(os.path.join(FIX, v)) for v in ("minilm", "cased")}
    only = set(sys.argv[1:])
    unknown = only - {d[0] for d in DATASETS}
    if unknown:
        sys.exit("make_tok_fixtures.py: no data set %s" % ", ".join(sorted(unknown)))
    with open(os.path.join(FIX, "cases.tsv"), "w") as cf:
        for name, rel, reader, opts in DATASETS:
            for v in toks:
                cf.write("%s.%s\t%s\t%s\t%s\n" % (name, v, rel, v, opts))
    for name, rel, reader, opts in DATASETS:
        if only and name not in only:
            continue
        exs = reader(os.path.join(DATA, rel))
        for v, tok in toks.items():
            with open(os.path.join(FIX, "%s.%s.hashes" % (name, v)), "w") as f:
                for ex in exs:
                    f.write("%016x\n" % fnv(encode(tok, ex)["input_ids"]))
            print(name, v, len(exs), file=sys.stderr)
    if only:
        return
    for v, tok in toks.items():
        with open(os.path.join(FIX, "hard.%s.ids" % v), "w") as f:
            for src in ("hard.jsonl", "hard-pair.jsonl"):
                for ex in read_jsonl(os.path.join(FIX, src)):
                    e = encode(tok, ex, return_offsets_mapping=True)
                    ids = e["input_ids"]
                    offs = [(-1, -1) if i in tok.all_special_ids and a == b == 0 else (a, b)
                            for i, (a, b) in zip(ids, e["offset_mapping"])]
                    f.write(" ".join(map(str, ids)) + " | " +
                            " ".join("%d,%d" % o for o in offs) + "\n")
    ner_labels(toks["minilm"])
    unicode_hashes()


if __name__ == "__main__":
    main()
