#!/usr/bin/env python3
"""Validate reference.py against llama.cpp (llama-cpp-python) on a GGUF: no tandem involved.

    validate_reference.py --model MODEL.gguf [--ref-python PY] [--ids ids.npy | --text FILE --n 64]
                          [--min-top1 95] [--max-kld 0.01]

Runs under a python with llama-cpp-python; runs reference.py under --ref-python (a python
with numpy + gguf; default: this one). Feeds the same ids from position 0 to both
(teacher forcing, llama.cpp with logits_all) and reports, per position, max relative
error max|a-b|/max|b|, top-1 agreement and KL(llama.cpp || reference). llama.cpp
quantises activations to 8 bits for its quantised dot products and rounds positions
in its RoPE in float32, so ~1e-2 relative differences are expected; the pass criteria
are top-1 and mean KLD. Exit 0 pass, 1 fail.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llamacpp_util as lu  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--ref-python", default=sys.executable)
    ap.add_argument("--ids", help="int32 .npy of token ids")
    ap.add_argument("--text", help="tokenize this file with llama.cpp instead")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--min-top1", type=float, default=95.0)
    ap.add_argument("--max-kld", type=float, default=0.01)
    ap.add_argument("--work")
    ap.add_argument("--emulate", action="store_true",
                    help="also compare reference.py --emulate-llamacpp (explains the residual)")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="tandem-refval-")
    os.makedirs(work, exist_ok=True)
    llm = lu.load(a.model, n_ctx=512)
    if a.ids:
        ids = np.load(a.ids).astype(np.int32).reshape(-1)
    elif a.text:
        ids = np.asarray(lu.tokenize(llm, lu.read_text(a.text))[: a.n], dtype=np.int32)
    else:
        ids = np.random.default_rng(0).integers(0, llm.n_vocab(), a.n).astype(np.int32)
    ids_path = os.path.join(work, "ids.npy")
    np.save(ids_path, ids)
    theirs = lu.logits(llm, ids).astype(np.float64)
    np.save(os.path.join(work, "llamacpp.npy"), theirs.astype(np.float32))
    ok = True
    for emulate in ([False, True] if a.emulate else [False]):
        ref_path = os.path.join(work, "emulated.npy" if emulate else "reference.npy")
        subprocess.run([a.ref_python, os.path.join(HERE, "reference.py"), a.model, "--ids",
                        ids_path, "--out", ref_path] + (["--emulate-llamacpp"] if emulate else []),
                       check=True, stdout=subprocess.DEVNULL)
        ours = np.load(ref_path).astype(np.float64)
        rel = np.abs(ours - theirs).max(axis=1) / np.abs(ours).max(axis=1)
        lp, lq = lu.log_softmax(theirs), lu.log_softmax(ours)
        kld = (np.exp(lp) * (lp - lq)).sum(axis=1)
        top1 = 100.0 * (ours.argmax(axis=1) == theirs.argmax(axis=1)).mean()
        passed = top1 >= a.min_top1 and kld.mean() <= a.max_kld
        if not emulate:
            ok = passed
        print(f"validate_reference.py: {os.path.basename(a.model)}: {len(ids)} tokens: "
              f"{'llama.cpp-rounding emulation' if emulate else 'reference'} vs llama.cpp: "
              f"max rel err {rel.max():.3e} (median {np.median(rel):.3e}), top-1 {top1:.1f}%, "
              f"KLD mean {kld.mean():.2e} max {kld.max():.2e}"
              + ("" if emulate else f": {'PASS' if passed else 'FAIL'}"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
