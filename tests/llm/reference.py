#!/usr/bin/env python3
"""Independent NumPy reference forward pass of a llama-architecture GGUF model.

    reference.py MODEL.gguf --ids ids.npy --out logits.npy [--dtype float64|float32]

Reads any llama GGUF with gguf.GGUFReader, dequantises every tensor with
gguf.quants.dequantize (F32, F16, BF16, Q4_0, Q4_1, Q5_x, Q8_0, K-quants ...), and runs
the prompt `ids` (int32, shape [n] or [1, n]) from position 0 with a causal mask,
writing logits [n, n_vocab] float32. The arithmetic is float64 by default: it is the
exact math on the dequantised weights, not a model of any engine's rounding.

The math (llama.cpp's llm_build_llama, no KV cache; W x means x @ W.T where W has
numpy shape [out, in], i.e. GGUF ne = [in, out]):

    x    = token_embd[ids]                                  [n, d]
    per layer l:
      h    = rmsnorm(x) * attn_norm          rmsnorm(v) = v / sqrt(mean(v^2) + eps)
      q    = Wq h (+bq), k = Wk h (+bk), v = Wv h (+bv)  heads of head_dim (= d / n_head
                                                        unless attention.key_length)
      q, k = rope_normal(q, pos), rope_normal(k, pos)
      a_h  = softmax(q_h k_g^T / sqrt(head_dim) + causal) v_g,  g = h // (n_head/n_head_kv)
      x    = x + Wo concat(a_h) (+bo)
      h    = rmsnorm(x) * ffn_norm
      x    = x + Wdown (silu(Wgate h) * (Wup h))
    logits = W_out (rmsnorm(x) * output_norm),  W_out = output.weight or token_embd (tied)

With --lp START:END, layers i, i+1 (i = START, START+2, ... < END) run as a parallel
pair (arXiv 2502.02790): with A_l and M_l the two residual branches of layer l above,
    h = x + A_i(x) + A_{i+1}(x)
    x = h + M_i(h) + M_{i+1}(h)
each branch with its own norms and weights.

rope_normal (llama.cpp LLAMA_ROPE_TYPE_NORM, what the llama arch uses): within each head,
the pairs (2i, 2i+1) for i < n_rot/2 rotate by theta_i = p * base^(-2i/n_rot)
(divided by rope_freqs.weight[i] when the model has it, by the linear scaling factor
when rope.scaling.type is linear); dims >= n_rot pass through:
    y[2i]   = x[2i] cos(theta_i) - x[2i+1] sin(theta_i)
    y[2i+1] = x[2i] sin(theta_i) + x[2i+1] cos(theta_i)
This is correct for the Q and K weights *as the GGUF stores them*: llama.cpp's converter
(convert_hf_to_gguf.py, LlamaModel.permute) permutes the rows of HF's q_proj/k_proj
within each head so that HF's rotate_half pairing (i, i + head_dim/2) becomes adjacent
(2i, 2i+1). `rope_mode="neox"` here is HF's rotate_half pairing, used only by
make_tiny_llama.py --selfcheck to prove that permutation + normal rope == HF math.
"""
import argparse
import sys

import numpy as np

try:
    import gguf
    from gguf.quants import dequantize
except ImportError as e:  # pragma: no cover
    sys.exit(f"reference.py: needs the 'gguf' package ({e})")


def _field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    v = f.contents()
    return v


