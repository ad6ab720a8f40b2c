#!/bin/sh
# check-train-device.sh: sift-train on the cuda device against the cpu: 15 steps of the fixture token model compared step by step, and a resumed cuda run against an uninterrupted one.
# usage: sh scripts/check-train-device.sh sift-train sift-cat out-dir [fp32|bf16]
#
# The 5 batches of tests/fixtures/train/tok.jsonl three times over, with
# dropout, warmup, weight decay, clipping (the norms exceed 1) and a dev
# score every 5 steps, on --device cpu and --device cuda: the losses and
# gradient norms of the log within a bound per precision, the dev loss
# too, the dev F1 within one entity or so.  In fp32 also: --stop-after 7
# then --resume on cuda ends with the bytes of the uninterrupted cuda run.
# scripts/check-gpu.sh runs it on a GPU, scripts/check-cuda-emu.sh on
# the emulated one.  Prints one line per check; exit 0 when all pass.
set -u
T=$1
C=$2
out=$3
prec=${4:-fp32}
F=tests/fixtures/train
mkdir -p "$out"
{ head -n 1 $F/tok.jsonl; for e in 1 2 3; do sed -n 2,6p $F/tok.jsonl; done; } |
	"$C" -s > "$out/train.b" || exit 1
"$C" -s < $F/tok.jsonl > "$out/dev.b" || exit 1
O="-m $F/tok --max-steps 15 --dropout 0.1 --attn-dropout 0.1 --lr 1e-3
   --weight-decay 0.01 --warmup 2 --dev $out/dev.b --eval-every 5"
rm -rf "$out/cpu" "$out/cuda-$prec" "$out/resumed"
# shellcheck disable=SC2086
"$T" $O -o "$out/cpu" --device cpu "$out/train.b" > "$out/cpu.log" || { echo "FAIL train-device: the cpu run"; exit 1; }
# shellcheck disable=SC2086
"$T" $O -o "$out/cuda-$prec" --device cuda --precision "$prec" "$out/train.b" > "$out/cuda-$prec.log" ||
	{ echo "FAIL train-device $prec: the cuda run"; exit 1; }

steps() {	# step loss grad_norm, one step a line
	"$C" "$1" | sed -n 's/^{"step":\([0-9]*\),"epoch":[0-9]*,"loss":\([^,]*\),"lr":[^,]*,"grad_norm":\([^,]*\),.*/\1 \2 \3/p'
}
devs() {	# step dev-loss dev-f1, one dev score a line
	"$C" "$1" | sed -n 's/^{"step":\([0-9]*\),.*"dev":{"loss":\([^,]*\),"accuracy":[^,]*,"f1":\([^,]*\),.*/\1 \2 \3/p'
}
steps "$out/cpu.log" > "$out/cpu.steps"
steps "$out/cuda-$prec.log" > "$out/cuda-$prec.steps"
devs "$out/cpu.log" > "$out/cpu.devs"
devs "$out/cuda-$prec.log" > "$out/cuda-$prec.devs"
if [ "$prec" = bf16 ]; then lb=5e-2 nb=5e-2 fb=0.15; else lb=1e-4 nb=1e-3 fb=0.05; fi
fail=0
paste "$out/cuda-$prec.steps" "$out/cpu.steps" | awk -v lb=$lb -v nb=$nb -v p=$prec '
	{ d = $2 - $5; if (d < 0) d = -d; if (d > w) w = d
	  e = ($3 - $6) / $6; if (e < 0) e = -e; if (e > v) v = e; n++ }
	END { ok = n == 15 && w <= lb && v <= nb
	      printf "%s train-device %s: %d steps, max |loss diff| %.3g (bound %s), max grad-norm rel diff %.3g (bound %s)\n",
		ok ? "PASS" : "FAIL", p, n, w, lb, v, nb
	      exit !ok }' || fail=1
paste "$out/cuda-$prec.devs" "$out/cpu.devs" | awk -v lb=$lb -v fb=$fb -v p=$prec '
	{ d = $2 - $5; if (d < 0) d = -d; if (d > w) w = d
	  e = $3 - $6; if (e < 0) e = -e; if (e > v) v = e; n++ }
	END { ok = n == 3 && w <= lb && v <= fb
	      printf "%s train-device %s dev: %d scores, max |dev loss diff| %.3g (bound %s), max |f1 diff| %.3g (bound %s)\n",
		ok ? "PASS" : "FAIL", p, n, w, lb, v, fb
	      exit !ok }' || fail=1
if [ "$prec" = fp32 ]; then
	# shellcheck disable=SC2086
	"$T" $O -o "$out/resumed" --device cuda --stop-after 7 "$out/train.b" > /dev/null &&
	"$T" $O -o "$out/resumed" --device cuda --resume "$out/train.b" > /dev/null &&
	cmp -s "$out/resumed/model.safetensors" "$out/cuda-$prec/model.safetensors"
	if [ $? -eq 0 ]; then
		echo "PASS train-device resume: stopped at step 7 and resumed on cuda, the bytes of the uninterrupted run"
	else
		echo "FAIL train-device resume: stopped at step 7 and resumed on cuda, not the bytes of the uninterrupted run"
		fail=1
	fi
fi
exit $fail
