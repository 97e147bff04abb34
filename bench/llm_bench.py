#!/usr/bin/env python3
"""tandem against llama.cpp (and OpenVINO) on the same CPU: issue 5's benchmark, one command.

    python3 bench/llm_bench.py [--threads N] [--rounds 5] [--quick]
                               [--python PY] [--model MODEL.gguf] [--work build/bench]
                               [--tandemc-arg=FLAG ...] [--no-openvino] [--reuse]

Builds what is missing (tandem's build/, a venv build/venv with llama-cpp-python, numpy
and openvino by tools/setup.sh --python, SmolLM2-135M-Instruct Q4_1 fetched by
tests/llm/fetch_smollm2.sh into build/models/), then measures, with N threads for every
engine (default: all cores):

  compile    `tandemc MODEL.gguf --lp=off -o EXE` and `--lp=auto`: wall time, median of
             --compile-runs (each an executable and its .weights in WORK/);
  tandem     `EXE --bench -p 128 -n 1 --threads N` and `EXE --bench -p 512 -n 128
             --threads N`: pp128, pp512 and tg128 tokens/s from the llama-bench-style
             table the runtime prints (each the median of the runtime's 3 runs), and the
             process's peak RSS (wait4's ru_maxrss; the larger of the two processes);
  llama.cpp  bench/llamacpp_bench.py in a process of its own (so that RSS figures do not
             mix) through llama-cpp-python on the same GGUF, with n_threads =
             n_threads_batch = N, n_batch = n_ubatch = 512 and tandem's n_ctx:
             llama-bench's method (ppN one batch from position 0, tgN single-token
             decodes; the median of 3 runs each), and its peak RSS (which includes the
             Python interpreter, reported apart);
  rounds     each round runs the three engines one after the other, the order rotating
             from round to round so that the machine's noise falls on all of them; a
             figure is the median over rounds, and a ratio tandem / llama.cpp the median
             of the ratios taken round by round;
  roofline   bench/membw.c (compiled here with cc -O2) reads a 1 GiB buffer with N
             threads: the best pass is the memory read bandwidth. The bytes a decoded
             token reads are the GGUF's tensors less the token-embedding table (of which
             a decode reads one row) unless it doubles as the output projection. The
             decode roofline is bandwidth / bytes per token, in tokens/s;
  OpenVINO   bench/openvino_compare.py --threads N: the OpenVINO IR transformer blocks
             of the foundation tests, tandem's executable against OpenVINO's CPU plugin
             (INFERENCE_NUM_THREADS = N).

Targets (issue 5), each checked for --lp=off and --lp=auto: decode ≥ 1.3x (auto) and
≥ 1.1x (off) llama.cpp and ≥ 70% of the roofline; pp512 ≥ 1.0x llama.cpp; compile ≤ 10 s;
peak RSS ≤ tandem's weights file + KV cache (f32, 2 x layers x n_ctx x KV heads x head
dim, from the GGUF's metadata and the executable's n_ctx) + 64 MiB; and on each OpenVINO
IR block, tandem's latency ≤ OpenVINO's with N threads.

Writes WORK/llm_bench.md (a markdown section for BENCHMARKS.md: the table, the roofline,
the OpenVINO table and issue 5's targets with the distance to each), WORK/llm_bench.svg
(the chart) and WORK/llm_bench.json (every sample), and prints the markdown.
--quick (one round, one compile each, fewer OpenVINO runs) checks that it all works;
--reuse takes WORK's executables and compile times from an earlier run instead of
compiling again; --tandemc-arg=FLAG adds a tandemc flag to both compiles (e.g.
--tandemc-arg=--weights-type=keep); --python PY names a python with llama-cpp-python,
numpy and openvino (--llama-python and --openvino-python, one each).
Only the standard library is needed to run this script; the engines' Pythons are
separate processes.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gguf_info  # noqa: E402
import svg_chart  # noqa: E402

MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MIB = 1 << 20
TESTS = ("pp128", "pp512", "tg128")
LLAMA = "llama.cpp"
MODES = ("off", "auto")
COLOURS = {"tandem --lp=off": "#4c78a8", "tandem --lp=auto": "#72b7b2", LLAMA: "#f58518"}


def fail(msg):
    sys.exit(f"llm_bench.py: {msg}")


def log(msg):
    print(f"llm_bench.py: {msg}", file=sys.stderr, flush=True)


# ---- running children ------------------------------------------------------------------

class Ran:
    """A finished child: its output, wall seconds and peak resident set (KiB)."""

    def __init__(self, out, err, seconds, rss_kib):
        self.out, self.err, self.seconds, self.rss_kib = out, err, seconds, rss_kib


def run(cmd, env=None, quiet=False):
    """Runs cmd to completion; on failure exits showing its stderr. The peak RSS is the
    child's own (wait4), not a maximum over every child this script started."""
    if not quiet:
        log("+ " + " ".join(shlex.quote(c) for c in cmd))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        except OSError as e:
            fail(f"cannot run {cmd[0]}: {e}")
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - start
        p.returncode = rc = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        ran = Ran(out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                  seconds, usage.ru_maxrss)
    if rc != 0:
        tail = "\n".join((ran.err or ran.out).strip().splitlines()[-30:])
        fail(f"{' '.join(shlex.quote(c) for c in cmd)} failed (exit {rc}):\n{tail}")
    return ran


