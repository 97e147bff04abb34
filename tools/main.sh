#!/usr/bin/env bash
# The main job: install what is missing, build tandem, compile the default model
# (a pre-norm transformer block in OpenVINO IR) into an executable, and run it.
#   tools/main.sh [MODEL.xml INPUT.npy ...]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

model=${1:-examples/transformer_block/model.xml}
shift || true
inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=(examples/transformer_block/input.npy)

out=build/examples/$(basename "$(dirname "$model")")
mkdir -p build/examples
echo "+ tandemc $model -o $out" >&2
build/bin/tandemc "$model" -o "$out"
args=()
for i in "${inputs[@]}"; do args+=("--input=@$i"); done
echo "+ $out ${args[*]}" >&2
"$out" "${args[@]}"
