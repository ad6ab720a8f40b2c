#!/bin/sh
# bench-retrain.sh: bytes a nightly sift-retrain run writes, LORA=8 beside whole models.
# usage: sh bench/bench-retrain.sh [BUILD_DIR]   (N=sentences a night, default 64)
# Two homes over MiniLM on Financial PhraseBank (AllAgree): a first run,
# then one "night" of N new sentences, measured: the blocks the run and
# its programs wrote (GNU time's %O, 512 bytes each, children included),
# the size of the new models/STAMP, and the wall seconds.
B=${1:-build}
N=${N:-64}
OUT=bench/out/retrain
DATA=${SIFT_DATA:-../shared/data}
MODEL=${SIFT_MODEL:-models/all-MiniLM-L6-v2}
case $B in /*) ;; *) B=$PWD/$B ;; esac
case $MODEL in /*) ;; *) MODEL=$PWD/$MODEL ;; esac
PATH=$B:$PATH
F=$DATA/financial_phrasebank/Sentences_AllAgree.txt
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$F" ]; then
	echo "bench-retrain: skipped (needs $MODEL and $F)"
	exit 0
fi
rm -rf "$OUT" && mkdir -p "$OUT" || exit 1
# every 7th sentence of the file is holdout (100 of them), the others the nights
awk 'NR % 7 == 0' "$F" | head -n 100 >"$OUT/holdout.txt"
awk 'NR % 7 != 0' "$F" | awk -v n="$N" 'NR <= n' >"$OUT/night1.txt"
awk 'NR % 7 != 0' "$F" | awk -v n="$N" 'NR > n && NR <= 2 * n' >"$OUT/night2.txt"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
echo "bench-retrain: $N sentences a night, MiniLM, load $(cut -d ' ' -f 1-3 /proc/loadavg)"
printf '%-10s %12s %14s %8s %s\n' home "KB written" "models/STAMP" seconds decision
for mode in full lora8; do
	h=$OUT/$mode
	sift-retrain init "$h" -m "$MODEL" --holdout "$OUT/holdout.txt" --format at || exit 1
	printf "TOK_OPTS='--encoding latin1'\nEPOCHS=1\n" >>"$h/config"
	[ "$mode" = full ] || printf 'LORA=8\nLR=1e-3\n' >>"$h/config"
	cp "$OUT/night1.txt" "$h/incoming/"
	sift-retrain run "$h" --margin 1 || exit 1
	cp "$OUT/night2.txt" "$h/incoming/"
	sync
	/usr/bin/time -f "%O %e" -o "$OUT/$mode.time" sift-retrain run "$h" --margin 1
	st=$(tail -n 1 "$h/runs.log" | jq -r .model)
	printf '%-10s %12d %14d %8s %s\n' "$mode" "$(($(cut -d ' ' -f 1 "$OUT/$mode.time") / 2))" \
		"$(du -sbL "$h/models/$st" --exclude=base | cut -f 1)" "$(cut -d ' ' -f 2 "$OUT/$mode.time")" \
		"$(tail -n 1 "$h/runs.log" | jq -r '"\(.decision) (replayed \(.replayed))"')"
done
echo "bench-retrain: load after $(cut -d ' ' -f 1-3 /proc/loadavg)"
