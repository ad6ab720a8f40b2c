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

@test "an unknown option is misuse" {
	run -2 --separate-stderr sift-tok --bogus
	assert_equal "${stderr_lines[1]}" "Try 'sift-tok --help'."
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

@test "a model directory without vocab.txt is read from tokenizer.json" {
	need_model
	mkdir $T/m
	cp $MODEL/tokenizer.json $MODEL/tokenizer_config.json $T/m/
	sift-tok -m $V -f conll $F/ner.conll | sift-cat > $T/a
	sift-tok -m $T/m -f conll $F/ner.conll | sift-cat > $T/b
	run diff $T/a $T/b
	assert_success
}

@test "a missing model directory is an error" {
	run -1 --separate-stderr sift-tok -m $T/nowhere $F/ner.conll
	assert_equal "$stderr" "sift-tok: $T/nowhere: no vocab.txt or tokenizer.json"
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
