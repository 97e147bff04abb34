#!/usr/bin/env python3
"""Layer-parallelism sweep: quality and speed of an LLM as the paired window grows.

    bench/lp_sweep.py [--tandemc build/bin/tandemc] [--model MODEL.gguf]
                      [--text FILE] [--sizes 0,2,4,6,8] [--work build/lp-sweep]

For each window size D (layers; D = 0 is the unpaired model) the window is placed
where `tandemc --lp=auto` would place it: the auto run's report (WORK/auto.json)
lists the candidates it measured; a size it measured takes its best placement (lowest
held-out perplexity), another size the placement its pair scores rank first. Each
model is compiled with `--lp=START:END --lp-report`, then:

  perplexity   `EXE --perplexity TEXT --ctx 512` (TEXT is not the calibration text:
               the default GPL-3 never was), D = 0 saving its log-probabilities
  KLD, top-1   `EXE --kl-divergence BASE` against D = 0's: mean KL divergence and how
               often the most likely token is the same
  speed        `EXE --bench -p 512 -n 128` (prefill and decode tokens/s, one thread)
  GEMMs        per decoded token, from the compile's report

Prints a Markdown table for BENCHMARKS.md. Only the standard library is needed.
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def run(cmd, **kw):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"lp_sweep.py: {cmd[0]} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout + r.stderr


def placement(report, size):
    """Where auto would put a window of `size` layers."""
    cands = [c for c in report.get("candidates", []) if c["size"] == size]
    if cands:
        best = min(cands, key=lambda c: c["perplexity"])
        return best["start"], best["end"]
    err = [p["rel_error"] for p in report["pairs"]]
    n = len(err) + 1
    starts = range(0, n - size + 1)
    if not starts:
        sys.exit(f"lp_sweep.py: the model has {n} layers; no window of {size}")
    score = lambda s: sum(err[s + k] for k in range(0, size, 2))  # pair (s+k, s+k+1) is err[s+k]
    s = min(starts, key=score)
    return s, s + size


def number(pattern, text):
    m = re.search(pattern, text)
    if not m:
        sys.exit(f"lp_sweep.py: no match for {pattern!r} in:\n{text}")
    return float(m.group(1))


def bench_rates(out):
    rates = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[4] in ("pp512", "tg128"):
            rates[cells[4]] = float(cells[5])
    return rates


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tandemc", default=os.path.join(ROOT, "build", "bin", "tandemc"))
    ap.add_argument("--model", default=os.path.join(ROOT, "build", "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--text", default="/usr/share/common-licenses/GPL-3")
    ap.add_argument("--sizes", default="0,2,4,6,8")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "lp-sweep"))
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    auto_json = os.path.join(a.work, "auto.json")
    auto_log = run([a.tandemc, a.model, "--lp=auto", f"--lp-report={auto_json}", "-o", os.path.join(a.work, "auto")])
    report = json.load(open(auto_json))
    base_kld = os.path.join(a.work, "base.kld")
    rows = []
    for size in [int(s) for s in a.sizes.split(",")]:
        start, end = placement(report, size) if size else (0, 0)
        exe = os.path.join(a.work, f"d{size}")
        rep = exe + ".json"
        run([a.tandemc, a.model, f"--lp={start}:{end}" if size else "--lp=off", f"--lp-report={rep}", "-o", exe])
        gemms = json.load(open(rep))["gemms_per_token"]["after"]
        if size == 0:
            out = run([exe, "--perplexity", a.text, "--ctx", "512", "--save-logits", base_kld])
            ppl, kld, top = number(r"Final estimate: PPL = ([0-9.]+)", out), 0.0, 100.0
        else:
            out = run([exe, "--kl-divergence", base_kld])
            ppl = number(r"Mean PPL\(Q\)\s*:\s*([0-9.]+)", out)
            kld = number(r"Mean\s+KLD:\s*([0-9.]+)", out)
            top = number(r"Same top p:\s*([0-9.]+)", out)
        rates = bench_rates(run([exe, "--bench", "-p", "512", "-n", "128"]))
        rows.append((size, f"{start}..{end - 1}" if size else "-", ppl, kld, top, rates.get("pp512", 0),
                     rates.get("tg128", 0), gemms))
    base = rows[0] if rows and rows[0][0] == 0 else None
    print(f"\nauto chose: {report['chosen']['start']}..{report['chosen']['end'] - 1} "
          f"({[l for l in auto_log.splitlines() if 'parallel pairs' in l or 'no layers' in l]})")
    print("\n| window size | layers | perplexity | vs unpaired | mean KLD | same top-1 | prefill tok/s | decode tok/s | GEMMs/token |")
    print("|---:|:---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, layers, ppl, kld, top, pp, tg, gemms in rows:
        rel = f"{100 * (ppl / base[2] - 1):+.1f}%" if base else "-"
        print(f"| {size} | {layers} | {ppl:.4f} | {rel} | {kld:.4f} | {top:.1f}% | {pp:.1f} | {tg:.1f} | {gemms} |")


if __name__ == "__main__":
    main()
