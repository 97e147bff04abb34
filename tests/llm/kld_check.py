#!/usr/bin/env python3
"""tandem's --kl-divergence and --save-logits against llama.cpp, in llama-perplexity's format.

    kld_check.py --exe TANDEM_EXE --model MODEL.gguf --text FILE [--ctx 512] --work DIR
                 [--max-kld 0.01] [--min-same-top 95]

1. llama.cpp (llama-cpp-python) evaluates the text in ctx-sized chunks, llama-perplexity's
   way, and writes DIR/llamacpp.kld: the file `llama-perplexity --kl-divergence-base`
   writes (llamacpp_util.LogitsFileWriter documents the format).
2. `TANDEM_EXE --kl-divergence DIR/llamacpp.kld --ctx N` must succeed and print
   llama-perplexity's "Mean    KLD: X ± Y" and "Same top p: Z ± W %" lines; X <= --max-kld
   and Z >= --min-same-top.
3. `TANDEM_EXE --perplexity FILE --ctx N --save-logits DIR/tandem.kld` must write a file in
   the same format with the same n_ctx, n_vocab, chunks and tokens as llama.cpp's; the
   mean KL(llama.cpp || tandem) computed here from the two files obeys the same bounds.
Exit 0 pass, 1 fail, 2 usage or tool error.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llamacpp_util as lu  # noqa: E402


def read_logits_file(path):
    """(n_ctx, n_vocab, n_chunk, tokens, records[n_chunk, n_ctx-1-n_ctx/2, nv] u16)."""
    with open(path, "rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:8] != b"_logits_":
        raise SystemExit(f"{path}: not a llama-perplexity logits file (no '_logits_' magic)")
    n_ctx = int(np.frombuffer(head, "<u4", 1, 8)[0])
    n_vocab, n_chunk = (int(v) for v in np.frombuffer(head, "<i4", 2, 12))
    tokens = np.fromfile(path, "<i4", n_ctx * n_chunk, offset=20)
    nv = 2 * ((n_vocab + 1) // 2) + 4
    n_scored = n_ctx - 1 - n_ctx // 2
    off = 20 + 4 * n_ctx * n_chunk
    want = off + 2 * n_chunk * n_scored * nv
    if os.path.getsize(path) != want:
        raise SystemExit(f"{path}: {os.path.getsize(path)} bytes, expected {want} for "
                         f"n_ctx {n_ctx}, n_vocab {n_vocab}, {n_chunk} chunks")
    rec = np.memmap(path, "<u2", "r", off, (n_chunk, n_scored, nv))
    return n_ctx, n_vocab, n_chunk, tokens, rec


def decode(rec, n_vocab):
    """log-probabilities [rows, n_vocab] from llama-perplexity's uint16 records."""
    head = np.ascontiguousarray(rec[:, :4]).view("<f4")
    return (head[:, 0:1].astype(np.float64) * rec[:, 4:4 + n_vocab]
            + head[:, 1:2].astype(np.float64))


def file_kld(base, other):
    """Mean KL(base || other) and same-top-1 fraction over two logits files."""
    _, n_vocab, n_chunk, _, rb = base
    ro = other[4]
    klds, same = [], []
    for c in range(n_chunk):
        lb, lo = decode(rb[c], n_vocab), decode(ro[c], n_vocab)
        lo = lo - np.log(np.exp(lo).sum(axis=1, keepdims=True))  # renormalise the rounding
        pb = np.where(lb > -16, np.exp(lb), 0.0)
        klds.append((pb * (lb - lo)).sum(axis=1))
        same.append(lb.argmax(axis=1) == lo.argmax(axis=1))
    return float(np.concatenate(klds).mean()), 100.0 * float(np.concatenate(same).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--exe", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--work", required=True)
    ap.add_argument("--max-kld", type=float, default=0.01)
    ap.add_argument("--min-same-top", type=float, default=95.0, help="percent")
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    base_path = os.path.join(a.work, "llamacpp.kld")
    tdm_path = os.path.join(a.work, "tandem.kld")

    llm = lu.load(a.model, n_ctx=a.ctx, n_threads=a.threads)
    tokens = lu.tokenize(llm, lu.read_text(a.text), add_special=True)
    bos = lu.bos_id(llm) if lu.add_bos(llm) else None
    w = lu.LogitsFileWriter(base_path, a.ctx, llm.n_vocab(), tokens)
    ppl, _, _ = lu.perplexity(tokens, a.ctx, lambda c: lu.logits(llm, c), bos=bos, out=None,
                              on_chunk=lambda c, ids, lg: w.chunk(lg))
    w.close()
    print(f"llama.cpp: PPL {ppl:.4f}; wrote {base_path}")
    ok = True

    r = subprocess.run([a.exe, "--kl-divergence", base_path, "--ctx", str(a.ctx)],
                       capture_output=True, text=True, errors="replace")
    out = r.stdout + r.stderr
    m_kld = re.search(r"Mean\s+KLD:\s*([0-9.eE+-]+)", out)
    m_top = re.search(r"Same top p:\s*([0-9.eE+-]+)", out)
    if r.returncode != 0 or not (m_kld and m_top):
        sys.stderr.write(out[-3000:])
        print(f"tandem --kl-divergence: exit {r.returncode}"
              f"{'' if m_kld and m_top else ', no Mean KLD / Same top p lines'}: FAIL")
        ok = False
    else:
        kld, top = float(m_kld.group(1)), float(m_top.group(1))
        good = kld <= a.max_kld and top >= a.min_same_top
        ok &= good
        print(f"tandem --kl-divergence llamacpp.kld: Mean KLD {kld:.6f}, same top {top:.2f}%: "
              f"{'PASS' if good else 'FAIL'}")

    r = subprocess.run([a.exe, "--perplexity", a.text, "--ctx", str(a.ctx), "--save-logits",
                        tdm_path], capture_output=True, text=True, errors="replace")
    if r.returncode != 0 or not os.path.exists(tdm_path):
        sys.stderr.write((r.stdout + r.stderr)[-3000:])
        print(f"tandem --save-logits: exit {r.returncode}: FAIL")
        return 1
    base, other = read_logits_file(base_path), read_logits_file(tdm_path)
    same_header = base[:3] == other[:3] and np.array_equal(base[3], other[3])
    if not same_header:
        print(f"tandem.kld: n_ctx/n_vocab/n_chunk {other[:3]} vs llama.cpp's {base[:3]}, tokens "
              f"{'equal' if np.array_equal(base[3], other[3]) else 'differ'}: FAIL")
        return 1
    kld, top = file_kld(base, other)
    good = kld <= a.max_kld and top >= a.min_same_top
    ok &= good
    print(f"tandem --save-logits tandem.kld vs llama.cpp: Mean KLD {kld:.6f}, same top "
          f"{top:.2f}%: {'PASS' if good else 'FAIL'}")
    print(f"kld_check.py: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
