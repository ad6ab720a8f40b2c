#!/bin/sh
# kill-resume.sh: kill sift-train at random steps, resume, compare bytes.
# usage: kill-resume.sh model batches workdir kills [seed]
# Trains model on batches uninterrupted into workdir/full, then again into
# workdir/k with a checkpoint every step, killed (SIGKILL, or SIGTERM,
# which saves at the next step and exits 143) kills times once the
# checkpoint of a random step ahead is on disk, plus up to 0.1 s more,
# each time resumed with --resume.  A run that ends before its kill is
# compared and the next starts afresh.  Every end must have the bytes of workdir/full.
# Prints "kill-resume: N kills landed, M runs ended, all with the bytes of
# the uninterrupted run"; exits 1 at the first difference.
m=$1 b=$2 w=$3 kills=$4 seed=${5:-1}
opts="--lr 1e-3 --weight-decay 0.01 --warmup 2 --accum 2 --dropout 0.2 --seed 7"
# one thread count for every run: the bytes are the same at any count only
# where the CPU backend is deterministic across counts
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
sift-train -m "$m" -o "$w/full" $opts "$b" > "$w/full.log" || exit 1
# the last step: a kill is aimed at no later one (its run would end first)
total=$(sift-cat "$w/full.log" | jq -r 'select(.end) | .step')

# the step of the checkpoint in dir $1 (0: none); the state file starts
# with 8 bytes of magic, then the step as an int64
step() {
	[ -f "$1/train_state.bin" ] || { echo 0; return; }
	od -An -j8 -N8 -t d8 "$1/train_state.bin" 2>/dev/null | tr -d ' ' || echo 0
}

same() {
	cmp -s "$w/full/model.safetensors" "$w/k/model.safetensors" && return 0
	echo "kill-resume: after $landed kills, $w/k differs from the uninterrupted run" >&2
	exit 1
}

landed=0 ended=0
# each kill: 0 to 9 steps past the checkpoint it resumes from (0: while
# it starts), then 0 to 0.1 s, then SIGKILL or SIGTERM
awk -v n="$kills" -v s="$seed" 'BEGIN { srand(s)
	for (i = 0; i < n; i++) printf "%d %.3f %s\n", int(rand() * 10), rand() * 0.1,
		i % 2 ? "TERM" : "KILL" }' > "$w/plan"
while read -r ahead extra sig; do
	r=
	[ -f "$w/k/train_state.bin" ] && r=--resume
	at=$(($(step "$w/k") + ahead))
	[ "$at" -le "$total" ] || at=$total
	sift-train -m "$m" -o "$w/k" $opts --save-every 1 $r "$b" > /dev/null 2> "$w/err" &
	pid=$!
	# a kill once the checkpoint of step $at (or a later one) is on disk
	while kill -0 $pid 2>/dev/null && [ "$(step "$w/k")" -lt "$at" ]; do
		sleep 0.01
	done
	sleep "$extra"
	kill -"$sig" $pid 2>/dev/null
	{ wait $pid; } 2>/dev/null
	rc=$?
	case $rc in
	137|143) landed=$((landed + 1)) ;;
	0) same; ended=$((ended + 1)); rm -rf "$w/k" ;;
	*) cat "$w/err" >&2; echo "kill-resume: sift-train exited $rc" >&2; exit 1 ;;
	esac
done < "$w/plan"
r=
[ -f "$w/k/train_state.bin" ] && r=--resume
sift-train -m "$m" -o "$w/k" $opts --save-every 1 $r "$b" > /dev/null || exit 1
same
ended=$((ended + 1))
echo "kill-resume: $landed kills landed, $ended runs ended, all with the bytes of the uninterrupted run"
