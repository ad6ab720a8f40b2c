/* ckpt.c: atomic training checkpoints: a Hugging Face model directory plus the state a resumed run needs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"
#include "lora.h"	/* defines: lora_save */
#include "modelfile.h"	/* defines: sift_model_fopen */

#define MAGIC "SIFTTS02"

static const char *const tok_files[] = {
	"vocab.txt", "tokenizer_config.json", "tokenizer.json",
	"special_tokens_map.json",
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV0 CKPT_FNV0

uint64_t ckpt_fnv(uint64_t h, const void *p, size_t n)
{
	return fnv(h, p, n);
}

/* the parent directory and base name of path */
static void split(const char *path, char *parent, char *base, size_t n)
{
	char a[4096], b[4096];
	snprintf(a, sizeof a, "%s", path);
	snprintf(b, sizeof b, "%s", path);
	/* a trailing slash would make basename "" */
	size_t l = strlen(a);
	while (l > 1 && a[l - 1] == '/') {
		a[--l] = 0;
		b[l] = 0;
	}
	snprintf(parent, n, "%s", dirname(a));
	snprintf(base, n, "%s", basename(b));
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* the process's umask (umask(2) can only be read by setting it) */
static mode_t umask_now(void)
{
	mode_t u = umask(0);
	umask(u);
	return u;
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* mkdir -p dir: 0, or -1 with errno of the component that failed in
 * *bad (a prefix of dir) */
static int mkdirs(const char *dir, char *bad, size_t n)
{
	char p[4096];
	snprintf(p, sizeof p, "%s", dir);
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		struct stat sb;
		if (mkdir(p, 0777) < 0 && (errno != EEXIST || stat(p, &sb) < 0 ||
					   !S_ISDIR(sb.st_mode))) {
			if (errno == EEXIST)
				errno = ENOTDIR;
			snprintf(bad, n, "%s", p);
			return -1;
		}
		if (!c)
			return 0;
		*s = c;
		while (s[1] == '/')
			s++;
	}
}

int ckpt_prepare(const char *out_dir, char *err, size_t errlen)
{
	char parent[4096], base[4096], path[4096], bad[4096];
	split(out_dir, parent, base, sizeof parent);
	/* out_dir without its trailing slashes: "link/" is the link too */
	snprintf(path, sizeof path, "%s", out_dir);
	for (size_t l = strlen(path); l > 1 && path[l - 1] == '/'; l--)
		path[l - 1] = 0;
	struct stat sb;
	if (lstat(path, &sb) == 0) {
		if (S_ISLNK(sb.st_mode)) {
			snprintf(err, errlen, "%s: a symbolic link; name the directory it points to, or a new one, and switch the link after training",
				 out_dir);
			return -2;
		}
		if (!S_ISDIR(sb.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a directory",
				 out_dir);
			return -1;
		}
	} else if (errno != ENOENT && errno != ENOTDIR) {
		snprintf(err, errlen, "%s: %s", out_dir, strerror(errno));
		return -1;
	}
	if (mkdirs(parent, bad, sizeof bad) < 0) {
		snprintf(err, errlen, "%s: cannot create %s: %s", out_dir, bad,
			 strerror(errno));
		return -1;
	}
	/* the lock, every save and the swap are made in the parent */
	if (access(parent, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "%s: cannot write in %s: %s", out_dir,
			 parent, strerror(errno));
		return -1;
	}
	return 0;
}

int ckpt_lock(const char *out_dir, char *err, size_t errlen)
{
	char parent[4096], base[4096], p[8400], pre[4200];
	split(out_dir, parent, base, sizeof parent);
	snprintf(p, sizeof p, "%s/.%s.sift-lock", parent, base);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot lock: %s: %s", out_dir, p,
			 strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (e == EWOULDBLOCK)
			snprintf(err, errlen,
				 "%s: in use by another sift-train (%s is locked)",
				 out_dir, p);
		else
			snprintf(err, errlen, "%s: cannot lock: %s: %s", out_dir,
				 p, strerror(e));
		close(fd);
		return -1;
	}
	/* nobody else writes out_dir now: a temporary directory is a
	 * leftover of a killed save */
	snprintf(pre, sizeof pre, ".%s.sift-tmp", base);
	DIR *d = opendir(parent);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, pre, strlen(pre))) {
			snprintf(p, sizeof p, "%s/%s", parent, e->d_name);
			rm_rf(p);
		}
	if (d)
		closedir(d);
	return fd;
}

