#!/usr/bin/env python3
"""Live tier: check tandem against OpenVINO's CPU plugin on models no test has seen.

usage: live_check.py --tandemc PATH --npycmp PATH --work DIR [--seed N]
                     [--random-graphs K] [--skip-models] [--keep]

(a) Regenerates every model of tests/models/gen_models.py with a fresh seed (default:
    $TANDEM_LIVE_SEED, else time-based; always printed) into DIR/models, with OpenVINO
    references computed now; (b) draws K random graphs (default 20) over the supported op
    set with tests/openvino/random_graphs.py into DIR/random.  Each model is compiled with
    `tandemc model.xml -o DIR/.../NAME --emit=exe`, run on its inputs, and each output is
    compared with NumPy: it passes iff |a-b| <= 1e-4*|b| + 1e-4*max|b| elementwise (the
    tolerance of tests/models/README.md).  tandem-npycmp is also run on each output and a
    verdict that differs from NumPy's is reported as a note.

Prints one line per model and a summary; exits 1 if any model fails.  A passing model's
directory is removed (unless --keep); a failing one is kept and the line to reproduce it
is printed.  Graph generation runs in a child process per graph, so an OpenVINO crash on
a random graph skips that graph (reported) instead of ending the run.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.join(HERE, "..", "models")
GEN_MODELS = os.path.join(MODELS_DIR, "gen_models.py")
RANDOM_GRAPHS = os.path.join(HERE, "random_graphs.py")

RTOL = 1e-4
ATOL_REL_MAX = 1e-4     # absolute term, relative to the output's largest magnitude
COMPILE_TIMEOUT = 120     # the committed models compile in < 10 s
RUN_TIMEOUT = 120


def run(cmd, timeout):
    """(returncode, combined output); a timeout reads as returncode None."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout, env=env)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        return None, out.decode(errors="replace") if isinstance(out, bytes) else out
    except OSError as e:  # missing or not executable
        return 127, f"cannot run {cmd[0]}: {e.strerror}"


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else "(no output)"


def count_files(d, prefix):
    k = 0
    while os.path.exists(os.path.join(d, f"{prefix}_{k}.npy")):
        k += 1
    return k


def compare(got, want):
    """(ok, (max abs error, norm-relative error), message) for one output under the
    live-tier tolerance."""
    if got.shape != want.shape:
        return False, (0.0, 0.0), f"shape {list(got.shape)} != expected {list(want.shape)}"
    a, b = got.astype(np.float64), want.astype(np.float64)
    diff = np.abs(a - b)
    scale = np.max(np.abs(b), initial=0.0)
    ok = bool(np.all(diff <= RTOL * np.abs(b) + ATOL_REL_MAX * scale))
    max_abs = float(np.max(diff, initial=0.0))
    norm_b = float(np.linalg.norm(b))
    rel = float(np.linalg.norm(a - b)) / norm_b if norm_b > 0 else float(np.linalg.norm(a - b))
    where = np.unravel_index(np.argmax(diff - RTOL * np.abs(b)), diff.shape) if diff.size else ()
    msg = (f"max_abs={max_abs:.2e} norm_rel={rel:.2e}, worst at {list(map(int, where))}: "
           f"got {a[where]:.6g} want {b[where]:.6g}") if diff.size else "empty"
    return ok, (max_abs, rel), msg


