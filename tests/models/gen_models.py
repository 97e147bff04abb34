#!/usr/bin/env python3
"""Generate tandem's OpenVINO IR test models, their inputs and reference outputs.

usage: gen_models.py --out DIR --seed N [--only NAME ...] [--list]

For every model NAME this writes DIR/NAME/:
  model.xml, model.bin  IR v11 written by ov.save_model(compress_to_fp16=False);
                        models whose name ends in _v10 are rewritten as IR v10
  input_K.npy           random inputs
  expected_K.npy        outputs of OpenVINO's CPU plugin, compiled from the model read
                        back from disk with INFERENCE_PRECISION_HINT=f32 (CPU_CONFIG)

Index convention.  tandem numbers a model's inputs by the document order of the
Parameter layers in model.xml and its outputs by the document order of the Result
layers: input_K.npy feeds the K-th Parameter layer, expected_K.npy belongs to the K-th
Result layer.  The script asserts that this order equals model.inputs / model.outputs
both of the model it built and of the model OpenVINO reads back from the file, so
OpenVINO's numbering and tandem's agree.

Reference check.  Every expected output is also computed by numpy_ref.py (float64) and
the script fails when OpenVINO and NumPy disagree by more than 1e-5 relative to the
output's largest magnitude: the committed references are full f32, not bf16/f16.

Reproducibility.  Each model draws from its own generator seeded with (seed,
crc32(NAME)) and every node gets a deterministic name, so --only NAME rewrites the same
bytes as a full run.  Only openvino and numpy are needed.
"""
import argparse
import math
import os
import re
import sys
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import openvino as ov
import openvino.opset1 as ops1
import openvino.opset6 as ops6
import openvino.opset8 as ops8
import openvino.opset13 as ops

sys.dont_write_bytecode = True  # no __pycache__ next to the committed models
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy_ref  # noqa: E402

CORE = ov.Core()  # one Core for the process: compiled models must not outlive theirs
REF_CHECK_TOL = 1e-5  # OpenVINO vs float64 NumPy, relative to max |expected|

# --------------------------------------------------------------------------- helpers


def i64(v):
    return ops.constant(np.array(v, np.int64))


def i32(v):
    return ops.constant(np.array(v, np.int32))


def f32(v):
    return ops.constant(np.array(v, np.float32))


def bf16_round(x):
    """Round f32 values to bf16-representable ones (truncation), so the stored bf16
    constant holds exactly the values NumPy sees."""
    bits = np.asarray(x, np.float32).view(np.uint32) & 0xFFFF0000
    return bits.view(np.float32)


class Builder:
    """Collects Parameters (with their random input values) and makes weights."""

    def __init__(self, rng):
        self.rng = rng
        self.params = []
        self.inputs = []

    def param(self, shape, dtype=np.float32, lo=None, hi=None, name=None):
        """A Parameter and its input: normal(0,1) floats, or uniform in [lo, hi)
        (integers: lo..hi-1)."""
        r = self.rng
        if np.issubdtype(dtype, np.integer):
            x = r.integers(lo, hi, size=shape).astype(dtype)
        elif lo is not None:
            x = r.uniform(lo, hi, size=shape).astype(dtype)
        else:
            x = r.standard_normal(shape).astype(dtype)
        name = name or f"in{len(self.params)}"
        p = ops.parameter(list(shape), ov.Type(np.dtype(dtype)), name=name)
        self.params.append(p)
        self.inputs.append(np.asarray(x, dtype))
        return p

    def normal(self, shape, scale=1.0):
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)

    def const(self, shape, scale=1.0, name=None):
        return ops.constant(self.normal(shape, scale), name=name)

    def weight(self, shape, fan_in, name=None):
        """Random normal weight scaled by 1/sqrt(fan_in) so activations stay O(1)."""
        return self.const(shape, 1.0 / math.sqrt(fan_in), name=name)

    def positive(self, shape, lo=0.5, hi=2.0):
        return f32(self.rng.uniform(lo, hi, size=shape).astype(np.float32))

    def model(self, outputs, name):
        results = []
        for k, out in enumerate(outputs):
            r = ops.result(out)
            r.set_friendly_name(f"out{k}")
            results.append(r)
        m = ov.Model(results, self.params, name)
        _name_nodes(m)
        return m