uint64_t ckpt_model_hash(const struct bert_model *m, const float *params)
{
	uint64_t h = FNV0;
	for (int i = 0; i < m->ntensors; i++) {
		const struct bert_tensor *t = &m->tensors[i];
		h = fnv(h, t->name, strlen(t->name) + 1);
		h = fnv(h, params + t->off, bert_tensor_numel(t) * sizeof(float));
	}
	return h;
}

int ckpt_check_dir(const char *out_dir, char *err, size_t errlen)
{
	DIR *d = opendir(out_dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", out_dir, strerror(errno));
		return -1;
	}
	int entries = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			entries++;
	closedir(d);
	char p[4200], q[4200];
	snprintf(p, sizeof p, "%s/" CKPT_STATE_NAME, out_dir);
	snprintf(q, sizeof q, "%s/" CKPT_RECORD_NAME, out_dir);
	if (entries && access(p, F_OK) != 0 && access(q, F_OK) != 0) {
		snprintf(err, errlen,
			 "%s: exists and is not a sift-train checkpoint (it would be replaced)",
			 out_dir);
		return -1;
	}
	return 0;
}

int ckpt_check_resume(const char *out_dir, char *err, size_t errlen)
{
	char p[4200], q[4200];
	snprintf(p, sizeof p, "%s/" CKPT_STATE_NAME, out_dir);
	snprintf(q, sizeof q, "%s/model.safetensors", out_dir);
	struct stat sb;
	if (lstat(p, &sb) < 0 && errno == ENOENT && lstat(q, &sb) == 0) {
		snprintf(err, errlen,
			 "%s: a model without " CKPT_STATE_NAME " (saved with --no-state, or the file removed): nothing to resume",
			 out_dir);
		return -1;
	}
	return 0;
}

/* path holds the n bytes of data (on disk with sync): 0, or -1 (errno
 * set) */
static int write_file(const char *path, const void *data, size_t n, int sync)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int bad = fwrite(data, 1, n, f) != n || fflush(f) || (sync && fsync(fileno(f)));
	int e = errno;
	if (fclose(f) && !bad) {
		bad = 1;
		e = errno;
	}
	errno = e;
	return bad ? -1 : 0;
}

static int copy_file(const char *from, const char *to, char *err,
		     size_t errlen)
{
	FILE *in = sift_model_fopen(from, err, errlen);
	if (!in)
		return errno == ENOENT ? 0 : -1;
	FILE *out = fopen(to, "wb");
	if (!out) {
		fclose(in);
		return -1;
	}
	char buf[1 << 16];
	size_t n;
	int rc = 0;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			rc = -1;
			break;
		}
	if (ferror(in))
		rc = -1;
	fclose(in);
	if (fclose(out))
		rc = -1;
	return rc;
}

struct hw {
	FILE *f;
	uint64_t h;
	int bad;
};

static void put(struct hw *w, const void *p, size_t n)
{
	if (fwrite(p, 1, n, w->f) != n)
		w->bad = 1;
	w->h = fnv(w->h, p, n);
}

