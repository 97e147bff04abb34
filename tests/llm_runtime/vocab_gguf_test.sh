#!/bin/sh
# Live tokenizer tests against llama.cpp on real vocabularies.
#   vocab_gguf_test.sh gguf PYTHON TEST_LLM_VOCAB SRC_DIR WORK SMOLLM2.gguf
#       the SmolLM2 fixture made afresh from the GGUF; the reference ids too when PYTHON
#       has llama_cpp (and 1000 random strings, both ways), else the committed ones
#       (smollm2/expected_ids.txt);
#   vocab_gguf_test.sh llama PYTHON TEST_LLM_VOCAB SRC_DIR WORK LLAMA_CPP_MODELS_DIR
#       llama.cpp's own tokenizer tests (models/ggml-vocab-*.gguf + .inp/.out) for every
#       vocabulary tandem supports.
# Exit 77 (skipped) when the model or Python is missing.
set -u
MODE=$1 PYTHON=$2 TEST=$3 SRC=$4 WORK=$5 INPUT=$6
[ -x "$PYTHON" ] || command -v "$PYTHON" >/dev/null 2>&1 || { echo "no python: skipped"; exit 77; }
[ -e "$INPUT" ] || { echo "$INPUT is missing: skipped"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK" || exit 2
failed=0
if [ "$MODE" = gguf ]; then
  "$PYTHON" "$SRC/make_tokenizer_fixture.py" "$INPUT" "$WORK/tokenizer.txt" || exit 1
  cmp -s "$WORK/tokenizer.txt" "$SRC/smollm2/tokenizer.txt" ||
    echo "note: the GGUF's tokenizer differs from the committed fixture"
  expected=$SRC/smollm2/expected_ids.txt
  if "$PYTHON" -c "import llama_cpp" 2>/dev/null; then
    "$PYTHON" "$SRC/make_reference_ids.py" "$INPUT" "$WORK/expected_ids.txt" 2>/dev/null || exit 1
    "$PYTHON" "$SRC/make_reference_ids.py" "$INPUT" "$WORK/random_ids.txt" --random 1000 1 2>/dev/null || exit 1
    expected=$WORK/expected_ids.txt
    "$TEST" "$WORK/tokenizer.txt" "$WORK/random_ids.txt" || failed=1
  fi
  "$TEST" "$WORK/tokenizer.txt" "$expected" || failed=1
else
  names=$(cd "$SRC" && "$PYTHON" llama_vocab_tests.py "$INPUT" "$WORK") || exit 1
  [ -n "$names" ] || { echo "no ggml-vocab-*.gguf in $INPUT: skipped"; exit 77; }
  for name in $names; do
    printf '%s: ' "$name"
    "$TEST" "$WORK/$name.fixture" "$WORK/$name.ids" || failed=1
  done
fi
exit $failed
