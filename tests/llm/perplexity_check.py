#!/usr/bin/env python3
"""tandem's --perplexity against llama.cpp's perplexity method on the same GGUF and text.

    perplexity_check.py --exe TANDEM_EXE --model MODEL.gguf --text FILE [--ctx 512]
                        [--tol 0.02] [--via-score-tokens] [--llamacpp-ppl X]

Runs `TANDEM_EXE --perplexity FILE --ctx N` and parses its "Final estimate: PPL = X +/- Y"
line; computes llama.cpp's perplexity with llama-perplexity's method over llama-cpp-python's
logits (llamacpp_util.perplexity, documented there) — or takes it from --llamacpp-ppl.
Passes iff |PPL_tandem / PPL_llama.cpp - 1| <= --tol (2%).
--via-score-tokens also runs the same Python method over tandem's --score-tokens logits
per chunk, which separates tandem's perplexity driver from its numerics.
Exit 0 pass, 1 fail, 2 usage or tool error.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

FINAL = re.compile(r"Final estimate: PPL = ([0-9.eE+-]+) \+/- ([0-9.eE+-]+)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--exe", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--tol", type=float, default=0.02, help="relative (default 0.02)")
    ap.add_argument("--llamacpp-ppl", type=float, help="skip llama.cpp; use this value")
    ap.add_argument("--via-score-tokens", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()

    t0 = time.time()
    r = subprocess.run([a.exe, "--perplexity", a.text, "--ctx", str(a.ctx)],
                       capture_output=True, text=True, errors="replace")
    t_tandem = time.time() - t0
    out = r.stdout + r.stderr
    m = FINAL.search(out)
    if r.returncode != 0 or not m:
        sys.stderr.write(out[-4000:])
        print(f"perplexity_check.py: tandem --perplexity exited {r.returncode}"
              f"{'' if m else ' without a Final estimate line'}: FAIL")
        return 2 if r.returncode else 1
    ppl_t, err_t = float(m.group(1)), float(m.group(2))
    print(f"tandem:    PPL = {ppl_t:.4f} +/- {err_t:.5f}  ({t_tandem:.1f} s)")

    if a.llamacpp_ppl is not None:
        ppl_l = a.llamacpp_ppl
        print(f"llama.cpp: PPL = {ppl_l:.4f} (given)")
    else:
        import llamacpp_util as lu
        llm = lu.load(a.model, n_ctx=a.ctx, n_threads=a.threads)
        tokens = lu.tokenize(llm, lu.read_text(a.text), add_special=True)
        bos = lu.bos_id(llm) if lu.add_bos(llm) else None
        t0 = time.time()
        ppl_l, err_l, _ = lu.perplexity(tokens, a.ctx, lambda c: lu.logits(llm, c), bos=bos,
                                        out=None)
        print(f"llama.cpp: PPL = {ppl_l:.4f} +/- {err_l:.5f}  ({time.time() - t0:.1f} s, "
              f"{len(tokens)} tokens, {len(tokens) // a.ctx} chunks of {a.ctx})")
        if a.via_score_tokens:
            work = tempfile.mkdtemp(prefix="tandem-ppl-")

            def tandem_logits(chunk):
                ids, outp = os.path.join(work, "ids.npy"), os.path.join(work, "logits.npy")
                np.save(ids, np.asarray(chunk, dtype=np.int32))
                subprocess.run([a.exe, f"--score-tokens=@{ids}", f"--output=@{outp}"],
                               check=True, capture_output=True)
                return np.load(outp).reshape(len(chunk), -1)

            ppl_s, err_s, _ = lu.perplexity(tokens, a.ctx, tandem_logits, bos=bos, out=None)
            print(f"tandem --score-tokens, same method: PPL = {ppl_s:.4f} +/- {err_s:.5f}")

    rel = ppl_t / ppl_l - 1.0
    ok = abs(rel) <= a.tol
    print(f"perplexity_check.py: {os.path.basename(a.model)} on {os.path.basename(a.text)}, "
          f"ctx {a.ctx}: tandem {ppl_t:.4f}, llama.cpp {ppl_l:.4f}, diff {100 * rel:+.2f}% "
          f"(tol {100 * a.tol:g}%): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
