#!/usr/bin/env python3
"""Compare a tandem LLM executable with llama.cpp (llama-cpp-python) on the same GGUF.

    compare_llamacpp.py --exe TANDEM_EXE --model MODEL.gguf --text FILE [--n 256]
                        [--min-top1 97] [--max-kld 0.01] [--work DIR]

(a) Tokenization: the whole text (as llama.cpp's -f reads it: less one trailing newline;
    cut at a line boundary to --max-chars so it fits in one argv string) is tokenized by
    llama.cpp (add_special on, parse_special off, like llama-perplexity) and by
    `TANDEM_EXE --tokenize TEXT`; the ids must be identical.
(b) Teacher forcing: the first --n ids (>= 256 by default) go through llama.cpp with
    logits_all and through `TANDEM_EXE --score-tokens=@ids.npy --output=@logits.npy`.
    Per position: top-1 agreement, and KL(llama.cpp || tandem) of the softmaxes (llama.cpp
    is the reference distribution). Fails unless top-1 >= --min-top1 percent and mean
    KLD <= --max-kld. llama.cpp quantises activations for its dot products, so it is not
    exact: these thresholds measure agreement, reference.py measures exactness.
Exit 0 pass, 1 fail, 2 usage or tool error. The last line is a one-line summary.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llamacpp_util as lu  # noqa: E402


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, **kw)
    if r.returncode != 0:
        sys.stderr.write(r.stderr.decode(errors="replace")[-4000:])
        print(f"compare_llamacpp.py: {' '.join(cmd[:2])} ... exited {r.returncode}")
        sys.exit(2)
    return r


def parse_ids(out):
    text = out.decode(errors="replace").strip()
    for candidate in (text, text.splitlines()[-1] if text else ""):
        parts = [p for p in re.split(r"[,\s\[\]]+", candidate) if p]
        if parts and all(re.fullmatch(r"-?\d+", p) for p in parts):
            return [int(p) for p in parts]
    raise SystemExit(f"compare_llamacpp.py: cannot parse --tokenize output: {text[:200]!r}")


def kld_top1(ref, act):
    lp, lq = lu.log_softmax(ref), lu.log_softmax(act)
    kld = (np.exp(lp) * (lp - lq)).sum(axis=1)
    top1 = ref.argmax(axis=1) == act.argmax(axis=1)
    return kld, top1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--exe", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--n", type=int, default=256, help="tokens to teacher-force (default 256)")
    ap.add_argument("--min-top1", type=float, default=97.0, help="percent (default 97)")
    ap.add_argument("--max-kld", type=float, default=0.01, help="mean KLD (default 0.01)")
    ap.add_argument("--max-chars", type=int, default=100000)
    ap.add_argument("--no-add-special", action="store_true",
                    help="tokenize without BOS/EOS on llama.cpp's side")
    ap.add_argument("--parse-special", action="store_true")
    ap.add_argument("--work", help="keep ids.npy and the logits here (default: a temp dir)")
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()

    text = lu.read_text(a.text)
    if len(text) > a.max_chars:
        cut = text.rfind(b"\n", 0, a.max_chars)
        text = text[: cut if cut > 0 else a.max_chars]
    llm = lu.load(a.model, n_ctx=max(32, a.n), n_threads=a.threads)
    ref_ids = lu.tokenize(llm, text, add_special=not a.no_add_special,
                          parse_special=a.parse_special)

    # (a) tokenization
    special = [] if a.parse_special else ["--no-parse-special"]
    r = run([a.exe, *special, "--tokenize", text.decode("utf-8", errors="surrogateescape")])
    tdm_ids = parse_ids(r.stdout)
    tok_ok = tdm_ids == ref_ids
    if not tok_ok:
        k = next((i for i, (x, y) in enumerate(zip(tdm_ids, ref_ids)) if x != y),
                 min(len(tdm_ids), len(ref_ids)))
        ctx = ref_ids[max(0, k - 3): k + 3]
        print(f"tokenization differs at index {k} (llama.cpp {len(ref_ids)} ids, tandem "
              f"{len(tdm_ids)}): llama.cpp {ref_ids[k:k + 6]} vs tandem {tdm_ids[k:k + 6]}; "
              f"text there: {llm.detokenize(ctx)!r}")

    # (b) teacher forcing
    n = min(a.n, len(ref_ids))
    if n < a.n:
        print(f"warning: the text has only {len(ref_ids)} tokens; teacher-forcing {n}")
    ids = np.asarray(ref_ids[:n], dtype=np.int32)
    work = a.work or tempfile.mkdtemp(prefix="tandem-llm-")
    os.makedirs(work, exist_ok=True)
    ids_path, out_path = os.path.join(work, "ids.npy"), os.path.join(work, "tandem_logits.npy")
    np.save(ids_path, ids)
    ref = lu.logits(llm, ids)
    np.save(os.path.join(work, "llamacpp_logits.npy"), ref)
    run([a.exe, f"--score-tokens=@{ids_path}", f"--output=@{out_path}"])
    act = np.load(out_path).astype(np.float32)
    while act.ndim > 2 and act.shape[0] == 1:
        act = act[0]
    if act.shape != ref.shape:
        print(f"compare_llamacpp.py: tandem logits {list(act.shape)}, llama.cpp "
              f"{list(ref.shape)}: FAIL")
        return 1
    if not np.isfinite(act).all():
        print("compare_llamacpp.py: tandem logits are not all finite: FAIL")
        return 1
    kld, top1 = kld_top1(ref, act)
    rel = np.abs(act - ref).max(axis=1) / np.abs(ref).max(axis=1)
    top1_pct = 100.0 * top1.mean()
    ok = tok_ok and top1_pct >= a.min_top1 and kld.mean() <= a.max_kld
    print(f"compare_llamacpp.py: {os.path.basename(a.model)}: tokenization "
          f"{'identical' if tok_ok else 'DIFFERS'} ({len(ref_ids)} ids); {n} tokens: top-1 "
          f"{top1_pct:.1f}% (min {a.min_top1:g}), mean KLD {kld.mean():.5f} (max "
          f"{a.max_kld:g}; worst {kld.max():.4f} at {int(kld.argmax())}), max rel err "
          f"{rel.max():.3e}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
