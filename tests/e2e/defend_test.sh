#!/bin/sh
# e2e.defend: executables compiled by tandemc refuse bad inputs with one line and exit
# status 1 (2 for usage), and nothing is written: a plain model (tests/models/mlp) and
# an LLM (tests/llm/tiny/f32.gguf compiled with --ctx=32). The runtime's own tests do
# the same on hand-written fake models (tests/runtime, tests/llm_runtime); this checks
# that real compiled executables get those checks.
#
# usage: defend_test.sh TANDEMC SOURCE_DIR WORK_DIR
set -eu

if [ $# -ne 3 ]; then
  echo "usage: $0 TANDEMC SOURCE_DIR WORK_DIR" >&2
  exit 2
fi
tandemc=$1 src=$2 work=$3
fail() { echo "e2e.defend: $*" >&2; exit 1; }

# expect_error CODE MESSAGE COMMAND...: exits CODE, prints exactly MESSAGE on stderr
# (one line) and nothing on stdout, and writes no out.npy.
expect_error() {
  code=$1 message=$2
  shift 2
  rm -f out.npy
  set +e
  "$@" >stdout.txt 2>stderr.txt
  got=$?
  set -e
  [ "$got" -eq "$code" ] || fail "$*: exit $got, expected $code: $(cat stderr.txt)"
  [ "$(cat stderr.txt)" = "$message" ] || fail "$*: stderr '$(cat stderr.txt)', expected '$message'"
  [ ! -s stdout.txt ] || fail "$*: wrote to stdout: $(cat stdout.txt)"
  [ ! -e out.npy ] || fail "$*: wrote out.npy"
  echo "ok: $message"
}

rm -rf "$work" && mkdir -p "$work" && cd "$work"
mlp=$src/tests/models/mlp
"$tandemc" "$mlp/model.xml" -o mlp
"$tandemc" "$src/tests/llm/tiny/f32.gguf" -o tiny --ctx=32
cp "$mlp/input_0.npy" in.npy
cp "$src/tests/llm/tiny/ids.npy" ids.npy
./mlp --input=@in.npy --output=@out.npy
# The data sizes the weights files' headers state (bytes 16-23).
data_size() { od -An -tu8 -j16 -N8 "$1" | tr -d ' '; }
mlp_size=$(data_size mlp.weights) tiny_size=$(data_size tiny.weights)

echo "== a plain executable (mlp: in0 f32[1,64])"
# The same bytes, another dtype or shape in the header; a cut file; garbage.
sed "s/'<f4'/'<i4'/" in.npy > in_i32.npy
sed "s/(1, 64)/(2, 32)/" in.npy > in_shape.npy
head -c 200 in.npy > in_cut.npy
head -c 100 in.npy > in_header.npy
expect_error 1 "mlp: in_i32.npy: input 'in0' expects f32[1,64], got i32[1,64]" \
  ./mlp --input=@in_i32.npy --output=@out.npy
expect_error 1 "mlp: in_shape.npy: input 'in0' expects f32[1,64], got f32[2,32]" \
  ./mlp --input=@in_shape.npy --output=@out.npy
expect_error 1 "mlp: in_cut.npy: truncated: header says 256 bytes of data, file has 72" \
  ./mlp --input=@in_cut.npy --output=@out.npy
expect_error 1 "mlp: in_header.npy: truncated: the file ends inside its header" \
  ./mlp --input=@in_header.npy --output=@out.npy
expect_error 1 "mlp: mlp: not a .npy file (bad magic)" ./mlp --input=@mlp --output=@out.npy
# Weights: cut, another model's, not weights at all.
head -c 5000 mlp.weights > cut.weights
expect_error 1 "mlp: cut.weights: truncated: header says $mlp_size bytes of data, file has 904" \
  ./mlp --input=@in.npy --weights=cut.weights --output=@out.npy
expect_error 1 "mlp: tiny.weights: weights belong to another model ($tiny_size bytes of data, model 'mlp' expects $mlp_size)" \
  ./mlp --input=@in.npy --weights=tiny.weights --output=@out.npy
expect_error 1 "mlp: in.npy: not a tandem weights file (no \"TNDMWGT1\" magic)" \
  ./mlp --input=@in.npy --weights=in.npy --output=@out.npy
# The same size, other contents: a flipped byte in the header's hash.
cp mlp.weights flipped.weights
printf '\377' | dd of=flipped.weights bs=1 seek=24 conv=notrunc 2>/dev/null
expect_error 1 "mlp: flipped.weights: weights belong to another model (hash 0x$(od -An -tx8 -j24 -N8 flipped.weights | tr -d ' '), model expects 0x$(od -An -tx8 -j24 -N8 mlp.weights | tr -d ' '))" \
  ./mlp --input=@in.npy --weights=flipped.weights --output=@out.npy

echo "== an LLM executable (tiny f32, --ctx=32)"
long=$(head -c 600 "$src/tests/llm/tiny/tokenize.txt")
expect_error 1 "tiny: prompt is $(./tiny --tokenize "$long" | tr ',' '\n' | grep -c .) tokens, the context holds 32" \
  ./tiny -p "$long" -n 4
expect_error 1 "tiny: ids.npy: 80 tokens, the context holds 32" \
  ./tiny --score-tokens=@ids.npy --output=@out.npy
expect_error 2 "tiny: --ctx 64: the model's context holds 32" \
  ./tiny --perplexity "$src/tests/llm/tiny/tokenize.txt" --ctx 64
expect_error 1 "tiny: mlp.weights: weights belong to another model ($mlp_size bytes of data, model 'tiny' expects $tiny_size)" \
  ./tiny --weights mlp.weights -p hi
head -c 100000 tiny.weights > cut.weights
expect_error 1 "tiny: cut.weights: truncated: header says $tiny_size bytes of data, file has 95904" \
  ./tiny --weights cut.weights -p hi
# Generating past the context stops there: a note, and exit 0.
./tiny -p hi -n 100 >stdout.txt 2>stderr.txt || fail "-n 100 past the context failed: $(cat stderr.txt)"
grep -q "the context of 32 tokens is full" stderr.txt || fail "no note that the context is full: $(cat stderr.txt)"
echo "e2e.defend: ok"
