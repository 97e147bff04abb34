#!/bin/sh
# One tiny-llama test: compile a tiny GGUF with tandemc and check its logits, or its tokenizer.
#
#   run_tiny.sh reference TANDEMC NPYCMP NAME WORK [PYTHON]
#   run_tiny.sh tokenize  TANDEMC NPYCMP NAME WORK
#
# reference: if PYTHON is given and has numpy + gguf, regenerate tiny/NAME.gguf into WORK
#   from variants.txt (seed: TANDEM_LLM_SEED when set, else the committed one) and its
#   reference logits with reference.py, and compare with check_logits.py (rtol 1e-3 per
#   row, top-1); otherwise use the committed tiny/NAME.gguf and tiny/NAME.logits.npy and
#   compare with tandem-npycmp --rtol 1e-3 (no Python needed). Either way tandem runs
#   `EXE --score-tokens=@tiny/ids.npy --output=@WORK/logits.npy`.
# tokenize: `EXE --no-parse-special --tokenize "$(cat tiny/tokenize.txt)"` must print
#   llama.cpp's ids (llama-cpp-python's tokenize(special=False)),
#   tiny/tokenize.ids (comma-separated; made by regen_tiny.sh with llama-cpp-python).
#   run_tiny.sh threads   TANDEMC NPYCMP NAME WORK
#   run_tiny.sh decode    TANDEMC NPYCMP NAME WORK PYTHON
#   run_tiny.sh kv16      TANDEMC NPYCMP NAME WORK PYTHON
# decode: every token of tiny/ids.npy decoded one by one (prefill chunks longer than
#   the ids, --remainder decode), so that every product by a Q8_0/Q4_0/Q4_1 weight
#   quantises x (--dynamic-quant=on, the default): much closer to reference.py
#   --dynamic-quant than to the exact reference (check_logits.py --closer-than: a
#   rounding that flips between two float implementations moves a random tiny model's
#   logits by ~1e-2, so no tight tolerance holds; codegen.qkernels checks the kernels
#   exactly); and with --dynamic-quant=off, the exact reference within rtol 1e-3.
#   Needs PYTHON with numpy and gguf (else exit 77: skipped).
# kv16: compiled with --kv-type=f16 (and --dynamic-quant=off), tiny/ids.npy scored by
#   prefill chunks and by decode alone: much closer to reference.py --kv-f16 than to
#   the exact reference (--closer-than, as for decode: halves round K and V, and a
#   rounding flip moves a tiny model's logits by ~5e-4), top-1 agreeing.
# threads: the logits are the same bytes with --threads 1, 2, 3 and 5 (each output is
#   computed whole by one thread), and with 2 threads prefill runs parallel regions
#   (the --bench table's regions/token).
set -eu

