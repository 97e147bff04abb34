#!/bin/sh
# SmolLM2-135M tests that need no llama.cpp (the model comes from fetch_smollm2.sh).
#
#   run_smollm2.sh compile   TANDEMC MODEL WORK           -> WORK/smollm2 (+ .weights)
#   run_smollm2.sh tokenize  TANDEMC MODEL WORK           GPL-3 -> llama.cpp's committed ids
#   run_smollm2.sh reference TANDEMC MODEL WORK PYTHON    logits vs reference.py, rtol 1e-3
#   run_smollm2.sh lp-auto   TANDEMC MODEL WORK           --lp=auto: a window by measurement
#
# tokenize: `WORK/smollm2 --tokenize "$(cat GPL-3)"` must print smollm2/gpl3.ids, which
#   llama.cpp made (add_special on, parse_special off; 7638 ids). Exits 77 (skip) when
#   this machine's GPL-3 is not the text those ids were made from.
# reference: `--score-tokens` on smollm2/ids.npy (the first 64 ids of GPL-3) against
#   reference.py's float64 logits (PYTHON: numpy + gguf), per-row max rel err <= 1e-3 and
#   top-1 agreement, with check_logits.py.
# lp-auto: `tandemc MODEL --lp=auto --lp-report=WORK/lp/r.json -o WORK/lp/smollm2-lp`
#   (issue 4's command): the report and chart exist and name the window, the binary
#   completes "The capital of France is" with Paris, and its GPL-3 perplexity (ctx 512)
#   is within 10% of the unpaired WORK/smollm2's (the budget, 5%, is on the built-in
#   calibration text; GPL-3 is text it never saw).
set -eu
if [ $# -lt 4 ]; then
  echo "usage: $0 compile|tokenize|reference|lp-auto TANDEMC MODEL WORK [PYTHON]" >&2
  exit 2
fi
mode=$1 tandemc=$2 model=$3 work=$4 py=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
exe=$work/smollm2
text=/usr/share/common-licenses/GPL-3
text_sha=3972dc9744f6499f0f9b2dbf76696f2ae7ad8af9b23dde66d6af86c9dfb36986
mkdir -p "$work"

case $mode in
compile)
  rm -f "$exe" "$exe.weights"
  echo "+ $tandemc $model -o $exe --emit=exe"
  "$tandemc" "$model" -o "$exe" --emit=exe
  ;;
tokenize)
  if [ "$(sha256sum "$text" 2>/dev/null | cut -d' ' -f1)" != "$text_sha" ]; then
    echo "$text is missing or not the text smollm2/gpl3.ids was made from: skipped"
    exit 77
  fi
  want=$(cat "$here/smollm2/gpl3.ids")
  got=$("$exe" --no-parse-special --tokenize "$(cat "$text")" | tr -d ' \n')
  if [ "$got" != "$want" ]; then
    echo "$text: tandem's ids differ from llama.cpp's (smollm2/gpl3.ids)"
    echo "$want" | tr ',' '\n' >"$work/want.txt"
    echo "$got" | tr ',' '\n' >"$work/got.txt"
    diff "$work/want.txt" "$work/got.txt" | head -20 || true
    exit 1
  fi
  echo "$text: $(echo "$want" | tr ',' '\n' | wc -l) ids, identical to llama.cpp's"
  ;;
reference)
  if [ -z "$py" ]; then
    echo "$0: reference needs PYTHON (numpy + gguf)" >&2
    exit 2
  fi
  ids=$here/smollm2/ids.npy
  echo "+ $exe --score-tokens=@$ids --output=@$work/logits.npy"
  "$exe" "--score-tokens=@$ids" "--output=@$work/logits.npy"
  "$py" "$here/reference.py" "$model" --ids "$ids" --out "$work/reference.npy"
  "$py" "$here/check_logits.py" "$work/logits.npy" "$work/reference.npy" --rtol 1e-3
  ;;
lp-auto)
  lp=$work/lp
  rm -rf "$lp"
  mkdir -p "$lp"
  echo "+ $tandemc $model --lp=auto --lp-report=$lp/r.json -o $lp/smollm2-lp --emit=exe"
  "$tandemc" "$model" --lp=auto --lp-report="$lp/r.json" -o "$lp/smollm2-lp" --emit=exe 2>&1 | tee "$lp/stderr"
  grep '"chosen"' "$lp/r.json"
  grep -q '<svg' "$lp/r.svg"
  grep -q 'run as [0-9]* parallel pairs' "$lp/stderr"
  out=$("$lp/smollm2-lp" -p "The capital of France is" -n 8 --temp 0 2>/dev/null)
  echo "The capital of France is$out"
  case $out in *Paris*) ;; *) echo "no Paris in the paired model's completion"; exit 1 ;; esac
  base=$("$exe" --perplexity "$text" --ctx 512 2>&1 | sed -n 's/^Final estimate: PPL = \([0-9.]*\).*/\1/p')
  paired=$("$lp/smollm2-lp" --perplexity "$text" --ctx 512 2>&1 | sed -n 's/^Final estimate: PPL = \([0-9.]*\).*/\1/p')
  echo "GPL-3 perplexity: unpaired $base, paired $paired"
  awk -v b="$base" -v p="$paired" 'BEGIN { if (!(b > 0 && p > 0 && p <= b * 1.10)) exit 1 }'
  ;;
*)
  echo "$0: unknown mode '$mode'" >&2
  exit 2
  ;;
esac
