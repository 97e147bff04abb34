#!/usr/bin/env python3
"""Dumps a GGUF model's tokenizer (tokenizer.ggml.*, tokenizer.chat_template) to the
text fixture that tests/llm_runtime/tokenizer_fixture.c reads. Standard library only:
the GGUF header and key/value section are read directly, the tensors never.

    make_tokenizer_fixture.py MODEL.gguf OUT.txt

Fixture format (bytes; one item per line; a string is escaped: backslash as \\\\,
newline \\n, carriage return \\r, tab \\t, other bytes below 0x20 and 0x7f as \\xHH,
everything else, UTF-8 included, as it is):

    tandem-tokenizer-fixture 1
    model gpt2                      tokenizer.ggml.model
    pre smollm                      tokenizer.ggml.pre (absent: no line)
    bos_id 1                        likewise eos_id, unk_id, pad_id (absent: -1)
    add_bos 0                       likewise add_eos, add_space_prefix (absent: -1)
    chat_template ESCAPED           (absent: no line)
    tokens N, then N lines          tokenizer.ggml.tokens
    types K, then K lines "ID TYPE" token types other than 1 (NORMAL); no
                                    tokenizer.ggml.token_type array: "types none"
    scores K, then K lines "ID S"   non-zero scores (%.9g); no array: "scores none"
    merges M, then M lines          tokenizer.ggml.merges
    end
"""
import struct
import sys

GGUF_TYPES = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
              10: "<Q", 11: "<q", 12: "<d"}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def unpack(self, fmt):
        size = struct.calcsize(fmt)
        value = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += size
        return value

    def string(self):
        n = self.unpack("<Q")
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s

    def value(self, vtype):
        if vtype == 8:
            return self.string()
        if vtype == 9:
            etype, n = self.unpack("<I"), self.unpack("<Q")
            return [self.value(etype) for _ in range(n)]
        return self.unpack(GGUF_TYPES[vtype])


def read_kv(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if head[:4] != b"GGUF":
            sys.exit(f"{path}: not a GGUF file")
        version, _, n_kv = struct.unpack_from("<IQQ", head, 4)
        if version < 2:
            sys.exit(f"{path}: GGUF version {version} is not supported")
        # The key/value section is at the start; 64 MiB is far more than any
        # tokenizer needs, and we stop reading at the last key.
        r = Reader(head + f.read(64 << 20))
    r.pos = 24
    kv = {}
    for _ in range(n_kv):
        key = r.string().decode()
        kv[key] = r.value(r.unpack("<I"))
    return kv


def escape(b):
    out = bytearray()
    for c in b:
        if c == 0x5C:
            out += b"\\\\"
        elif c == 0x0A:
            out += b"\\n"
        elif c == 0x0D:
            out += b"\\r"
        elif c == 0x09:
            out += b"\\t"
        elif c < 0x20 or c == 0x7F:
            out += b"\\x%02X" % c
        else:
            out.append(c)
    return bytes(out)


def write_fixture(gguf_path, out_path):
    kv = read_kv(gguf_path)
    p = "tokenizer.ggml."
    lines = [b"tandem-tokenizer-fixture 1", b"model " + kv[p + "model"]]
    if p + "pre" in kv:
        lines.append(b"pre " + kv[p + "pre"])
    for name, key in (("bos_id", "bos_token_id"), ("eos_id", "eos_token_id"),
                      ("unk_id", "unknown_token_id"), ("pad_id", "padding_token_id")):
        lines.append(b"%s %d" % (name.encode(), kv.get(p + key, -1)))
    for name, key in (("add_bos", "add_bos_token"), ("add_eos", "add_eos_token"),
                      ("add_space_prefix", "add_space_prefix")):
        lines.append(b"%s %d" % (name.encode(), int(kv[p + key]) if p + key in kv else -1))
    if "tokenizer.chat_template" in kv:
        lines.append(b"chat_template " + escape(kv["tokenizer.chat_template"]))
    tokens = kv[p + "tokens"]
    lines.append(b"tokens %d" % len(tokens))
    lines += [escape(t) for t in tokens]
    types = kv.get(p + "token_type")
    if types is None:
        lines.append(b"types none")
    else:
        odd = [(i, t) for i, t in enumerate(types) if t != 1]
        lines.append(b"types %d" % len(odd))
        lines += [b"%d %d" % (i, t) for i, t in odd]
    scores = kv.get(p + "scores")
    if scores is None:
        lines.append(b"scores none")
    else:
        odd = [(i, s) for i, s in enumerate(scores) if s != 0]
        lines.append(b"scores %d" % len(odd))
        lines += [b"%d %s" % (i, repr(float(s)).encode()) for i, s in odd]
    merges = kv.get(p + "merges", [])
    lines.append(b"merges %d" % len(merges))
    lines += [escape(m) for m in merges]
    lines.append(b"end")
    with open(out_path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    write_fixture(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    main()
