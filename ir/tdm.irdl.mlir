// The tandem graph dialect (`tdm`), defined in IRDL and loaded at run time.
//
// One op per network operation, on ranked static tensors. Element types: f32, f16,
// bf16, i8 (signed), ui8, i32, i64, i1. Ops follow OpenVINO semantics: binary ops
// broadcast numpy-style; result types are always explicit and checked by the
// `verify-graph` pass against the shape rules in ir/shape.c (IRDL checks the
// structure: operand/result counts, attribute presence and kinds).
//
// Declared attributes are required. Optional ones are checked by verify-graph:
// tdm.weight's `encoding` ("q4_0", "q4_1", "q8_0", "f16", "bf16": the bytes are in
// that block format and dequantise to the result type, f32) and `storage` (the
// encoding the weight takes in the compiled model, when not its own: tandemc
// --weights-type). Weights are never inlined: `tdm.weight` names a tensor in the
// compiler's weight store, whose backing files the module lists in its
// `tdm.weight_files` attribute.

irdl.dialect @tdm {
  // ---- Sources -----------------------------------------------------------------
  // %w = "tdm.weight"() {name = "fc1.weight", file = 0 : i64, offset = 128 : i64}
  irdl.operation @weight {
    %str = irdl.base "#builtin.string"
    %int = irdl.base "#builtin.integer"
    %int2 = irdl.base "#builtin.integer"
    %res = irdl.base "!builtin.tensor"
    irdl.attributes { "name" = %str, "file" = %int, "offset" = %int2 }
    irdl.results(result: %res)
  }
  // A small constant (a scalar, a mask row...); at most a few KiB.
  irdl.operation @constant {
    %dense = irdl.base "#builtin.dense_int_or_fp_elements"
    %res = irdl.base "!builtin.tensor"
    irdl.attributes { "value" = %dense }
    irdl.results(result: %res)
  }

  // ---- Elementwise, binary, numpy broadcasting --------------------------------------
  irdl.operation @add {
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %a, rhs: %b)
    irdl.results(result: %r)
  }
  irdl.operation @sub {
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %a, rhs: %b)
    irdl.results(result: %r)
  }
  irdl.operation @mul {
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %a, rhs: %b)
    irdl.results(result: %r)
  }
  // Integer division floors (Python semantics), as OpenVINO's Divide does by default.
  irdl.operation @div {
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %a, rhs: %b)
    irdl.results(result: %r)
  }
  irdl.operation @pow {
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %a, rhs: %b)
    irdl.results(result: %r)
  }
  irdl.operation @max {
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %a, rhs: %b)
    irdl.results(result: %r)
  }
  irdl.operation @min {
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %a, rhs: %b)
    irdl.results(result: %r)
  }

  // ---- Elementwise, unary -------------------------------------------------------------
  irdl.operation @relu {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  irdl.operation @sigmoid {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  irdl.operation @tanh {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  irdl.operation @exp {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  irdl.operation @sqrt {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  // approximation: "erf" (exact) or "tanh".
  irdl.operation @gelu {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %s = irdl.base "#builtin.string"
    irdl.attributes { "approximation" = %s }
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  // x * sigmoid(beta * x)
  irdl.operation @swish {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %f = irdl.base "#builtin.float"
    irdl.attributes { "beta" = %f }
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  irdl.operation @clamp {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %lo = irdl.base "#builtin.float"
    %hi = irdl.base "#builtin.float"
    irdl.attributes { "min" = %lo, "max" = %hi }
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  // Element type conversion; the result type names the destination type.
  irdl.operation @convert {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }

  // ---- Normalisation and reductions ---------------------------------------------
  irdl.operation @softmax {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %i = irdl.base "#builtin.integer"
    irdl.attributes { "axis" = %i }
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  // (x - mean) / sqrt(var + eps)  [eps_mode "inside_sqrt"]  or  / (sqrt(var) + eps)
  // ["outside_sqrt"]; mean and var over `axes`; normalize_variance = 0 keeps x - mean.
  irdl.operation @mvn {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %axes = irdl.base "#builtin.dense_array"
    %eps = irdl.base "#builtin.float"
    %nv = irdl.base "#builtin.integer"
    %mode = irdl.base "#builtin.string"
    irdl.attributes { "axes" = %axes, "eps" = %eps, "normalize_variance" = %nv,
                      "eps_mode" = %mode }
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  irdl.operation @reduce_mean {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %axes = irdl.base "#builtin.dense_array"
    %keep = irdl.base "#builtin.integer"
    irdl.attributes { "axes" = %axes, "keep_dims" = %keep }
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  irdl.operation @reduce_sum {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %axes = irdl.base "#builtin.dense_array"
    %keep = irdl.base "#builtin.integer"
    irdl.attributes { "axes" = %axes, "keep_dims" = %keep }
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }

  // ---- Data movement ----------------------------------------------------------------
  // Same elements, the result type's shape (row-major order kept).
  irdl.operation @reshape {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  // result dim i = input dim perm[i]
  irdl.operation @transpose {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %perm = irdl.base "#builtin.dense_array"
    irdl.attributes { "perm" = %perm }
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  // Binary: IRDL binds one type to all operands of a variadic group, and concat
  // inputs differ along `axis`. Frontends fold an n-ary concat into a chain.
  irdl.operation @concat {
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %i = irdl.base "#builtin.integer"
    irdl.attributes { "axis" = %i }
    irdl.operands(lhs: %a, rhs: %b)
    irdl.results(result: %r)
  }
  // input[..., start : start + size, ...] along `axis` (fused GEMMs split their
  // result with it).
  irdl.operation @slice {
    %a = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %axis = irdl.base "#builtin.integer"
    %start = irdl.base "#builtin.integer"
    irdl.attributes { "axis" = %axis, "start" = %start }
    irdl.operands(input: %a)
    irdl.results(result: %r)
  }
  // OpenVINO Gather-8: negative indices count from the end; an index out of range
  // gives zeros.
  irdl.operation @gather {
    %d = irdl.base "!builtin.tensor"
    %idx = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %axis = irdl.base "#builtin.integer"
    %bd = irdl.base "#builtin.integer"
    irdl.attributes { "axis" = %axis, "batch_dims" = %bd }
    irdl.operands(data: %d, indices: %idx)
    irdl.results(result: %r)
  }

  // ---- Contractions ----------------------------------------------------------------
  // OpenVINO MatMul: transposes apply to the last two dims, batch dims broadcast,
  // 1-D operands are promoted (and the added dim removed from the result).
  irdl.operation @matmul {
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %ta = irdl.base "#builtin.integer"
    %tb = irdl.base "#builtin.integer"
    irdl.attributes { "transpose_a" = %ta, "transpose_b" = %tb }
    irdl.operands(lhs: %a, rhs: %b)
    irdl.results(result: %r)
  }

  // ---- Transformer blocks (what GGUF llama models are built from) --------------------
  // x / sqrt(mean(x^2 over the last dim) + eps) * weight; weight is [last dim].
  irdl.operation @rms_norm {
    %x = irdl.base "!builtin.tensor"
    %w = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %eps = irdl.base "#builtin.float"
    irdl.attributes { "eps" = %eps }
    irdl.operands(input: %x, weight: %w)
    irdl.results(result: %r)
  }
  // Rotary position embedding of x [tokens, heads, head_dim], llama.cpp's "normal"
  // mode: pairs (2i, 2i+1) of the first `dims` features rotate by
  // (pos + t) * freq_base^(-2i/dims); pos is a scalar i32 tensor.
  irdl.operation @rope {
    %x = irdl.base "!builtin.tensor"
    %p = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %base = irdl.base "#builtin.float"
    %dims = irdl.base "#builtin.integer"
    irdl.attributes { "freq_base" = %base, "dims" = %dims }
    irdl.operands(input: %x, pos: %p)
    irdl.results(result: %r)
  }
  // Causal attention with a KV cache. q [T, H, D], k and v [T, Hkv, D] (H a multiple
  // of Hkv: grouped-query), caches [layers, ctx, Hkv, D]. Writes k and v into cache
  // slots pos..pos+T-1 of `layer`, then each query t attends to slots 0..pos+t with
  // softmax(q.k * scale). The caches are model state (function arguments marked
  // tdm.state), updated in place: the one side effect in the dialect.
  irdl.operation @attention {
    %q = irdl.base "!builtin.tensor"
    %k = irdl.base "!builtin.tensor"
    %v = irdl.base "!builtin.tensor"
    %kc = irdl.base "!builtin.tensor"
    %vc = irdl.base "!builtin.tensor"
    %p = irdl.base "!builtin.tensor"
    %r = irdl.base "!builtin.tensor"
    %layer = irdl.base "#builtin.integer"
    %scale = irdl.base "#builtin.float"
    irdl.attributes { "layer" = %layer, "scale" = %scale }
    irdl.operands(q: %q, k: %k, v: %v, k_cache: %kc, v_cache: %vc, pos: %p)
    irdl.results(result: %r)
  }
}
