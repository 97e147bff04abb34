"""An independent float64 NumPy evaluator for the ops tandem supports.

gen_models.py and live_check.py use it to cross-check the OpenVINO CPU plugin: every
reference output is compared against this evaluator, so a reference that OpenVINO
computed at reduced precision (bf16/f16 inference) or with a plugin bug is caught before
it is committed or used to judge tandem.  The semantics follow the OpenVINO opset
specification (numpy broadcasting, static shapes):

  MatMul     1-D a is unsqueezed at 0, 1-D b at -1 (and squeezed back); transpose_a/b
             swap the last two axes of operands of rank >= 2 only.
  Softmax    opset1 axis >= 0; opset8 axis may be negative.
  MVN-6      axes input; inside_sqrt: (x-m)/sqrt(var+eps), outside: (x-m)/(sqrt(var)+eps).
  Gelu-7     erf: x/2 (1+erf(x/sqrt 2));  tanh: x/2 (1+tanh(sqrt(2/pi)(x+0.044715 x^3))).
  Swish-4    x * sigmoid(beta x), beta = 1 without the second input.
  Reshape    special_zero: 0 copies the input dim at that index; one -1 is inferred.
  Gather-8   batch_dims 0; negative indices count from the end of the axis.
"""
import math

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)


def const_value(node):
    """The value of a Const node as a NumPy array (bf16 decoded from its raw bits)."""
    data = np.array(node.get_data())
    if str(node.get_element_type()) in ("<Type: 'bfloat16'>", "bf16"):
        bits = data.view(np.uint16).astype(np.uint32) << 16
        data = bits.view(np.float32)
    return data.reshape(tuple(node.get_output_shape(0)))


def _axes(v, rank):
    return tuple(sorted(int(a) % rank for a in np.asarray(v).reshape(-1)))


def _matmul(a, b, ta, tb):
    if ta and a.ndim >= 2:
        a = np.swapaxes(a, -1, -2)
    if tb and b.ndim >= 2:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def _mvn(x, axes, attrs):
    ax = _axes(axes, x.ndim)
    y = x - x.mean(axis=ax, keepdims=True)
    if not attrs["normalize_variance"]:
        return y
    var = (y * y).mean(axis=ax, keepdims=True)
    eps = attrs["eps"]
    if attrs["eps_mode"].upper() == "INSIDE_SQRT":
        return y / np.sqrt(var + eps)
    return y / (np.sqrt(var) + eps)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _gelu(x, mode):
    if mode.upper() == "TANH":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + np.asarray(_erf(x / math.sqrt(2)), dtype=np.float64))


def _reshape(x, pattern, special_zero):
    dims = [int(d) for d in np.asarray(pattern).reshape(-1)]
    if special_zero:
        dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    return x.reshape(dims)


def _unsqueeze(x, axes):
    out_rank = x.ndim + np.asarray(axes).size
    for a in _axes(axes, out_rank):
        x = np.expand_dims(x, a)
    return x


def _gather(data, idx, axis):
    axis = int(np.asarray(axis).reshape(-1)[0]) % data.ndim
    idx = np.where(idx < 0, idx + data.shape[axis], idx)
    return np.take(data, idx, axis=axis)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


_UNARY = {
    "Relu": lambda x: np.maximum(x, 0),
    "Sigmoid": _sigmoid,
    "Tanh": np.tanh,
    "Exp": np.exp,
    "Sqrt": np.sqrt,
}
_BINARY = {
    "Add": np.add, "Subtract": np.subtract, "Multiply": np.multiply,
    "Divide": np.divide, "Power": np.power, "Maximum": np.maximum,
    "Minimum": np.minimum,
}


def eval_node(node, args):
    """The value of a non-Parameter, non-Const node's first output given its inputs."""
    t, a = node.get_type_name(), node.get_attributes()
    if t in _UNARY:
        return _UNARY[t](args[0])
    if t in _BINARY:
        return _BINARY[t](args[0], args[1])
    if t == "MatMul":
        return _matmul(args[0], args[1], a["transpose_a"], a["transpose_b"])
    if t == "Softmax":
        return _softmax(args[0], a["axis"])
    if t == "MVN":
        return _mvn(args[0], args[1], a)
    if t == "Gelu":
        return _gelu(args[0], a["approximation_mode"])
    if t == "Swish":
        return args[0] * _sigmoid((args[1] if len(args) > 1 else 1.0) * args[0])
    if t == "Clamp":
        return np.clip(args[0], a["min"], a["max"])
    if t in ("ReduceMean", "ReduceSum"):
        f = np.mean if t == "ReduceMean" else np.sum
        return f(args[0], axis=_axes(args[1], args[0].ndim), keepdims=a["keep_dims"])
    if t == "Reshape":
        return _reshape(args[0], args[1], a["special_zero"])
    if t == "Transpose":
        return np.transpose(args[0], [int(p) for p in np.asarray(args[1]).reshape(-1)])
    if t == "Concat":
        return np.concatenate(args, axis=a["axis"])
    if t == "Squeeze":
        return np.squeeze(args[0], axis=_axes(args[1], args[0].ndim))
    if t == "Unsqueeze":
        return _unsqueeze(args[0], args[1])
    if t == "Convert":
        return args[0].astype(np.float64 if a["destination_type"] in ("f32", "f16", "bf16")
                              else np.int64)
    if t == "Gather":
        assert a["batch_dims"] == 0, "only batch_dims=0"
        return _gather(args[0], args[1], args[2])
    raise NotImplementedError(f"numpy_ref: op {t} ({node.get_friendly_name()})")


def evaluate(model, inputs):
    """Outputs of `model` (in model.outputs order) for `inputs` (in model.inputs order),
    computed in float64 (integer tensors stay integer)."""
    values = {}
    for p, x in zip(model.get_parameters(), inputs):
        x = np.asarray(x)
        values[(p.get_name(), 0)] = x.astype(np.float64) if x.dtype.kind == "f" else x
    for node in model.get_ordered_ops():
        t = node.get_type_name()
        if t == "Parameter":
            continue
        args = [values[(v.get_node().get_name(), v.get_index())] for v in node.input_values()]
        if t == "Result":
            values[(node.get_name(), 0)] = args[0]
            continue
        if t == "Constant":
            out = const_value(node)
            out = out.astype(np.float64) if out.dtype.kind == "f" else out.astype(np.int64)
        else:
            out = np.asarray(eval_node(node, args))
        values[(node.get_name(), 0)] = out
    return [values[(r.get_name(), 0)] for r in model.get_results()]