def has_module(python, module):
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


# ---- what the benchmark needs ------------------------------------------------------------

def ensure_tandemc(a):
    if os.access(a.tandemc, os.X_OK):
        return
    if a.tandemc != os.path.join(ROOT, "build", "bin", "tandemc"):
        fail(f"{a.tandemc}: no such executable")
    log("building tandem (build/, Release; a few minutes)")
    run(["cmake", "-S", ROOT, "-B", os.path.join(ROOT, "build"), "-DCMAKE_BUILD_TYPE=Release"])
    run(["cmake", "--build", os.path.join(ROOT, "build"), f"-j{os.cpu_count() or 1}"])


def ensure_pythons(a):
    """Pythons with llama_cpp (and numpy, openvino); build/venv by tools/setup.sh if none
    was named and it lacks them."""
    venv = os.path.join(ROOT, "build", "venv", "bin", "python")
    a.llama_python = a.llama_python or a.python or venv
    a.openvino_python = a.openvino_python or a.python or venv
    needs = [(a.llama_python, "llama_cpp", "llama-cpp-python")]
    if not a.no_openvino:
        needs += [(a.openvino_python, "openvino", "openvino"), (a.openvino_python, "numpy", "numpy")]
    missing = [(py, mod, pkg) for py, mod, pkg in needs
               if not (os.access(py, os.X_OK) and has_module(py, mod))]
    if missing and all(py == venv for py, _, _ in missing):
        log("setting up build/venv (tools/setup.sh --python; llama-cpp-python builds from "
            "source: several minutes, once)")
        run(["bash", os.path.join(ROOT, "tools", "setup.sh"), "--python"])
        missing = [m for m in missing if not has_module(m[0], m[1])]
    for py, mod, pkg in missing:
        fail(f"{py} cannot import {mod}: install {pkg} there (tools/setup.sh --python does, "
             "into build/venv) or name another python with --python"
             + ("" if mod == "llama_cpp" else " / --openvino-python, or pass --no-openvino"))


def ensure_model(a):
    if a.model:
        if not os.path.isfile(a.model):
            fail(f"{a.model}: no such file")
        return
    env = dict(os.environ, PYTHON=a.llama_python)
    out = run(["sh", os.path.join(ROOT, "tests", "llm", "fetch_smollm2.sh"),
               os.path.join(ROOT, "build", "models")], env=env).out
    a.model = out.strip().splitlines()[-1]


