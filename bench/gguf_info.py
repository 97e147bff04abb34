"""What the LLM benchmark needs to know about a GGUF file, read with the standard library.

    info = gguf_info.read("model.gguf")
    info.meta["llama.block_count"]     # metadata values (arrays are skipped: None)
    info.tensors["blk.0.attn_q.weight"] # (ggml type id, shape, bytes in the file)
    gguf_info.decode_bytes(info)       # bytes of tensor data one decoded token reads

The format (GGUF v2/v3, little-endian): "GGUF", u32 version, u64 tensor count, u64
metadata count; each metadata entry is a string key, a u32 value type and the value
(strings are a u64 length and bytes; arrays a u32 element type, a u64 count and the
elements); then each tensor's name, u32 rank, u64 dims, u32 ggml type and u64 offset
into the data section, which starts at the next multiple of `general.alignment`
(default 32). A tensor's size in bytes is taken from the offsets (the distance to the
next tensor, or to the end of the file for the last one), so no table of block sizes is
needed; the alignment padding this counts is at most alignment - 1 bytes per tensor.
"""
import os
import struct

_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
           10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class GGUFError(Exception):
    """The file is not a GGUF this reader understands."""


class _Reader:
    def __init__(self, f):
        self.f = f

    def unpack(self, fmt):
        n = struct.calcsize(fmt)
        data = self.f.read(n)
        if len(data) != n:
            raise GGUFError("truncated")
        return struct.unpack(fmt, data)[0]

    def string(self):
        n = self.unpack("<Q")
        data = self.f.read(n)
        if len(data) != n:
            raise GGUFError("truncated string")
        return data.decode("utf-8", "replace")

    def value(self, vtype):
        if vtype in _SCALAR:
            return self.unpack(_SCALAR[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype, count = self.unpack("<I"), self.unpack("<Q")
            if etype in _SCALAR:  # skip without decoding: vocabularies are large
                self.f.seek(count * struct.calcsize(_SCALAR[etype]), os.SEEK_CUR)
            else:
                for _ in range(count):
                    self.value(etype)
            return None
        raise GGUFError(f"unknown metadata value type {vtype}")


class Info:
    """meta: key -> value (None for arrays); tensors: name -> (type, shape, nbytes)."""

    def __init__(self, path, meta, tensors):
        self.path, self.meta, self.tensors = path, meta, tensors

    def arch(self):
        return self.meta.get("general.architecture", "llama")

    def get(self, key, default=None):
        """A metadata value of the model's architecture: get("block_count")."""
        return self.meta.get(f"{self.arch()}.{key}", default)


def read(path):
    """Metadata and tensor table of the GGUF at `path`."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        r = _Reader(f)
        if f.read(4) != b"GGUF":
            raise GGUFError(f"{path}: not a GGUF file")
        version = r.unpack("<I")
        if version not in (2, 3):
            raise GGUFError(f"{path}: GGUF version {version}")
        n_tensors, n_meta = r.unpack("<Q"), r.unpack("<Q")
        meta = {}
        for _ in range(n_meta):
            key = r.string()
            meta[key] = r.value(r.unpack("<I"))
        infos = []
        for _ in range(n_tensors):
            name = r.string()
            shape = [r.unpack("<Q") for _ in range(r.unpack("<I"))]
            infos.append((name, r.unpack("<I"), shape, r.unpack("<Q")))
        align = int(meta.get("general.alignment", 32))
        data_start = (f.tell() + align - 1) // align * align
    ends = sorted({off for _, _, _, off in infos}) + [size - data_start]
    next_off = {a: b for a, b in zip(ends, ends[1:])}
    tensors = {name: (ttype, shape, next_off[off] - off) for name, ttype, shape, off in infos}
    return Info(path, meta, tensors)


def decode_bytes(info):
    """Bytes of weights one decoded token reads: every tensor but the token-embedding
    table, of which a decode reads one row; the table counts in full when it doubles as
    the output projection (no `output.weight`: tied embeddings)."""
    total = sum(nb for _, _, nb in info.tensors.values())
    embd = info.tensors.get("token_embd.weight")
    if embd is None or "output.weight" not in info.tensors:
        return total
    return total - embd[2]


def kv_cache_bytes(info, n_ctx, elem_bytes=4):
    """K and V for every layer and position: 2 x n_layer x n_ctx x n_kv_heads x head_dim."""
    n_layer = int(info.get("block_count"))
    n_head = int(info.get("attention.head_count"))
    n_kv = int(info.get("attention.head_count_kv", n_head))
    head_dim = int(info.get("attention.key_length", int(info.get("embedding_length")) // n_head))
    return 2 * n_layer * n_ctx * n_kv * head_dim * elem_bytes
