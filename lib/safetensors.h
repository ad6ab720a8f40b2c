/* safetensors.h: reads safetensors files by mmap and writes fp32 ones. */
#ifndef SIFT_SAFETENSORS_H
#define SIFT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

enum sift_st_dtype { SIFT_ST_F32, SIFT_ST_F16, SIFT_ST_BF16, SIFT_ST_OTHER };

struct sift_st_tensor {
	char *name;
	enum sift_st_dtype dtype;
	char dtype_name[8];	/* as in the header: "F32", "I64", ... */
	int ndim;
	int64_t shape[8];
	size_t nelem;
	const unsigned char *data;	/* into the mapping */
	size_t nbytes;
};

struct sift_st_file {
	void *map;
	size_t size;
	int ntensors;
	struct sift_st_tensor *t;
};

/* maps path and parses its header; 0, or -1 with a message in err */
int sift_st_open(struct sift_st_file *f, const char *path, char *err,
		 size_t errlen);
void sift_st_close(struct sift_st_file *f);
/* the tensor called name, or NULL */
const struct sift_st_tensor *sift_st_find(const struct sift_st_file *f,
					  const char *name);
/* converts t (F32, F16 or BF16) to n = t->nelem floats in out;
 * 0, or -1 for another dtype */
int sift_st_to_f32(const struct sift_st_tensor *t, float *out);

/* one tensor to write: fp32 data of shape[0..ndim-1] */
struct sift_st_out {
	const char *name;
	int ndim;
	int64_t shape[8];
	const float *data;
};

/* writes n fp32 tensors to path (through path.tmp and a rename, so a
 * crash never leaves half a checkpoint), with optional metadata
 * {"format": "pt"}; 0, or -1 with a message in err */
int sift_st_write(const char *path, const struct sift_st_out *t, int n,
		  char *err, size_t errlen);

#endif
