#!/usr/bin/env python3
"""llama.cpp's perplexity of a GGUF model on a text, by llama-perplexity's method.

    bench/llm_perplexity.py [--model MODEL.gguf] [--text FILE] [--ctx 512]
                            [--save-logits FILE] [--threads N]

Defaults: SmolLM2-135M-Instruct Q4_1 (tests/llm/fetch_smollm2.sh fetches it into
build/models/) on /usr/share/common-licenses/GPL-3 with a context of 512. Needs a python
with llama-cpp-python and numpy. Prints llama-perplexity's lines ("[1]x,[2]y,..." and
"Final estimate: PPL = X +/- Y") and the time taken; the method is documented in
tests/llm/llamacpp_util.py. --save-logits writes llama-perplexity's --kl-divergence-base
file (the same bytes `llama-perplexity --kl-divergence-base FILE` would write, up to float
rounding of the logits), for `tandem-exe --kl-divergence FILE`.
"""
import argparse
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "llm"))
import llamacpp_util as lu  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.path.join(HERE, "..", "build", "models",
                                                    "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--text", default="/usr/share/common-licenses/GPL-3")
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--save-logits", help="write a llama-perplexity --kl-divergence-base file")
    a = ap.parse_args()
    if not os.path.exists(a.model):
        sys.exit(f"{a.model}: not found (tests/llm/fetch_smollm2.sh build/models fetches it)")

    t0 = time.time()
    llm = lu.load(a.model, n_ctx=a.ctx, n_threads=a.threads)
    t_load = time.time() - t0
    tokens = lu.tokenize(llm, lu.read_text(a.text), add_special=True)
    bos = lu.bos_id(llm) if lu.add_bos(llm) else None
    writer = None
    if a.save_logits:
        writer = lu.LogitsFileWriter(a.save_logits, a.ctx, llm.n_vocab(), tokens)
    t0 = time.time()
    ppl, err, nll = lu.perplexity(tokens, a.ctx, lambda c: lu.logits(llm, c), bos=bos,
                                  on_chunk=(lambda c, ids, lg: writer.chunk(lg)) if writer
                                  else None)
    t_eval = time.time() - t0
    if writer:
        writer.close()
    print(f"llm_perplexity.py: llama.cpp (llama-cpp-python {lu.llama_cpp.__version__}) "
          f"{os.path.basename(a.model)} on {a.text}: {len(tokens)} tokens, "
          f"{len(tokens) // a.ctx} chunks x {a.ctx}, {len(nll)} scored: "
          f"PPL = {ppl:.4f} +/- {err:.5f}; {t_eval:.1f} s eval + {t_load:.1f} s load, "
          f"{llm.n_threads if hasattr(llm, 'n_threads') else '?'} threads, "
          f"{platform.machine()} {os.cpu_count()} cpus")


if __name__ == "__main__":
    main()
