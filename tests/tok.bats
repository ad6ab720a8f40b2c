#!/usr/bin/env bats
# tok.bats: sift-tok, text into tokenized examples (ids checked against HF in test-tok).

load helper

setup() {
	F=$FIXTURES/tok
	V=$F/minilm
	T=$BATS_TEST_TMPDIR
}

@test "-h prints the usage and help to stdout and exits 0" {
	run --separate-stderr sift-tok -h
	assert_success
	assert_line --index 0 --partial "usage: sift-tok -m dir [-f format]"
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run sift-tok --version
	assert_success
	assert_output "sift-tok 0.1"
}

@test "an unknown option is misuse, named as typed, after the program's name and not its path" {
	run -2 --separate-stderr $SIFT_BIN/sift-tok --bogus=1
	assert_equal "$stderr" "sift-tok: unknown option '--bogus'
Try 'sift-tok --help'."
}

@test "a column number past the range is misuse naming the option, not an empty column" {
	printf '1,hello\n' > $T/x.csv
	run -2 --separate-stderr sift-tok -m $V -f csv --text-col 4294967296 $T/x.csv
	assert_equal "$stderr" "sift-tok: --text-col: expected an integer from 1 to 1048576, got '4294967296'
Try 'sift-tok --help'."
	[ -z "$output" ]
	for o in '--text-b-col 1' '--label-col 0' '--time-col 0' '--topic-col 0'; do
		set -- $o
		run -2 --separate-stderr sift-tok -m $V -f csv $1 4294967297 $T/x.csv
		assert_equal "${stderr_lines[0]}" "sift-tok: $1: expected an integer from $2 to 1048576, got '4294967297'"
	done
}

@test "a model directory is required" {
	run -2 --separate-stderr sift-tok x.txt
	assert_equal "$stderr" "sift-tok: no model: -m DIR is required
Try 'sift-tok --help'."
}

@test "an unknown format is misuse" {
	run -2 --separate-stderr sift-tok -m $V -f xml
	assert_equal "${stderr_lines[0]}" "sift-tok: unknown format 'xml'"
}

@test "NER labels go on the first sub-token of each word as run_ner aligns them" {
	run bash -c "sift-tok -m $V -f conll --iob1-to-iob2 $F/ner.conll | sift-cat | jq -c 'select(.ids) | {ids,labels}'"
	assert_success
	assert_output "$(cat $F/ner.labels.jsonl)"
}

@test "--label-all labels every sub-token, a B- continuing as I-, as run_ner's label_all_tokens" {
	run bash -c "sift-tok -m $V -f conll --iob1-to-iob2 --label-all $F/ner.conll | sift-cat | jq -c 'select(.ids) | {ids,labels}'"
	assert_success
	assert_output "$(cat $F/ner.labels-all.jsonl)"
}

@test "the header names the kind, the task, the sorted labels of the data and the vocabulary" {
	run bash -c "sift-tok -m $V -f conll --iob1-to-iob2 $F/ner.conll | sift-cat | head -1"
	assert_success
	assert_output '{"sift":1,"kind":"examples","task":"ner","labels":["B-LOC","B-MISC","B-ORG","B-PER","I-PER","O"],"vocab":{"size":30522,"hash":"1a8955ef43215668"},"producer":"sift-tok 0.1","pad_id":0}'
}

@test "NER records keep the source line, the words, the gold tags and the word of every token" {
	run bash -c "sift-tok -m $V -f conll $F/ner.conll | sift-cat | jq -c 'select(.id == 1) | {src,words,gold,word_idx,offsets,doc,win,nwin,word0,keep}'"
	assert_success
	assert_output '{"src":"'$F'/ner.conll:12","words":["The","Eurovision","Committee","met","unexpectedly"],"gold":["O","I-MISC","I-ORG","O","O"],"word_idx":[-1,0,1,2,3,4,-1],"offsets":[-1,-1,0,3,4,14,15,24,25,28,29,41,-1,-1],"doc":1,"win":0,"nwin":1,"word0":0,"keep":[0,5]}'
}

@test "--labels gives the label set and its order" {
	printf 'O\nB-PER\nI-PER\nB-LOC\nI-LOC\nB-ORG\nI-ORG\nB-MISC\nI-MISC\n' > $T/labels
	run bash -c "sift-tok -m $V -f conll --iob1-to-iob2 --labels $T/labels $F/ner.conll | sift-cat | jq -c '.labels' | head -2"
	assert_success
	assert_output '["O","B-PER","I-PER","B-LOC","I-LOC","B-ORG","I-ORG","B-MISC","I-MISC"]
[-100,1,2,-100,-100,-100,0,3,-100,-100,0,3,0,0,-100]'
}

@test "a label twice in --labels is an error naming file and line" {
	printf 'O\nB-PER\n\nI-PER\nB-PER\n' > $T/labels
	run -1 --separate-stderr bash -c "sift-tok -m $V -f conll --labels $T/labels $F/ner.conll > $T/out"
	assert_equal "$stderr" "sift-tok: $T/labels:5: duplicate label 'B-PER'"
	[ ! -s $T/out ]
}

