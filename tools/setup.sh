#!/usr/bin/env bash
# Installs what tandem needs on Debian 12, skipping what is already there.
#   tools/setup.sh            build dependencies (apt)
#   tools/setup.sh --python   also a venv at build/venv with openvino + numpy (pip),
#                             for the live OpenVINO tests and benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake make gcc g++ pkg-config libxml2-dev python3 python3-venv
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

if [ "${1:-}" = "--python" ]; then
  venv=build/venv
  if ! "$venv/bin/python" -c "import openvino, numpy" 2>/dev/null; then
    echo "setup: creating $venv with openvino and numpy" >&2
    mkdir -p build
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q openvino==2026.4.* numpy
  fi
fi
