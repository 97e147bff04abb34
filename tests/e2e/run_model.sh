#!/bin/sh
# End-to-end check of one committed model against its committed OpenVINO reference.
#
# usage: run_model.sh TANDEMC NPYCMP MODEL_DIR WORK_DIR
#
# Compiles MODEL_DIR/model.xml to the executable WORK_DIR/NAME (NAME = the model
# directory's name), feeds it MODEL_DIR/input_K.npy in order K = 0, 1, ... and compares
# each WORK_DIR/out_K.npy with MODEL_DIR/expected_K.npy (see tests/models/README.md for
# the index convention and the tolerance).
set -eu

if [ $# -ne 4 ]; then
  echo "usage: $0 TANDEMC NPYCMP MODEL_DIR WORK_DIR" >&2
  exit 2
fi
tandemc=$1 npycmp=$2 model_dir=$3 work=$4
name=$(basename "$model_dir")
exe=$work/$name
rtol=1e-4

mkdir -p "$work"
rm -f "$exe" "$exe.weights" "$work"/out_*.npy

echo "+ $tandemc $model_dir/model.xml -o $exe --emit=exe"
"$tandemc" "$model_dir/model.xml" -o "$exe" --emit=exe

set --
k=0
while [ -f "$model_dir/input_$k.npy" ]; do
  set -- "$@" "--input=@$model_dir/input_$k.npy"
  k=$((k + 1))
done
n_out=0
while [ -f "$model_dir/expected_$n_out.npy" ]; do
  set -- "$@" "--output=@$work/out_$n_out.npy"
  n_out=$((n_out + 1))
done
if [ "$n_out" -eq 0 ]; then
  echo "$model_dir: no expected_0.npy" >&2
  exit 1
fi

echo "+ $exe $*"
"$exe" "$@"

status=0
k=0
while [ "$k" -lt "$n_out" ]; do
  if ! "$npycmp" "$work/out_$k.npy" "$model_dir/expected_$k.npy" --rtol "$rtol"; then
    echo "$name: output $k differs from expected_$k.npy (rtol $rtol)" >&2
    status=1
  fi
  k=$((k + 1))
done
exit $status
