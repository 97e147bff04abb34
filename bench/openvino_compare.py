#!/usr/bin/env python3
"""tandem against OpenVINO's CPU plugin on the same OpenVINO IR, side by side.

For each model: compile time of tandemc (median of 3), then latency of the compiled
executable (its --bench mode) and of OpenVINO's CPU plugin on the same IR and input,
measured in alternating rounds in this one run; the figure is the median over rounds
of each round's median. Outputs are checked against OpenVINO first.

    build/venv/bin/python bench/openvino_compare.py [--rounds 5] [--runs 100]
                                                    [--threads N] [--json FILE]

Models: tests/models/transformer_block (seq 8, d 64: the e2e test's block) and a
larger block of the same code (seq 128, d 256, 4 heads, FFN 1024) written here with
tests/models/gen_models.py. Prints a markdown table for BENCHMARKS.md.

OpenVINO runs with 1 thread and with N (INFERENCE_NUM_THREADS; default N: all cores);
tandem's executable gets --threads N where its --help offers the flag (until then it
runs on one thread). --json writes the figures for bench/llm_bench.py.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

try:
    import numpy as np
    import openvino as ov
except ImportError as e:
    sys.exit(f"openvino_compare.py: {sys.executable} lacks {e.name} "
             "(tools/setup.sh --python installs openvino and numpy into build/venv)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "models"))
import gen_models as g  # noqa: E402


def large_block(out_dir):
    seq, d, heads, ffn = 128, 256, 4, 1024
    b = g.Builder(np.random.default_rng(2026))
    x = b.param([1, seq, d])
    m = b.model([g.transformer_block(b, x, d, heads, ffn, seq, "blk")], "block_large")
    os.makedirs(out_dir, exist_ok=True)
    ov.save_model(m, os.path.join(out_dir, "model.xml"), compress_to_fp16=False)
    np.save(os.path.join(out_dir, "input_0.npy"), b.inputs[0])
    return os.path.join(out_dir, "model.xml"), os.path.join(out_dir, "input_0.npy")


def compile_tandem(tandemc, xml, exe):
    times = []
    for _ in range(3):
        t = time.perf_counter()
        run([tandemc, xml, "-o", exe])
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(cmd):
    """cmd's stdout; on failure, exit showing its stderr."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"openvino_compare.py: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr.strip()}")
    return r.stdout


def thread_flags(exe, threads):
    """["--threads=N"] where the executable takes it, else [] (it runs on one thread)."""
    return [f"--threads={threads}"] if "--threads" in run([exe, "--help"]) else []


def tandem_round(exe, inp, runs, flags):
    out = run([exe, f"--input=@{inp}", f"--bench={runs}", *flags])
    return float(re.search(r"median ([0-9.]+) ms", out).group(1))


def ov_round(req, x, runs):
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        req.infer([x])
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tandemc", default=os.path.join(ROOT, "build", "bin", "tandemc"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="OpenVINO's (and tandem's, once it has threads) thread count")
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    nthr = a.threads
    os.makedirs(a.work, exist_ok=True)
    models = [("transformer_block (seq 8, d 64)",
               os.path.join(ROOT, "tests/models/transformer_block/model.xml"),
               os.path.join(ROOT, "tests/models/transformer_block/input_0.npy")),
              ("transformer block (seq 128, d 256, FFN 1024)",
               *large_block(os.path.join(a.work, "block_large")))]
    core = ov.Core()
    rows = []
    for label, xml, inp in models:
        exe = os.path.join(a.work, re.sub(r"\W+", "_", label).strip("_"))
        ctime = compile_tandem(a.tandemc, xml, exe)
        x = np.load(inp)
        compiled = {n: core.compile_model(core.read_model(xml), "CPU",
                                          {"INFERENCE_PRECISION_HINT": "f32",
                                           "INFERENCE_NUM_THREADS": n})
                    for n in sorted({1, nthr})}
        ref = compiled[1].create_infer_request().infer([x])[0]
        out = os.path.join(a.work, "out.npy")
        run([exe, f"--input=@{inp}", f"--output=@{out}"])
        tflags = thread_flags(exe, nthr)
        got = np.load(out)
        err = np.linalg.norm(got - ref) / np.linalg.norm(ref)
        reqs = {n: c.create_infer_request() for n, c in compiled.items()}
        for r in reqs.values():
            ov_round(r, x, 10)
        t_tandem, t_ov = [], {n: [] for n in reqs}
        for _ in range(a.rounds):
            t_tandem.append(tandem_round(exe, inp, a.runs, tflags))
            for n, r in reqs.items():
                t_ov[n].append(ov_round(r, x, a.runs))
        tt = statistics.median(t_tandem)
        to = {n: statistics.median(v) for n, v in t_ov.items()}
        rows.append((label, ctime, tt, to[1], to[nthr], err, nthr if tflags else 1))
    tthr = rows[0][6] if rows else 1
    plural = lambda n: f"{n} thread" + ("s" if n != 1 else "")
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"OpenVINO {ov.__version__}; tandem on {plural(tthr)}.\n")
    print(f"| model | tandemc compile | tandem ({plural(tthr)}) | OpenVINO 1 thread | OpenVINO {plural(nthr)} "
          f"| OpenVINO 1t / tandem | OpenVINO {nthr}t / tandem | output rel. error |")
    print("|---|---|---|---|---|---|---|---|")
    for label, ctime, tt, o1, on, err, _ in rows:
        print(f"| {label} | {ctime:.2f} s | {tt:.3f} ms | {o1:.3f} ms | {on:.3f} ms | {o1 / tt:.2f}x "
              f"| {on / tt:.2f}x | {err:.1e} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"openvino": ov.__version__, "threads": nthr, "models": [
                {"model": label, "compile_s": ctime, "tandem_ms": tt, "tandem_threads": t,
                 "openvino_1t_ms": o1, "openvino_ms": on, "rel_error": float(err)}
                for label, ctime, tt, o1, on, err, t in rows]}, f, indent=1)


if __name__ == "__main__":
    main()