def _name_nodes(model):
    """Give every node without an explicit name a deterministic one (OpenVINO's default
    names count nodes process-wide, so they would depend on what was built before)."""
    counts = {}
    for node in model.get_ordered_ops():
        t = node.get_type_name()
        counts[t] = counts.get(t, 0) + 1
        if node.get_friendly_name() == node.get_name():
            node.set_friendly_name(f"{t}_{counts[t]}")


MODELS = {}


def model(name):
    def reg(fn):
        MODELS[name] = fn
        return fn
    return reg


# ------------------------------------------------------------- building blocks


def linear(b, x, n_in, n_out, name, bias=True):
    """x @ W^T (+ bias) with W stored [n_out, n_in] as real exports do (transpose_b)."""
    y = ops.matmul(x, b.weight([n_out, n_in], n_in, name=f"{name}.weight"), False, True)
    if bias:
        y = ops.add(y, b.const([n_out], 0.1, name=f"{name}.bias"))
    return y


def layer_norm(b, x, d, name):
    """MVN over the last axis times a scale weight, plus a bias."""
    n = ops6.mvn(x, i64([-1]), True, 1e-5, "inside_sqrt", name=f"{name}.mvn")
    g = f32(1.0 + b.normal([d], 0.1))
    return ops.add(ops.multiply(n, g), b.const([d], 0.1))


def rms_norm(b, x, d, name, eps=1e-6):
    """RMSNorm decomposed as LLM exports do: Power 2 -> ReduceMean -> Add eps -> Sqrt ->
    Divide -> Multiply weight."""
    ms = ops.reduce_mean(ops.power(x, f32(2.0)), i64([-1]), True)
    rms = ops.sqrt(ops.add(ms, f32(eps)), name=f"{name}.rms")
    return ops.multiply(ops.divide(x, rms), f32(1.0 + b.normal([d], 0.1)))


def causal_mask(seq):
    m = np.triu(np.full((seq, seq), np.finfo(np.float32).min, np.float32), 1)
    return f32(m.reshape(1, 1, seq, seq))


def transformer_block(b, x, d, heads, ffn, seq, name):
    """Pre-norm block: x + Wo·attn(norm(x)), then + Wd·(swish(Wg·h) * Wu·h)."""
    hd = d // heads
    h = ops.multiply(ops6.mvn(x, i64([-1]), True, 1e-5, "inside_sqrt", name=f"{name}.ln1"),
                     f32(1.0 + b.normal([d], 0.1)))

    def split_heads(t):  # [1, seq, d] -> [1, heads, seq, hd]
        t = ops.reshape(t, i64([0, 0, heads, hd]), True)
        return ops.transpose(t, i64([0, 2, 1, 3]))

    q = split_heads(linear(b, h, d, d, f"{name}.q", bias=False))
    k = split_heads(linear(b, h, d, d, f"{name}.k", bias=False))
    v = split_heads(linear(b, h, d, d, f"{name}.v", bias=False))
    s = ops.divide(ops.matmul(q, k, False, True), f32(math.sqrt(hd)))
    p = ops8.softmax(ops.add(s, causal_mask(seq)), -1, name=f"{name}.softmax")
    o = ops.transpose(ops.matmul(p, v, False, False), i64([0, 2, 1, 3]))
    o = ops.reshape(o, i64([0, 0, d]), True)
    x = ops.add(x, linear(b, o, d, d, f"{name}.o", bias=False))
    h = rms_norm(b, x, d, f"{name}.ln2")
    gate = linear(b, h, d, ffn, f"{name}.gate", bias=False)
    up = linear(b, h, d, ffn, f"{name}.up", bias=False)
    return ops.add(x, linear(b, ops.multiply(ops.swish(gate), up), ffn, d,
                             f"{name}.down", bias=False))


# --------------------------------------------------------------- whole models


@model("mlp")
def _(b):
    x = b.param([1, 64])
    h = ops.relu(linear(b, x, 64, 128, "fc1"))
    return [ops.sigmoid(linear(b, h, 128, 32, "fc2"))]


