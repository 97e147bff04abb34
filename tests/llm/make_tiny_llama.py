#!/usr/bin/env python3
"""Write a tiny random-weight llama GGUF, laid out exactly as llama.cpp's converter would.

    make_tiny_llama.py --out tiny.gguf [--seed N] [--types f32|f16|bf16|q8_0|q4_0|q4_1|LIST]
                       [--tied | --untied] [--layers N] [--selfcheck]
                       [--ids-out ids.npy --n-ids N]

Shape (defaults): 4 layers, d_model 64, 4 heads of 16, 2 KV heads (GQA, group 2), FFN 160
(5 blocks of 32, so every matrix's inner dim is a multiple of the Q4/Q8 block of 32),
vocab 331, context_length 256, rope freq_base 10000, rms eps 1e-5.

--types: one type puts every weight matrix (token_embd, output, blk.*.attn_*/ffn_*) in
that ggml type; a comma list assigns the types round-robin over the matrices in file
order (token_embd first), so one file mixes them. Norm vectors are always F32 (as
llama.cpp's converter writes them). Quantisation is gguf.quants.quantize, the package's
port of ggml's reference quantisers.

Tokenizer ("gpt2" = byte-level BPE, tokenizer.ggml.pre = "smollm" by default):
ids 0-2 are the control tokens <|endoftext|> <|im_start|> <|im_end|>, 3-258 the 256
byte-level characters of GPT-2's bytes_to_unicode (in byte order), 259-330 the results
of the first 72 merges of SmolLM2-135M's tokenizer (listed below, in rank order; every
merge's parts are earlier tokens). BOS = 1, EOS = 2, UNK = 0, PAD = 2, add_bos_token =
true (SmolLM2 itself has false: the two together cover both paths).

Q/K rows. The weights are drawn in Hugging Face's layout (q_proj [n_head*hd, d], whose
RoPE pairs dim i with i + hd/2, "rotate_half") and stored after llama.cpp's
convert_hf_to_gguf.py LlamaModel.permute:
    w.reshape(n_head, 2, hd // 2, d).swapaxes(1, 2).reshape(n_head * hd, d)
(for attn_k with n_head = n_head_kv). Row 2i + h of a head in the file is HF row
h * hd/2 + i, so llama.cpp's NORMAL rope (adjacent pairs (2i, 2i+1), theta_i =
pos * base^(-2i/n_rot)) on the stored weights computes exactly HF's model. A consumer of
the GGUF must apply normal-mode rope to the stored rows and must NOT un-permute them.
--selfcheck verifies this: reference.py's forward with normal rope on the file's
weights equals HF-style rope (neox pairs) on the un-permuted weights.

Dims are stored as llama.cpp does: a matrix with numpy shape [out, in] has GGUF
ne = [in, out] (ne[0] innermost, contiguous). token_embd has ne = [d, n_vocab].
"""
import argparse
import os
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize

TYPES = {"f32": T.F32, "f16": T.F16, "bf16": T.BF16, "q8_0": T.Q8_0, "q4_0": T.Q4_0,
         "q4_1": T.Q4_1}