class Model:
    """Hyperparameters and dequantised float32 weights (numpy shape [out, in])."""

    def __init__(self, path):
        r = gguf.GGUFReader(path)
        arch = _field(r, "general.architecture")
        if arch != "llama":
            raise SystemExit(f"reference.py: {path}: architecture '{arch}', expected 'llama'")
        p = "llama."
        self.n_layer = int(_field(r, p + "block_count"))
        self.d = int(_field(r, p + "embedding_length"))
        self.n_ff = int(_field(r, p + "feed_forward_length"))
        self.n_head = int(_field(r, p + "attention.head_count"))
        self.n_head_kv = int(_field(r, p + "attention.head_count_kv", self.n_head))
        self.head_dim = int(_field(r, p + "attention.key_length", self.d // self.n_head))
        self.head_dim_v = int(_field(r, p + "attention.value_length", self.head_dim))
        self.eps = float(_field(r, p + "attention.layer_norm_rms_epsilon", 1e-5))
        self.rope_base = float(_field(r, p + "rope.freq_base", 10000.0))
        self.n_rot = int(_field(r, p + "rope.dimension_count", self.head_dim))
        self.n_ctx_train = int(_field(r, p + "context_length", 0))
        scaling = _field(r, p + "rope.scaling.type", "none")
        factor = float(_field(r, p + "rope.scaling.factor", 0.0) or 0.0)
        self.rope_freq_scale = 1.0
        if scaling == "linear" and factor > 0:
            self.rope_freq_scale = 1.0 / factor
        elif scaling not in ("none", "linear", None):
            raise SystemExit(f"reference.py: rope scaling '{scaling}' not supported")
        if _field(r, p + "expert_count", 0):
            raise SystemExit("reference.py: mixture-of-experts llama models not supported")
        self.types = {}
        self.w = {}
        for t in r.tensors:
            qtype = t.tensor_type
            arr = dequantize(t.data, qtype)
            shape = tuple(int(x) for x in reversed(t.shape.tolist()))  # numpy order
            self.w[t.name] = np.asarray(arr, dtype=np.float32).reshape(shape)
            self.types[t.name] = qtype.name
            if qtype.name == "Q4_1":  # block minima, for --emulate-llamacpp's Q8_1 sums
                blocks = np.asarray(t.data).reshape(shape[0], -1, 20)
                self.q4_1_min = getattr(self, "q4_1_min", {})
                self.q4_1_min[t.name] = blocks[:, :, 2:4].copy().view(np.float16)[..., 0].astype(np.float32)
        self.tied = "output.weight" not in self.w
        self.n_vocab = self.w["token_embd.weight"].shape[0]
        self.rope_freqs = self.w.get("rope_freqs.weight")

    def get(self, name, dtype):
        w = self.w.get(name)
        return None if w is None else w.astype(dtype)


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, pos, n_rot, base, freq_scale=1.0, freq_factors=None, mode="normal"):
    """x: [n, heads, head_dim]; rotates the first n_rot dims of each head."""
    half = n_rot // 2
    i = np.arange(half, dtype=np.float64)
    inv = base ** (-2.0 * i / n_rot)
    if freq_factors is not None:
        inv = inv / freq_factors[:half].astype(np.float64)
    theta = (pos.astype(np.float64) * freq_scale)[:, None] * inv[None, :]  # [n, half]
    cos = np.cos(theta)[:, None, :].astype(x.dtype)
    sin = np.sin(theta)[:, None, :].astype(x.dtype)
    y = x.copy()
    if mode == "normal":
        a, b = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
        y[..., 0:n_rot:2] = a * cos - b * sin
        y[..., 1:n_rot:2] = a * sin + b * cos
    elif mode == "neox":
        a, b = x[..., :half], x[..., half:n_rot]
        y[..., :half] = a * cos - b * sin
        y[..., half:n_rot] = a * sin + b * cos
    else:
        raise ValueError(mode)
    return y


def _to_f16(x):
    return x.astype(np.float16).astype(x.dtype)


def _to_bf16(x):
    u = x.astype(np.float32).view(np.uint32)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    return u.view(np.float32).astype(x.dtype)


def _q8_blocks(x):
    """ggml's AVX2 quantize_row_q8_0/q8_1 of activation rows: blocks of 32,
    d = amax/127 (stored f16), q = round-half-even(x * 127/amax)."""
    b = x.reshape(-1, 32).astype(np.float32)
    amax = np.abs(b).max(axis=1, keepdims=True)
    d = amax / np.float32(127)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(amax > 0, np.float32(127) / amax, np.float32(0)).astype(np.float32)
    q = np.rint(b * inv)
    return q, d


def _to_q8(x):
    q, d = _q8_blocks(x)
    return (q * d.astype(np.float16).astype(np.float32)).reshape(x.shape).astype(x.dtype)


# What ggml's CPU backend converts a matmul's activations to, by weight type (vec_dot_type).
_ACT = {"F32": None, "F16": _to_f16, "BF16": _to_bf16, "Q8_0": _to_q8, "Q4_0": _to_q8,
        "Q4_1": _to_q8, "Q5_0": _to_q8, "Q5_1": _to_q8}


def forward(m, ids, dtype=np.float64, rope_mode="normal", weights=None, emulate_llamacpp=False, lp=None,
            dynamic_quant=False, kv_f16=False):
    """Logits [n, n_vocab] for `ids` fed from position 0. `weights` overrides m.w.
    lp=(start, end): layers start..end-1 run as parallel pairs (see the module doc).

    emulate_llamacpp (validation only, never a reference): round as llama.cpp's CPU
    backend does by default — matmul activations converted to the weight type's
    vec_dot_type: Q8_0 blocks for Q8_0/Q4_0 weights, Q8_1 blocks with their f16 block sums
    for Q4_1, F16, BF16), K and V cached as F16, Q and the attention probabilities
    converted to F16 for the two attention matmuls. On the tiny models this reproduces
    llama.cpp 0.3.36's CPU logits to ~1e-7 until a rounding flips somewhere.

    dynamic_quant: what tandem's decode does (codegen/kernels/qkernels.h, "Dynamic
    quantisation"): the activations of matmuls by Q8_0/Q4_0/Q4_1 weights as ggml's
    Q8_0/Q8_1 blocks (the matmul part of emulate_llamacpp, nothing else).

    kv_f16: what tandem's --kv-type=f16 does: K (after RoPE) and V rounded to f16 as
    they go into the cache; Q, the scores and the sums stay exact."""
    W = weights if weights is not None else m.w

    def g(name):
        w = W.get(name)
        return None if w is None else w.astype(dtype)

    quantised = ("Q8_0", "Q4_0", "Q4_1")

    def act(x, name):
        t = m.types.get(name, "F32")
        f = _ACT.get(t) if emulate_llamacpp or (dynamic_quant and t in quantised) else None
        return f(x) if f else x

    def mm(x, name):
        y = act(x, name) @ g(name).T
        if (emulate_llamacpp or dynamic_quant) and m.types.get(name) == "Q4_1":
            # Q8_1 keeps s = f16(d * sum(q)) per block; vec_dot_q4_1_q8_1 adds min * s.
            q, d = _q8_blocks(x)
            sq = q.sum(axis=1)
            s16 = (d[:, 0] * sq).astype(np.float16).astype(np.float64)
            delta = (s16 - d[:, 0].astype(np.float16).astype(np.float64) * sq).reshape(x.shape[0], -1)
            y = y + delta @ m.q4_1_min[name].T.astype(np.float64)
        return y

    f16 = _to_f16 if emulate_llamacpp else (lambda x: x)

    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    n = ids.shape[0]
    if ids.min() < 0 or ids.max() >= m.n_vocab:
        raise SystemExit(f"reference.py: token id out of range [0, {m.n_vocab})")
    pos = np.arange(n)
    hd, hdv = m.head_dim, m.head_dim_v
    group = m.n_head // m.n_head_kv
    mask = np.triu(np.full((n, n), -np.inf, dtype=dtype), k=1)
    def attention(l, x):
        b = f"blk.{l}."
        h = rmsnorm(x, g(b + "attn_norm.weight"), m.eps)
        q, k, v = mm(h, b + "attn_q.weight"), mm(h, b + "attn_k.weight"), mm(h, b + "attn_v.weight")
        for t, name in ((q, "attn_q"), (k, "attn_k"), (v, "attn_v")):
            bias = g(b + name + ".bias")
            if bias is not None:
                t += bias
        q = rope(q.reshape(n, m.n_head, hd), pos, m.n_rot, m.rope_base, m.rope_freq_scale,
                 m.rope_freqs, rope_mode)
        k = rope(k.reshape(n, m.n_head_kv, hd), pos, m.n_rot, m.rope_base, m.rope_freq_scale,
                 m.rope_freqs, rope_mode)
        v = f16(v.reshape(n, m.n_head_kv, hdv))
        q, k = f16(q), f16(k)
        if kv_f16 and not emulate_llamacpp:
            k, v = _to_f16(k), _to_f16(v)
        kx = np.repeat(k, group, axis=1)  # query head h uses kv head h // group
        vx = np.repeat(v, group, axis=1)
        s = np.einsum("qhd,khd->hqk", q, kx) / np.sqrt(hd) + mask
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s /= s.sum(axis=-1, keepdims=True)
        a = np.einsum("hqk,khd->qhd", f16(s), vx).reshape(n, m.n_head * hdv)
        o = mm(a, b + "attn_output.weight")
        bo = g(b + "attn_output.bias")
        if bo is not None:
            o += bo
        return o

    def mlp(l, x):
        b = f"blk.{l}."
        h = rmsnorm(x, g(b + "ffn_norm.weight"), m.eps)
        gate = mm(h, b + "ffn_gate.weight")
        up = mm(h, b + "ffn_up.weight")
        return mm(gate / (1.0 + np.exp(-gate)) * up, b + "ffn_down.weight")

    x = W["token_embd.weight"][ids].astype(dtype)
    lp_start, lp_end = lp if lp else (0, 0)
    l = 0
    while l < m.n_layer:
        if lp_start <= l and l + 1 < lp_end:
            # Layers l and l + 1 as a parallel pair (arXiv 2502.02790).
            h = x + attention(l, x) + attention(l + 1, x)
            x = h + mlp(l, h) + mlp(l + 1, h)
            l += 2
            continue
        x = x + attention(l, x)
        x = x + mlp(l, x)
        l += 1
    x = rmsnorm(x, g("output_norm.weight"), m.eps)
    return mm(x, "output.weight" if "output.weight" in W else "token_embd.weight")


def load_ids(path):
    ids = np.load(path)
    if ids.ndim == 2 and ids.shape[0] == 1:
        ids = ids[0]
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise SystemExit(f"reference.py: {path}: expected integer ids of shape [n] or [1, n], "
                         f"got {ids.dtype}{list(ids.shape)}")
    return ids.astype(np.int64)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--ids", required=True, help="int32 .npy, shape [n] or [1, n]")
    ap.add_argument("--out", required=True, help="float32 .npy [n, n_vocab]")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--lp", metavar="START:END",
                    help="run layers START..END-1 as parallel pairs (START, START+1), ...")
    ap.add_argument("--emulate-llamacpp", action="store_true",
                    help="validation only: round like llama.cpp's CPU backend (see forward)")
    ap.add_argument("--kv-f16", action="store_true",
                    help="round K and V to f16 as they enter the cache, as tandem's --kv-type=f16 does")
    ap.add_argument("--dynamic-quant", action="store_true",
                    help="quantise Q8_0/Q4_0/Q4_1 matmuls' activations as tandem's decode does")
    a = ap.parse_args(argv)
    m = Model(a.model)
    ids = load_ids(a.ids)
    lp = tuple(int(v) for v in a.lp.split(":")) if a.lp else None
    logits = forward(m, ids, np.dtype(a.dtype), emulate_llamacpp=a.emulate_llamacpp, lp=lp,
                     dynamic_quant=a.dynamic_quant, kv_f16=a.kv_f16)
    np.save(a.out, logits.astype(np.float32))
    print(f"reference.py: {a.model}: {m.n_layer} layers, d {m.d}, heads {m.n_head}/{m.n_head_kv}, "
          f"vocab {m.n_vocab}, {'tied' if m.tied else 'separate'} output; "
          f"{len(ids)} tokens -> {a.out}")


if __name__ == "__main__":
    main()