@test "a label outside --labels is an error naming file and line, with the records before it intact" {
	printf 'O\nB-PER\nI-PER\nB-LOC\n' > $T/labels
	run -1 --separate-stderr bash -c "sift-tok -m $V -f conll --iob1-to-iob2 --labels $T/labels $F/ner.conll > $T/out"
	assert_equal "$stderr" "sift-tok: $F/ner.conll:13: label 'B-MISC' not in --labels"
	run bash -c "sift-cat < $T/out | jq -c '.words // .kind'"
	assert_output '"examples"
["Zoë","Vandersloot","visited","Schleswig-Holstein","and","Kraków","yesterday","."]'
}

@test "invalid UTF-8 is an error naming file and line, with the records before it intact" {
	printf 'one\ntwo\nth\xffree\nfour\n' > $T/bad.txt
	run -1 --separate-stderr bash -c "sift-tok -m $V $T/bad.txt > $T/out"
	assert_equal "$stderr" "sift-tok: $T/bad.txt:3: invalid UTF-8"
	run bash -c "sift-cat < $T/out | jq -r '.text // .kind'"
	assert_output "examples
one
two"
}

@test "invalid UTF-8 while labels are still being collected keeps the records before it" {
	printf 'a X\nb O\n\nc\xff O\n' > $T/bad.conll
	run -1 --separate-stderr bash -c "sift-tok -m $V -f conll $T/bad.conll > $T/out"
	assert_equal "$stderr" "sift-tok: $T/bad.conll:4: invalid UTF-8"
	run bash -c "sift-cat < $T/out | jq -c 'if .kind then .labels else .words end'"
	assert_output '["O","X"]
["a","b"]'
}

@test "a missing tag column is an error naming file and line" {
	printf 'a NN O\nb NN O\n\nc NN\n' > $T/short.conll
	run -1 --separate-stderr sift-tok -m $V -f conll --tag-col 3 $T/short.conll
	assert_equal "$stderr" "sift-tok: $T/short.conll:4: tag column 3 missing"
}

@test "the tag column is the last of the first token line for the whole file: a shorter line lacks it" {
	printf 'EU NNP I-NP I-ORG\nrejects VBZ I-VP O\n\nGerman JJ I-NP\n' > $T/ragged.conll
	run -1 --separate-stderr bash -c "sift-tok -m $V -f conll $T/ragged.conll > $T/out"
	assert_equal "$stderr" "sift-tok: $T/ragged.conll:4: tag column 4 missing"
}

@test "a longer line keeps the tag column of the first token line" {
	printf 'EU NNP I-NP I-ORG\nrejects VBZ I-VP O extra\n' > $T/ragged.conll
	run bash -c "sift-tok -m $V -f conll $T/ragged.conll | sift-cat | jq -c 'select(.ids) | .gold'"
	assert_success
	assert_output '["I-ORG","O"]'
}

@test "a missing CSV column is an error naming file and line" {
	printf '1,"a",b\n2,"c"\n' > $T/x.csv
	run -1 --separate-stderr bash -c "sift-tok -m $V -f csv --text-b-col 3 $T/x.csv > /dev/null"
	assert_equal "$stderr" "sift-tok: $T/x.csv:2: text_b column 3 missing"
}

@test "an empty file is an error" {
	: > $T/empty.txt
	run -1 --separate-stderr bash -c "sift-tok -m $V $T/empty.txt > $T/out"
	assert_equal "$stderr" "sift-tok: $T/empty.txt:1: empty file"
}

@test "text@label rows split at the last @ and latin-1 is decoded" {
	printf 'Sepp\xe4l\xe4 @ Nokia rose .@positive\nFlat .@neutral\n' > $T/fpb.txt
	run bash -c "sift-tok -m $V -f at --encoding latin1 $T/fpb.txt | sift-cat | jq -c '[.labels, .text, .label] | map(select(. != null))'"
	assert_success
	assert_output '[["neutral","positive"]]
["Seppälä @ Nokia rose .",1]
["Flat .",0]'
	# the same ids as the text given in UTF-8
	printf 'Sepp\xc3\xa4l\xc3\xa4 @ Nokia rose .@positive\nFlat .@neutral\n' > $T/fpb8.txt
	sift-tok -m $V -f at $T/fpb8.txt | sift-cat | jq -c .ids > $T/utf8
	run bash -c "sift-tok -m $V -f at --encoding latin1 $T/fpb.txt | sift-cat | jq -c .ids"
	assert_output "$(cat $T/utf8)"
}

@test "TSV with a header takes its columns by name" {
	printf 'id\tsentence\tlabel\n7\tHello there\tgreet\n8\tBye\tleave\n' > $T/x.tsv
	run bash -c "sift-tok -m $V -f tsv --header --text-col sentence --label-col label $T/x.tsv | sift-cat | jq -c '[.text, .label]' | tail -2"
	assert_success
	assert_output '["Hello there",0]
["Bye",1]'
}

