#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made at build time from the test inputs.

    make_seeds.py --src SOURCE_DIR --out DIR [--fake-tokenizers FAKE_LLM_TOKENIZERS_H]

writes DIR/openvino, DIR/gguf, DIR/npy and DIR/tokenizer (tests/fuzz/README.md says
what each target's input is). Python's standard library only, no network.

  openvino   every tests/models/*/model.xml + NUL + model.bin under 64 KiB, and every
             hand-written tests/frontend/*.xml (no .bin);
  gguf       small llama GGUFs written here (f32, and f16/bf16/q8_0/q4_0/q4_1, with
             BPE and SPM tokenizers, tied and untied output), so that mutations hit
             the metadata and tensor infos rather than megabytes of weights, and the
             GGUF inputs of tests/frontend;
  npy        every .npy under tests/ up to 8 KiB, and hand-made headers (v1-v3, every
             dtype, scalars, Fortran order, Python 2 dims, big-endian);
  tokenizer  mode byte 0 + the fake vocabularies serialized (tests/llm_runtime's
             fake_llm_tokenizers.h), and modes 1-3 + the texts of tests/llm/tiny and
             SmolLM2's expected ids.
"""
import argparse
import hashlib
import os
import random
import re
import struct


def put(out_dir, name, data):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data)


# ---- OpenVINO IR ---------------------------------------------------------------------

def openvino_seeds(src, out):
    models = os.path.join(src, "tests", "models")
    for name in sorted(os.listdir(models)):
        xml = os.path.join(models, name, "model.xml")
        if not os.path.exists(xml):
            continue
        data = open(xml, "rb").read()
        bin_path = os.path.join(models, name, "model.bin")
        binary = open(bin_path, "rb").read() if os.path.exists(bin_path) else b""
        if len(data) + len(binary) <= 64 * 1024:
            put(out, "model_" + name, data + b"\0" + binary)
    frontend = os.path.join(src, "tests", "frontend")
    for name in sorted(os.listdir(frontend)):
        if name.endswith(".xml"):
            put(out, "frontend_" + name, open(os.path.join(frontend, name), "rb").read())


# ---- GGUF ------------------------------------------------------------------------------

GGUF_U32, GGUF_I32, GGUF_F32, GGUF_BOOL, GGUF_STR, GGUF_ARR = 4, 5, 6, 7, 8, 9
GGML = {"f32": (0, 1, 4), "f16": (1, 1, 2), "q4_0": (2, 32, 18), "q4_1": (3, 32, 20),
        "q8_0": (8, 32, 34), "bf16": (30, 1, 2)}


def gguf_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gguf_value(v):
    if isinstance(v, bool):
        return struct.pack("<I", GGUF_BOOL) + struct.pack("<B", v)
    if isinstance(v, int):
        return struct.pack("<I", GGUF_U32) + struct.pack("<I", v)
    if isinstance(v, float):
        return struct.pack("<I", GGUF_F32) + struct.pack("<f", v)
    if isinstance(v, (str, bytes)):
        return struct.pack("<I", GGUF_STR) + gguf_str(v)
    kind, items = v  # ("str" | "f32" | "i32", [...])
    et = {"str": GGUF_STR, "f32": GGUF_F32, "i32": GGUF_I32}[kind]
    body = b"".join(gguf_str(x) if kind == "str" else struct.pack("<f" if kind == "f32" else "<i", x)
                    for x in items)
    return struct.pack("<IIQ", GGUF_ARR, et, len(items)) + body


def gguf_file(kv, tensors, rng, alignment=32):
    """kv: [(key, value)]; tensors: [(name, [ne0, ne1...], type)]. Random tensor bytes."""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for k, v in kv:
        head += gguf_str(k) + gguf_value(v)
    offset, datas = 0, []
    for name, ne, ty in tensors:
        code, block, nbytes = GGML[ty]
        numel = 1
        for d in ne:
            numel *= d
        size = numel // block * nbytes
        head += gguf_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        head += struct.pack("<IQ", code, offset)
        if ty in ("f32",):
            data = b"".join(struct.pack("<f", rng.uniform(-1, 1)) for _ in range(numel))
        else:
            data = bytes(rng.randrange(256) for _ in range(size))
            if ty in ("f16", "bf16"):  # finite halves: clear each exponent's top bit
                data = bytes(b & 0xBF if i % 2 else b for i, b in enumerate(data))
        pad = -size % alignment
        datas.append(data + b"\0" * pad)
        offset += size + pad
    head += b"\0" * (-len(head) % alignment)
    return head + b"".join(datas)


def bpe_vocab():
    tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens += [chr(c) for c in range(0x21, 0x7F)] + ["\u0120", "\u010a"]
    merges = ["h e", "l l", "he ll", "hell o", "\u0120 w", "o r", "\u0120w or", "l d", "\u0120wor ld"]
    tokens += ["he", "ll", "hell", "hello", "\u0120w", "or", "\u0120wor", "ld", "\u0120world"]
    types = [3, 3, 3] + [1] * (len(tokens) - 3)
    kv = [("tokenizer.ggml.model", "gpt2"), ("tokenizer.ggml.pre", "smollm"),
          ("tokenizer.ggml.tokens", ("str", tokens)), ("tokenizer.ggml.token_type", ("i32", types)),
          ("tokenizer.ggml.merges", ("str", merges)), ("tokenizer.ggml.bos_token_id", 0),
          ("tokenizer.ggml.eos_token_id", 2), ("tokenizer.ggml.add_bos_token", False),
          ("tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>{% endfor %}")]
    return tokens, kv


def spm_vocab():
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    tokens += ["\u2581", "\u2581h", "\u2581he", "llo", "\u2581hello", "\u2581world", "a", "b", "c"]
    scores = [0.0] * 3 + [0.0] * 256 + [-float(i) for i in range(len(tokens) - 259)]
    types = [2, 3, 3] + [6] * 256 + [1] * (len(tokens) - 259)
    kv = [("tokenizer.ggml.model", "llama"), ("tokenizer.ggml.tokens", ("str", tokens)),
          ("tokenizer.ggml.scores", ("f32", scores)), ("tokenizer.ggml.token_type", ("i32", types)),
          ("tokenizer.ggml.bos_token_id", 1), ("tokenizer.ggml.eos_token_id", 2),
          ("tokenizer.ggml.unknown_token_id", 0), ("tokenizer.ggml.add_bos_token", True)]
    return tokens, kv


def llama_gguf(rng, n_embd, n_head, n_head_kv, n_ff, n_layer, types, vocab, tied, ctx=16):
    tokens, tok_kv = vocab()
    n_vocab = len(tokens)
    mat, vec = types
    kv = [("general.architecture", "llama"), ("general.name", "fuzz seed"),
          ("llama.block_count", n_layer), ("llama.context_length", ctx),
          ("llama.embedding_length", n_embd), ("llama.feed_forward_length", n_ff),
          ("llama.attention.head_count", n_head), ("llama.attention.head_count_kv", n_head_kv),
          ("llama.rope.freq_base", 10000.0), ("llama.attention.layer_norm_rms_epsilon", 1e-5),
          ("llama.rope.dimension_count", n_embd // n_head)] + tok_kv
    hd = n_embd // n_head
    t = [("token_embd.weight", [n_embd, n_vocab], mat)]
    for l in range(n_layer):
        b = "blk.%d." % l
        t += [(b + "attn_norm.weight", [n_embd], vec), (b + "attn_q.weight", [n_embd, n_head * hd], mat),
              (b + "attn_k.weight", [n_embd, n_head_kv * hd], mat),
              (b + "attn_v.weight", [n_embd, n_head_kv * hd], mat),
              (b + "attn_output.weight", [n_head * hd, n_embd], mat), (b + "ffn_norm.weight", [n_embd], vec),
              (b + "ffn_gate.weight", [n_embd, n_ff], mat), (b + "ffn_up.weight", [n_embd, n_ff], mat),
              (b + "ffn_down.weight", [n_ff, n_embd], mat)]
    t.append(("output_norm.weight", [n_embd], vec))
    if not tied:
        t.append(("output.weight", [n_embd, n_vocab], mat))
    return gguf_file(kv, t, rng)


def gguf_seeds(src, out):
    rng = random.Random(1)
    put(out, "llama_f32_bpe_tied.gguf", llama_gguf(rng, 8, 2, 1, 16, 1, ("f32", "f32"), bpe_vocab, True))
    put(out, "llama_f32_spm.gguf", llama_gguf(rng, 8, 2, 2, 8, 2, ("f32", "f32"), spm_vocab, False))
    for ty in ("f16", "bf16", "q8_0", "q4_0", "q4_1"):
        put(out, "llama_%s.gguf" % ty, llama_gguf(rng, 32, 4, 2, 32, 1, (ty, "f32"), bpe_vocab, ty != "q8_0"))
    # Not llama, and no tensors: the reader alone.
    put(out, "other_arch.gguf", gguf_file([("general.architecture", "gpt2"), ("general.alignment", 64)], [], rng, 64))


# ---- .npy ------------------------------------------------------------------------------

def npy(descr, shape, data, version=(1, 0), fortran=False, dict_text=None):
    text = dict_text or "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False",
        "(" + "".join("%d," % d for d in shape) + ")" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")")
    text = text.encode()
    pre = 10 if version[0] == 1 else 12
    pad = -(pre + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    head = b"\x93NUMPY" + bytes(version)
    head += struct.pack("<H", len(text)) if version[0] == 1 else struct.pack("<I", len(text))
    return head + text + data


def npy_seeds(src, out):
    seen = set()
    for root, _, files in os.walk(os.path.join(src, "tests")):
        for name in sorted(files):
            path = os.path.join(root, name)
            if not name.endswith(".npy") or os.path.getsize(path) > 8192:
                continue
            data = open(path, "rb").read()
            digest = hashlib.sha1(data).hexdigest()[:12]
            if digest not in seen:
                seen.add(digest)
                put(out, "tests_" + digest + ".npy", data)
    made = {
        "f32_2x3": npy("<f4", (2, 3), struct.pack("<6f", *range(6))),
        "f16_4": npy("<f2", (4,), b"\0\x3c" * 4),
        "i8_scalar": npy("|i1", (), b"\x7f"),
        "u8_5": npy("|u1", (5,), bytes(range(5))),
        "i32_1x2": npy("<i4", (1, 2), struct.pack("<2i", -1, 7)),
        "i64_3": npy("<i8", (3,), struct.pack("<3q", 1, -2, 3)),
        "bool_2x2": npy("|b1", (2, 2), b"\1\0\0\1"),
        "v2": npy("<f4", (2,), struct.pack("<2f", 1, 2), version=(2, 0)),
        "v3": npy("<f4", (1,), struct.pack("<f", 1), version=(3, 0)),
        "fortran_vec": npy("<f4", (1, 3), struct.pack("<3f", 1, 2, 3), fortran=True),
        "fortran_2d": npy("<f4", (2, 2), struct.pack("<4f", 1, 2, 3, 4), fortran=True),
        "py2_long": npy("", (), struct.pack("<2f", 1, 2),
                        dict_text="{'shape': (2L,), \"descr\": \"<f4\", 'fortran_order': False}"),
        "paren_dim": npy("", (), struct.pack("<3f", 1, 2, 3),
                         dict_text="{'descr':'<f4','fortran_order':False,'shape':(3)}"),
        "big_endian": npy(">f4", (1,), b"\x3f\x80\0\0"),
        "zero_dim": npy("<f4", (0, 4), b""),
        "rank8": npy("<f4", (1,) * 8, struct.pack("<f", 1)),
    }
    for name, data in made.items():
        put(out, "made_" + name + ".npy", data)


# ---- tokenizer -------------------------------------------------------------------------

def tokenizer_seeds(src, out, fake_h):
    if fake_h:
        text = open(fake_h).read()
        for name, body in re.findall(r"static const uint8_t (\w+)\[\d+\] = \{([^}]*)\}", text):
            put(out, "open_" + name, b"\0" + bytes(int(x) for x in body.replace("\n", "").split(",") if x.strip()))
    texts = [b"Hello world", b"<|im_start|>user\nhi<|im_end|>", b"  \t\n 123 4567 caf\xc3\xa9 \xe2\x82\xac",
             b"<s>[INST] hi [/INST]", b"\xff\xfe invalid \xc3", b""]
    tiny = os.path.join(src, "tests", "llm", "tiny", "tokenize.txt")
    if os.path.exists(tiny):
        texts += open(tiny, "rb").read().split(b"\n")[:40]
    ids = os.path.join(src, "tests", "llm_runtime", "smollm2", "expected_ids.txt")
    if os.path.exists(ids):
        for line in open(ids, "rb").read().split(b"\n"):
            parts = line.split(b"\t")
            if len(parts) == 3 and not line.startswith(b"#"):
                texts.append(parts[1].replace(b"\\n", b"\n").replace(b"\\t", b"\t"))
    for i, t in enumerate(texts):
        for mode in (1, 2, 3):
            flags = (i % 4) << 2
            put(out, "text_%03d_%d" % (i, mode), bytes([mode | flags]) + t[:512])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fake-tokenizers", default="")
    a = ap.parse_args()
    openvino_seeds(a.src, os.path.join(a.out, "openvino"))
    gguf_seeds(a.src, os.path.join(a.out, "gguf"))
    npy_seeds(a.src, os.path.join(a.out, "npy"))
    tokenizer_seeds(a.src, os.path.join(a.out, "tokenizer"), a.fake_tokenizers)


if __name__ == "__main__":
    main()
