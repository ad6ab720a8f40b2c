#!/bin/sh
# seeds.sh: small samples of the data sets in $1 as seed inputs under $2/NAME
# (inputs at run time only: the data sets' text is not committed).  A text
# format's seed starts with the byte of options that fuzz-textin.c reads.
data=$1 out=$2
seed() {	# seed TARGET NAME OPTBYTE FILE HEAD
	[ -f "$4" ] || return 0
	mkdir -p "$out/$1"
	{ [ -n "$3" ] && printf "$3"; head -n "$5" "$4"; } >"$out/$1/$2"
}
seed conll conll-testa '\000' "$data/conll2003/eng.testa" 80
seed conll conll-train-last '\040' "$data/conll2003/eng.train" 40
seed conll weibo '\020' "$data/weibo_ner/weiboNER_2nd_conll.dev" 60
seed conll pd '\000' "$data/peoples_daily_ner/example.dev" 60
seed at fpb '\001' "$data/financial_phrasebank/Sentences_50Agree.txt" 30
seed at fpb-utf8 '\000' "$data/financial_phrasebank/Sentences_AllAgree.txt" 30
seed lines fpb-words '\005' "$data/financial_phrasebank/Sentences_75Agree.txt" 20
seed lines cluener-chars '\010' "$data/cluener2020/test.json" 10
seed jsonl cluener '\000' "$data/cluener2020/dev.json" 30
seed jsonl cluener-chars '\010' "$data/cluener2020/test.json" 20
seed csv agnews '\000' "$data/ag_news/test.csv" 30
seed tsv fpb '\001' "$data/financial_phrasebank/Sentences_66Agree.txt" 30
if [ -f "$data/financial_phrasebank/Sentences_66Agree.txt" ]; then
	{ printf '\003text\tlabel\n'; head -n 30 "$data/financial_phrasebank/Sentences_66Agree.txt" |
		sed 's/@\([a-z]*\)\r*$/\t\1/'; } >"$out/tsv/fpb-header"
fi
m=models/all-MiniLM-L6-v2
seed config minilm '' "$m/config.json" 100
seed tokconfig minilm '' "$m/tokenizer_config.json" 100
seed vocab minilm '' "$m/vocab.txt" 2000
if [ -f "$m/vocab.txt" ]; then	# tokenizer.json's model.vocab of its first tokens
	mkdir -p "$out/tokjson"
	head -n 1200 "$m/vocab.txt" | awk 'BEGIN { printf "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{" }
		{ gsub(/\\/, "&&"); gsub(/"/, "\\\""); printf "%s\"%s\":%d", (NR > 1 ? "," : ""), $0, NR - 1 }
		END { printf "}},\"normalizer\":{\"lowercase\":false}}\n" }' >"$out/tokjson/minilm"
fi
for f in tests/fixtures/fwd/*/config.json; do
	seed config "fixture-$(basename "$(dirname "$f")")" '' "$f" 100
done
for f in tests/fixtures/fwd/*/model.safetensors; do
	mkdir -p "$out/safetensors"
	cp "$f" "$out/safetensors/fixture-$(basename "$(dirname "$f")")"
done
exit 0
