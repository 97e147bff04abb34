#!/bin/sh
# Layer-parallelism tests on the tiny llama (tests/llm/tiny/f32.gguf).
#
#   run_lp.sh reference TANDEMC NPYCMP START:END WORK [PYTHON]
#       --lp=START:END logits vs reference.py's pair formulas (float64), rtol 1e-4:
#       regenerated with PYTHON (numpy + gguf) when given, else tiny/f32.lpS_E.logits.npy
#   run_lp.sh fused TANDEMC NPYCMP START:END WORK
#       fuse-gemm on vs --fuse-gemm=off, same window: rtol 1e-5
#   run_lp.sh empty TANDEMC NPYCMP 2:2 WORK
#       an empty window is bit-identical to --lp=off: executable, weights and logits
#   run_lp.sh auto TANDEMC NPYCMP - WORK
#       --lp=auto twice on the same calibration text: the same report (but for the
#       seconds it took), window and weights
set -eu

if [ $# -lt 5 ]; then
  echo "usage: $0 reference|fused|empty|auto TANDEMC NPYCMP WINDOW WORK [PYTHON]" >&2
  exit 2
fi
mode=$1 tandemc=$2 npycmp=$3 window=$4 work=$5 py=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
tiny=$here/tiny
model=$tiny/f32.gguf
ids=$tiny/ids.npy
rm -rf "$work"
mkdir -p "$work"

# logits WINDOW DIR [tandemc flags...]: compile DIR/m with --lp=WINDOW, score ids.npy.
logits() {
  w=$1 dir=$2
  shift 2
  mkdir -p "$dir"
  "$tandemc" "$model" --lp="$w" -o "$dir/m" "$@"
  "$dir/m" --score-tokens=@"$ids" --output=@"$dir/logits.npy" >/dev/null
}

case $mode in
reference)
  logits "$window" "$work/tandem"
  tag=$(echo "$window" | tr : _)
  expected=$tiny/f32.lp$tag.logits.npy
  if [ -n "$py" ] && "$py" -c "import numpy, gguf" 2>/dev/null; then
    expected=$work/reference.npy
    "$py" "$here/reference.py" "$model" --ids "$ids" --lp "$window" --out "$expected"
  fi
  "$npycmp" "$work/tandem/logits.npy" "$expected" --rtol 1e-4
  ;;
fused)
  logits "$window" "$work/fused"
  logits "$window" "$work/unfused" --fuse-gemm=off
  "$npycmp" "$work/fused/logits.npy" "$work/unfused/logits.npy" --rtol 1e-5
  ;;
empty)
  logits "$window" "$work/empty"
  logits off "$work/off"
  for f in m m.weights logits.npy; do
    cmp "$work/empty/$f" "$work/off/$f"
  done
  echo "--lp=$window and --lp=off: identical executable, weights and logits"
  ;;
auto)
  for run in 1 2; do
    mkdir -p "$work/$run"
    "$tandemc" "$model" --lp=auto --lp-tokens=128 --lp-report="$work/$run/r.json" -o "$work/$run/m" \
      2> "$work/$run/stderr"
    grep -v '"calibration"' "$work/$run/r.json" > "$work/$run/r.stable.json"
    grep '"chosen"' "$work/$run/r.json"
  done
  cmp "$work/1/r.stable.json" "$work/2/r.stable.json"
  cmp "$work/1/r.svg" "$work/2/r.svg"
  cmp "$work/1/m.weights" "$work/2/m.weights"
  grep -q '"candidates": \[' "$work/1/r.json"
  grep -q '"phase_seconds": {"build": [0-9.e+-]*, "scoring": [0-9.e+-]*, "baseline": [0-9.e+-]*, "candidates": ' \
    "$work/1/r.json"
  grep -q 'run as .* parallel pairs\|no layers paired' "$work/1/stderr"
  echo "--lp=auto: the same report, window and weights twice"
  ;;
*)
  echo "$0: unknown mode '$mode'" >&2
  exit 2
  ;;
esac
