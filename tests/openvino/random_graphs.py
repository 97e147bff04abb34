#!/usr/bin/env python3
"""Random OpenVINO graphs over the op set tandem supports, for the live tier.

usage: random_graphs.py --out DIR --seed N --index I

Writes one random model to DIR in the layout of gen_models.py (model.xml, model.bin,
input_K.npy, expected_K.npy) plus graph.txt, a one-line-per-op description.  The graph
is drawn from numpy.random.default_rng([N, I, attempt]); attempts that give an
ill-conditioned graph are rejected and redrawn (see below), so (N, I) names one model.

How a graph is drawn.  A pool of f32 tensors starts with 1-3 Parameters (random static
shapes, rank 1-4) and sometimes an embedding Gather (a const table indexed by an i32/i64
Parameter or Const, negative indices included).  Each step picks an op and an operand
from the pool (unused tensors first) and draws the op's attributes and other operands
so that the op's shape rules hold: broadcast-compatible second operands (pool tensors,
or consts of a derived shape, scalars included, some stored as f16/bf16/i8/u8/i32/i64
behind a Convert), MatMul weights in both layouts, u8/i8 weight decompression, batched
and 1-D MatMuls, Softmax/MVN/Reduce over random axes (negative too), Reshape by a random
factorisation (-1, special_zero), Transpose, Concat, Squeeze, Unsqueeze.  Every tensor's
value for the drawn inputs is tracked with numpy_ref, which lets the generator keep
values in range: Sqrt, Power and Divide get positive operands (sigmoid(x)+0.5, x*x+0.25
or exp(clamp(x))), Exp only sees |x| <= 8, and MVN only normalises groups whose variance
is not tiny relative to the data (else rounding differences would be amplified).
Unconsumed tensors become the Results.

A graph is rejected and redrawn when a value is not finite or exceeds 1e4, or when
OpenVINO (f32) and the float64 NumPy evaluator disagree by more than 1e-5 relative to
an output's largest magnitude, i.e. when the reference itself is not trustworthy at
the 1e-4 tolerance tandem is held to.
"""
import argparse
import math
import os
import sys

import numpy as np
import openvino as ov
import openvino.opset1 as ops1
import openvino.opset6 as ops6
import openvino.opset8 as ops8
import openvino.opset13 as ops

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
sys.dont_write_bytecode = True
import gen_models  # noqa: E402
import numpy_ref  # noqa: E402

MAX_ELEMS = 1024      # largest tensor the generator creates
MAX_ABS = 1e4         # larger values make a graph be redrawn
MAX_ATTEMPTS = 50


class Reject(Exception):
    """The whole graph is unusable: draw another."""


class Skip(Exception):
    """This op is unusable here: draw another op."""


def _shape(out):
    return tuple(int(d) for d in out.get_shape())


def _bcast(a, b):
    """numpy broadcast shape of a and b, or None."""
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _prime_factors(n):
    f, p = [], 2
    while n > 1:
        while n % p == 0:
            f.append(p)
            n //= p
        p += 1
    return f


