#!/bin/sh
# Regenerate the committed tiny-model test data in tests/llm/tiny/:
#   NAME.gguf           make_tiny_llama.py with the arguments in variants.txt
#   ids.npy             80 int32 token ids (seed 1000), fed from position 0
#   NAME.logits.npy     reference.py's float64 logits for ids.npy, stored as float32
#   f32.lpS_E.logits.npy  the same with layers S..E-1 as parallel pairs (reference.py --lp)
#   tokenize.ids        llama.cpp's ids for tokenize.txt (add_special, no parse_special)
#                       when LLAMA_PYTHON (a python with llama-cpp-python) is given
#
#   tests/llm/regen_tiny.sh PYTHON [LLAMA_PYTHON]     PYTHON: numpy + gguf
set -eu
if [ $# -lt 1 ]; then
  echo "usage: $0 PYTHON [LLAMA_PYTHON]" >&2
  exit 2
fi
py=$1 llpy=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
tiny=$here/tiny
"$py" -c "import numpy as np; np.save('$tiny/ids.npy', np.random.default_rng(1000).integers(0, 331, 80).astype(np.int32))"
grep -v '^#' "$tiny/variants.txt" | while read -r name args; do
  [ -n "$name" ] || continue
  # shellcheck disable=SC2086
  "$py" "$here/make_tiny_llama.py" --out "$tiny/$name.gguf" $args --selfcheck
  "$py" "$here/reference.py" "$tiny/$name.gguf" --ids "$tiny/ids.npy" --out "$tiny/$name.logits.npy"
done
for w in 0:4 1:3; do
  "$py" "$here/reference.py" "$tiny/f32.gguf" --ids "$tiny/ids.npy" --lp "$w" \
    --out "$tiny/f32.lp$(echo "$w" | tr : _).logits.npy"
done
if [ -n "$llpy" ]; then
  "$llpy" - "$here" "$tiny/f32.gguf" "$tiny/tokenize.txt" "$tiny/tokenize.ids" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import llamacpp_util as lu
model, text, out = sys.argv[2:]
llm = lu.load(model, n_ctx=256)
ids = lu.tokenize(llm, lu.read_text(text))
open(out, "w").write(",".join(map(str, ids)) + "\n")
print(f"{out}: {len(ids)} ids")
PY
fi
