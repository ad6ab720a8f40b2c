#!/usr/bin/env bats
# lora.bats: sift-train --lora writes peft adapters, sift-fwd --adapter reads them.

load helper

setup() {
	F=$FIXTURES/train
	L=$FIXTURES/lora
	T=$BATS_TEST_TMPDIR
	sift-cat -s $F/tok.jsonl > $T/tok.b
	sift-cat -s $F/seq.jsonl > $T/seq.b
}

# predictions (JSON lines) against peft's in $1: same labels,
# probabilities within 1e-5
same_predictions() {
	jq -s -e --slurpfile want "$1" '
		(.[1:] | length) == ($want | length) and
		([.[1:], $want] | transpose | all(.[0] as $g | .[1] as $w |
			$g.id == $w.id and $g.pred == $w.pred and
			([[$g.prob // $g.probs] | flatten, [$w.prob // $w.probs] | flatten]
			 | transpose | all((.[0] - .[1]) | fabs < 1e-5))))'
}

# the tensor names of a safetensors file, sorted
st_names() {
	n=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
	tail -c +9 "$1" | head -c "$n" | jq -r 'keys[] | select(. != "__metadata__")'
}

@test "--lora writes a peft adapter, the classifier beside it, and no model" {
	run -0 bash -c "sift-train -m $F/seq -o $T/out --lora 4 --lora-alpha 16 --lr 1e-2 $T/seq.b > /dev/null"
	[ -f $T/out/adapter_model.safetensors ] && [ ! -e $T/out/model.safetensors ]
	run jq -c '[.peft_type, .task_type, .r, .lora_alpha, .lora_dropout, .target_modules, .modules_to_save, .bias]' $T/out/adapter_config.json
	assert_output '["LORA","SEQ_CLS",4,16,0,["query","value"],["classifier"],"none"]'
	run st_names $T/out/adapter_model.safetensors
	assert_line --index 0 "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"
	assert_line "base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight"
	assert_line "base_model.model.classifier.weight"
	assert_line "base_model.model.classifier.bias"
	[ "${#lines[@]}" -eq 10 ]
	run jq -c '[.labels, .targets, (.base_hash | length)]' $T/out/sift-adapter.json
	assert_output '[["negative","neutral","positive"],"query,value",16]'
	run jq -c '.options.lora' $T/out/sift-train.json
	assert_output '{"r":4,"alpha":16,"dropout":0,"targets":"query,value"}'
}

@test "output alone is written as a regular expression peft matches exactly" {
	sift-train -m $F/tok -o $T/out --lora 2 --lora-targets output,query $T/tok.b > /dev/null
	run jq -r '.target_modules, .task_type' $T/out/adapter_config.json
	assert_output '.*\.layer\.\d+\.(attention\.self\.query|output\.dense)
TOKEN_CLS'
}

@test "the adapter and its state are a small part of a full checkpoint's" {
	sift-train -m $F/seq -o $T/full $T/seq.b > /dev/null
	sift-train -m $F/seq -o $T/lora --lora 4 $T/seq.b > /dev/null
	full=$(stat -c %s $T/full/model.safetensors)
	lora=$(stat -c %s $T/lora/adapter_model.safetensors)
	[ $((lora * 10)) -lt "$full" ]
	[ $(($(stat -c %s $T/lora/train_state.bin) * 10)) -lt "$(stat -c %s $T/full/train_state.bin)" ]
}

@test "a resumed --lora run ends with the bytes of an uninterrupted one" {
	opts="--lora 4 --lora-dropout 0.1 --dropout 0.2 --accum 2 --seed 3 --lr 1e-2"
	sift-train -m $F/tok -o $T/full $opts $T/tok.b > /dev/null
	sift-train -m $F/tok -o $T/half $opts --stop-after 1 $T/tok.b > /dev/null
	! cmp -s $T/full/adapter_model.safetensors $T/half/adapter_model.safetensors
	sift-train -m $F/tok -o $T/half $opts --resume $T/tok.b > /dev/null
	cmp $T/full/adapter_model.safetensors $T/half/adapter_model.safetensors
	n=$(($(stat -c %s $T/full/train_state.bin) - 96 - 8))
	cmp -i 96 -n $n $T/full/train_state.bin $T/half/train_state.bin
}

@test "a resume against another base is refused" {
	sift-train -m $F/seq -o $T/out --lora 2 --lr 1e-2 --stop-after 1 --max-steps 3 $T/seq.b > /dev/null
	# the same shapes, the weights changed: the merged model is another base
	sift-fwd -m $F/seq --adapter $T/out --save-merged $T/other
	sift-train -m $T/other -o $T/o2 --lora 2 --max-steps 1 $T/seq.b > /dev/null
	want=$(jq -r .base_hash $T/out/sift-adapter.json)
	have=$(jq -r .base_hash $T/o2/sift-adapter.json)
	[ "$want" != "$have" ]
	run -1 --separate-stderr sift-train -m $T/other -o $T/out --lora 2 --lr 1e-2 --max-steps 3 --resume $T/seq.b
	assert_equal "$stderr" "sift-train: $T/out/sift-adapter.json: the adapter was trained on another base model (base_hash $want, this base $have)"
}

@test "sift-fwd --adapter predicts what peft predicts with the adapter peft made" {
	sift-fwd -m $F/seq --adapter $L/peft-seq $T/seq.b | sift-cat > $T/pred
	same_predictions $L/seq.expect.jsonl < $T/pred
	sift-fwd -m $F/tok --adapter $L/peft-tok $T/tok.b | sift-cat > $T/pred
	same_predictions $L/tok.expect.jsonl < $T/pred
}

@test "--save-merged writes an ordinary checkpoint that predicts what the adapter does" {
	sift-train -m $F/tok -o $T/out --lora 4 --lora-targets query,key,value,attn-out,intermediate,output --lr 1e-2 $T/tok.b > /dev/null
	run -0 --separate-stderr sift-fwd -m $F/tok --adapter $T/out --save-merged $T/merged
	[ -z "$output" ] && [ -z "$stderr" ]
	[ -f $T/merged/model.safetensors ] && [ -f $T/merged/vocab.txt ]
	sift-fwd -m $F/tok --adapter $T/out $T/tok.b | sift-cat | jq -c 'select(.id) // empty' > $T/a
	sift-fwd -m $T/merged $T/tok.b | sift-cat > $T/b
	same_predictions <(jq -c 'select(.id != null)' $T/a) < $T/b
	# the adapter changed the model
	! sift-fwd -m $F/tok $T/tok.b | sift-cat | same_predictions <(jq -c 'select(.id != null)' $T/a)
}

@test "--save-merged does not replace a directory that holds no model" {
	mkdir $T/keep
	touch $T/keep/notes
	run -1 --separate-stderr sift-fwd -m $F/seq --adapter $L/peft-seq --save-merged $T/keep
	assert_equal "$stderr" "sift-fwd: $T/keep: exists and holds no model.safetensors; not replaced"
	[ -f $T/keep/notes ]
}

@test "--adapter of a token adapter for a cls stream is an error" {
	run -1 --separate-stderr sift-fwd -m $F/seq --adapter $L/peft-tok $T/seq.b
	assert_equal "$stderr" "sift-fwd: $L/peft-tok: the adapter is a token classifier but the input's task is not"
}

@test "--adapter of a directory without an adapter is an error naming the file" {
	run -1 --separate-stderr sift-fwd -m $F/seq --adapter $F/seq $T/seq.b
	assert_equal "$stderr" "sift-fwd: $F/seq/adapter_config.json: no such adapter (no adapter_config.json)"
}

@test "--save-merged without --adapter is a usage error" {
	run -2 --separate-stderr sift-fwd -m $F/seq --save-merged $T/m
	assert_equal "$stderr" "sift-fwd: --save-merged needs --adapter DIR
Try 'sift-fwd --help'."
}

@test "an unknown --lora-targets name is a usage error naming it" {
	run -2 --separate-stderr sift-train -m $F/seq -o $T/out --lora 4 --lora-targets query,dense $T/seq.b
	assert_equal "$stderr" "sift-train: --lora-targets: 'dense' is not a target (query, key, value, attn-out, intermediate, output)
Try 'sift-train --help'."
}

@test "a rank of 0 is a usage error" {
	run -2 --separate-stderr sift-train -m $F/seq -o $T/out --lora 0 $T/seq.b
	assert_equal "${stderr%%$'\n'*}" "sift-train: --lora: expected an integer from 1 to 1048576, got '0'"
}

@test "a rank above a target's smaller side is an error naming the target" {
	run -1 --separate-stderr sift-train -m $F/seq -o $T/out --lora 33 --lora-targets value $T/seq.b
	assert_equal "$stderr" "sift-train: --lora 33: the rank of value must be 1..32, the smaller side of its (32,32) weight"
	[ ! -e $T/out ]
}

@test "--lora-alpha without --lora is a usage error" {
	run -2 --separate-stderr sift-train -m $F/seq -o $T/out --lora-alpha 16 $T/seq.b
	assert_equal "$stderr" "sift-train: --lora-alpha, --lora-dropout and --lora-targets need --lora
Try 'sift-train --help'."
}

@test "--lora with --freeze-layers is a usage error" {
	run -2 --separate-stderr sift-train -m $F/seq -o $T/out --lora 4 --freeze-layers 1 $T/seq.b
	assert_equal "$stderr" "sift-train: --lora freezes the whole base: no --freeze-embeddings or --freeze-layers with it
Try 'sift-train --help'."
}

@test "--lora on an mlm stream is an error" {
	jq -c 'if .sift then .task = "mlm" | del(.labels) else . end' $F/tok.jsonl | sift-cat -s > $T/mlm.b
	run -1 --separate-stderr sift-train -m $F/tok -o $T/out --lora 4 $T/mlm.b
	assert_equal "$stderr" "sift-train: --lora: the task is mlm; adapters train a ner, cls or pair head"
}

@test "--lora with --dev keeps the best adapter, and a resumed run keeps the same one" {
	opts="--lora 4 --lr 1e-2 --dev $T/seq.b --eval-every 2"
	sift-train -m $F/seq -o $T/a $opts $T/seq.b | sift-cat > $T/log
	# the best step is the first of the highest dev accuracy
	best=$(jq -s '[.[] | select(.dev)] | (map(.dev.accuracy) | max) as $m | map(select(.dev.accuracy == $m)) | first.step' $T/log)
	assert_equal "$(jq -c 'select(.end) | .best_step' $T/log)" "$best"
	sift-train -m $F/seq -o $T/b $opts --stop-after 3 $T/seq.b > /dev/null
	sift-train -m $F/seq -o $T/b $opts --resume $T/seq.b > /dev/null
	cmp $T/a/adapter_model.safetensors $T/b/adapter_model.safetensors
	# the adapter saved is the best step's: the last step's when that is
	# the best, another one else
	sift-train -m $F/seq -o $T/c --lora 4 --lr 1e-2 --stop-after "$best" $T/seq.b > /dev/null
	sift-fwd -m $F/seq --adapter $T/a $T/seq.b | sift-cat > $T/pa
	sift-fwd -m $F/seq --adapter $T/c $T/seq.b | sift-cat > $T/pc
	cmp $T/pa $T/pc
}