class Checker:
    def __init__(self, args):
        self.args = args
        self.results = []  # (name, status) with status PASS / FAIL / SKIP

    def report(self, name, status, msg, repro=None):
        print(f"{status:4s} {name:32s} {msg}", flush=True)
        if repro:
            for line in repro:
                print(f"     reproduce: {line}", flush=True)
        self.results.append((name, status))

    def check(self, name, d, regen=None):
        """Compile, run and compare one model directory (regen: the command that
        regenerates it, printed on failure)."""
        a = self.args
        exe = os.path.join(d, "tandem_" + os.path.basename(d))
        xml = os.path.join(d, "model.xml")
        compile_cmd = [a.tandemc, xml, "-o", exe, "--emit=exe"]
        n_in, n_out = count_files(d, "input"), count_files(d, "expected")
        outs = [os.path.join(d, f"out_{k}.npy") for k in range(n_out)]
        run_cmd = ([exe] + [f"--input=@{os.path.join(d, f'input_{k}.npy')}" for k in range(n_in)]
                   + [f"--output=@{o}" for o in outs])
        repro = ([regen] if regen else []) + [" ".join(compile_cmd), " ".join(run_cmd)]

        rc, out = run(compile_cmd, COMPILE_TIMEOUT)
        if rc != 0:
            why = "timed out" if rc is None else f"exit {rc}"
            return self.report(name, "FAIL", f"tandemc {why}: {last_line(out)}", repro)
        for o in outs:
            if os.path.exists(o):
                os.remove(o)
        rc, out = run(run_cmd, RUN_TIMEOUT)
        if rc != 0:
            why = "timed out" if rc is None else f"exit {rc}"
            return self.report(name, "FAIL", f"executable {why}: {last_line(out)}", repro)

        worst, bad, notes = (0.0, 0.0), [], []
        for k, o in enumerate(outs):
            want = np.load(os.path.join(d, f"expected_{k}.npy"))
            try:
                got = np.load(o)
            except (OSError, ValueError) as e:
                return self.report(name, "FAIL", f"output {k}: cannot read {o}: {e}", repro)
            ok, err, msg = compare(got, want)
            worst = max(worst, err)
            if not ok:
                bad.append(f"out{k}: {msg}")
            notes += self.npycmp_note(k, o, d, ok)
        ok_all = not bad
        msg = (f"{n_out} output{'s' if n_out > 1 else ''}, "
               f"max_abs={worst[0]:.2e} norm_rel={worst[1]:.2e}")
        self.report(name, "PASS" if ok_all else "FAIL", "; ".join([msg] + bad + notes),
                    None if ok_all else repro)
        if ok_all and not a.keep:
            shutil.rmtree(d, ignore_errors=True)

    def npycmp_note(self, k, out, d, ok):
        rc, text = run([self.args.npycmp, out, os.path.join(d, f"expected_{k}.npy"),
                        "--rtol", str(RTOL)], 60)
        if (rc == 0) != ok:
            return [f"note: tandem-npycmp says {'pass' if rc == 0 else 'fail'} on out{k} "
                    f"({last_line(text)})"]
        return []


def check_models(ck, work, seed):
    out_dir = os.path.join(work, "models")
    shutil.rmtree(out_dir, ignore_errors=True)
    print(f"== gen_models.py --seed {seed}", flush=True)
    rc, out = run([sys.executable, GEN_MODELS, "--out", out_dir, "--seed", str(seed)], 1200)
    if rc != 0:
        print(out)
        ck.report("gen_models.py", "FAIL", f"model generation failed (rc {rc})",
                  [f"{sys.executable} {GEN_MODELS} --out {out_dir} --seed {seed}"])
        return
    rc, names = run([sys.executable, GEN_MODELS, "--list"], 60)
    for name in names.split():
        ck.check(name, os.path.join(out_dir, name))


def check_random(ck, work, seed, count):
    out_dir = os.path.join(work, "random")
    shutil.rmtree(out_dir, ignore_errors=True)
    print(f"== random_graphs.py --seed {seed}, {count} graphs", flush=True)
    for i in range(count):
        name = f"rg_{i:03d}"
        d = os.path.join(out_dir, name)
        gen = [sys.executable, RANDOM_GRAPHS, "--out", d, "--seed", str(seed), "--index", str(i)]
        rc, out = run(gen, 600)
        if rc != 0:
            why = f"signal {-rc}" if rc is not None and rc < 0 else f"rc {rc}"
            ck.report(name, "SKIP", f"graph generation failed ({why}): {last_line(out)}",
                      [" ".join(gen)])
            continue
        ck.check(name, d, f"{' '.join(gen)}  # see {os.path.join(d, 'graph.txt')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tandemc", required=True)
    ap.add_argument("--npycmp", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--random-graphs", type=int, default=20, metavar="K")
    ap.add_argument("--skip-models", action="store_true", help="only the random graphs")
    ap.add_argument("--keep", action="store_true", help="keep passing model directories")
    args = ap.parse_args()
    args.tandemc, args.npycmp = os.path.abspath(args.tandemc), os.path.abspath(args.npycmp)
    seed = args.seed
    if seed is None:
        seed = int(os.environ.get("TANDEM_LIVE_SEED") or time.time_ns() // 1000 % 2**31)
    print(f"live_check: seed {seed} (rerun: --seed {seed} or TANDEM_LIVE_SEED={seed})", flush=True)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)

    ck = Checker(args)
    t0 = time.time()
    if not args.skip_models:
        check_models(ck, work, seed)
    if args.random_graphs > 0:
        check_random(ck, work, seed, args.random_graphs)
    n = {s: sum(1 for _, st in ck.results if st == s) for s in ("PASS", "FAIL", "SKIP")}
    failed = [name for name, st in ck.results if st == "FAIL"]
    print(f"== live_check seed {seed}: {n['PASS']} passed, {n['FAIL']} failed, "
          f"{n['SKIP']} skipped in {time.time() - t0:.0f} s")
    if failed:
        print(f"failed: {' '.join(failed)} (kept under {work})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
