/* vocab.h: a BERT vocabulary and its tokenizer settings, read from a Hugging Face model directory. */
#ifndef SIFT_VOCAB_H
#define SIFT_VOCAB_H

#include <stddef.h>
#include <stdint.h>

struct sift_vocab {
	int n;			/* entries; id = index */
	char **tok;
	uint64_t hash;		/* sift_vocab_hash() */
	/* special tokens: ids (-1 when absent) and their text */
	int unk, cls, sep, pad, mask;
	char *unk_s, *cls_s, *sep_s, *pad_s, *mask_s;
	/* tokenizer_config.json */
	int lower;		/* do_lower_case (default 1) */
	int strip_accents;	/* -1 unset: follows lower */
	int chinese;		/* tokenize_chinese_chars (default 1) */
	int max_len;		/* model_max_length, capped by the position table */
};

/* reads DIR/vocab.txt (or DIR/tokenizer.json where it is absent) and
 * DIR/tokenizer_config.json; 0, or -1 with a message in err (and
 * nothing in v to free) */
int sift_vocab_load(struct sift_vocab *v, const char *dir, char *err,
		    size_t errlen);
void sift_vocab_free(struct sift_vocab *v);
/* the id of token s, or -1 (a linear search: for set-up only) */
int sift_vocab_id(const struct sift_vocab *v, const char *s);

#endif
