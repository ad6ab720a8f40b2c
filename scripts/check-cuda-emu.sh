#!/bin/sh
# check-cuda-emu.sh: runs the CUDA kernels on the CPU under tests/emu/cuda_emu.h and checks them with test-backend-ops, where there is no GPU.
# usage: sh scripts/check-cuda-emu.sh [build-dir]      (default build/emu)
#
# SIFT_EMU_PARTS picks what runs after the build (default all three, about
# 15 minutes on 2 cores):
#   ops         test-backend-ops, every op against the cpu
#   norm        test-backend-ops norm: sumsq and scale alone (a minute)
#   mirror      test-backend-ops mirror: the bf16 weight mirrors alone
#   train       6 MiniLM steps of bench/cuda-train.c, fp32 and bf16
#   sift-train  scripts/check-train-device.sh: 15 steps of the real sift-train
#               on the emulated device against the cpu, fp32 and bf16, and
#               a resumed run (about 12 minutes)
#
# Each kernels/*.cu is rewritten (kernel<<<g, b, s>>>(...) becomes
# emu_launch(emu_cfg(g, b, s), kernel, ...); extern __shared__ becomes
# a pointer to the launch's shared memory) and compiled as C++ for the
# CPU: every GPU thread is a pthread, __syncthreads a barrier, a warp
# shuffle an exchange through memory, a wmma fragment a whole 16x16 tile
# in every thread of the warp, cuBLAS a plain loop in double,
# cuBLASLt absent (so the cuBLAS fallback runs), device memory starts as
# NaN.  This checks the kernels' indexing, tiling, barriers and
# reductions against the CPU backend; it says nothing about speed, the
# cuBLASLt path, the memory model or real tensor cores.
set -eu
E=${1:-build/emu}
PKGS="msgpack libutf8proc jansson openblas"
mkdir -p "$E/src" "$E/obj" "$E/include"
for h in cuda_runtime.h cuda_bf16.h cublas_v2.h cublasLt.h mma.h; do
	echo '#include "cuda_emu.h"' > "$E/include/$h"
done
for f in kernels/*.cu; do
	b=$(basename "$f" .cu)
	sed -e 's/\([A-Za-z_][A-Za-z_0-9]*\(<[^<>]*>\)\{0,1\}\)<<<\(.*\)>>>(/emu_launch(emu_cfg(\3), \1, /' \
	    -e 's/extern __shared__ \(__align__([0-9]*) \)*float \([a-z]*\)\[\];/float *\2 = (float *)emu_dynsmem;/' \
	    "$f" > "$E/src/$b.cpp"
	${CXX:-g++} -std=c++17 -O1 -g -Wall -Wno-unused-function -Wno-unknown-pragmas -I"$E/include" -Itests/emu \
		-Ikernels -Ilib -include cuda_emu.h -c -o "$E/obj/k_$b.o" "$E/src/$b.cpp"
done
for f in lib/*.c tests/unit/test-backend-ops.c; do
	b=$(basename "$f" .c)
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 -g -fopenmp -DSIFT_CUDA=1 -Ilib -Itests/unit \
		$(pkg-config --cflags $PKGS) -c -o "$E/obj/$b.o" "$f"
done
${CXX:-g++} -o "$E/test-backend-ops" "$E"/obj/*.o $(pkg-config --libs $PKGS) -lm -fopenmp -lpthread
PARTS=" ${SIFT_EMU_PARTS:-ops train sift-train} "
has() { case "$PARTS" in *" $1 "*) return 0;; esac; return 1; }
if has ops; then "$E/test-backend-ops"; fi
if has norm; then "$E/test-backend-ops" norm; fi
if has mirror; then "$E/test-backend-ops" mirror; fi

# sift-train itself, built against the emulated backend
if has sift-train; then
	for p in sift-train sift-cat; do
		${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 -g -fopenmp -DSIFT_CUDA=1 -Ilib \
			$(pkg-config --cflags $PKGS) -c -o "$E/$p.o" bin/$p.c
		${CXX:-g++} -o "$E/$p" "$E/$p.o" $(ls "$E"/obj/*.o | grep -v test-backend-ops) \
			$(pkg-config --libs $PKGS) -lm -fopenmp -lpthread
	done
	sh scripts/check-train-device.sh "$E/sift-train" "$E/sift-cat" "$E/train-device" fp32
	sh scripts/check-train-device.sh "$E/sift-train" "$E/sift-cat" "$E/train-device" bf16
fi
has train || exit 0

# a few training steps of the real model through the emulated backend,
# against the same steps on the CPU backend
M=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
if [ ! -f "$M/model.safetensors" ]; then
	echo "check-cuda-emu: SKIP training steps: no model at $M (make model)"
	exit 0
fi
${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 -g -fopenmp -DSIFT_CUDA=1 -Ilib \
	$(pkg-config --cflags $PKGS) -c -o "$E/cuda-train.o" bench/cuda-train.c
${CXX:-g++} -o "$E/cuda-train" "$E/cuda-train.o" $(ls "$E"/obj/*.o | grep -v test-backend-ops) \
	$(pkg-config --libs $PKGS) -lm -fopenmp -lpthread
for d in cpu cuda; do
	"$E/cuda-train" --device $d --steps ${STEPS:-6} --batch 3 --seq 24 --varlen --head token "$M" > "$E/train-$d.log"
done
"$E/cuda-train" --device cuda --precision bf16 --steps ${STEPS:-6} --batch 3 --seq 24 --varlen --head token "$M" > "$E/train-bf16.log"
sed -n 's/^step \([0-9]*\) loss [^ ]* norm [^ ]*  (\([^ ]*\) \([^ ]*\))/\1 \2 \3/p' "$E/train-cpu.log" > "$E/cpu.curve"
sed -n 's/^step \([0-9]*\) loss [^ ]* norm [^ ]*  (\([^ ]*\) \([^ ]*\))/\1 \2 \3/p' "$E/train-cuda.log" > "$E/cuda.curve"
paste "$E/cuda.curve" "$E/cpu.curve" | awk '
	{ d = $2 - $5; if (d < 0) d = -d; if (d > w) w = d
	  e = $3 - $6; if (e < 0) e = -e; e /= $6; if (e > v) v = e
	  printf "step %s loss cuda %s cpu %s  norm cuda %s cpu %s\n", $1, $2, $5, $3, $6; n++ }
	END { printf "check-cuda-emu: %d training steps, max |loss diff| %.3g, max norm rel diff %.3g\n", n, w, v
	      exit !(n > 0 && w <= 1e-4 && v <= 1e-3) }' || exit 1
sed -n 's/^step \([0-9]*\) loss [^ ]* norm [^ ]*  (\([^ ]*\) \([^ ]*\))/\1 \2 \3/p' "$E/train-bf16.log" > "$E/bf16.curve"
paste "$E/bf16.curve" "$E/cpu.curve" | awk '
	{ d = $2 - $5; if (d < 0) d = -d; if (d > w) w = d; n++
	  printf "step %s loss bf16 %s cpu %s\n", $1, $2, $5 }
	END { printf "check-cuda-emu: %d bf16 training steps, max |loss diff| %.3g (bound 5e-2)\n", n, w
	      exit !(n > 0 && w <= 5e-2) }'