@model("residual_mlp")
def _(b):
    x = b.param([4, 64])
    for i in range(4):
        h = linear(b, layer_norm(b, x, 64, f"blk{i}.ln"), 64, 128, f"blk{i}.fc1")
        h = ops.gelu(h, "erf" if i % 2 == 0 else "tanh")
        x = ops.add(x, linear(b, h, 128, 64, f"blk{i}.fc2"))
    return [x]


@model("transformer_block")
def _(b):
    x = b.param([1, 8, 64])
    return [transformer_block(b, x, 64, 4, 128, 8, "blk0")]


@model("transformer_stack")
def _(b):
    vocab, d = 100, 64
    ids = b.param([1, 8], np.int64, 0, vocab, name="input_ids")
    x = ops.gather(b.const([vocab, d], name="embed.weight"), ids, i64(0))
    for i in range(2):
        x = transformer_block(b, x, d, 4, 128, 8, f"blk{i}")
    x = rms_norm(b, x, d, "final_norm")
    return [linear(b, x, d, vocab, "lm_head", bias=False)]


# The same model as transformer_block (same seed, same weights), written as IR v10.
MODELS["transformer_block_v10"] = MODELS["transformer_block"]


# ------------------------------------------------------------ per-op models


def _unary(name, fn, lo=None, hi=None, shape=(2, 3, 4)):
    @model(name)
    def _(b):
        return [fn(b.param(list(shape), lo=lo, hi=hi))]


_unary("op_relu", ops.relu)
_unary("op_sigmoid", ops.sigmoid, -6.0, 6.0)
_unary("op_tanh", ops.tanh, -3.0, 3.0)
_unary("op_exp", ops.exp, -4.0, 4.0)
_unary("op_sqrt", ops.sqrt, 0.01, 9.0)
_unary("op_gelu_erf", lambda x: ops.gelu(x, "erf"), -4.0, 4.0)
_unary("op_gelu_tanh", lambda x: ops.gelu(x, "tanh"), -4.0, 4.0)
_unary("op_swish", ops.swish, -6.0, 6.0)
_unary("op_swish_beta", lambda x: ops.swish(x, f32(1.702)), -6.0, 6.0)
_unary("op_clamp", lambda x: ops.clamp(x, -1.0, 1.5), -3.0, 3.0)


@model("op_add_same")
def _(b):
    return [ops.add(b.param([2, 3, 4]), b.param([2, 3, 4]))]


@model("op_add_bcast_vec")  # [2,3,4] + [4]
def _(b):
    return [ops.add(b.param([2, 3, 4]), b.const([4]))]


@model("op_add_scalar")  # [2,3,4] + scalar const
def _(b):
    return [ops.add(b.param([2, 3, 4]), f32(0.75))]


@model("op_add_rank_expand")  # [3,1] + [2,1,4] -> [2,3,4]
def _(b):
    return [ops.add(b.param([3, 1]), b.const([2, 1, 4]))]


@model("op_subtract_bcast")  # [2,1,4] - [3,1] -> [2,3,4]
def _(b):
    return [ops.subtract(b.param([2, 1, 4]), b.param([3, 1]))]


@model("op_subtract_scalar_lhs")  # scalar - [2,3]
def _(b):
    return [ops.subtract(f32(1.0), b.param([2, 3]))]


@model("op_multiply_bcast")  # [2,1,4] * [3,1] -> [2,3,4]
def _(b):
    return [ops.multiply(b.param([2, 1, 4]), b.param([3, 1]))]


@model("op_multiply_scalar")
def _(b):
    return [ops.multiply(b.param([2, 3, 4]), f32(-1.5))]


@model("op_divide")  # denominators in +-[0.5, 2]
def _(b):
    num = b.param([2, 3, 4])
    den = b.param([2, 3, 4], lo=0.5, hi=2.0)
    sign = f32(np.where(b.rng.random((2, 3, 4)) < 0.5, -1.0, 1.0).astype(np.float32))
    return [ops.divide(num, ops.multiply(den, sign))]


@model("op_divide_bcast")  # [2,3,4] / const [3,1]
def _(b):
    return [ops.divide(b.param([2, 3, 4]), b.positive([3, 1]))]


