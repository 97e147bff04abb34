#!/usr/bin/env python3
"""Turns llama.cpp's own tokenizer tests (models/ggml-vocab-NAME.gguf with its .inp and
.out, as tests/test-tokenizer-0.cpp reads them) into tandem fixtures:

    llama_vocab_tests.py LLAMA_CPP_MODELS_DIR OUT_DIR

writes OUT_DIR/NAME.fixture (make_tokenizer_fixture.py's format) and OUT_DIR/NAME.ids
(make_reference_ids.py's format; llama.cpp tokenizes these with add_special=false,
parse_special=false) for every vocabulary whose tokenizer tandem supports, and prints
the names.
"""
import os
import sys

from make_reference_ids import escape
from make_tokenizer_fixture import write_fixture

# gpt2/smollm/llama3/qwen2 pre-tokenizers and SPM; deepseek-*, falcon, bert, gemma-4,
# qwen35 and the rest use pre-tokenizers or models the runtime does not have.
SUPPORTED = ["gpt-2", "llama-bpe", "llama-spm", "mpt", "qwen2", "refact", "starcoder",
             "command-r", "phi-3"]
SEP = b"\n__ggml_vocab_test__\n"


def read_tests(inp, out):
    raw = open(inp, "rb").read()
    tests, pos = [], 0
    while pos < len(raw):
        n = raw.find(SEP, pos)
        if n < 0:
            tests.append(raw[pos:])
            break
        tests.append(raw[pos:n])
        pos = n + len(SEP)
    outs = open(out, "rb").read().split(b"\n")
    if outs and outs[-1] == b"":
        outs.pop()
    if len(outs) != len(tests):
        sys.exit(f"{inp}: {len(tests)} tests, {out}: {len(outs)} results")
    return zip(tests, outs)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    models, out = sys.argv[1:]
    for name in SUPPORTED:
        gguf = os.path.join(models, f"ggml-vocab-{name}.gguf")
        if not all(os.path.exists(gguf + ext) for ext in ("", ".inp", ".out")):
            continue
        write_fixture(gguf, os.path.join(out, name + ".fixture"))
        lines = [b"# llama.cpp tests/test-tokenizer-0 for " + name.encode()]
        for text, ids in read_tests(gguf + ".inp", gguf + ".out"):
            lines.append(b"N\t" + escape(text) + b"\t" + b",".join(ids.split()))
        with open(os.path.join(out, name + ".ids"), "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        print(name)


if __name__ == "__main__":
    main()
