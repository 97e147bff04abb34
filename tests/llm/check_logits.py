#!/usr/bin/env python3
"""Compare tandem's logits with reference logits.

    check_logits.py ACTUAL.npy EXPECTED.npy [--rtol 1e-3] [--min-top1 1.0]

Both are [n, n_vocab] (a leading 1 is dropped). Per row r:
    rel_err[r] = max_j |a[r,j] - b[r,j]| / max_j |b[r,j]|
and top-1 agreement is argmax a[r] == argmax b[r]. A top-1 disagreement is *tolerated*
when the reference scores tandem's pick within the error bound of its own best,
b[r, argmax a] >= max b[r] - rtol * max|b[r]| (a near-tie that rounding may flip).
Passes (exit 0) iff both arrays are finite, every row has rel_err <= rtol, and the
fraction of rows whose top-1 agrees or is tolerated is >= --min-top1. Exit 1 on failure,
2 on a usage or file error. Prints one summary line.

    check_logits.py ACTUAL.npy EXPECTED.npy --closer-than OTHER.npy [--ratio 0.5] [--min-top1 0.95]

For numbers that a rounding flip moves (activations quantised to int8: a value that the
reference computes 1e-7 apart can round the other way, and a random tiny model
amplifies that): passes iff the median row error against EXPECTED is at most --ratio
times the median against OTHER (the logits without that rounding), and top-1 agrees
with EXPECTED on at least --min-top1 of the rows.
"""
import argparse
import sys

import numpy as np


def compare(a, b, rtol):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = np.abs(b).max(axis=1)
    scale[scale == 0] = 1.0
    rel = np.abs(a - b).max(axis=1) / scale
    ta, tb = a.argmax(axis=1), b.argmax(axis=1)
    agree = ta == tb
    picked = b[np.arange(len(b)), ta]
    tolerated = agree | (picked >= b.max(axis=1) - rtol * scale)
    return rel, agree, tolerated


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("actual")
    ap.add_argument("expected")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--min-top1", type=float, default=1.0,
                    help="minimum fraction of rows whose top-1 agrees (or is a tolerated tie)")
    ap.add_argument("--closer-than", metavar="OTHER.npy",
                    help="pass iff ACTUAL is much closer to EXPECTED than to OTHER (see above)")
    ap.add_argument("--ratio", type=float, default=0.5)
    a = ap.parse_args(argv)
    if a.closer_than:
        return closer(a)
    try:
        x, y = np.load(a.actual), np.load(a.expected)
    except (OSError, ValueError) as e:
        print(f"check_logits.py: {e}", file=sys.stderr)
        return 2
    while x.ndim > 2 and x.shape[0] == 1:
        x = x[0]
    while y.ndim > 2 and y.shape[0] == 1:
        y = y[0]
    if x.shape != y.shape or x.ndim != 2:
        print(f"check_logits.py: shapes differ or are not [n, n_vocab]: {list(x.shape)} vs "
              f"{list(y.shape)}: FAIL")
        return 1
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any() or not np.isfinite(y).all():
        print(f"check_logits.py: non-finite values (first bad row of actual: "
              f"{int(np.argmax(bad)) if bad.any() else '-'}): FAIL")
        return 1
    rel, agree, tolerated = compare(x, y, a.rtol)
    worst = int(rel.argmax())
    ok = bool((rel <= a.rtol).all() and tolerated.mean() >= a.min_top1)
    print(f"check_logits.py: {x.shape[0]} rows x {x.shape[1]}: max rel err {rel.max():.3e} "
          f"(row {worst}), mean {rel.mean():.3e}; top-1 agree {agree.mean() * 100:.1f}% "
          f"({tolerated.mean() * 100:.1f}% with ties within rtol); rtol {a.rtol:g}: "
          f"{'PASS' if ok else 'FAIL'}")
    if not ok:
        over = np.nonzero(rel > a.rtol)[0]
        if len(over):
            print(f"  rows over rtol: {over[:20].tolist()}{' ...' if len(over) > 20 else ''}")
    return 0 if ok else 1


def closer(a):
    try:
        x, y, z = (np.load(p).reshape(-1, np.load(p).shape[-1]) for p in (a.actual, a.expected, a.closer_than))
    except (OSError, ValueError) as e:
        print(f"check_logits.py: {e}", file=sys.stderr)
        return 2
    if x.shape != y.shape or x.shape != z.shape or not (np.isfinite(x).all() and np.isfinite(y).all()):
        print(f"check_logits.py: shapes differ or values are not finite: FAIL")
        return 1
    min_top1 = a.min_top1 if a.min_top1 < 1.0 else 0.95
    rel_y, _, tol_y = compare(x, y, a.rtol)
    rel_z, _, _ = compare(x, z, a.rtol)
    my, mz = float(np.median(rel_y)), float(np.median(rel_z))
    ok = my <= a.ratio * mz and tol_y.mean() >= min_top1
    print(f"check_logits.py: {x.shape[0]} rows: median rel err {my:.3e} vs {a.expected}, {mz:.3e} vs "
          f"{a.closer_than} (at most {a.ratio:g}x); top-1 agree {tol_y.mean() * 100:.1f}% "
          f"(min {min_top1 * 100:.0f}%): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