@model("op_power_scalar")  # positive ^ 2, ^ 0.5, ^ -1 (three outputs)
def _(b):
    x = b.param([2, 3, 4], lo=0.2, hi=3.0)
    return [ops.power(x, f32(2.0)), ops.power(x, f32(0.5)), ops.power(x, f32(-1.0))]


@model("op_power_tensor")  # positive [2,3,4] ^ [4]
def _(b):
    return [ops.power(b.param([2, 3, 4], lo=0.2, hi=3.0), b.param([4], lo=-2.0, hi=3.0))]


@model("op_maximum_bcast")  # [2,3,4] vs [3,1]
def _(b):
    return [ops.maximum(b.param([2, 3, 4]), b.param([3, 1]))]


@model("op_minimum_bcast")  # [4] vs [2,3,4] (lower rank on the left)
def _(b):
    return [ops.minimum(b.param([4]), b.param([2, 3, 4]))]


def _softmax(name, fn, shape):
    @model(name)
    def _(b):
        return [fn(b.param(list(shape), lo=-4.0, hi=4.0))]


_softmax("op_softmax1_axis0", lambda x: ops1.softmax(x, 0), [3, 5])
_softmax("op_softmax1_axis2", lambda x: ops1.softmax(x, 2), [2, 3, 5])
_softmax("op_softmax8_neg1", lambda x: ops8.softmax(x, -1), [2, 3, 5])
_softmax("op_softmax8_neg3", lambda x: ops8.softmax(x, -3), [2, 3, 5])
_softmax("op_softmax8_axis1", lambda x: ops8.softmax(x, 1), [2, 3, 4, 5])


def _mvn(name, shape, axes, nv, eps, mode):
    @model(name)
    def _(b):
        x = ops.add(b.param(list(shape)), f32(0.5))
        return [ops6.mvn(x, axes, nv, eps, mode)]


_mvn("op_mvn_inside", [2, 3, 8], i64([-1]), True, 1e-5, "inside_sqrt")
_mvn("op_mvn_outside", [2, 3, 8], i64([2]), True, 1e-3, "outside_sqrt")
_mvn("op_mvn_no_variance", [2, 3, 8], i64([-1]), False, 1e-5, "inside_sqrt")
_mvn("op_mvn_axes_12", [2, 3, 4], i64([1, 2]), True, 1e-6, "inside_sqrt")
_mvn("op_mvn_4d_i32_axes", [2, 3, 4, 5], i32([-2, -1]), True, 1e-9, "outside_sqrt")


def _reduce(name, fn, shape, axes, keep):
    @model(name)
    def _(b):
        return [fn(b.param(list(shape)), axes, keep)]


_reduce("op_reducemean_keep", ops.reduce_mean, [2, 3, 4], i64([-1]), True)
_reduce("op_reducemean_nokeep", ops.reduce_mean, [2, 3, 4], i64([0, 2]), False)
_reduce("op_reducesum_keep", ops.reduce_sum, [2, 3, 4], i64([1]), True)
_reduce("op_reducesum_nokeep", ops.reduce_sum, [2, 3, 4, 5], i32([-1, 1]), False)
_reduce("op_reducesum_all", ops.reduce_sum, [2, 3, 4], i64([0, 1, 2]), False)  # -> scalar


@model("op_reshape_minus1")  # [2,3,4] -> [4,-1]
def _(b):
    return [ops.reshape(b.param([2, 3, 4]), i64([4, -1]), False)]


@model("op_reshape_special_zero")  # [2,3,4] -> [0,-1] and [0,3,2,2] (two outputs)
def _(b):
    x = b.param([2, 3, 4])
    return [ops.reshape(x, i64([0, -1]), True), ops.reshape(x, i64([0, 0, 2, 2]), True)]


@model("op_reshape_i32_pattern")  # [2,3,4] -> [6,4], i32 pattern, special_zero false
def _(b):
    return [ops.reshape(b.param([2, 3, 4]), i32([6, 4]), False)]


@model("op_transpose_2d")
def _(b):
    return [ops.transpose(b.param([3, 5]), i64([1, 0]))]


