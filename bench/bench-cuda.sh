#!/bin/sh
# bench-cuda.sh: BERT-base training on the GPU (sequence length 128, batch 32, random init): sift's CUDA backend beside PyTorch eager, tokens/s and MFU.
# usage: sh bench/bench-cuda.sh [build-dir [out-dir]]
#        sh bench/bench-cuda.sh build-dir --build   (only builds build-dir/cuda-train)
# MFU counts 6N + 12*L*H*T FLOPs per token (N: parameters without the
# embeddings, L layers, H hidden, T sequence length) against the H200's
# bf16 dense datasheet peak, 989 TFLOP/s (mfu_989), and against the
# 790 TFLOP/s a bf16 GEMM reached on such a card here (mfu_790).
B=${1:-build}
out=${2:-bench/out/cuda}
PKGS="msgpack libutf8proc jansson openblas"
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}

build() {
	${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -fopenmp -Ilib -DSIFT_CUDA=1 \
		$(pkg-config --cflags $PKGS) -o "$B/cuda-train" bench/cuda-train.c \
		"$B/libsift.a" $(pkg-config --libs $PKGS) -lm -fopenmp \
		-L"$CUDA_HOME/lib64" -Wl,-rpath,"$CUDA_HOME/lib64" \
		-lcudart_static -ldl -lrt -lpthread -lstdc++
}

if [ "$out" = --build ]; then
	build
	exit
fi
if ! nvidia-smi -L >/dev/null 2>&1; then
	echo "bench-cuda: skipped: no GPU (nvidia-smi -L failed)"
	exit 0
fi
if [ ! -x "$B/cuda-train" ]; then
	if ! nm "$B/libsift.a" 2>/dev/null | grep -q ' sift_backend_cuda$'; then
		echo "bench-cuda: skipped: $B/libsift.a has no CUDA backend (built without nvcc)"
		exit 0
	fi
	build || exit 1
fi
mkdir -p "$out"
[ -f "$out/base/model.safetensors" ] || python3 scripts/gpu-ckpt.py "$out/base" base || exit 1

run() {	# label, then the command; prints its result line
	printf '%-28s ' "$1"
	shift
	"$@" > "$out/last.log" 2>&1
	rc=$?
	r=$(grep '^tokens/s' "$out/last.log")
	if [ $rc -ne 0 ] || [ -z "$r" ]; then
		echo "failed (exit $rc): $(tail -1 "$out/last.log")"
	else
		echo "$r"
	fi
}

echo "bench-cuda: BERT-base, batch 32, sequence length 128, training steps (forward, backward, clip, AdamW)"
run "sift cuda bf16" "$B/cuda-train" --device cuda --precision bf16 --steps 20 --bench 5 --batch 32 --seq 128 "$out/base"
run "sift cuda fp32" "$B/cuda-train" --device cuda --precision fp32 --steps 10 --bench 3 --batch 32 --seq 128 "$out/base"
run "pytorch eager bf16 autocast" python3 bench/torch-bert-train.py bf16 32 128 10 30
run "pytorch eager fp32" python3 bench/torch-bert-train.py fp32 32 128 5 15
# where a bf16 step's time goes: each op timed between two device syncs
"$B/cuda-train" --device cuda --precision bf16 --steps 5 --bench 2 --batch 32 --seq 128 \
	--profile "$out/base" > "$out/profile.log" 2>&1 &&
	grep '^profile' "$out/profile.log" || echo "profile: failed: $(tail -1 "$out/profile.log")"