@test "CLUENER span labels become per-character BIO tags" {
	printf '%s\n' '{"text": "我在北京大学", "label": {"organization": {"北京大学": [[2, 5]]}}}' > $T/c.json
	run bash -c "sift-tok -m $V -f jsonl $T/c.json | sift-cat | jq -c 'select(.ids) | [.words, .gold, .word_idx]'"
	assert_success
	assert_output '[["我","在","北","京","大","学"],["O","O","B-organization","I-organization","I-organization","I-organization"],[-1,0,1,2,3,4,5,-1]]'
}

@test "overlapping CLUENER spans: each character takes the last span over it, B- at that span's start" {
	printf '%s\n' '{"text": "我在北京大学读书", "label": {"a": {"x": [[0, 5], [6, 7]]}, "b": {"y": [[2, 3], [3, 4]]}}}' > $T/c.json
	run bash -c "sift-tok -m $V -f jsonl $T/c.json | sift-cat | jq -c 'select(.ids) | .gold'"
	assert_success
	assert_output '["B-a","I-a","B-b","B-b","I-b","I-a","B-a","I-a"]'
}

@test "a sentence longer than the model allows becomes overlapping windows whose keep ranges cover every word once" {
	awk 'BEGIN { for (i = 0; i < 40; i++) printf "word%d O\n", i }' > $T/long.conll
	sift-tok -m $V -f conll --max-length 24 --stride 6 $T/long.conll > $T/out
	run bash -c "sift-cat < $T/out | jq -c 'select(.ids) | [.win, .nwin, .word0, .keep, (.ids | length)]'"
	assert_success
	# "wordN" is 2 tokens: 11 words a window, 3 shared (6 tokens), each
	# overlap split in the middle
	assert_output '[0,5,0,[0,9],24]
[1,5,8,[1,9],24]
[2,5,16,[1,9],24]
[3,5,24,[1,9],24]
[4,5,32,[1,8],18]'
	# the kept words of the windows are the sentence, in order
	run bash -c "sift-cat < $T/out | jq -r 'select(.ids) | .words[.keep[0]:.keep[1]][]' | tr '\n' ' '"
	assert_output "$(awk 'BEGIN { for (i = 0; i < 40; i++) printf "word%d ", i }')"
}

@test "texts longer than the model allows are truncated with a count on stderr" {
	awk 'BEGIN { for (i = 0; i < 30; i++) printf "a "; print ""; print "short" }' > $T/t.txt
	run --separate-stderr bash -c "sift-tok -m $V --max-length 10 $T/t.txt | sift-cat | jq -c '.ids | length' | tail -2"
	assert_success
	assert_output "10
3"
	assert_equal "$stderr" "sift-tok: 1 of 2 texts truncated to 10 tokens"
}

@test "a pair past --max-length gives an odd budget's extra token to its longer side, as longest_first" {
	# budget 10 - 3 = 7: the 20-token text keeps 4, the 15-token one 3
	printf '1,"%s","%s"\n' "$(printf 'a %.0s' $(seq 20))" "$(printf 'b %.0s' $(seq 15))" > $T/p.csv
	run --separate-stderr bash -c "sift-tok -m $V -f csv --text-b-col 3 --max-length 10 $T/p.csv | sift-cat | jq -c 'select(.ids) | [.ids, .type_ids]'"
	assert_success
	assert_output '[[101,1037,1037,1037,1037,102,1038,1038,1038,102],[0,0,0,0,0,0,1,1,1,1]]'
}

@test "sentence pairs get token type ids" {
	printf '1,"Is it?","It is."\n' > $T/p.csv
	run bash -c "sift-tok -m $V -f csv --text-b-col 3 $T/p.csv | sift-cat | jq -c 'select(.ids) | [.ids, .type_ids, .text_b]'"
	assert_success
	assert_output '[[101,2003,2009,1029,102,2009,2003,1012,102],[0,0,0,0,0,1,1,1,1],"It is."]'
}

@test "records stream out before the input ends" {
	run bash -c "(echo hello world; sleep 6) | timeout 4 sift-tok -m $V > $T/out; sift-cat < $T/out | jq -r '.text // .kind'"
	assert_output "examples
hello world"
}

@test "a full disk is a write error" {
	run -1 --separate-stderr bash -c "sift-tok -m $V -f jsonl $F/hard.jsonl > /dev/full"
	assert_equal "${stderr_lines[0]}" "sift-tok: stdout: write error: No space left on device"
}

@test "a full disk is one write error, not one per check" {
	run -1 --separate-stderr bash -c "sift-tok -m $V -f jsonl $F/hard.jsonl > /dev/full"
	assert_equal "$stderr" "sift-tok: stdout: write error: No space left on device"
}

@test "a terminal is refused with the misuse status, as in every program" {
	command -v script > /dev/null || skip "script(1) not installed"
	run script -qec "sift-tok -m $V -f jsonl $F/hard.jsonl" /dev/null
	assert_failure 2
	assert_output --partial "sift-tok: refusing to write a binary stream to a terminal"
}