def bandwidth(a):
    """(best GB/s, median GB/s) of bench/membw.c with a.threads threads."""
    exe = os.path.join(a.work, "membw")
    src = os.path.join(HERE, "membw.c")
    cc = os.environ.get("CC", "cc")
    for flags in (["-O2", "-march=native"], ["-O2"]):
        r = subprocess.run([cc, *flags, "-pthread", src, "-o", exe], capture_output=True, text=True)
        if r.returncode == 0:
            break
    else:
        fail(f"{cc} could not compile {src}:\n{r.stderr.strip()}")
    out = run([exe, str(a.threads), str(a.membw_mib), str(a.membw_passes)]).out
    words = out.split()
    return float(words[words.index("best") + 1]), float(words[words.index("median") + 1])


# ---- tandem ---------------------------------------------------------------------------

def compile_tandem(a, mode):
    """The executable for --lp=MODE and its compile seconds (median of --compile-runs)."""
    exe = os.path.join(a.work, f"smollm2-lp-{mode}")
    record = exe + ".compile.json"
    if a.reuse and os.path.exists(record) and os.path.exists(exe):
        log(f"reusing {exe} (--reuse)")
        with open(record) as f:
            return exe, json.load(f)
    cmd = [a.tandemc, a.model, f"--lp={mode}", *a.tandemc_arg, "-o", exe]
    runs = [run(cmd) for _ in range(a.compile_runs)]
    info = {"command": cmd, "seconds": [r.seconds for r in runs],
            "compile_s": statistics.median(r.seconds for r in runs),
            "compile_rss_mib": max(r.rss_kib for r in runs) / 1024,
            "weights_bytes": os.path.getsize(exe + ".weights") if os.path.exists(exe + ".weights") else 0,
            "exe_bytes": os.path.getsize(exe),
            "lp_line": next((l for l in runs[-1].err.splitlines() if "parallel pairs" in l
                             or "no layers" in l), "")}
    with open(record, "w") as f:
        json.dump(info, f, indent=1)
    return exe, info


def exe_context(exe):
    """(n_ctx the executable was compiled with, whether it says it runs on one thread),
    from its --help."""
    text = run([exe, "--help"], quiet=True).out
    for part in text.replace(",", " ").split("context ")[1:]:
        word = part.split()[0]
        if word.isdigit():
            return int(word), "runs on one thread for now" in text
    fail(f"{exe} --help names no context length:\n{text}")


def parse_bench_table(out, exe):
    """{test: (t/s, threads)} from the --bench table, found by its header names."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in out.splitlines() if line.lstrip().startswith("|")]
    head = next((r for r in rows if "test" in r and "t/s" in r), None)
    if head is None:
        fail(f"{exe} --bench printed no table:\n{out}")
    col = {name: head.index(name) for name in ("test", "t/s", "threads") if name in head}
    result = {}
    for r in rows:
        if len(r) == len(head) and r is not head and r[col["test"]][:2] in ("pp", "tg"):
            threads = int(r[col["threads"]]) if "threads" in col else None
            result[r[col["test"]]] = (float(r[col["t/s"]]), threads)
    return result


def tandem_sample(a, exe):
    """One round's pp128, pp512, tg128 and peak RSS of a compiled executable."""
    rates, rss, threads = {}, 0, set()
    for p, n in ((128, 1), (512, 128)):
        r = run([exe, "--bench", "-p", str(p), "-n", str(n), "--threads", str(a.threads)], quiet=True)
        for test, (rate, t) in parse_bench_table(r.out, exe).items():
            if test in TESTS:
                rates[test] = rate
                threads.add(t)
        rss = max(rss, r.rss_kib)
    missing = [t for t in TESTS if t not in rates]
    if missing:
        fail(f"{exe} --bench did not report {', '.join(missing)}")
    return dict(rates, rss_mib=rss / 1024, threads=sorted(t for t in threads if t is not None))


# ---- llama.cpp ------------------------------------------------------------------------

