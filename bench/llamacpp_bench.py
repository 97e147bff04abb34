#!/usr/bin/env python3
"""llama.cpp's prefill and decode speed on a GGUF, measured as llama-bench measures them.

    PYTHON bench/llamacpp_bench.py --model MODEL.gguf --threads T --ctx N
                                   [--pp 128,512] [--tg 128] [--reps 3]

Run by bench/llm_bench.py in a process of its own (so that its peak RSS is llama.cpp's
alone), with a python that has llama-cpp-python. Prints one JSON object on stdout:
{"pp128": tok/s, "pp512": ..., "tg128": ..., "rss_base_kib": ..., "llama_cpp": version,
"system_info": ...}; each rate is the median of --reps runs.

The method is llama-bench's (llama.cpp tools/llama-bench): the context has n_batch =
n_ubatch = 512 (so a prompt of up to 512 tokens is one batch), n_threads and
n_threads_batch = T; the token ids are pseudo-random; one warm-up (the smallest prompt
test, then one decoded token) precedes the timed runs; before each run the KV cache is
cleared, then
  ppN: the N tokens go to llama_decode as one batch from position 0, then
       llama_synchronize; rate = N / elapsed;
  tgN: N calls of llama_decode with one token each from position 0, each followed by
       llama_synchronize; rate = N / elapsed.
It calls llama.cpp's C API through llama-cpp-python's ctypes bindings, bypassing the
Llama class's Python-side bookkeeping (its token and logits copies) for the timed calls.
`rss_base_kib` is this process's resident set after importing llama_cpp and before
loading the model: the Python interpreter's share of the peak RSS the parent measures.
"""
import argparse
import json
import random
import statistics
import sys
import time

try:
    import llama_cpp as L
except ImportError as e:
    sys.exit(f"llamacpp_bench.py: {sys.executable} has no llama_cpp ({e}); "
             "tools/setup.sh --python installs llama-cpp-python into build/venv")


def rss_kib():
    """This process's resident set now, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Bench:
    """A llama.cpp context and the raw decode calls llama-bench times."""

    def __init__(self, model, threads, n_ctx):
        self.llm = L.Llama(model_path=model, n_ctx=n_ctx, n_batch=512, n_ubatch=512,
                           n_threads=threads, n_threads_batch=threads, logits_all=False,
                           verbose=False)
        self.ctx = self.llm._ctx.ctx
        self.mem = L.llama_get_memory(self.ctx)
        self.n_vocab = self.llm.n_vocab()
        self.rng = random.Random(1)

    def tokens(self, n):
        return [self.rng.randrange(self.n_vocab) for _ in range(n)]

    def decode(self, arr, n):
        rc = L.llama_decode(self.ctx, L.llama_batch_get_one(arr, n))
        if rc != 0:
            sys.exit(f"llamacpp_bench.py: llama_decode returned {rc}")
        L.llama_synchronize(self.ctx)

    def prompt(self, n):
        """Seconds to prefill n tokens as one batch from position 0."""
        arr = (L.llama_token * n)(*self.tokens(n))
        L.llama_memory_clear(self.mem, False)
        start = time.perf_counter()
        self.decode(arr, n)
        return time.perf_counter() - start

    def generate(self, n):
        """Seconds to decode n tokens one at a time from position 0."""
        arrs = [(L.llama_token * 1)(t) for t in self.tokens(n)]
        L.llama_memory_clear(self.mem, False)
        start = time.perf_counter()
        for arr in arrs:
            self.decode(arr, 1)
        return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--ctx", type=int, required=True, help="KV cache positions (n_ctx)")
    ap.add_argument("--pp", default="128,512", help="prompt sizes, comma-separated")
    ap.add_argument("--tg", default="128", help="decode lengths, comma-separated")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    pps = [int(x) for x in a.pp.split(",") if x]
    tgs = [int(x) for x in a.tg.split(",") if x]
    if any(n > 512 or n > a.ctx for n in pps) or any(n > a.ctx for n in tgs):
        sys.exit("llamacpp_bench.py: prompts must fit one batch (512) and tests the context")
    base = rss_kib()
    b = Bench(a.model, a.threads, a.ctx)
    if pps:
        b.prompt(min(pps))
    b.generate(1)
    out = {}
    for n in pps:
        out[f"pp{n}"] = statistics.median(n / b.prompt(n) for _ in range(a.reps))
    for n in tgs:
        out[f"tg{n}"] = statistics.median(n / b.generate(n) for _ in range(a.reps))
    out.update(rss_base_kib=base, llama_cpp=L.__version__,
               system_info=L.llama_print_system_info().decode(errors="replace").strip())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
