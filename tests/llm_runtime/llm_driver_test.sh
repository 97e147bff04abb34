#!/bin/sh
# End-to-end test of tandem_llm_driver_main through fake LLM executables linked as
# tandemc links LLM executables (fake_llm.c + libtandem_llm_main.a + libtandem_llm.a).
#   llm_driver_test.sh FAKE_BPE FAKE_SPM FAKE_UNIFORM LLM_FIXTURES NPYCMP
# The expected outputs (greedy text, perplexity lines, logits) come from
# tandem-test-llm-fixtures, which runs the model directly. Checks exit codes, that
# every error is exactly one line "PROG: ..." on stderr with nothing on stdout, and
# that a failed run leaves no output file behind.
set -u
BPE=$1 SPM=$2 UNIFORM=$3 FIXTURES=$4 NPYCMP=$5
T=$(mktemp -d "${TMPDIR:-/tmp}/tandem-llm-driver-XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
T=$(cd "$T" && pwd -P) # the real path, as /proc/self/exe reports it
failures=0

fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }

mkdir "$T/bare" && cp "$BPE" "$T/fake" && cp "$SPM" "$T/fake_spm" && cp "$UNIFORM" "$T/uni" &&
  cp "$BPE" "$T/bare/fake" && "$FIXTURES" "$T" || exit 2
cd "$T" || exit 2

# run EXPECTED_CODE COMMAND...: stdout in out.txt, stderr in err.txt.
run() {
  expected=$1; shift
  "$@" >out.txt 2>err.txt
  code=$?
  [ "$code" -eq "$expected" ] || fail "$* exited $code, expected $expected: $(cat err.txt)"
}

# expect_out FILE COMMAND...: exits 0 and prints exactly FILE.
expect_out() {
  file=$1; shift
  run 0 "$@"
  cmp -s out.txt "$file" || fail "$*: stdout differs from $file: $(head -c 300 out.txt)"
}

# expect_error CODE MESSAGE COMMAND...: exactly one stderr line, MESSAGE (a shell
# pattern), nothing on stdout, no x.bin or temporary left.
expect_error() {
  expected=$1 message=$2; shift 2
  run "$expected" "$@"
  [ "$(wc -l <err.txt)" -eq 1 ] || fail "$*: stderr is not one line: $(cat err.txt)"
  # shellcheck disable=SC2254
  case "$(cat err.txt)" in $message) ;; *) fail "$*: stderr '$(cat err.txt)', expected '$message'" ;; esac
  [ -s out.txt ] && fail "$*: wrote to stdout: $(head -c 300 out.txt)"
  for f in x.bin x.npy *.tmp-*; do [ -e "$f" ] && fail "$*: left $f behind"; done
}

expect_line() { grep -Eq "$2" "$1" || fail "no line /$2/ in $1: $(cat "$1")"; }

# ---- --tokenize: special tokens parsed, BOS as the vocabulary says ----
printf '262,267\n' >want.txt && expect_out want.txt ./fake --tokenize "hello world"
printf '1,107,108\n' >want.txt && expect_out want.txt ./fake --tokenize "<|im_start|>hi"
printf '1,271\n' >want.txt && expect_out want.txt ./fake_spm --tokenize hi

# ---- generation ----
expect_out greedy_hello.txt ./fake -p hello --temp 0 -n 12
expect_line err.txt '^fake: prompt 1 tokens in .* generated 12 tokens in'
expect_out greedy_hello.txt ./fake -p hello --seed 3 --top-k 1 -n 12 # top-k 1 is greedy
expect_out greedy_bang.txt ./fake -p 'Stop!' --temp 0 -n 12         # ends at <|im_end|>
printf '\n' >want.txt && expect_out want.txt ./fake -p hello -n 0
run 0 ./fake -p hello --seed 7 --temp 1.5 -n 24 && cp out.txt seed7.txt
expect_out seed7.txt ./fake -p hello --seed=7 --temp=1.5 -n 24
run 0 ./fake -p hello --seed 8 --temp 1.5 -n 24
cmp -s out.txt seed7.txt && fail "seeds 7 and 8 generated the same text"
run 0 ./fake_spm --chat -p hi -n 4
run 0 ./uni -p hello -n 4 --top-p 0.5