def llama_sample(a, n_ctx):
    r = run([a.llama_python, os.path.join(HERE, "llamacpp_bench.py"), "--model", a.model,
             "--threads", str(a.threads), "--ctx", str(n_ctx), "--pp", "128,512", "--tg", "128",
             "--reps", str(a.reps)], quiet=True)
    try:
        res = json.loads(r.out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        fail(f"llamacpp_bench.py printed no JSON:\n{r.out}\n{r.err}")
    res["rss_mib"] = r.rss_kib / 1024
    res["rss_python_mib"] = res.pop("rss_base_kib") / 1024
    return res


# ---- the rounds -----------------------------------------------------------------------

def measure(a, exes, n_ctx):
    """{engine: [sample per round]}, engines interleaved in a rotating order."""
    engines = [(f"tandem --lp={m}", lambda exe=exes[m]: tandem_sample(a, exe)) for m in MODES]
    engines.append((LLAMA, lambda: llama_sample(a, n_ctx)))
    samples = {name: [] for name, _ in engines}
    for rnd in range(a.rounds):
        k = rnd % len(engines)
        for name, sample in engines[k:] + engines[:k]:
            log(f"round {rnd + 1}/{a.rounds}: {name}")
            samples[name].append(sample())
            s = samples[name][-1]
            log("  " + ", ".join(f"{t} {s[t]:.1f} t/s" for t in TESTS) + f", peak RSS {s['rss_mib']:.0f} MiB")
    return samples


def summarise(samples):
    """Medians per engine and test; ratios to llama.cpp taken round by round."""
    out = {}
    for name, ss in samples.items():
        e = {t: statistics.median(s[t] for s in ss) for t in TESTS}
        e["rss_mib"] = statistics.median(s["rss_mib"] for s in ss)
        if name != LLAMA:
            e["ratio"] = {t: statistics.median(s[t] / l[t] for s, l in zip(ss, samples[LLAMA]))
                          for t in TESTS}
            e["threads"] = sorted({t for s in ss for t in s["threads"]})
        else:
            e["rss_python_mib"] = statistics.median(s["rss_python_mib"] for s in ss)
        out[name] = e
    return out


def openvino(a):
    """openvino_compare.py's figures (its --json), or None with --no-openvino."""
    if a.no_openvino:
        return None
    path = os.path.join(a.work, "openvino.json")
    r = run([a.openvino_python, os.path.join(HERE, "openvino_compare.py"), "--threads", str(a.threads),
             "--rounds", str(a.ov_rounds), "--runs", str(a.ov_runs), "--json", path,
             "--tandemc", a.tandemc, "--work", os.path.join(a.work, "openvino")])
    with open(path) as f:
        res = json.load(f)
    res["table"] = "\n".join(l for l in r.out.splitlines() if l.startswith("|"))
    return res


# ---- the report -----------------------------------------------------------------------

def at_least(measured, target):
    """(met, distance) for a measured value that must reach target."""
    if measured >= target:
        return True, f"met, {100 * (measured / target - 1):.0f}% above"
    return False, f"{100 * (1 - measured / target):.0f}% short: needs {target / measured:.2f}x"


def at_most(measured, target, unit, digits=1):
    """(met, distance) for a measured value that must stay within target."""
    if measured <= target:
        return True, f"met, {target - measured:.{digits}f} {unit} to spare"
    return False, f"{measured - target:.{digits}f} {unit} over ({measured / target:.2f}x the limit)"


def targets(summary, compiles, roofline, weights_kv, ov):
    """Issue 5's targets: rows of (target, measured, met, distance)."""
    rows = []
    for mode, need in (("auto", 1.3), ("off", 1.1)):
        r = summary[f"tandem --lp={mode}"]["ratio"]["tg128"]
        rows.append((f"decode (tg128) --lp={mode} ≥ {need}x llama.cpp", f"{r:.2f}x", *at_least(r, need)))
    for mode in MODES:
        f = summary[f"tandem --lp={mode}"]["tg128"] / roofline
        rows.append((f"decode --lp={mode} ≥ 70% of the roofline", f"{100 * f:.0f}%", *at_least(f, 0.7)))
    for mode in MODES:
        r = summary[f"tandem --lp={mode}"]["ratio"]["pp512"]
        rows.append((f"prefill (pp512) --lp={mode} ≥ 1.0x llama.cpp", f"{r:.2f}x", *at_least(r, 1.0)))
    for mode in MODES:
        s = compiles[mode]["compile_s"]
        rows.append((f"compile --lp={mode} ≤ 10 s", f"{s:.1f} s", *at_most(s, 10.0, "s")))
    for mode in MODES:
        rss, limit = summary[f"tandem --lp={mode}"]["rss_mib"], weights_kv[mode] + 64
        rows.append((f"peak RSS --lp={mode} ≤ weights + KV cache + 64 MiB ({limit:.0f} MiB)",
                     f"{rss:.0f} MiB", *at_most(rss, limit, "MiB")))
    for m in (ov or {}).get("models", []):
        rows.append((f"OpenVINO IR {m['model']}: latency ≤ OpenVINO's ({ov['threads']} threads)",
                     f"{m['tandem_ms']:.3f} ms vs {m['openvino_ms']:.3f} ms",
                     *at_most(m["tandem_ms"], m["openvino_ms"], "ms", 3)))
    return rows


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def git_rev():
    r = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                       text=True)
    return r.stdout.strip() or "?"