@model("op_transpose_3d")
def _(b):
    return [ops.transpose(b.param([2, 3, 4]), i32([2, 0, 1]))]


@model("op_transpose_4d")
def _(b):
    return [ops.transpose(b.param([2, 3, 4, 5]), i64([0, 2, 1, 3]))]


@model("op_concat_3inputs")  # axis 1: [2,3,4] [2,1,4] [2,5,4]
def _(b):
    return [ops.concat([b.param([2, 3, 4]), b.param([2, 1, 4]), b.param([2, 5, 4])], 1)]


@model("op_concat_neg_axis")  # axis -1 with a const operand first
def _(b):
    return [ops.concat([b.const([2, 4]), b.param([2, 3])], -1)]


@model("op_squeeze")  # [1,3,1,4] axes [0,2]
def _(b):
    return [ops.squeeze(b.param([1, 3, 1, 4]), i64([0, 2]))]


@model("op_squeeze_neg")  # [3,4,1] axes [-1]
def _(b):
    return [ops.squeeze(b.param([3, 4, 1]), i32([-1]))]


@model("op_unsqueeze")  # [3,4] axes [0,2] -> [1,3,1,4]
def _(b):
    return [ops.unsqueeze(b.param([3, 4]), i64([0, 2]))]


@model("op_unsqueeze_neg")  # [3,4] axes [-1] -> [3,4,1]
def _(b):
    return [ops.unsqueeze(b.param([3, 4]), i64([-1]))]


def _convert(name, dtype, values):
    """A [3,4] Const of `dtype` -> Convert(f32) -> Add to a [2,3,4] input."""
    @model(name)
    def _(b):
        c = ops.convert(ops.constant(values(b), dtype=dtype), ov.Type.f32)
        return [ops.add(b.param([2, 3, 4]), c)]


_convert("op_convert_f16", ov.Type.f16, lambda b: b.normal([3, 4]).astype(np.float16))
_convert("op_convert_bf16", ov.Type.bf16, lambda b: bf16_round(b.normal([3, 4])))
_convert("op_convert_i8", ov.Type.i8, lambda b: b.rng.integers(-128, 128, (3, 4)).astype(np.int8))
_convert("op_convert_u8", ov.Type.u8, lambda b: b.rng.integers(0, 256, (3, 4)).astype(np.uint8))
_convert("op_convert_i32", ov.Type.i32,
         lambda b: b.rng.integers(-1000, 1000, (3, 4)).astype(np.int32))
_convert("op_convert_i64", ov.Type.i64,
         lambda b: b.rng.integers(-1000, 1000, (3, 4)).astype(np.int64))


@model("op_convert_u8_weights")  # LLM weight compression: (u8 - zp) * scale, MatMul tb
def _(b):
    w = ops.convert(ops.constant(b.rng.integers(0, 256, (16, 32)).astype(np.uint8)), ov.Type.f32)
    zp = ops.convert(ops.constant(b.rng.integers(120, 136, (16, 1)).astype(np.uint8)), ov.Type.f32)
    scale = f32(b.rng.uniform(0.5, 1.5, (16, 1)).astype(np.float32) / (64 * math.sqrt(32)))
    wf = ops.multiply(ops.subtract(w, zp), scale)
    return [ops.matmul(b.param([2, 32]), wf, False, True)]


@model("op_convert_i8_weights")  # symmetric i8 weights * f16 scale, MatMul tb
def _(b):
    w = ops.convert(ops.constant(b.rng.integers(-127, 128, (16, 32)).astype(np.int8)), ov.Type.f32)
    s = (b.rng.uniform(0.5, 1.5, (16, 1)) / (64 * math.sqrt(32))).astype(np.float16)
    scale = ops.convert(ops.constant(s), ov.Type.f32)
    return [ops.matmul(b.param([2, 32]), ops.multiply(w, scale), False, True)]


def _matmul(name, a_shape, b_shape, ta=False, tb=False, b_const=False):
    @model(name)
    def _(b):
        a = b.param(a_shape)
        w = b.const(b_shape) if b_const else b.param(b_shape)
        return [ops.matmul(a, w, ta, tb)]


