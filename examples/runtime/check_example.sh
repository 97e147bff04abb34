#!/bin/sh
# Runs a runtime example on a model's input and compares its output with the reference.
#   check_example.sh EXAMPLE WEIGHTS INPUT.npy EXPECTED.npy NPYCMP OUTPUT.npy
set -eu
if [ $# -ne 6 ]; then
  echo "usage: $0 EXAMPLE WEIGHTS INPUT.npy EXPECTED.npy NPYCMP OUTPUT.npy" >&2
  exit 2
fi
example=$1 weights=$2 input=$3 expected=$4 npycmp=$5 output=$6
rm -f "$output"
echo "+ $example $weights $input $output"
"$example" "$weights" "$input" "$output"
"$npycmp" "$output" "$expected" --rtol 1e-4