def report(a, ctx):
    """The markdown section and the chart."""
    s, compiles, ov = ctx["summary"], ctx["compiles"], ctx["openvino"]
    lines = [f"## SmolLM2-135M-Instruct Q4_1: tandem vs llama.cpp, {a.threads} threads", "",
             f"Command: `{ctx['command']}`", "",
             f"Machine: {machine()}; load average {ctx['load'][0]:.2f} at the start, "
             f"{ctx['load'][1]:.2f} at the end. tandem {git_rev()}; llama-cpp-python "
             f"{ctx['llama_cpp']} ({ctx['system_info']}); {ctx['date']}.", "",
             "| engine | pp128 tok/s | pp512 tok/s | tg128 tok/s | peak RSS MiB | compile s "
             "| pp128 vs llama.cpp | pp512 vs llama.cpp | tg128 vs llama.cpp |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, e in s.items():
        mode = name.rsplit("=", 1)[-1] if name != LLAMA else None
        rss = (f"{e['rss_mib']:.0f}" if mode else
               f"{e['rss_mib']:.0f} ({e['rss_mib'] - e['rss_python_mib']:.0f} without Python)")
        comp = f"{compiles[mode]['compile_s']:.1f}" if mode else "—"
        ratios = [f"{e['ratio'][t]:.2f}x" for t in TESTS] if mode else ["1.00x"] * 3
        lines.append(f"| {name} | " + " | ".join(f"{e[t]:.1f}" for t in TESTS) +
                     f" | {rss} | {comp} | " + " | ".join(ratios) + " |")
    thr = sorted({t for n, e in s.items() if n != LLAMA for t in e["threads"]})
    lines += ["", f"Each figure is the median over {a.rounds} round(s); in a round the three engines "
              "run one after the other (the order rotating between rounds), each reporting the "
              f"median of 3 runs; ratios are medians of the per-round ratios. Every engine was "
              f"given {a.threads} threads; tandem's --bench table reported "
              f"{', '.join(map(str, thr)) or '?'} thread(s). llama.cpp's peak RSS includes the "
              "Python interpreter, whose share (measured before the model loads) is shown "
              f"subtracted; its KV cache is f16 (llama.cpp's default), tandem's f32, both "
              f"{ctx['n_ctx']} positions."]
    bw, roof = ctx["bandwidth"], ctx["roofline"]
    lines += ["", f"Memory read bandwidth (`bench/membw.c`, {a.threads} threads, {a.membw_mib} MiB, best of "
              f"{a.membw_passes} passes): {bw[0]:.2f} GB/s (median pass {bw[1]:.2f}). A decoded token "
              f"reads {ctx['decode_bytes'] / 1e6:.1f} MB of weights (the GGUF's tensors"
              + (", the tied token-embedding table included as the output projection)"
                 if ctx["tied"] else ", less the token-embedding table)")
              + f", so the decode roofline is {roof:.1f} tokens/s; " +
              ", ".join(f"tandem --lp={m} reaches {100 * s[f'tandem --lp={m}']['tg128'] / roof:.0f}%"
                        for m in MODES) +
              f" and llama.cpp {100 * s[LLAMA]['tg128'] / roof:.0f}% of it. (tandem's weights files: " +
              ", ".join(f"--lp={m} {compiles[m]['weights_bytes'] / MIB:.0f} MiB" for m in MODES) +
              f"; the GGUF: {os.path.getsize(a.model) / MIB:.0f} MiB; KV cache f32: "
              f"{ctx['kv_bytes'] / MIB:.0f} MiB. Reading its whole weights file per token, "
              "tandem's decode would move " +
              ", ".join(f"{compiles[m]['weights_bytes'] * s[f'tandem --lp={m}']['tg128'] / 1e9:.2f} GB/s "
                        f"(--lp={m})" for m in MODES) + ".)"]
    lines += ["", "tandemc's peak RSS while compiling: " +
              ", ".join(f"--lp={m} {compiles[m]['compile_rss_mib']:.0f} MiB" for m in MODES) + "."]
    for m in MODES:
        if compiles[m].get("lp_line"):
            lines += ["", f"--lp={m}: `{compiles[m]['lp_line'].strip()}`"]
    if ov:
        lines += ["", f"### tandem vs OpenVINO's CPU plugin (OpenVINO IR, {ov['threads']} threads)", "",
                  f"`bench/openvino_compare.py --threads {a.threads} --rounds {a.ov_rounds} --runs {a.ov_runs}`, "
                  f"OpenVINO {ov['openvino']}:", "", ov["table"]]
    lines += ["", "### Issue 5's targets", "", "| target | measured | met | distance |", "|---|---|---|---|"]
    lines += [f"| {t} | {m} | {'yes' if ok else 'no'} | {d} |" for t, m, ok, d in ctx["targets"]]
    lines += ["", "<!-- llm_bench.svg is written beside this file; copy it next to BENCHMARKS.md "
              "(e.g. as bench/llm_bench.svg) and point the link at it -->",
              "![tandem vs llama.cpp](llm_bench.svg)", ""]
    if ctx["load"][0] > 0.5 * (os.cpu_count() or 1):
        lines.insert(2, f"**The machine was loaded (load average {ctx['load'][0]:.1f} on "
                     f"{os.cpu_count()} cores): these figures are not for publishing.**\n")
    return "\n".join(lines)


def chart(a, ctx):
    s = ctx["summary"]
    series = [(name, COLOURS.get(name, "#999")) for name in s]
    return svg_chart.grouped_bars(
        f"SmolLM2-135M-Instruct Q4_1, {a.threads} threads (tokens/s, median of {a.rounds})", series,
        [{"title": "prefill tokens/s", "groups": ["pp128", "pp512"],
          "values": {n: [e["pp128"], e["pp512"]] for n, e in s.items()}},
         {"title": "decode tokens/s", "groups": ["tg128"],
          "values": {n: [e["tg128"]] for n, e in s.items()},
          "lines": [("roofline", ctx["roofline"])]}])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                    help="threads for every engine (default: all cores)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--reps", type=int, default=3, help="llama.cpp runs per test and round (default 3, "
                    "as tandem's --bench)")
    ap.add_argument("--compile-runs", type=int, default=3, help="tandemc runs per mode (default 3)")
    ap.add_argument("--quick", action="store_true", help="1 round, 1 compile, short OpenVINO runs")
    ap.add_argument("--python", help="a python with llama_cpp, numpy and openvino (default build/venv)")
    ap.add_argument("--llama-python", help="the python for llama.cpp (default: --python)")
    ap.add_argument("--openvino-python", help="the python for OpenVINO (default: --python)")
    ap.add_argument("--no-openvino", action="store_true", help="skip the OpenVINO IR comparison")
    ap.add_argument("--model", help=f"the GGUF (default: {MODEL_NAME}, fetched into build/models)")
    ap.add_argument("--tandemc", default=os.path.join(ROOT, "build", "bin", "tandemc"))
    ap.add_argument("--tandemc-arg", action="append", default=[],
                    help="an extra tandemc flag for both compiles (repeatable)")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--reuse", action="store_true",
                    help="reuse WORK's executables and compile times from an earlier run")
    ap.add_argument("--membw-mib", type=int, default=1024)
    ap.add_argument("--membw-passes", type=int, default=10)
    ap.add_argument("--ov-rounds", type=int, default=5)
    ap.add_argument("--ov-runs", type=int, default=100)
    a = ap.parse_args()
    if a.quick:
        a.rounds, a.compile_runs, a.membw_passes, a.ov_rounds, a.ov_runs = 1, 1, 3, 2, 20
    if min(a.threads, a.rounds, a.reps, a.compile_runs) < 1:
        fail("--threads, --rounds, --reps and --compile-runs take counts from 1")
    os.makedirs(a.work, exist_ok=True)
    command = "python3 bench/llm_bench.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    load0 = os.getloadavg()[0]
    if load0 > 0.5 * (os.cpu_count() or 1):
        log(f"warning: load average {load0:.1f} on {os.cpu_count()} cores; other jobs skew every "
            "figure, multi-threaded ones most (llama.cpp's OpenMP threads wait for each other)")

    ensure_tandemc(a)
    ensure_pythons(a)
    ensure_model(a)
    try:
        info = gguf_info.read(a.model)
    except (gguf_info.GGUFError, OSError) as e:
        fail(f"{a.model}: {e}")
    bw = bandwidth(a)
    compiles, exes = {}, {}
    for mode in MODES:
        exes[mode], compiles[mode] = compile_tandem(a, mode)
    n_ctx, one_thread = exe_context(exes["off"])
    if one_thread and a.threads > 1:
        log(f"note: tandem's runtime says it runs on one thread for now; --threads {a.threads} "
            "still goes to every engine")
    samples = measure(a, exes, n_ctx)
    llama = samples[LLAMA][0]
    ov = openvino(a)

    kv = gguf_info.kv_cache_bytes(info, n_ctx)
    decode_bytes = gguf_info.decode_bytes(info)
    summary = summarise(samples)
    roofline = bw[0] * 1e9 / decode_bytes
    weights_kv = {m: (compiles[m]["weights_bytes"] + kv) / MIB for m in MODES}
    ctx = {"command": command, "date": datetime.date.today().isoformat(),
           "load": (load0, os.getloadavg()[0]), "llama_cpp": llama["llama_cpp"],
           "system_info": llama["system_info"], "n_ctx": n_ctx, "summary": summary,
           "compiles": compiles, "openvino": ov, "bandwidth": bw, "roofline": roofline,
           "decode_bytes": decode_bytes, "tied": "output.weight" not in info.tensors,
           "kv_bytes": kv, "samples": samples}
    ctx["targets"] = targets(summary, compiles, roofline, weights_kv, ov)
    md = report(a, ctx)
    for ext, text in (("md", md), ("svg", chart(a, ctx)), ("json", json.dumps(ctx, indent=1))):
        with open(os.path.join(a.work, f"llm_bench.{ext}"), "w") as f:
            f.write(text)
    print(md)
    log(f"wrote {os.path.join(a.work, 'llm_bench')}.md, .svg and .json")


if __name__ == "__main__":
    main()
