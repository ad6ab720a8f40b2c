#!/bin/sh
# gpu-bundle.sh: packs the binaries check-gpu.sh runs, and the shared libraries they load, into .gpu/ for a GPU machine that cannot build sift.
# usage: sh scripts/gpu-bundle.sh
# The GPU machines lent here have nvcc and PyTorch but not the msgpack,
# jansson or OpenBLAS headers; binaries built here run there (an older
# glibc than theirs).  Then, on the GPU machine, with .gpu carried:
#   SIFT_GPU_PREBUILT=.gpu sh scripts/check-gpu.sh build/check-gpu
# cuBLAS and NCCL (200 MB, past what a carry holds) are not bundled:
# check-gpu.sh finds the GPU machine's own.  Nor is mpirun: without
# Open MPI there, check-gpu's 1-GPU NCCL run says SKIP.
set -eu
make all
sh bench/bench-cuda.sh build --build
rm -rf .gpu
mkdir -p .gpu/bin .gpu/lib
cp build/tests/test-backend-ops build/cuda-train build/sift-train build/sift-cat .gpu/bin/
for l in $(ldd build/cuda-train build/tests/test-backend-ops build/sift-train build/sift-cat | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
	case $l in
	*/libc.so*|*/libm.so*|*/libstdc++*|*/libgcc_s*|*/libpthread*|*/libdl.so*|*/librt.so*|*/ld-linux*|*/libcublas*|*/libcuda*|*/libnccl*) ;;
	*) cp -L "$l" .gpu/lib/ ;;
	esac
done
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
du -sh .gpu