static int write_state(const char *path, const struct ckpt_state *st,
		       const float *params, const float *am, const float *av,
		       size_t n)
{
	struct hw w = { fopen(path, "wb"), FNV0, 0 };
	if (!w.f)
		return -1;
	put(&w, MAGIC, 8);
	int64_t iv[9] = { st->step, st->pos, st->recs, st->epoch, st->adam_t,
			  st->seed, st->total_steps, st->best_step, st->bad_evals };
	double dv[2] = { st->best_metric, st->elapsed };
	char desc[sizeof st->describe] = { 0 };
	snprintf(desc, sizeof desc, "%s", st->describe);
	put(&w, iv, sizeof iv);
	put(&w, dv, sizeof dv);
	put(&w, &st->model_hash, sizeof st->model_hash);
	put(&w, desc, sizeof desc);
	int64_t nn = (int64_t)n;
	put(&w, &nn, sizeof nn);
	put(&w, params, n * sizeof *params);
	put(&w, am, n * sizeof *am);
	put(&w, av, n * sizeof *av);
	uint64_t h = w.h;
	put(&w, &h, sizeof h);
	if (fflush(w.f) || fsync(fileno(w.f)))
		w.bad = 1;
	if (fclose(w.f))
		w.bad = 1;
	return w.bad ? -1 : 0;
}

int ckpt_save(const char *out_dir, const struct bert_model *m,
	      const float *model_params, const char *src_dir,
	      const struct ckpt_state *st, const float *params,
	      const float *am, const float *av, size_t n,
	      const struct ckpt_file *extra, int nextra, char *err,
	      size_t errlen)
{
	char parent[4096], base[4096], tmp[8400], p[9000], q[9000];
	split(out_dir, parent, base, sizeof parent);
	/* unique per save (ckpt_lock removes the leftovers of killed ones) */
	snprintf(tmp, sizeof tmp, "%s/.%s.sift-tmp.XXXXXX", parent, base);
	if (!mkdtemp(tmp)) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	chmod(tmp, 0777 & ~umask_now());
	/* m's tensors with the values model_params */
	struct bert_model view = *m;
	view.params = (float *)model_params;
	/* an adapted model saves its adapter and head, in peft's format */
	if (view.lora ? lora_save(&view, model_params, src_dir, tmp, err, errlen) < 0
		      : bert_save(&view, tmp, err, errlen) < 0)
		goto fail;
	if (src_dir)
		for (size_t i = 0; i < sizeof tok_files / sizeof *tok_files; i++) {
			snprintf(p, sizeof p, "%s/%s", src_dir, tok_files[i]);
			snprintf(q, sizeof q, "%s/%s", tmp, tok_files[i]);
			char why[600] = "";
			if (copy_file(p, q, why, sizeof why) < 0) {
				if (why[0])
					snprintf(err, errlen, "%s", why);
				else
					snprintf(err, errlen, "%s: cannot copy to %s", p, tmp);
				goto fail;
			}
		}
	if (st) {
		struct ckpt_state st2 = *st;
		st2.model_hash = ckpt_model_hash(m, model_params);
		snprintf(p, sizeof p, "%s/" CKPT_STATE_NAME, tmp);
		if (write_state(p, &st2, params, am, av, n) < 0) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			goto fail;
		}
	}
	for (int i = 0; i < nextra; i++) {
		snprintf(p, sizeof p, "%s/%s", tmp, extra[i].name);
		/* synced below, with every file */
		if (write_file(p, extra[i].data, extra[i].len, 0) < 0) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			goto fail;
		}
	}
	/* every file, then the directory, on disk before the swap */
	DIR *d = opendir(tmp);
	if (!d) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	struct dirent *e;
	int bad = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", tmp, e->d_name);
		if (fsync_path(p) < 0)
			bad = 1;
	}
	closedir(d);
	if (bad || fsync_path(tmp) < 0) {
		snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out_dir, RENAME_EXCHANGE) == 0) {
		/* tmp now holds the previous checkpoint */
		fsync_path(parent);
		rm_rf(tmp);
	} else if (errno == ENOENT) {
		if (rename(tmp, out_dir) != 0) {
			snprintf(err, errlen, "%s: %s", out_dir, strerror(errno));
			goto fail;
		}
	} else {
		snprintf(err, errlen, "%s: cannot replace: %s", out_dir,
			 strerror(errno));
		goto fail;
	}
	fsync_path(parent);
	return 0;