# ---- --score-tokens: chunks, padding and decode all give the model's logits ----
for mode in auto decode pad; do
  for ids in ids32 ids64; do
    run 0 ./fake --score-tokens=@$ids.npy --output=@logits.npy --remainder $mode
    "$NPYCMP" logits.npy logits_ref.npy --rtol 0 --atol 0 >/dev/null ||
      fail "--score-tokens $ids --remainder $mode: logits differ from the model's"
  done
done
run 0 ./fake --score-tokens ids32.npy --output logits.npy

# ---- perplexity, as llama-perplexity prints it ----
expect_out ppl_bpe.txt ./fake --perplexity text.txt
expect_out ppl_bpe_ctx16.txt ./fake --perplexity text.txt --ctx 16
expect_out ppl_spm.txt ./fake_spm --perplexity text.txt # BOS replaces each window's first token
expect_out ppl_spm.txt ./fake_spm --perplexity text.txt --remainder decode
run 0 ./uni --perplexity text.txt
expect_line out.txt '^Final estimate: PPL = 272\.0000 \+/- 0\.00000$'
run 0 ./fake --perplexity text.txt --save-logits base.bin
expect_line out.txt '^Final estimate: PPL = '
[ -s base.bin ] || fail "--save-logits wrote no base.bin"
run 0 ./fake --kl-divergence base.bin
expect_line out.txt '^Mean    KLD: +-?0\.00000[0-9] '
expect_line out.txt '^Same top p: 100\.000 '
expect_line out.txt '^Mean PPL\(Q\) +: +463\.9355'
run 0 ./fake --kl-divergence base.bin --perplexity text.txt --ctx 64
expect_error 1 "fake: base.bin: computed with a context of 64, not --ctx 16" ./fake --kl-divergence base.bin --ctx 16
run 0 ./uni --kl-divergence base.bin
expect_line out.txt '^Mean    KLD: +0\.4[0-9]+ '
expect_error 1 "fake: base.bin was not computed on the tokens of short.txt" \
  ./fake --kl-divergence base.bin --perplexity short.txt

# ---- --bench ----
run 0 ./fake --bench -p 16 -n 4 --threads 2
expect_line out.txt '^\| fake +\| +64 \| +8 \| +2 \| +pp16 \| +[0-9.]+ \| .* \| +[0-9.]+ \|$'
expect_line out.txt '^\| fake +\| +64 \| +8 \| +2 \| +tg4 \| +[0-9.]+ \| .* \| +[0-9.]+ \|$'
[ ! -s err.txt ] || fail "--threads 2: stderr '$(cat err.txt)'"
TANDEM_NUM_THREADS=3 ./fake --bench -p 16 -n 4 >out.txt 2>err.txt || fail "TANDEM_NUM_THREADS=3: exit $?"
expect_line out.txt '^\| fake +\| +64 \| +8 \| +3 \| +tg4 \|'
./fake --bench -p 16 -n 4 --threads 1 >out.txt 2>err.txt || fail "--threads 1: exit $?"
expect_line out.txt '^\| fake +\| +64 \| +8 \| +1 \| +tg4 \|' 
run 0 ./fake --help
expect_line out.txt '^usage: fake -p PROMPT'

# ---- bad input: exit 1 ----
expect_error 1 "fake: $T/bare/fake.weights: cannot open: No such file or directory (pass --weights PATH)" \
  ./bare/fake -p hello
expect_error 1 "fake: other.weights: weights belong to another model (hash 0x*, model expects 0x*)" \
  ./fake --weights other.weights -p hello
