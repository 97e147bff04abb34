"""llama.cpp (through llama-cpp-python) as the reference for tandem's LLM tests.

Shared by compare_llamacpp.py, perplexity_check.py and bench/llm_perplexity.py:
loading a GGUF, tokenizing as llama.cpp's tools do, teacher-forced logits, llama-perplexity's
perplexity method, and llama-perplexity's --kl-divergence-base file format.

The perplexity method (llama.cpp tools/perplexity/perplexity.cpp, perplexity(), with no
--ppl-stride), reproduced step by step:
  1. text = the file's bytes, less one trailing '\\n' (common/arg.cpp, -f);
  2. tokens = llama_tokenize(text, add_special=true, parse_special=false) — a BOS only
     where the vocabulary says add_bos_token (SmolLM2: no);
  3. needs len(tokens) >= 2 * n_ctx; n_chunk = len(tokens) // n_ctx (the tail is dropped);
  4. chunk c is tokens[c*n_ctx : (c+1)*n_ctx], evaluated from position 0 with an empty KV
     cache; if add_bos, its first token is replaced by BOS for the evaluation;
  5. with first = n_ctx // 2, for each i in [first, n_ctx - 1): the logits at position i
     score the chunk's token i+1: nll_i = logsumexp(logits_i) - logits_i[tok_{i+1}]
     (float32 max/expf, double sum, as log_softmax there) — n_ctx - 1 - first = 255
     tokens per chunk for n_ctx 512;
  6. after each chunk print "[c]exp(sum nll / count)," ; at the end with mean m = sum/N and
     m2 = sum nll^2/N: PPL = exp(m), error = PPL * sqrt((m2 - m^2) / (N - 1)), printed as
     "Final estimate: PPL = %.4f +/- %.5f".
llama-perplexity batches n_batch / n_ctx chunks as parallel sequences; that changes no
number beyond float rounding, so here every chunk is one llama_decode of n_ctx tokens.
"""
import os
import sys

import numpy as np

try:
    import llama_cpp
except ImportError as e:  # pragma: no cover
    sys.exit(f"needs llama-cpp-python ({e}); set TANDEM_LLAMA_PYTHON to a python that has it")


def load(model_path, n_ctx=512, n_threads=None, logits_all=True):
    n_threads = n_threads or os.cpu_count() or 1
    return llama_cpp.Llama(model_path=model_path, n_ctx=n_ctx, n_batch=min(n_ctx, 2048),
                           n_ubatch=min(n_ctx, 512), n_threads=n_threads,
                           n_threads_batch=n_threads, logits_all=logits_all, verbose=False,
                           seed=0)


def read_text(path):
    """The prompt exactly as llama.cpp's -f reads it: raw bytes, less one trailing \\n."""
    with open(path, "rb") as f:
        data = f.read()
    if data.endswith(b"\n"):
        data = data[:-1]
    return data


def tokenize(llm, text_bytes, add_special=True, parse_special=False):
    return list(llm.tokenize(text_bytes, add_bos=add_special, special=parse_special))


def add_bos(llm):
    return bool(llama_cpp.llama_vocab_get_add_bos(llama_cpp.llama_model_get_vocab(llm.model)))


def bos_id(llm):
    return int(llm.token_bos())


def logits(llm, ids):
    """Teacher-forced logits [n, n_vocab] float32 for `ids` fed from position 0."""
    ids = [int(i) for i in ids]
    if len(ids) > llm.n_ctx():
        raise ValueError(f"{len(ids)} tokens exceed n_ctx {llm.n_ctx()}")
    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float32)


def log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def chunk_nll(chunk_logits, chunk_tokens, first):
    """-log p(tok_{i+1} | ..i) for i in [first, n_ctx-1), as perplexity.cpp's log_softmax."""
    lg = np.asarray(chunk_logits[first:-1], dtype=np.float32)
    tgt = np.asarray(chunk_tokens[first + 1:])
    mx = lg.max(axis=1)
    sum_exp = np.exp(lg - mx[:, None]).astype(np.float64).sum(axis=1)  # expf, double sum
    return (mx.astype(np.float64) + np.log(sum_exp)
            - lg[np.arange(len(tgt)), tgt].astype(np.float64))