class Graph:
    def __init__(self, rng):
        self.rng = rng
        self.b = gen_models.Builder(rng)
        self.pool = []          # f32 tensors ops may consume
        self.uses = {}          # key -> number of consumers
        self.cache = {}         # key -> value for the drawn inputs
        self.log = []
        self.n_ops = 0

    # ---------------------------------------------------------------- basics
    def key(self, out):
        if isinstance(out, ov.Node):
            out = out.output(0)
        return (out.get_node().get_name(), out.get_index())

    def value(self, out):
        if isinstance(out, ov.Node):
            out = out.output(0)
        k = self.key(out)
        if k not in self.cache:
            node = out.get_node()
            t = node.get_type_name()
            if t == "Parameter":
                v = self.b.inputs[self.b.params.index(node)]
            elif t == "Constant":
                v = numpy_ref.const_value(node)
            else:
                v = numpy_ref.eval_node(node, [self.value(a) for a in node.input_values()])
            v = np.asarray(v)
            self.cache[k] = v.astype(np.float64) if v.dtype.kind == "f" else v
        return self.cache[k]

    def emit(self, node, what):
        """Register a new op: check its value and put its output in the pool.  An op
        whose value is too large or not finite raises Skip and is left dangling (not
        reachable from any Result, so not part of the model)."""
        out = node.output(0)
        v = self.value(out)
        if v.size > MAX_ELEMS:
            raise Skip("tensor too large")
        if v.dtype.kind == "f" and (not np.all(np.isfinite(v))
                                    or np.max(np.abs(v), initial=0) > MAX_ABS):
            raise Skip("value out of range")
        self.mark_uses(node)
        self.pool.append(out)
        self.uses[self.key(out)] = 0
        self.n_ops += 1
        self.log.append(f"{node.get_type_name():10s} {what} -> {list(_shape(out))}")
        return out

    def mark_uses(self, node):
        """Count a use of every pool tensor `node` reads, looking through the helper
        nodes (Convert, positive(), ...) between them."""
        for a in node.input_values():
            k = self.key(a)
            if k in self.uses:
                self.uses[k] += 1
            elif a.get_node().get_type_name() not in ("Parameter", "Constant"):
                self.mark_uses(a.get_node())

    def pick(self, pred=lambda o: True):
        """A pool tensor satisfying pred, unused and recent ones preferred."""
        cands = [o for o in self.pool if pred(o)]
        if not cands:
            return None
        w = np.array([(4.0 if self.uses.get(self.key(o), 0) == 0 else 1.0) * (1 + i)
                      for i, o in enumerate(cands)])
        return cands[self.rng.choice(len(cands), p=w / w.sum())]

    def coin(self, p):
        return self.rng.random() < p

    def choice(self, seq):
        return seq[self.rng.integers(len(seq))]

    def subset(self, items):
        """A random non-empty subset of items, sorted."""
        items = list(items)
        n = int(self.rng.integers(1, len(items) + 1))
        return sorted(int(i) for i in self.rng.choice(items, size=n, replace=False))

    def axes_const(self, axes, rank):
        """Axes as an i64 or i32 const, each randomly written negative."""
        ax = [a - rank if self.coin(0.4) else a for a in axes]
        return (gen_models.i64 if self.coin(0.7) else gen_models.i32)(ax)

    # --------------------------------------------------------------- operands
    def const_f32(self, shape, scale=1.0):
        """A float const of `shape`, sometimes stored in another dtype behind Convert."""
        kind = self.choice(["f32"] * 6 + ["f16", "bf16", "i8", "u8", "i32", "i64"])
        r = self.rng
        if kind == "f32":
            return ops.constant(self.b.normal(shape, scale))
        if kind == "f16":
            c = ops.constant(self.b.normal(shape, scale).astype(np.float16))
        elif kind == "bf16":
            c = ops.constant(gen_models.bf16_round(self.b.normal(shape, scale)), dtype=ov.Type.bf16)
        elif kind == "u8":
            c = ops.constant(r.integers(0, 4, shape).astype(np.uint8))
        else:
            c = ops.constant(r.integers(-3, 4, shape).astype(np.dtype(kind.replace("i", "int"))))
        return ops.convert(c, ov.Type.f32)

    def positive(self, x):
        """x made strictly positive with ops of the supported set."""
        k = self.rng.integers(3)
        if k == 0:
            return ops.add(ops.sigmoid(x), gen_models.f32(0.5))
        if k == 1:
            return ops.add(ops.multiply(x, x), gen_models.f32(0.25))
        return ops.exp(ops.clamp(x, -3.0, 3.0))

    def operand_like(self, shape):
        """A second operand that broadcasts with `shape`: a pool tensor or a const."""
        if self.coin(0.4):
            y = self.pick(lambda o: (s := _bcast(shape, _shape(o))) is not None
                          and math.prod(s) <= MAX_ELEMS)
            if y is not None:
                return y
        if self.coin(0.15) or not shape:
            return self.const_f32([])
        s = list(shape[self.rng.integers(0, len(shape)):] if self.coin(0.3) else shape)
        s = [1 if self.coin(0.3) else d for d in s]
        if len(s) == len(shape) < 4 and self.coin(0.15):  # the const has more dims than x
            s = [int(self.rng.integers(2, 4))] + s
        return self.const_f32(s)

    # -------------------------------------------------------------------- ops
    def op_unary(self, x):
        kind = self.choice(["relu", "sigmoid", "tanh", "gelu", "swish", "clamp", "exp", "sqrt"])
        v = self.value(x)
        if kind == "exp" and np.max(np.abs(v), initial=0) > 8:
            return None
        if kind == "sqrt" and np.min(v, initial=1) <= 1e-3:
            x = self.positive(x)
        if kind == "gelu":
            mode = self.choice(["erf", "tanh"])
            return self.emit(ops.gelu(x, mode), mode)
        if kind == "swish":
            beta = self.coin(0.5)
            node = (ops.swish(x, gen_models.f32(self.rng.uniform(0.5, 2.0))) if beta
                    else ops.swish(x))
            return self.emit(node, "beta" if beta else "")
        if kind == "clamp":
            lo = float(np.float32(self.rng.uniform(-2, 0)))
            hi = float(np.float32(self.rng.uniform(0, 2)))
            return self.emit(ops.clamp(x, lo, hi), f"[{lo:.3g}, {hi:.3g}]")
        return self.emit(getattr(ops, kind)(x), "")

    def op_binary(self, x):
        kind = self.choice(["add", "subtract", "multiply", "divide", "power", "maximum", "minimum"])
        if kind == "power":
            base = x if np.min(self.value(x), initial=1) > 0.05 else self.positive(x)
            if self.coin(0.5):
                e = gen_models.f32(self.choice([2.0, 3.0, 0.5, -1.0, 1.5]))
            else:
                s = [1 if self.coin(0.5) else d for d in _shape(x)]
                e = gen_models.f32(self.rng.uniform(-1.5, 2.5, s).astype(np.float32))
            return self.emit(ops.power(base, e), "")
        y = self.operand_like(_shape(x))
        if kind == "divide":
            yv = self.value(y)
            if np.min(np.abs(yv), initial=1) < 0.2:
                y = self.positive(y)
            return self.emit(ops.divide(x, y), "")
        a, c = (x, y) if self.coin(0.7) else (y, x)
        return self.emit(getattr(ops, kind)(a, c), "")

    def weight(self, k, n, tb):
        """A [k, n] MatMul weight (stored [n, k] when tb), maybe compressed."""
        shape = [n, k] if tb else [k, n]
        kind = self.choice(["f32", "f32", "f16", "u8", "i8"])
        r = self.rng
        if kind == "f32":
            return self.b.weight(shape, k)
        if kind == "f16":
            w = (r.standard_normal(shape) / math.sqrt(k)).astype(np.float16)
            return ops.convert(ops.constant(w), ov.Type.f32)
        # per-output-channel scale: [n, 1] when stored [n, k], else [1, n]
        sshape = [n, 1] if tb else [1, n]
        if kind == "u8":
            w = ops.convert(ops.constant(r.integers(0, 256, shape).astype(np.uint8)), ov.Type.f32)
            zp = ops.constant(r.integers(120, 136, sshape).astype(np.uint8))
            zp = ops.convert(zp, ov.Type.f32)
            w = ops.subtract(w, zp)
        else:
            w = ops.convert(ops.constant(r.integers(-127, 128, shape).astype(np.int8)), ov.Type.f32)
        scale = (r.uniform(0.5, 1.5, sshape) / (64 * math.sqrt(k))).astype(np.float32)
        return ops.multiply(w, gen_models.f32(scale))

    def op_matmul(self, x):
        xs = _shape(x)
        if not xs:
            return None
        ta = len(xs) >= 2 and self.coin(0.25)
        k = xs[-2] if ta else xs[-1]
        m = xs[-1] if ta else (xs[-2] if len(xs) >= 2 else None)
        batch = xs[:-2]
        if self.coin(0.35):  # another pool tensor as the right operand
            def fits(o):
                s = _shape(o)
                return len(s) >= 2 and s[-2] == k and _bcast(batch, s[:-2]) is not None
            y = self.pick(fits)
            if y is not None:
                tb = False
                if self.coin(0.3):
                    perm = list(range(len(_shape(y))))
                    perm[-1], perm[-2] = perm[-2], perm[-1]
                    y, tb = ops.transpose(y, gen_models.i64(perm)), True
                return self.emit(ops.matmul(x, y, ta, tb), f"ta={ta} tb={tb} (tensor)")
        n = int(self.rng.integers(1, 13))
        if self.coin(0.1):  # 1-D weight: the last dim goes away
            w = ops.constant(self.b.normal([k], 1 / math.sqrt(k)))
            return self.emit(ops.matmul(x, w, ta, False), f"ta={ta} 1-D weight")
        tb = self.coin(0.5)
        w = self.weight(k, n, tb)
        if batch and self.coin(0.15):  # a batched weight broadcast against x's batch
            d = self.choice([1, batch[-1]])
            w = ops.unsqueeze(w, gen_models.i64([0]))
            if d > 1:
                w = ops.concat([w] * d, 0)
        if m is not None and math.prod(batch) * m * n > MAX_ELEMS:
            return None
        return self.emit(ops.matmul(x, w, ta, tb), f"ta={ta} tb={tb} (weight {k}x{n})")

    def op_softmax(self, x):
        r = len(_shape(x))
        if r == 0:
            return None
        if self.coin(0.3):
            a = int(self.rng.integers(r))
            return self.emit(ops1.softmax(x, a), f"opset1 axis={a}")
        a = int(self.rng.integers(-r, r))
        return self.emit(ops8.softmax(x, a), f"opset8 axis={a}")

    def op_mvn(self, x):
        xs = _shape(x)
        if not xs:
            return None
        axes = self.subset(range(len(xs)))
        nv = self.coin(0.8)
        if nv:
            if math.prod(xs[a] for a in axes) < 4:
                return None
            v = self.value(x)
            var = v.var(axis=tuple(axes))
            if np.min(var) < 1e-3 * max(np.mean(v * v), 1e-30):
                return None
        eps = float(self.choice([1e-5, 1e-6, 1e-3, 1e-9]))
        mode = self.choice(["inside_sqrt", "outside_sqrt"])
        node = ops6.mvn(x, self.axes_const(axes, len(xs)), nv, eps, mode)
        return self.emit(node, f"axes={axes} nv={nv} eps={eps} {mode}")

    def op_reduce(self, x):
        xs = _shape(x)
        if not xs:
            return None
        axes = self.subset(range(len(xs)))
        keep = self.coin(0.5)
        kind = self.choice(["reduce_mean", "reduce_sum"])
        node = getattr(ops, kind)(x, self.axes_const(axes, len(xs)), keep)
        return self.emit(node, f"axes={axes} keep_dims={keep}")

    def op_reshape(self, x):
        xs = _shape(x)
        rank = int(self.rng.integers(1, 5))
        dims = [1] * rank
        for f in _prime_factors(math.prod(xs)):
            dims[self.rng.integers(rank)] *= f
        pattern = list(dims)
        if self.coin(0.4):
            pattern[self.rng.integers(rank)] = -1
        special_zero = self.coin(0.4)
        if special_zero:
            for i in range(min(rank, len(xs))):
                if pattern[i] == xs[i] and self.coin(0.7):
                    pattern[i] = 0
        c = (gen_models.i64 if self.coin(0.7) else gen_models.i32)(pattern)
        return self.emit(ops.reshape(x, c, special_zero), f"{pattern} special_zero={special_zero}")

    def op_transpose(self, x):
        r = len(_shape(x))
        if r < 2:
            return None
        perm = self.rng.permutation(r).tolist()
        c = (gen_models.i64 if self.coin(0.7) else gen_models.i32)(perm)
        return self.emit(ops.transpose(x, c), f"{perm}")

    def op_concat(self, x):
        xs = _shape(x)
        if not xs:
            return None
        axis = int(self.rng.integers(len(xs)))
        parts = [x]
        for _ in range(int(self.rng.integers(1, 3))):
            def fits(o):
                s = _shape(o)
                return len(s) == len(xs) and all(s[i] == xs[i] for i in range(len(xs)) if i != axis)
            y = self.pick(fits) if self.coin(0.5) else None
            if y is None:
                s = list(xs)
                s[axis] = int(self.rng.integers(1, 4))
                y = self.const_f32(s)
            parts.insert(int(self.rng.integers(len(parts) + 1)), y)
        a = axis - len(xs) if self.coin(0.4) else axis
        return self.emit(ops.concat(parts, a), f"{len(parts)} parts axis={a}")

    def op_squeeze(self, x):
        xs = _shape(x)
        ones = [i for i, d in enumerate(xs) if d == 1]
        if not ones:
            return None
        axes = self.subset(ones)
        return self.emit(ops.squeeze(x, self.axes_const(axes, len(xs))), f"axes={axes}")

    def op_unsqueeze(self, x):
        xs = _shape(x)
        if len(xs) > 3:
            return None
        n = int(self.rng.integers(1, 3)) if len(xs) < 3 else 1
        out_rank = len(xs) + n
        axes = sorted(self.rng.choice(out_rank, size=n, replace=False).tolist())
        return self.emit(ops.unsqueeze(x, self.axes_const(axes, out_rank)), f"axes={axes}")

    def source_gather(self):
        """Embedding lookup: a const table indexed by an integer Parameter or Const."""
        v, d = int(self.rng.integers(5, 31)), int(self.rng.integers(1, 9))
        table = self.b.const([v, d])
        ishape = [int(self.rng.integers(1, 5)) for _ in range(self.rng.integers(0, 3))]
        dt = self.choice([np.int64, np.int32])
        lo = -v if self.coin(0.4) else 0
        if self.coin(0.7):
            idx = self.b.param(ishape, dt, lo, v)
        else:
            idx = ops.constant(self.rng.integers(lo, v, ishape).astype(dt))
        axis = gen_models.i64(0) if self.coin(0.7) else gen_models.i32(0)
        what = f"table [{v},{d}] idx {ishape} {np.dtype(dt).name} from {lo}"
        return self.emit(ops.gather(table, idx, axis), what)

    OPS = [("op_unary", 5), ("op_binary", 5), ("op_matmul", 3), ("op_softmax", 1),
           ("op_mvn", 1), ("op_reduce", 1), ("op_reshape", 1), ("op_transpose", 1),
           ("op_concat", 1), ("op_squeeze", 1), ("op_unsqueeze", 1)]

    def build(self):
        for _ in range(int(self.rng.integers(1, 4))):
            rank = int(self.rng.integers(1, 5))
            shape = [int(self.rng.integers(1, 7)) for _ in range(rank)]
            p = self.b.param(shape)
            self.pool.append(p.output(0))
            self.uses[self.key(p.output(0))] = 0
        if self.coin(0.25):
            self.source_gather()
        target = int(self.rng.integers(3, 16))
        names = [n for n, _ in self.OPS]
        w = np.array([w for _, w in self.OPS], float)
        tries = 0
        while self.n_ops < target:
            tries += 1
            if tries > 500:
                raise Reject("no applicable op")
            op = getattr(self, names[self.rng.choice(len(names), p=w / w.sum())])
            try:
                op(self.pick())
            except Skip:
                pass
        for o in list(self.pool):  # every f32 Parameter feeds something
            if o.get_node().get_type_name() == "Parameter" and not self.uses[self.key(o)]:
                try:
                    self.op_unary(o) if self.coin(0.5) else self.op_binary(o)
                except Skip:
                    pass
                if not self.uses[self.key(o)]:
                    self.emit(ops.relu(o), "")
        leaves = [o for o in self.pool if not self.uses[self.key(o)]
                  and o.get_node().get_type_name() != "Parameter"]
        m = self.b.model(leaves, "random")
        reachable = {n.get_name() for n in m.get_ordered_ops()}
        for p in self.b.params:
            readers = p.output(0).get_target_inputs()
            if not any(t.get_node().get_name() in reachable for t in readers):
                raise Reject("a Parameter feeds nothing")
        return m