_matmul("op_matmul_2d", [3, 4], [4, 5], b_const=True)
_matmul("op_matmul_2d_inputs", [3, 4], [4, 5])
_matmul("op_matmul_3d", [2, 3, 4], [2, 4, 5])
_matmul("op_matmul_4d", [2, 3, 4, 5], [2, 3, 5, 6])
_matmul("op_matmul_bcast_2d", [2, 3, 4, 5], [5, 6], b_const=True)
_matmul("op_matmul_bcast_batch", [2, 1, 4, 5], [3, 5, 6])
_matmul("op_matmul_ta", [4, 3], [4, 5], ta=True)
_matmul("op_matmul_tb", [3, 4], [5, 4], tb=True, b_const=True)
_matmul("op_matmul_ta_tb_3d", [2, 4, 3], [2, 5, 4], ta=True, tb=True)
_matmul("op_matmul_1d_2d", [5], [5, 6], b_const=True)
_matmul("op_matmul_2d_1d", [4, 5], [5])
_matmul("op_matmul_1d_1d", [5], [5])
_matmul("op_matmul_1d_3d", [5], [2, 5, 6])


@model("op_gather_i64")  # ids [2,5] i64 into [50,16]
def _(b):
    ids = b.param([2, 5], np.int64, 0, 50)
    return [ops.gather(b.const([50, 16]), ids, i64(0))]


@model("op_gather_i32")  # ids [7] i32, i32 axis
def _(b):
    ids = b.param([7], np.int32, 0, 50)
    return [ops.gather(b.const([50, 16]), ids, i32(0))]


@model("op_gather_negative")  # ids in [-50, 50)
def _(b):
    ids = b.param([3, 4], np.int64, -50, 50)
    return [ops.gather(b.const([50, 8]), ids, i64(0))]


@model("op_gather_scalar_idx")  # a scalar index drops the axis: [] -> [16]
def _(b):
    ids = b.param([], np.int64, -10, 10)
    return [ops.gather(b.const([10, 16]), ids, i64(0))]


@model("op_gather_const_idx")  # const indices (with negatives) + an input
def _(b):
    rows = ops.gather(b.const([10, 6]), i32([3, -1, 0, -10]), i64(0))
    return [ops.add(rows, b.param([4, 6]))]


@model("op_multi_output")  # three outputs, one of them an intermediate
def _(b):
    x = b.param([2, 8])
    y = b.param([8])
    h = ops.multiply(ops.relu(x), y)
    s = ops.reduce_sum(h, i64([-1]), True)
    return [ops.sigmoid(h), s, ops.subtract(h, s)]


# ------------------------------------------------------------------ writing


def layer_order(xml_path, layer_type):
    root = ET.parse(xml_path).getroot()
    return [l.get("name") for l in root.iter("layer") if l.get("type") == layer_type]


def check_io_order(m, xml_path):
    """tandem numbers I/O by XML document order; OpenVINO by model.inputs/outputs."""
    params = layer_order(xml_path, "Parameter")
    results = layer_order(xml_path, "Result")
    for label, mm in (("built", m), ("read back", CORE.read_model(xml_path))):
        ins = [p.get_friendly_name() for p in mm.get_parameters()]
        outs = [r.get_friendly_name() for r in mm.get_results()]
        assert ins == params, f"{xml_path}: {label} inputs {ins} != XML Parameters {params}"
        assert outs == results, f"{xml_path}: {label} outputs {outs} != XML Results {results}"
        ports_in = [i.get_node().get_friendly_name() for i in mm.inputs]
        ports_out = [o.get_node().get_friendly_name() for o in mm.outputs]
        assert ports_in == ins and len(ports_out) == len(outs), f"{xml_path}: port order"


V10_META = """\t<meta_data>
\t\t<MO_version value="2021.4.2-3974-e2a469a3450-releases/2021/4" />
\t\t<cli_parameters>
\t\t\t<data_type value="FP32" />
\t\t\t<input_model value="DIR/model.onnx" />
\t\t</cli_parameters>
\t</meta_data>
"""