FILE_TYPE = {T.F32: gguf.LlamaFileType.ALL_F32, T.F16: gguf.LlamaFileType.MOSTLY_F16,
             T.BF16: gguf.LlamaFileType.MOSTLY_BF16, T.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0,
             T.Q4_0: gguf.LlamaFileType.MOSTLY_Q4_0, T.Q4_1: gguf.LlamaFileType.MOSTLY_Q4_1}

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# The first 72 merges of SmolLM2-135M's tokenizer (Apache-2.0), in rank order.
MERGES = [
    "Ġ t", "Ġ a", "i n", "h e", "Ġ Ġ", "r e", "o n", "e r", "Ġt he", "a t", "Ġ s", "Ġ o",
    "e n", "Ġ c", "e s", "Ġ w", "n d", "i t", "o r", "i s", "a l", "Ġ p", "in g", "Ġ f",
    "a n", "e d", "Ġ b", "o u", "a r", "Ġ in", "Ġo f", "Ġ m", "Ġa nd", "i on", "i c", "Ġ d",
    "Ġt o", "ĠĠ ĠĠ", "l e", "r o", "a s", "en t", "Ġ h", "Ġt h", "c t", "Ġ e", "Ġ re", "e l",
    "o m", "i l", "s t", "Ġ l", "Ġ n", "e t", "i m", "v e", "o l", "at ion", "Ġ g", "i d",
    "Ġ T", "s e", "Ġ is", "u r", "u t", "r a", "l y", "c e", "o t", "â Ģ", "c h", "o w",
]
CHAT_TEMPLATE = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
                 "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
                 "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def bytes_to_unicode():
    """GPT-2's byte -> printable character map (byte-level BPE alphabet)."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def vocabulary():
    b2u = bytes_to_unicode()
    tokens = SPECIALS + [b2u[b] for b in range(256)]
    types = [gguf.TokenType.CONTROL] * len(SPECIALS) + [gguf.TokenType.NORMAL] * 256
    index = {t: i for i, t in enumerate(tokens)}
    for m in MERGES:
        a, b = m.split(" ")
        assert a in index and b in index, m
        assert a + b not in index, m
        index[a + b] = len(tokens)
        tokens.append(a + b)
        types.append(gguf.TokenType.NORMAL)
    return tokens, types


def hf_to_gguf_permute(w, n_head):
    """convert_hf_to_gguf.py LlamaModel.permute (rows of q_proj / k_proj)."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def gguf_to_hf_permute(w, n_head):
    """The inverse of hf_to_gguf_permute."""
    return (w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def build(args):
    rng = np.random.default_rng(args.seed)
    d, n_head, n_head_kv, n_ff = args.d_model, args.heads, args.kv_heads, args.ffn
    hd = d // n_head
    tokens, token_types = vocabulary()
    n_vocab = len(tokens)

    def mat(out, inp, scale=1.0):
        return (rng.standard_normal((out, inp)) * scale / np.sqrt(inp)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.2 * rng.standard_normal(n)).astype(np.float32)

    # HF-layout weights, in llama.cpp's tensor order.
    tensors = [("token_embd.weight", (0.5 * rng.standard_normal((n_vocab, d))).astype(np.float32))]
    for l in range(args.layers):
        b = f"blk.{l}."
        q = mat(n_head * hd, d, 2.0)        # larger q/k: sharper attention patterns
        k = mat(n_head_kv * hd, d, 2.0)
        tensors += [
            (b + "attn_norm.weight", norm(d)),
            (b + "attn_q.weight", hf_to_gguf_permute(q, n_head)),
            (b + "attn_k.weight", hf_to_gguf_permute(k, n_head_kv)),
            (b + "attn_v.weight", mat(n_head_kv * hd, d)),
            (b + "attn_output.weight", mat(d, n_head * hd)),
            (b + "ffn_norm.weight", norm(d)),
            (b + "ffn_gate.weight", mat(n_ff, d)),
            (b + "ffn_up.weight", mat(n_ff, d)),
            (b + "ffn_down.weight", mat(d, n_ff)),
        ]
    tensors.append(("output_norm.weight", norm(d)))
    if not args.tied:
        tensors.append(("output.weight", mat(n_vocab, d, 2.0)))

    types = [TYPES[t.strip().lower()] for t in args.types.split(",")]
    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name(f"tandem tiny llama ({args.types}, {'tied' if args.tied else 'untied'}, "
               f"seed {args.seed})")
    w.add_block_count(args.layers)
    w.add_context_length(args.ctx)
    w.add_embedding_length(d)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_rope_freq_base(args.rope_base)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_rope_dimension_count(hd)
    w.add_file_type(FILE_TYPE[types[0]] if len(types) == 1 else gguf.LlamaFileType.MOSTLY_Q4_1)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(args.pre)
    w.add_token_list(tokens)
    w.add_token_types(token_types)
    w.add_token_merges(MERGES)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_pad_token_id(2)
    w.add_add_bos_token(bool(args.add_bos))
    w.add_add_space_prefix(False)
    w.add_chat_template(CHAT_TEMPLATE)
    k = 0
    for name, arr in tensors:
        if arr.ndim == 1:
            w.add_tensor(name, arr)
            continue
        qt = types[k % len(types)]
        k += 1
        if qt == T.F32:
            w.add_tensor(name, arr)
        elif qt == T.F16:
            w.add_tensor(name, arr.astype(np.float16))
        else:
            w.add_tensor(name, quantize(arr, qt), raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return n_vocab


def selfcheck(path, n_head, n_head_kv, n=40, seed=0):
    """Normal rope on the stored (permuted) Q/K == HF neox-pair rope on un-permuted Q/K."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import reference
    m = reference.Model(path)
    ids = np.random.default_rng(seed).integers(0, m.n_vocab, n)
    a = reference.forward(m, ids, rope_mode="normal")
    hf = dict(m.w)
    for l in range(m.n_layer):
        hf[f"blk.{l}.attn_q.weight"] = gguf_to_hf_permute(m.w[f"blk.{l}.attn_q.weight"], n_head)
        hf[f"blk.{l}.attn_k.weight"] = gguf_to_hf_permute(m.w[f"blk.{l}.attn_k.weight"], n_head_kv)
    b = reference.forward(m, ids, rope_mode="neox", weights=hf)
    # Without the permutation (normal rope on HF rows) the result must differ.
    c = reference.forward(m, ids, rope_mode="normal", weights=hf)
    err = np.abs(a - b).max() / np.abs(b).max()
    wrong = np.abs(a - c).max() / np.abs(b).max()
    print(f"selfcheck: normal-rope(GGUF rows) vs neox-rope(HF rows): rel err {err:.2e}; "
          f"normal-rope(HF rows) differs by {wrong:.2e}")
    if not (err < 1e-10 and wrong > 1e-3):
        sys.exit("selfcheck FAILED")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--types", default="f32",
                    help="ggml type of the weight matrices, or a comma list used round-robin "
                         f"({', '.join(TYPES)})")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--tied", dest="tied", action="store_true", default=True,
                   help="no output.weight: the output projection is token_embd (default)")
    g.add_argument("--untied", dest="tied", action="store_false",
                   help="write a separate output.weight")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=160)
    ap.add_argument("--ctx", type=int, default=256, help="llama.context_length")
    ap.add_argument("--rope-base", type=float, default=10000.0)
    ap.add_argument("--pre", default="smollm", help="tokenizer.ggml.pre")
    ap.add_argument("--add-bos", type=int, default=1, choices=[0, 1])
    ap.add_argument("--selfcheck", action="store_true",
                    help="verify the Q/K permutation convention with reference.py")
    ap.add_argument("--ids-out", help="also write random int32 token ids [n] here")
    ap.add_argument("--n-ids", type=int, default=80)
    a = ap.parse_args()
    for t in a.types.split(","):
        if t.strip().lower() not in TYPES:
            ap.error(f"unknown type '{t}' (known: {', '.join(TYPES)})")
    if a.d_model % a.heads or (a.d_model // a.heads) % 2 or a.heads % a.kv_heads:
        ap.error("d_model must split into heads of even size, heads into kv groups")
    if a.d_model % 32 or a.ffn % 32:
        ap.error("d_model and ffn must be multiples of 32 (the Q4/Q8 block)")
    n_vocab = build(a)
    print(f"make_tiny_llama.py: {a.out}: {os.path.getsize(a.out)} bytes, types {a.types}, "
          f"{'tied' if a.tied else 'untied'}, vocab {n_vocab}, seed {a.seed}")
    if a.ids_out:
        ids = np.random.default_rng(a.seed + 1).integers(0, n_vocab, a.n_ids).astype(np.int32)
        np.save(a.ids_out, ids)
    if a.selfcheck:
        selfcheck(a.out, a.heads, a.kv_heads)


if __name__ == "__main__":
    main()