fail:
	rm_rf(tmp);
	return -1;
}

int ckpt_update(const char *out_dir, const struct ckpt_file *f, int nf,
		char *err, size_t errlen)
{
	char p[4200], q[4200];
	for (int i = 0; i < nf; i++) {
		snprintf(p, sizeof p, "%s/.%s.sift-new", out_dir, f[i].name);
		snprintf(q, sizeof q, "%s/%s", out_dir, f[i].name);
		if (write_file(p, f[i].data, f[i].len, 1) < 0 || rename(p, q) < 0) {
			snprintf(err, errlen, "%s: %s", q, strerror(errno));
			unlink(p);
			return -1;
		}
	}
	fsync_path(out_dir);
	return 0;
}

int ckpt_load_state(const char *out_dir, struct ckpt_state *st,
		    float *params, float *am, float *av, size_t n, char *err,
		    size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/" CKPT_STATE_NAME, out_dir);
	FILE *f = sift_model_fopen(path, err, errlen);
	if (!f)
		return -1;
	char magic[8], desc[sizeof st->describe];
	int64_t iv[9], nn = -1;
	double dv[2];
	uint64_t h = FNV0, want, mh;
	int ok = fread(magic, 1, 8, f) == 8;
	if (ok && !memcmp(magic, "SIFTTS", 6) && memcmp(magic, MAGIC, 8)) {
		fclose(f);
		snprintf(err, errlen, "%s: a state file of another version (%.8s, this is %s)",
			 path, magic, MAGIC);
		return -1;
	}
	ok = ok && !memcmp(magic, MAGIC, 8);
	if (ok)
		ok = fread(iv, sizeof iv, 1, f) == 1 && fread(dv, sizeof dv, 1, f) == 1 &&
		     fread(&mh, sizeof mh, 1, f) == 1 && fread(desc, sizeof desc, 1, f) == 1 &&
		     fread(&nn, sizeof nn, 1, f) == 1;
	if (!ok) {
		fclose(f);
		snprintf(err, errlen, "%s: not a sift-train state file", path);
		return -1;
	}
	if (nn != (int64_t)n) {
		fclose(f);
		snprintf(err, errlen, "%s: state of %lld parameters, the model has %zu",
			 path, (long long)nn, n);
		return -1;
	}
	h = fnv(h, magic, 8);
	h = fnv(h, iv, sizeof iv);
	h = fnv(h, dv, sizeof dv);
	h = fnv(h, &mh, sizeof mh);
	h = fnv(h, desc, sizeof desc);
	h = fnv(h, &nn, sizeof nn);
	float *arr[3] = { params, am, av };
	for (int i = 0; i < 3 && ok; i++) {
		ok = fread(arr[i], sizeof(float), n, f) == n;
		h = fnv(h, arr[i], n * sizeof(float));
	}
	if (ok)
		ok = fread(&want, sizeof want, 1, f) == 1 && want == h;
	fclose(f);
	if (!ok) {
		snprintf(err, errlen, "%s: truncated or corrupt", path);
		return -1;
	}
	st->step = iv[0];
	st->pos = iv[1];
	st->recs = iv[2];
	st->epoch = iv[3];
	st->adam_t = iv[4];
	st->seed = iv[5];
	st->total_steps = iv[6];
	st->best_step = iv[7];
	st->bad_evals = iv[8];
	st->best_metric = dv[0];
	st->elapsed = dv[1];
	st->model_hash = mh;
	desc[sizeof desc - 1] = 0;
	memcpy(st->describe, desc, sizeof desc);
	return 0;
}