@test "a FIFO as a tokenizer file is refused at once, naming it" {
	T=$BATS_TEST_TMPDIR
	for f in vocab.txt tokenizer_config.json; do
		rm -rf $T/m && cp -r $V $T/m && rm -f $T/m/$f && mkfifo $T/m/$f
		run -1 --separate-stderr timeout 10 sift-tok -m $T/m -f jsonl $F/hard.jsonl
		assert_equal "$stderr" "sift-tok: $T/m/$f: not a regular file (a FIFO)"
	done
}

@test "a model directory without vocab.txt is read from tokenizer.json" {
	need_model
	mkdir $T/m
	cp $MODEL/tokenizer.json $MODEL/tokenizer_config.json $T/m/
	sift-tok -m $V -f conll $F/ner.conll | sift-cat > $T/a
	sift-tok -m $T/m -f conll $F/ner.conll | sift-cat > $T/b
	run diff $T/a $T/b
	assert_success
}

@test "a model_max_length of transformers' int(1e30) means no bound of the tokenizer's own" {
	mkdir $T/m
	cp $V/vocab.txt $T/m/
	sed 's/"model_max_length": 512/"model_max_length": 1000000000000000019884624838656/' \
		$V/tokenizer_config.json > $T/m/tokenizer_config.json
	grep -q 1000000000000000019884624838656 $T/m/tokenizer_config.json
	sift-tok -m $V -f conll $F/ner.conll | sift-cat > $T/a
	sift-tok -m $T/m -f conll $F/ner.conll | sift-cat > $T/b
	run diff $T/a $T/b
	assert_success
}

@test "a tokenizer.json that gives one id to two tokens is an error" {
	mkdir $T/m
	printf '%s' '{"model":{"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"x":0}}}' > $T/m/tokenizer.json
	run -1 --separate-stderr sift-tok -m $T/m $F/ner.conll
	assert_equal "$stderr" "sift-tok: $T/m/tokenizer.json: id 0 given to \"[PAD]\" and \"x\""
}

@test "a tokenizer.json id that is not a count names its token" {
	mkdir $T/m
	printf '%s' '{"model":{"vocab":{"[PAD]":0,"[UNK]":-1}}}' > $T/m/tokenizer.json
	run -1 --separate-stderr sift-tok -m $T/m $F/ner.conll
	assert_equal "$stderr" "sift-tok: $T/m/tokenizer.json: bad id for \"[UNK]\""
}

@test "a missing model directory is an error" {
	run -1 --separate-stderr sift-tok -m $T/nowhere $F/ner.conll
	assert_equal "$stderr" "sift-tok: $T/nowhere: no vocab.txt or tokenizer.json"
}

@test "transformers' model_max_length for none (int(1e30)) leaves the limit to the position table" {
	need_model
	mkdir $T/m
	cp $MODEL/vocab.txt $MODEL/config.json $T/m/
	jq '.model_max_length = "BIG"' $MODEL/tokenizer_config.json |
		sed 's/"BIG"/1000000000000000019884624838656/' > $T/m/tokenizer_config.json
	awk 'BEGIN { for (i = 0; i < 600; i++) printf "a "; print "" }' > $T/t.txt
	run --separate-stderr bash -c "sift-tok -m $T/m $T/t.txt | sift-cat | jq -c 'select(.ids) | .ids | length'"
	assert_success
	assert_output 512
	assert_equal "$stderr" "sift-tok: 1 of 1 texts truncated to 512 tokens"
}

@test "a negative id in tokenizer.json's vocab is an error naming the token" {
	mkdir $T/m
	printf '%s\n' '{"model": {"vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "hello": -1}}}' > $T/m/tokenizer.json
	run -1 --separate-stderr bash -c "echo hi | sift-tok -m $T/m"
	assert_equal "$stderr" "sift-tok: $T/m/tokenizer.json: bad id for \"hello\""
	[ -z "$output" ]
}

