#!/bin/sh
# check-gpu.sh: every GPU check of the CUDA backend in one run of under 5 minutes, with a summary file.
# usage: sh scripts/check-gpu.sh [out-dir]        (make check-gpu; default build/check-gpu)
#
#  1. builds (make all) and bench/cuda-train.c
#  2. tests/unit/test-backend-ops: every op, cuda against cpu, per-op bounds
#  3. 50 training steps of a small random BERT on the same batches on cpu
#     and cuda (bench/cuda-train.c: synthetic batches through lib/train.c's
#     trainer, sift-train's step): loss curves within 1e-3 relative (fp32) and 5e-2
#     absolute (bf16)
#  4. the same cuda run twice, fp32 and bf16: bit-identical logs and
#     final parameters
#  4b. sift-train itself, --device cuda against --device cpu, fp32 and
#     bf16, and a resumed cuda run (scripts/check-train-device.sh)
#  4c. the 1-GPU NCCL run: SIFT_DIST_FORCE=1 mpirun -np 1 sift-train
#     --device cuda, with and without --zero1, against sift-train --device
#     cuda, the same bytes (scripts/check-nccl.sh; SKIP without mpirun or
#     NCCL)
#  5. bench/bench-cuda.sh: BERT-base, T 128, tokens/s and MFU, PyTorch beside,
#     and where a bf16 step's time goes, op by op
#  6. compute-sanitizer memcheck over test-backend-ops, where it runs
# Without a GPU it prints SKIP and exits 0 (1 under SIFT_TEST_STRICT=1).
# SIFT_GPU_PREBUILT=dir skips the build and takes the binaries and shared
# libraries that scripts/gpu-bundle.sh put in dir (for a GPU machine
# without sift's build dependencies).
set -u
out=${1:-build/check-gpu}
B=build
TB=$B/tests/test-backend-ops
pre=${SIFT_GPU_PREBUILT:-}
if [ -n "$pre" ]; then
	B=$pre/bin
	TB=$B/test-backend-ops
	LD_LIBRARY_PATH=$pre/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
	# cuBLAS is not bundled, nor linked (the CUDA backend opens
	# libcublas.so.N when it starts): the toolkit's, else the one
	# PyTorch's wheels carry
	if ! ls "${CUDA_HOME:-/usr/local/cuda}"/lib64/libcublasLt.so.* > /dev/null 2>&1 &&
	   ! ldconfig -p 2>/dev/null | grep -q 'libcublasLt\.so'; then
		d=$(python3 -c 'import os, nvidia.cublas as c; print(os.path.join(list(c.__path__)[0], "lib"))' 2>/dev/null)
		[ -n "$d" ] && LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$d
	fi
	# nor NCCL (200 MB): the toolkit's, else PyTorch's wheel's
	if ldd "$B/sift-train" 2>/dev/null | grep -q 'libnccl.*not found'; then
		d=$(python3 -c 'import os, nvidia.nccl as c; print(os.path.join(list(c.__path__)[0], "lib"))' 2>/dev/null)
		[ -n "$d" ] && LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$d
	fi
fi
mkdir -p "$out"
sum=$out/summary.txt
: > "$sum"
fail=0
say() { echo "$*" | tee -a "$sum"; }
verdict() {	# name, status (0 pass), detail
	if [ "$2" -eq 0 ]; then say "PASS $1: $3"; else say "FAIL $1: $3"; fail=1; fi
}

if ! nvidia-smi -L >/dev/null 2>&1; then
	say "check-gpu: SKIP: no GPU (nvidia-smi -L failed)"
	[ "${SIFT_TEST_STRICT:-0}" = 1 ] && exit 1
	exit 0
fi
start=$(date +%s)
say "check-gpu: $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"

# 1. build
if [ -n "$pre" ]; then
	say "build: skipped, prebuilt binaries from $pre"
elif ! timeout 240 make -j"$(nproc)" all > "$out/build.log" 2>&1 ||
   ! sh bench/bench-cuda.sh "$B" --build >> "$out/build.log" 2>&1; then
	verdict build 1 "see $out/build.log (no msgpack/jansson/OpenBLAS headers? scripts/gpu-bundle.sh)"
	tail -20 "$out/build.log"
	exit 1
else
	verdict build 0 "$(grep -c nvcc "$out/build.log") nvcc compiles, $(( $(date +%s) - start )) s"
fi

# 2. ops
SIFT_TEST_STRICT=1 timeout 120 "$TB" > "$out/ops.log" 2>&1
rc=$?
verdict ops $rc "$(tail -1 "$out/ops.log"); $(grep -c 'not supported\|no cpu reference' "$out/ops.log") ops unsupported (see ops.log)"
grep FAIL "$out/ops.log" | head -20 | tee -a "$sum"

# 3. and 4. loss curves
ck=$out/small
[ -f "$ck/model.safetensors" ] || timeout 120 python3 scripts/gpu-ckpt.py "$ck" small > "$out/ckpt.log" 2>&1 ||
	{ verdict checkpoint 1 "python3 scripts/gpu-ckpt.py failed: $(tail -1 "$out/ckpt.log")"; }
