#!/usr/bin/env bash
# The tests: install what is missing (apt, and a venv with OpenVINO), build, and run
# every test tier: unit, FileCheck (lit), end-to-end on the committed models, and the
# live OpenVINO comparison with fresh random weights and random graphs.
#   tools/test.sh [--quick]    --quick: skip the live tier (no Python packages)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
if [ $quick = 1 ]; then tools/setup.sh; else tools/setup.sh --python; fi
python_flag=()
[ $quick = 1 ] || python_flag=(-DTANDEM_PYTHON="$PWD/build/venv/bin/python")
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${python_flag[@]}" >/dev/null
cmake --build build -j"$(nproc)"
cd build
if [ $quick = 1 ]; then
  ctest --output-on-failure -j"$(nproc)" -LE live
else
  ctest --output-on-failure -j"$(nproc)"
fi