@test "the pipelines of the man page's EXAMPLES run" {
	sift-tok -m $V -f conll --iob1-to-iob2 $F/ner.conll | sift-batch -b 32 > $T/dev.batches
	run bash -c "sift-cat < $T/dev.batches | jq -c 'select(.B) | [.B, .T]'"
	assert_output "[3,15]"
	printf 'Profit rose .@positive\nSales fell .@negative\nNo change .@neutral\nMore .@neutral\n' > $T/fpb.txt
	run bash -c "sift-tok -m $V -f at --encoding latin1 $T/fpb.txt | sift-cat | head -3 | jq -c '.text // .kind'"
	assert_output '"examples"
"Profit rose ."
"Sales fell ."'
	printf '"3","Title","Description \\n more"\n' > $T/test.csv
	run bash -c "sift-tok -m $V -f csv --label-col 1 --text-col 2 --text-b-col 3 $T/test.csv | sift-cat | jq -c 'select(.ids) | [.text, .text_b, .label]'"
	assert_output '["Title","Description \\n more",0]'
	# news monitoring, with a classifier fixture and the first 1000 tokens
	# of the MiniLM vocabulary as its own
	mkdir -p $T/run/model
	cp $FIXTURES/fwd/cls-model/* $V/tokenizer_config.json $T/run/model/
	head -n 1000 $V/vocab.txt > $T/run/model/vocab.txt
	printf '%s\n' '{"text": "Profits fell .", "published": "2026-11-29T08:05:00Z", "ticker": "ACME"}' \
		'{"text": "Sales rose .", "published": "2026-11-29T08:10:00Z", "ticker": "ACME"}' \
		'{"text": "the a of", "published": "2026-11-29T09:30:00Z", "ticker": "BETA"}' > $T/news.jsonl
	cd $T
	run bash -c "sift-tok -m run/model -f jsonl --time-key published \
	    --topic-key ticker news.jsonl | sift-batch -b 32 |
	    sift-fwd -m run/model | sift-report -w 1h -t -a 'negative>0.4'"
	[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
	assert_line --regexp '^2026-11-29T08:00:00Z +ACME +2 '
	assert_line --regexp '^2026-11-29T09:00:00Z +BETA +1 '
	printf '\xe5\xa5\xb90\tO\n\xe5\x8f\x8b1\tO\n' > weiboNER_2nd_conll.dev
	sift-tok -m $V -f conll --strip-word-digits \
	    weiboNER_2nd_conll.dev > weibo-dev.examples
	run bash -c "sift-cat < weibo-dev.examples | jq -c 'select(.ids) | .words'"
	assert_output '["她","友"]'
	for i in $(seq 40); do echo "Stocks rallied on Tuesday as the central bank held rates, line $i."; done > news.txt
	sift-tok -m $V --task mlm --group-texts \
	    --max-length 128 news.txt | sift-batch -s -e 3 > mlm.batches
	run bash -c "sift-cat < mlm.batches | jq -s -c '[.[0].task, ([.[] | select(.B) | .T] | unique), ([.[] | select(.B) | .epoch] | unique)]'"
	assert_output '["mlm",[128],[0,1,2]]'
}

@test "a NUL byte in the input is dropped as Hugging Face drops it, offsets counting it" {
	printf 'ab\0cd\n' > $T/nul.txt
	run bash -c "sift-tok -m $V $T/nul.txt | sift-cat | jq -c 'select(.ids) | .offsets'"
	# HF: [(0, 0), (0, 4), (4, 5), (0, 0)]
	assert_output "[-1,-1,0,4,4,5,-1,-1]"
	printf 'abcd\n' > $T/plain.txt
	sift-tok -m $V $T/plain.txt | sift-cat | jq -c 'select(.ids) | .ids' > $T/want
	run bash -c "sift-tok -m $V $T/nul.txt | sift-cat | jq -c 'select(.ids) | .ids'"
	assert_output "$(cat $T/want)"
}

@test "--chars makes each text a sentence of its characters" {
	printf '%s\n' '{"id": 0, "text": "我在 北京"}' > $T/c.json
	run bash -c "sift-tok -m $V -f jsonl --chars $T/c.json | sift-cat | jq -c 'select(.ids) | [.words, .word_idx]'"
	assert_success
	assert_output '[["我","在"," ","北","京"],[-1,0,1,3,4,-1]]'
}

@test "--words makes each line a sentence of its words" {
	printf 'John lives in  Paris\n' > $T/w.txt
	run bash -c "sift-tok -m $V --words $T/w.txt | sift-cat | jq -c '[.task, .words] | map(select(. != null))'"
	assert_success
	assert_output '["ner"]
[["John","lives","in","Paris"]]'
}

@test "JSON lines' time and topic keys ride along on the examples, strings as they are and numbers printed" {
	printf '%s\n' '{"text": "Profits fell .", "time": "2026-11-29T08:05:00Z", "topic": "ACME"}' \
		'{"text": "Sales rose .", "time": 1764403200}' '{"text": "Flat .", "time": 1.5, "topic": null}' > $T/n.jsonl
	run bash -c "sift-tok -m $V -f jsonl $T/n.jsonl | sift-cat | jq -c 'select(.ids) | [.time, .topic]'"
	assert_success
	assert_output '["2026-11-29T08:05:00Z","ACME"]
["1764403200",null]
["1.5",null]'
}

@test "--time-key and --topic-key name other keys" {
	printf '%s\n' '{"text": "a", "published": "2026-11-29T08:05:00Z", "ticker": "ACME", "time": "no", "topic": "no"}' > $T/n.jsonl
	run bash -c "sift-tok -m $V -f jsonl --time-key published --topic-key ticker $T/n.jsonl | sift-cat | jq -c 'select(.ids) | [.time, .topic]'"
	assert_success
	assert_output '["2026-11-29T08:05:00Z","ACME"]'
}

@test "a record without the --time-key given is an error naming file and line, with the records before it intact" {
	printf '%s\n' '{"text": "a", "ts": "t1"}' '{"text": "b"}' > $T/n.jsonl
	run -1 --separate-stderr bash -c "sift-tok -m $V -f jsonl --time-key ts $T/n.jsonl > $T/out"
	assert_equal "$stderr" "sift-tok: $T/n.jsonl:2: no time key ts"
	run bash -c "sift-cat < $T/out | jq -c '[.text, .time]' | tail -1"
	assert_output '["a","t1"]'
}

@test "a time that is neither a string nor a number is an error naming file and line" {
	printf '%s\n' '{"text": "a", "time": [1]}' > $T/n.jsonl
	run -1 --separate-stderr sift-tok -m $V -f jsonl $T/n.jsonl
	assert_equal "$stderr" "sift-tok: $T/n.jsonl:1: key 'time' is not a string or number"
}

@test "--time-col and --topic-col take TSV/CSV columns by number" {
	printf '2026-11-29T08:05:00Z,ACME,"Profits fell, again ."\n' > $T/n.csv
	run bash -c "sift-tok -m $V -f csv --label-col 0 --text-col 3 --time-col 1 --topic-col 2 $T/n.csv | sift-cat | jq -c 'select(.ids) | [.text, .time, .topic]'"
	assert_success
	assert_output '["Profits fell, again .","2026-11-29T08:05:00Z","ACME"]'
}

@test "a header's time and topic columns are taken by name, and by default" {
	printf 'when\tticker\ttopic\ttime\ttext\nt1\tACME\tmarkets\tt0\tProfits fell .\n' > $T/n.tsv
	run bash -c "sift-tok -m $V -f tsv --header --label-col 0 --text-col text --time-col when --topic-col ticker $T/n.tsv | sift-cat | jq -c 'select(.ids) | [.time, .topic]'"
	assert_output '["t1","ACME"]'
	run bash -c "sift-tok -m $V -f tsv --header --label-col 0 --text-col text $T/n.tsv | sift-cat | jq -c 'select(.ids) | [.time, .topic]'"
	assert_output '["t0","markets"]'
	# 0: none, not even the header's
	run bash -c "sift-tok -m $V -f tsv --header --label-col 0 --text-col text --time-col 0 --topic-col 0 $T/n.tsv | sift-cat | jq -c 'select(.ids) | [.time, .topic]'"
	assert_output '[null,null]'
}

@test "a missing time column is an error naming file and line" {
	printf 'a,b,c\nd,e\n' > $T/n.csv
	run -1 --separate-stderr bash -c "sift-tok -m $V -f csv --label-col 0 --text-col 1 --time-col 3 $T/n.csv > /dev/null"
	assert_equal "$stderr" "sift-tok: $T/n.csv:2: time column 3 missing"
}

@test "time and topic go on every window of a long NER sentence" {
	awk 'BEGIN { printf "{\"text\": \""; for (i = 0; i < 40; i++) printf "w%d ", i; print "\", \"time\": \"t\", \"topic\": \"p\"}" }' > $T/long.jsonl
	run bash -c "sift-tok -m $V -f jsonl --words --max-length 24 --stride 6 $T/long.jsonl | sift-cat | jq -c 'select(.ids) | [.win, .time, .topic]'"
	assert_success
	assert_line --index 0 '[0,"t","p"]'
	refute_line --partial 'null'
	[ "${#lines[@]}" -gt 1 ]
}

@test "time and topic reach sift-fwd's predictions through sift-batch" {
	M=$FIXTURES/pipelines/tiny
	printf '%s\n' '{"text": "Profits fell .", "time": "2026-11-29T08:05:00Z", "topic": "ACME", "label": "negative"}' \
		'{"text": "Sales rose .", "label": "positive"}' > $T/n.jsonl
	run bash -c "sift-tok -m $M -f jsonl $T/n.jsonl | sift-batch -b 2 | sift-fwd -m $M --init-head 1 | sift-cat | jq -c 'select(.pred) | [.text, .time, .topic]'"
	assert_success
	assert_output '["Profits fell .","2026-11-29T08:05:00Z","ACME"]
["Sales rose .",null,null]'
}

@test "--strip-word-digits drops Weibo NER's segmentation positions, never a word's first character" {
	printf '她0\tO\n310\tO\n友1\tB-PER.NOM\n\xef\xbf\xbd\xef\xbf\xbd2\tO\nab\tO\n' > $T/w.conll
	run bash -c "sift-tok -m $V -f conll --strip-word-digits $T/w.conll | sift-cat | jq -c 'select(.ids) | .words'"
	assert_success
	assert_output '["她","3","友","��","ab"]'
	# without it the words are as they stand
	run bash -c "sift-tok -m $V -f conll $T/w.conll | sift-cat | jq -c 'select(.ids) | .words[0:2]'"
	assert_output '["她0","310"]'
}

@test "--strip-word-digits reads Weibo NER dev as the 270 sentences and 14,509 characters its README counts" {
	need_data
	run bash -c "sift-tok -m $V -f conll --strip-word-digits $DATA/weibo_ner/weiboNER_2nd_conll.dev | sift-cat | jq -s -c '[[.[] | select(.ids)] | length, ([.[] | .words // [] | length] | add), ([.[] | .words // [] | .[] | select(length != 1)] | length)]'"
	assert_success
	# 44 words in the three splits are two U+FFFD (emoji lost), 16 in dev
	assert_output '[270,14509,16]'
}

@test "--task mlm writes a header with no labels, the [MASK] id and the ids masking never chooses" {
	printf 'a b\n' > $T/a.txt
	run bash -c "sift-tok -m $V --task mlm $T/a.txt | sift-cat | head -1"
	assert_success
	assert_output '{"sift":1,"kind":"examples","task":"mlm","labels":[],"vocab":{"size":30522,"hash":"1a8955ef43215668"},"producer":"sift-tok 0.1","pad_id":0,"mask_id":103,"special_ids":[101,102,0]}'
}

@test "mlm examples are one a line, [CLS] text [SEP], with the word of each token and blank lines skipped" {
	printf 'Hello world, unaffable things!\n\n \t\nThe [MASK] sat.\n' > $T/a.txt
	run bash -c "sift-tok -m $V --task mlm $T/a.txt | sift-cat | tail -n +2"
	assert_success
	assert_output "{\"id\":0,\"src\":\"$T/a.txt:1\",\"ids\":[101,7592,2088,1010,14477,20961,3468,2477,999,102],\"offsets\":[-1,-1,0,5,6,11,11,12,13,16,16,19,19,22,23,29,29,30,-1,-1],\"text\":\"Hello world, unaffable things!\",\"word_idx\":[-1,0,1,2,3,3,3,4,5,-1]}
{\"id\":1,\"src\":\"$T/a.txt:4\",\"ids\":[101,1996,103,2938,1012,102],\"offsets\":[-1,-1,0,3,4,10,11,14,14,15,-1,-1],\"text\":\"The [MASK] sat.\",\"word_idx\":[-1,0,1,2,3,-1]}"
}

@test "a line of Unicode white space only is skipped as run_mlm.py --line_by_line skips it" {
	printf '\xc2\xa0\xe3\x80\x80\nok\n' > $T/a.txt
	run bash -c "sift-tok -m $V --task mlm $T/a.txt | sift-cat | jq -c 'select(.ids) | .ids'"
	assert_success
	assert_output '[101,7929,102]'
}

@test "mlm texts longer than --max-length are truncated with a count on stderr" {
	printf 'one two three four five\nsix\n' > $T/a.txt
	run --separate-stderr bash -c "sift-tok -m $V --task mlm --max-length 4 $T/a.txt | sift-cat | jq -c 'select(.ids) | [.ids, .word_idx]'"
	assert_success
	assert_output '[[101,2028,2048,102],[-1,0,1,-1]]
[[101,2416,102],[-1,0,-1]]'
	assert_equal "$stderr" "sift-tok: 1 of 2 texts truncated to 4 tokens"
}

@test "--group-texts cuts the texts into blocks with their [CLS] and [SEP] inside, and drops the short end with a count" {
	printf 'Hello world, unaffable things!\n\n   \nThe [MASK] sat.\n' > $T/a.txt
	run --separate-stderr bash -c "sift-tok -m $V --task mlm --group-texts --max-length 6 $T/a.txt | sift-cat | jq -c 'select(.ids) | [.src, .ids, .word_idx]'"
	assert_success
	# line 2 and line 3 are texts too, each [CLS] [SEP], as datasets reads a text file
	assert_output "[\"$T/a.txt:1\",[101,7592,2088,1010,14477,20961],[-1,0,1,2,3,3]]
[\"$T/a.txt:1\",[3468,2477,999,102,101,102],[0,1,2,-1,-1,-1]]
[\"$T/a.txt:3\",[101,102,101,1996,103,2938],[-1,-1,-1,0,1,2]]"
	assert_equal "$stderr" "sift-tok: 2 tokens dropped: the short ends of groups of 1000 texts cut into blocks of 6, as run_mlm.py drops them"
}

@test "a word cut between two blocks begins the next block as a word of its own" {
	printf 'unaffable!\n' > $T/a.txt
	run bash -c "sift-tok -m $V --task mlm --group-texts --max-length 3 $T/a.txt | sift-cat | jq -c 'select(.ids) | [.ids, .word_idx]'"
	assert_success
	assert_output '[[101,14477,20961],[-1,0,0]]
[[3468,999,102],[0,1,-1]]'
}

@test "texts shorter together than one block make one short block, as run_mlm.py keeps them" {
	printf 'a\nb\n' > $T/a.txt
	run --separate-stderr bash -c "sift-tok -m $V --task mlm --group-texts $T/a.txt | sift-cat | jq -c 'select(.ids) | .ids'"
	assert_success
	assert_output '[101,1037,102,101,1038,102]'
	[ -z "$stderr" ]
}

@test "mlm word_idx starts a word at every token without ## and only there, as the whole-word collator's rule" {
	need_data
	head -n 300 $DATA/ag_news/test.csv > $T/ag.csv
	for g in '' '--group-texts --max-length 64'; do
		# token id and word, a line "-1 -2" where each example begins
		sift-tok -m $V -f csv --text-col 3 --task mlm $g $T/ag.csv 2>/dev/null | sift-cat |
			jq -r 'select(.ids) | "-1 -2", ([.ids, .word_idx] | transpose | .[] | "\(.[0]) \(.[1])")' > $T/tw
		run awk -v vocab=$V/vocab.txt 'BEGIN { while ((getline t < vocab) > 0) tok[n++] = t }
			$2 >= 0 { cont = substr(tok[$1], 1, 2) == "##"; same = prev >= 0 && $2 == prev
				if (same != cont && !(prev == -2 && cont)) bad++; ntok++ }
			{ prev = $2 } END { print bad + 0, (ntok > 5000) }' $T/tw
		assert_output '0 1'
	done
}

@test "empty input with --task mlm is a stream of the header alone" {
	run bash -c "printf '' | sift-tok -m $V --task mlm | sift-cat"
	assert_success
	assert_output '{"sift":1,"kind":"examples","task":"mlm","labels":[],"vocab":{"size":30522,"hash":"1a8955ef43215668"},"producer":"sift-tok 0.1","pad_id":0,"mask_id":103,"special_ids":[101,102,0]}'
}

@test "an mlm block size over the model's limit is misuse naming the option and the limit" {
	printf 'a\n' > $T/a.txt
	run -2 --separate-stderr sift-tok -m $V --task mlm --group-texts --max-length 513 $T/a.txt
	assert_equal "$stderr" "sift-tok: --max-length 513: over the model's limit of 512 tokens
Try 'sift-tok --help'."
	[ -z "$output" ]
}

@test "--group-texts without --task mlm, and --labels with it, are misuse" {
	run -2 --separate-stderr sift-tok -m $V --group-texts x.txt
	assert_equal "${stderr_lines[0]}" "sift-tok: --group-texts: only with --task mlm"
	run -2 --separate-stderr sift-tok -m $V --task mlm --labels x x.txt
	assert_equal "${stderr_lines[0]}" "sift-tok: --labels: --task mlm has no labels"
}

@test "mlm on CSV ignores the label column" {
	printf 'pos,fine day\n' > $T/a.csv
	run bash -c "sift-tok -m $V -f csv --task mlm $T/a.csv | sift-cat | jq -c 'select(.ids) | [.ids, has(\"label\")]'"
	assert_success
	assert_output '[[101,2986,2154,102],false]'
}

@test "an mlm example of one text keeps its time and topic, a block of grouped texts has none" {
	printf '%s\n' '{"text": "Profits fell .", "time": "t1", "topic": "A"}' '{"text": "Sales rose .", "time": "t2", "topic": "B"}' > $T/n.jsonl
	run bash -c "sift-tok -m $V -f jsonl --task mlm $T/n.jsonl | sift-cat | jq -c 'select(.ids) | [.time, .topic]'"
	assert_output '["t1","A"]
["t2","B"]'
	run bash -c "sift-tok -m $V -f jsonl --task mlm --group-texts $T/n.jsonl | sift-cat | jq -c 'select(.ids) | [.time, .topic, (.ids | length)]'"
	assert_output '[null,null,10]'
}

@test "--id-offset numbers the examples from N, cls and mlm alike, and nothing else changes" {
	printf 'good\tone\nbad\ttwo words\nok\tthree\n' > $T/x.tsv
	sift-tok -m $V -f tsv $T/x.tsv > $T/a
	sift-tok -m $V -f tsv --id-offset 2000000000 $T/x.tsv > $T/b
	run bash -c "sift-cat $T/b | jq -c 'select(.id) | .id'"
	assert_output "2000000000
2000000001
2000000002"
	cmp <(sift-cat $T/a | jq -c 'del(.id)') <(sift-cat $T/b | jq -c 'del(.id)')
	printf 'a b\nc d\n' > $T/m.txt
	run bash -c "sift-tok -m $V --task mlm --id-offset 7 $T/m.txt | sift-cat | jq -c 'select(.src) | .id'"
	assert_output "7
8"
}

@test "--id-offset moves a NER sentence's windows and its doc together" {
	# a sentence of 40 words in windows of 16 tokens: several windows, one doc
	{ for i in $(seq 40); do printf 'w%d O\n' $i; done; printf '\nx O\n'; } > $T/s.conll
	sift-tok -m $V -f conll --max-length 16 --stride 4 $T/s.conll > $T/a
	sift-tok -m $V -f conll --max-length 16 --stride 4 --id-offset 100 $T/s.conll > $T/b
	n=$(sift-cat $T/a | jq -s '[.[] | select(.ids)] | length')
	[ "$n" -gt 2 ]
	run bash -c "sift-cat $T/b | jq -c 'select(.ids) | [.id, .doc]' | tr '\n' ' '"
	assert_output "$(sift-cat $T/a | jq -c 'select(.ids) | [.id + 100, .doc + 100]' | tr '\n' ' ')"
}

@test "--id-offset takes 0 to 2^31-1, the ids sift-eval takes" {
	run -2 --separate-stderr sift-tok -m $V --id-offset -1 /dev/null
	assert_equal "$stderr" "sift-tok: --id-offset: expected an integer from 0 to 2147483647, got '-1'
Try 'sift-tok --help'."
}