def perplexity(tokens, n_ctx, logits_fn, bos=None, out=sys.stdout, on_chunk=None):
    """llama-perplexity's method. logits_fn(chunk_ids) -> [n_ctx, n_vocab].
    bos: the BOS id to put first in each chunk (None: the vocabulary adds no BOS).
    Returns (ppl, err, per-token nll array). on_chunk(c, chunk_ids, logits) sees each chunk."""
    if len(tokens) < 2 * n_ctx:
        raise SystemExit(f"you need at least {2 * n_ctx} tokens to evaluate perplexity with a "
                         f"context of {n_ctx}; the text has {len(tokens)}")
    n_chunk = len(tokens) // n_ctx
    first = n_ctx // 2
    all_nll = []
    if out:
        print(f"perplexity: calculating perplexity over {n_chunk} chunks, n_ctx={n_ctx}",
              file=out)
    for c in range(n_chunk):
        chunk = list(tokens[c * n_ctx:(c + 1) * n_ctx])
        if bos is not None:
            chunk[0] = bos
        lg = logits_fn(chunk)
        if on_chunk:
            on_chunk(c, chunk, lg)
        all_nll.append(chunk_nll(lg, tokens[c * n_ctx:(c + 1) * n_ctx], first))
        nll = np.concatenate(all_nll)
        if out:
            print(f"[{c + 1}]{np.exp(nll.mean()):.4f},", end="", file=out, flush=True)
    if out:
        print(file=out)
    nll = np.concatenate(all_nll)
    m, m2, n = nll.mean(), (nll * nll).mean(), len(nll)
    ppl = float(np.exp(m))
    var = m2 - m * m
    err = float(np.sqrt(var / (n - 1)) * ppl) if var > 0 else float("nan")
    if out:
        print(f"Final estimate: PPL = {ppl:.4f} +/- {err:.5f}", file=out)
    return ppl, err, nll


class LogitsFileWriter:
    """llama-perplexity --kl-divergence-base FILE (what --save-logits-style runs write):
    "_logits_", u32 n_ctx, i32 n_vocab, i32 n_chunk, i32 tokens[n_chunk*n_ctx], then per
    chunk and scored position (n_ctx - 1 - n_ctx/2 of them) nv = 2*((n_vocab+1)/2)+4 u16:
    f32 scale, f32 min_log_prob, then n_vocab u16 q with
    log p ~= scale * q + min_log_prob (perplexity.cpp's log_softmax with a uint16 out)."""

    def __init__(self, path, n_ctx, n_vocab, tokens):
        self.n_ctx, self.n_vocab = n_ctx, n_vocab
        n_chunk = len(tokens) // n_ctx
        self.f = open(path, "wb")
        self.f.write(b"_logits_")
        self.f.write(np.array([n_ctx], "<u4").tobytes())
        self.f.write(np.array([n_vocab, n_chunk], "<i4").tobytes())
        self.f.write(np.asarray(tokens[: n_chunk * n_ctx], "<i4").tobytes())
        self.nv = 2 * ((n_vocab + 1) // 2) + 4

    def chunk(self, lg):
        first = self.n_ctx // 2
        lg = np.asarray(lg[first:-1], dtype=np.float32)
        mx = lg.max(axis=1)
        mn = np.maximum(lg.min(axis=1), mx - np.float32(16))
        sum_exp = np.exp(lg - mx[:, None]).astype(np.float64).sum(axis=1)
        log_sum_exp = np.log(sum_exp).astype(np.float32)
        min_log_prob = (mn - mx - log_sum_exp).astype(np.float32)
        scale = ((mx - mn) / np.float32(65535)).astype(np.float32)
        rec = np.zeros((len(lg), self.nv), dtype="<u2")
        head = np.stack([scale, min_log_prob], axis=1).astype("<f4")
        rec[:, :4] = head.view("<u2")
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(scale != 0, np.float32(1) / scale, np.float32(0)).astype(np.float32)
            q = np.rint(inv[:, None] * (lg - mn[:, None])).astype(np.int64)
        q = np.where(lg > mn[:, None], q, 0)
        rec[:, 4:4 + self.n_vocab] = np.clip(q, 0, 65535).astype("<u2")
        self.f.write(rec.tobytes())

    def close(self):
        self.f.close()