def to_v10(xml_path):
    """Rewrite an IR v11 file as IR v10, as the 2021 Model Optimizer wrote it:
    version="10", no tensor-name attributes (`names` on ports, `output_names` on
    Results) and a <meta_data> block instead of <rt_info>."""
    text = open(xml_path).read()
    text, n = re.subn(r'<net name="([^"]*)" version="11">', r'<net name="\1" version="10">', text)
    assert n == 1, f"{xml_path}: no IR v11 header"
    text = re.sub(r' names="[^"]*"', "", text)
    text = re.sub(r' output_names="[^"]*"', "", text)
    text, n = re.subn(r"\t<rt_info>.*</rt_info>\n", V10_META, text, flags=re.S)
    assert n == 1, f"{xml_path}: no <rt_info>"
    with open(xml_path, "w") as f:
        f.write(text)


# f32: on CPUs with AVX512-BF16/AMX the plugin would otherwise infer in bf16.
# SNIPPETS_MODE=DISABLE: OpenVINO 2026.4's snippets tokenizer segfaults while compiling
# e.g. x[4,64] -> MatMul+bias -> MatMul+bias -> Add x (twice); the ops then run as
# ordinary plugin nodes, still in f32.
CPU_CONFIG = {"INFERENCE_PRECISION_HINT": "f32", "SNIPPETS_MODE": "DISABLE"}


def compile_f32(m):
    cm = CORE.compile_model(m, "CPU", CPU_CONFIG)
    hint = cm.get_property("INFERENCE_PRECISION_HINT")
    assert hint == ov.Type.f32, f"CPU plugin ignored the f32 hint: {hint}"
    return cm


def reference(m, inputs):
    """OpenVINO CPU outputs in model.outputs order, cross-checked against NumPy."""
    cm = compile_f32(m)
    res = cm(inputs)
    outs = [np.array(res[cm.output(k)]) for k in range(len(m.outputs))]
    for k, (got, want) in enumerate(zip(outs, numpy_ref.evaluate(m, inputs))):
        assert got.shape == want.shape, f"output {k}: shape {got.shape} vs numpy {want.shape}"
        assert np.all(np.isfinite(got)), f"output {k}: non-finite OpenVINO output"
        err = np.max(np.abs(got - want), initial=0.0)
        scale = max(np.max(np.abs(want), initial=0.0), 1e-30)
        assert err <= REF_CHECK_TOL * scale, \
            f"output {k}: OpenVINO vs NumPy max abs err {err:.3g} (max |ref| {scale:.3g})"
    return outs


def write_case(m, inputs, out_dir, v10=False):
    """Save `m` under out_dir and write its inputs and OpenVINO reference outputs."""
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if re.fullmatch(r"(input|expected)_\d+\.npy", f):
            os.remove(os.path.join(out_dir, f))
    xml = os.path.join(out_dir, "model.xml")
    ov.save_model(m, xml, compress_to_fp16=False)
    if v10:
        to_v10(xml)
    check_io_order(m, xml)
    disk = CORE.read_model(xml)  # the reference is of what tandem will read
    outs = reference(disk, inputs)
    for k, x in enumerate(inputs):
        np.save(os.path.join(out_dir, f"input_{k}.npy"), x)
    for k, y in enumerate(outs):
        np.save(os.path.join(out_dir, f"expected_{k}.npy"), y.astype(np.float32))
    return outs


def build(name, seed):
    """(model, inputs) for a registered model, deterministic in (name, seed)."""
    base = name[:-len("_v10")] if name.endswith("_v10") else name
    b = Builder(np.random.default_rng([seed, zlib.crc32(base.encode())]))
    return b.model(MODELS[name](b), name), b.inputs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--seed", type=int, help="random seed")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="generate only these models")
    ap.add_argument("--list", action="store_true", help="list model names and exit")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(MODELS))
        return 0
    if args.out is None or args.seed is None:
        ap.error("--out and --seed are required")
    names = args.only or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s): {' '.join(unknown)}")
    for name in names:
        m, inputs = build(name, args.seed)
        outs = write_case(m, inputs, os.path.join(args.out, name), v10=name.endswith("_v10"))
        shapes = " ".join(str(list(y.shape)) for y in outs)
        print(f"{name:28s} {len(inputs)} in, {len(outs)} out {shapes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
