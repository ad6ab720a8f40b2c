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
"""
import csv
import os
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


if __name__ == "__main__":
    main()