expect_error 1 "fake: prompt is 98 tokens, the context holds 64" ./fake --chat -p hi # + system message
expect_error 1 "fake: prompt is 100 tokens, the context holds 64" \
  ./fake -p "$(printf '%0100d' 0 | tr 0 a)"
expect_error 1 "fake: ids_bad.npy: token 1 is id 272, outside the vocabulary (272 tokens)" \
  ./fake --score-tokens=@ids_bad.npy --output=@x.npy
expect_error 1 "fake: ids_long.npy: 65 tokens, the context holds 64" \
  ./fake --score-tokens=@ids_long.npy --output=@x.npy
expect_error 1 "fake: ids_f32.npy: expected int32 or int64 token ids of shape [[]n] or [[]1, n], n >= 1" \
  ./fake --score-tokens=@ids_f32.npy --output=@x.npy
expect_error 1 "fake: short.txt: 2 tokens; a context of 64 needs at least 128 (use a longer text or a smaller --ctx)" \
  ./fake --perplexity short.txt --save-logits x.bin
expect_error 1 "fake: text.txt: not a file of log-probabilities (--save-logits, llama-perplexity --kl-divergence-base)" \
  ./fake --kl-divergence text.txt
expect_error 1 "fake: missing.txt: cannot open: No such file or directory" ./fake --perplexity missing.txt

# ---- usage: exit 2 ----
expect_error 2 "fake: nothing to do: *" ./fake
expect_error 2 "fake: unknown option '--foo' (see --help)" ./fake --foo
expect_error 2 "fake: unexpected argument 'hello' (see --help)" ./fake hello
expect_error 2 "fake: -p needs a value" ./fake -p
expect_error 2 "fake: -n abc: expected a token count from 0" ./fake -p hi -n abc
expect_error 2 "fake: -n given twice" ./fake -p hi -n 1 -n 2
expect_error 2 "fake: --temp -1: expected a number >= 0" ./fake -p hi --temp -1
expect_error 2 "fake: --top-p 2: expected a number from 0 to 1" ./fake -p hi --top-p 2
expect_error 2 "fake: --seed -1: expected an integer from 0 to 2^64-1" ./fake -p hi --seed -1
expect_error 2 "fake: choose one of *" ./fake -p hi --tokenize hi
expect_error 2 "fake: --temp applies to generation (-p PROMPT) only" ./fake --tokenize hi --temp 0
expect_error 2 "fake: --ctx 100: the model's context holds 64" ./fake --perplexity text.txt --ctx 100
expect_error 2 "fake: --save-logits applies to --perplexity FILE only" ./fake -p hi --save-logits x.bin
expect_error 2 "fake: --ctx 100: the model's context holds 64" ./fake --kl-divergence base.bin --ctx 100
expect_error 2 "fake: --kl-divergence compares with its file, it does not write one: drop --save-logits" \
  ./fake --kl-divergence base.bin --perplexity text.txt --save-logits x.bin
expect_error 2 "fake: --ctx applies to --perplexity and --kl-divergence only" ./fake --tokenize hi --ctx 8
expect_error 2 "fake: --score-tokens=@IDS.npy and --output=@LOGITS.npy go together" \
  ./fake --score-tokens=@ids32.npy
expect_error 2 "fake: --remainder foo: expected auto, decode or pad" ./fake -p hi --remainder foo
expect_error 2 "fake: --bench -p x: expected a token count from 1" ./fake --bench -p x
expect_error 2 "fake: --top-k -1: expected a count >= 0 (0: off)" ./fake -p hi --top-k -1
expect_error 2 "fake: --ctx 2: expected a context length from 4" ./fake --perplexity text.txt --ctx 2
expect_error 2 "fake: --threads 0: expected a count from 1" ./fake -p hi --threads 0
expect_error 2 "fake: -n applies to -p PROMPT and --bench only" ./fake --perplexity text.txt -n 4
expect_error 2 "fake: --score-tokens and --output need a file name" ./fake --score-tokens=@ --output=@x.npy

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