if [ $# -lt 5 ]; then
  echo "usage: $0 reference|tokenize TANDEMC NPYCMP NAME WORK [PYTHON]" >&2
  exit 2
fi
mode=$1 tandemc=$2 npycmp=$3 name=$4 work=$5 py=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
tiny=$here/tiny
rtol=1e-3

mkdir -p "$work"
model=$tiny/$name.gguf
expected=$tiny/$name.logits.npy
ids=$tiny/ids.npy
live=0
if [ "$mode" = decode ]; then
  if [ -z "$py" ] || ! "$py" -c "import numpy, gguf" 2>/dev/null; then
    echo "decode: needs a Python with numpy and gguf; skipped"
    exit 77
  fi
  mkdir -p "$work"
  for dq in on off; do
    exe=$work/tiny-$name-$dq
    echo "+ $tandemc $tiny/$name.gguf -o $exe --prefill-tokens=128 --dynamic-quant=$dq"
    "$tandemc" "$tiny/$name.gguf" -o "$exe" --prefill-tokens=128 --dynamic-quant=$dq
    "$exe" --remainder decode "--score-tokens=@$ids" "--output=@$work/logits-$dq.npy"
  done
  "$py" "$here/reference.py" "$tiny/$name.gguf" --ids "$ids" --out "$work/exact.npy"
  "$py" "$here/reference.py" "$tiny/$name.gguf" --ids "$ids" --out "$work/dynamic.npy" --dynamic-quant
  "$py" "$here/check_logits.py" "$work/logits-off.npy" "$work/exact.npy" --rtol $rtol
  "$py" "$here/check_logits.py" "$work/logits-on.npy" "$work/dynamic.npy" --closer-than "$work/exact.npy"
  exit 0
fi

if [ "$mode" = kv16 ]; then
  if [ -z "$py" ] || ! "$py" -c "import numpy, gguf" 2>/dev/null; then
    echo "kv16: needs a Python with numpy and gguf; skipped"
    exit 77
  fi
  mkdir -p "$work"
  exe=$work/tiny-$name-kv16
  echo "+ $tandemc $tiny/$name.gguf -o $exe --kv-type=f16 --dynamic-quant=off"
  "$tandemc" "$tiny/$name.gguf" -o "$exe" --kv-type=f16 --dynamic-quant=off
  "$py" "$here/reference.py" "$tiny/$name.gguf" --ids "$ids" --out "$work/exact.npy"
  "$py" "$here/reference.py" "$tiny/$name.gguf" --ids "$ids" --out "$work/kv16.npy" --kv-f16
  for rest in pad decode; do
    "$exe" --remainder $rest "--score-tokens=@$ids" "--output=@$work/logits-$rest.npy"
    "$py" "$here/check_logits.py" "$work/logits-$rest.npy" "$work/kv16.npy" --closer-than "$work/exact.npy" \
      --ratio 0.25 --min-top1 0.98
  done
  exe=$work/tiny-$name-kv16-decode
  "$tandemc" "$tiny/$name.gguf" -o "$exe" --kv-type=f16 --dynamic-quant=off --prefill-tokens=128
  "$exe" --remainder decode "--score-tokens=@$ids" "--output=@$work/logits-decode-only.npy"
  "$py" "$here/check_logits.py" "$work/logits-decode-only.npy" "$work/kv16.npy" --closer-than "$work/exact.npy" \
    --ratio 0.25 --min-top1 0.98
  exit 0
fi

if [ "$mode" = reference ] && [ -n "$py" ] && "$py" -c "import numpy, gguf" 2>/dev/null; then
  live=1
  args=$(grep "^$name " "$tiny/variants.txt" | sed "s/^$name *//")
  if [ -z "$args" ]; then
    echo "$0: no variant '$name' in variants.txt" >&2
    exit 2
  fi
  if [ -n "${TANDEM_LLM_SEED:-}" ]; then
    args=$(echo "$args" | sed "s/--seed [0-9]*/--seed $TANDEM_LLM_SEED/")
  fi
  model=$work/$name.gguf
  expected=$work/expected.npy
  echo "+ make_tiny_llama.py --out $model $args"
  # shellcheck disable=SC2086
  "$py" "$here/make_tiny_llama.py" --out "$model" $args
  "$py" "$here/reference.py" "$model" --ids "$ids" --out "$expected"
fi

if [ "$mode" = reference ] && [ -n "$py" ] && [ $live = 0 ]; then
  echo "note: $py lacks numpy or gguf; using the committed tiny/$name.gguf and its logits"
fi
exe=$work/tiny-$name
rm -f "$exe" "$exe.weights" "$work/logits.npy"
echo "+ $tandemc $model -o $exe --emit=exe"
"$tandemc" "$model" -o "$exe" --emit=exe

case $mode in
reference)
  echo "+ $exe --score-tokens=@$ids --output=@$work/logits.npy"
  "$exe" "--score-tokens=@$ids" "--output=@$work/logits.npy"
  if [ $live = 1 ]; then
    "$py" "$here/check_logits.py" "$work/logits.npy" "$expected" --rtol $rtol
  else
    "$npycmp" "$work/logits.npy" "$expected" --rtol $rtol
  fi
  ;;
tokenize)
  want=$(cat "$tiny/tokenize.ids")
  got=$("$exe" --no-parse-special --tokenize "$(cat "$tiny/tokenize.txt")" | tr -d ' \n')
  if [ "$got" != "$want" ]; then
    echo "tokenize.txt: tandem's ids differ from llama.cpp's"
    echo "  llama.cpp: $want"
    echo "  tandem:    $got"
    exit 1
  fi
  echo "tokenize.txt: $(echo "$want" | tr ',' '\n' | wc -l) ids, identical to llama.cpp's"
  ;;
threads)
  for t in 1 2 3 5; do
    echo "+ $exe --threads $t --score-tokens=@$ids --output=@$work/logits$t.npy"
    "$exe" --threads $t "--score-tokens=@$ids" "--output=@$work/logits$t.npy"
    cmp "$work/logits1.npy" "$work/logits$t.npy"
  done
  echo "logits identical with 1, 2, 3 and 5 threads"
  "$exe" --threads 2 --bench -p 64 -n 4 | tee "$work/bench.txt"
  regions=$(awk -F'|' '$6 ~ /pp64/ { gsub(/ /, "", $10); print $10 }' "$work/bench.txt")
  case $regions in
  "" | 0 | 0.00) echo "pp64 with 2 threads ran no parallel region (regions/token: '$regions')"; exit 1 ;;
  esac
  echo "pp64 with 2 threads: $regions parallel regions per token"
  ;;
*)
  echo "$0: unknown mode '$mode'" >&2
  exit 2
  ;;
esac