train() {	# name, then cuda-train options
	n=$1
	shift
	timeout 150 "$B/cuda-train" --steps 50 --batch 16 --seq 64 --varlen --head token "$@" "$ck" > "$out/$n.log" 2> "$out/$n.err"
}
curve() {	# the decimal losses of a log, one a line
	sed -n 's/^step [0-9]* loss [^ ]* norm [^ ]*  (\([^ ]*\) .*/\1/p' "$1"
}
compare() {	# name, log, reference log, abs bound, rel bound
	paste "$out/$2.curve" "$out/$3.curve" | awk -v a="$4" -v r="$5" '
		{ d = $1 - $2; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2
		  q = d / (a + r * m); if (q > w) { w = q; e = d; s = NR } n++ }
		END { if (n != 50) { print "only " n " steps"; exit 1 }
		      printf "max |loss diff| %.3g at step %d (bound %s + %s*|loss|)\n", e, s, a, r
		      exit !(w <= 1) }'
}
if [ -f "$ck/model.safetensors" ]; then
	train cpu --device cpu; rc=$?
	[ $rc -eq 0 ] || verdict "cpu run" $rc "$(tail -1 "$out/cpu.err")"
	for n in gpu32 gpu32b; do train $n --device cuda --precision fp32 || verdict "$n run" 1 "$(tail -1 "$out/$n.err")"; done
	for n in gpu16 gpu16b; do train $n --device cuda --precision bf16 || verdict "$n run" 1 "$(tail -1 "$out/$n.err")"; done
	for n in cpu gpu32 gpu32b gpu16 gpu16b; do curve "$out/$n.log" > "$out/$n.curve"; done
	r=$(compare fp32 gpu32 cpu 1e-4 1e-3); verdict "loss curve fp32" $? "$r"
	r=$(compare bf16 gpu16 cpu 5e-2 0); verdict "loss curve bf16" $? "$r"
	cmp -s "$out/gpu32.log" "$out/gpu32b.log"; verdict "bit-identical fp32" $? "$(grep params_hash "$out/gpu32.log") vs $(grep params_hash "$out/gpu32b.log")"
	cmp -s "$out/gpu16.log" "$out/gpu16b.log"; verdict "bit-identical bf16" $? "$(grep params_hash "$out/gpu16.log") vs $(grep params_hash "$out/gpu16b.log")"
	say "  first and last losses: cpu $(head -1 "$out/cpu.curve") -> $(tail -1 "$out/cpu.curve"), cuda fp32 $(head -1 "$out/gpu32.curve") -> $(tail -1 "$out/gpu32.curve"), cuda bf16 $(head -1 "$out/gpu16.curve") -> $(tail -1 "$out/gpu16.curve")"
fi

# 4b. the real sift-train on the GPU
if [ -x "$B/sift-train" ] && [ -x "$B/sift-cat" ]; then
	for p in fp32 bf16; do
		timeout 120 sh scripts/check-train-device.sh "$B/sift-train" "$B/sift-cat" "$out/train-device" $p > "$out/train-device-$p.log" 2>&1
		rc=$?
		tee -a "$sum" < "$out/train-device-$p.log"
		[ $rc -eq 0 ] || verdict "sift-train $p" $rc "see $out/train-device-$p.log"
	done
else
	verdict "sift-train" 1 "no $B/sift-train or $B/sift-cat (scripts/gpu-bundle.sh again)"
fi

# 4c. the ranks' NCCL path with one rank
if [ -x "$B/sift-train" ] && [ -x "$B/sift-cat" ]; then
	timeout 150 sh scripts/check-nccl.sh "$B/sift-train" "$B/sift-cat" "$out/nccl" cuda > "$out/nccl.log" 2>&1
	rc=$?
	tee -a "$sum" < "$out/nccl.log"
	[ $rc -eq 0 ] || verdict "nccl" $rc "see $out/nccl.log"
fi

# 5. benchmark
timeout 150 sh bench/bench-cuda.sh "$B" "$out" > "$out/bench.log" 2>&1
verdict bench $? "see below"
tee -a "$sum" < "$out/bench.log"
# 6. memory errors in the kernels (compute-sanitizer runs on Firecracker
# machines, not under gVisor): every op once more, capped at 100 s
if command -v compute-sanitizer >/dev/null 2>&1; then
	SIFT_TEST_STRICT=1 timeout 100 compute-sanitizer --tool memcheck --error-exitcode 9 \
		"$TB" > "$out/memcheck.log" 2>&1
	rc=$?
	case $rc in
	0) verdict memcheck 0 "$(grep -m1 'ERROR SUMMARY' "$out/memcheck.log")" ;;
	124) say "memcheck: not finished in 100 s (see $out/memcheck.log)" ;;
	*) if grep -q 'Device not supported' "$out/memcheck.log"; then
		say "memcheck: compute-sanitizer does not support this machine's device"
	   else verdict memcheck $rc "$(grep -m1 'ERROR SUMMARY' "$out/memcheck.log") (see memcheck.log)"
	   fi ;;
	esac
fi
say "check-gpu: $(( $(date +%s) - start )) s, $([ $fail -eq 0 ] && echo all passed || echo FAILURES)"
exit $fail