def generate(out_dir, seed, index):
    """Write one accepted random graph to out_dir; returns (attempt, rejects)."""
    rejects = []
    for attempt in range(MAX_ATTEMPTS):
        g = Graph(np.random.default_rng([seed, index, attempt]))
        try:
            m = g.build()
            gen_models.write_case(m, g.b.inputs, out_dir)
        except (Reject, Skip, AssertionError) as e:
            rejects.append(str(e).splitlines()[0])
            continue
        with open(os.path.join(out_dir, "graph.txt"), "w") as f:
            f.write(f"# random_graphs.py --seed {seed} --index {index} (attempt {attempt})\n")
            f.write("inputs: " + " ".join(f"{list(x.shape)}:{x.dtype}" for x in g.b.inputs) + "\n")
            f.write("\n".join(g.log) + "\n")
        return attempt, rejects
    raise SystemExit(f"random_graphs: no acceptable graph for seed {seed} index {index} "
                     f"in {MAX_ATTEMPTS} attempts: {rejects[-3:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--index", type=int, default=0)
    args = ap.parse_args()
    attempt, rejects = generate(args.out, args.seed, args.index)
    why = f" (rejected: {'; '.join(rejects)})" if rejects else ""
    print(f"{args.out}: attempt {attempt}{why}")


if __name__ == "__main__":
    main()
