#!/usr/bin/env python3
"""Writes llama.cpp's token ids for the test strings below, the reference that
tandem's tokenizer is compared with (tokenizer_fixture.c). Needs llama-cpp-python:

    python -m pip install llama-cpp-python
    make_reference_ids.py MODEL.gguf OUT.txt [--random N SEED]

Output: a header line, then one line per string: "S" (special tokens parsed) or "N"
(not parsed), a tab, the escaped text (as in make_tokenizer_fixture.py), a tab, the
ids comma-separated. No BOS/EOS is added (llama_tokenize with add_special=false).
With --random, the strings are N random mixes of whitespace, letters and digits of
several scripts, punctuation, contractions, emoji, combining and invisible characters,
special-token texts and stray bytes, each tokenized both ways (a differential test).
"""
import random
import sys

STRINGS = [
    b"Hello world",
    b"Hello, world! How are you doing today?",
    b" leading space and trailing space ",
    b"multiple   spaces\tand\ttabs\n\nnewlines\r\n",
    b"I'm sure you've seen it; they'll say we'd done it, isn't it? DON'T SHOUT",
    "Numbers: 0 1 12 123 1234 12345 3.14159 -42 1e10 \u0661\u0662\u0663".encode(),
    b"def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    b'int main(void) { printf("%d\\n", x->y[3] >= 0 && !z); return 0; }',
    "Unicode: caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c6r\u00f8sk\u00f8bing Stra\u00dfe".encode(),
    "\u4e2d\u6587\u6d4b\u8bd5\uff1a\u4f60\u597d\uff0c\u4e16\u754c\uff01".encode(),
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u30ab\u30bf\u30ab\u30ca".encode(),
    "\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442, "
    "\u03b5\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac, \u05e2\u05d1\u05e8\u05d9\u05ea, "
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629".encode(),
    "Emoji: \U0001F600\U0001F44D\U0001F3FD \U0001F1EB\U0001F1F7 "
    "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 \u2764\ufe0f \u2728".encode(),
    b"<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    b"<|endoftext|>text after<reponame>x<|im_end|>",
    b"   \n\n   ",
    b"",
    b"https://example.com/path?query=1&b=2#frag email@test.org",
    "\u2211_{i=1}^{n} x_i\u00b2 \u2264 \u221e \u00b1 \u221a2 \u2192 \u03bb".encode(),
    b"Supercalifragilisticexpialidocious antidisestablishmentarianism",
    b"# Title\n\n- item **bold** _it_ `code`\n> quote",
    b"...!!!???---___***",
    "\u00a0non-breaking\u2003em space\u3000ideographic".encode(),
    b"bad \xff\xfe utf8 \xc3( end \xe2\x82",
    b"Mr. O'Neil's 'quoted' \"double\" `back`",
    b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa          x",
    b"tab\tseparated\tvalues\n1\t2\t3",
    b"The year 2024 had 366 days; 1,000,000 people (approx. 0.013%) attended.",
]
PLAIN = [  # also tokenized with special tokens not parsed
    b"<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    b"<|endoftext|>text after<reponame>x<|im_end|>",
]


POOLS = [
    " \t\n\r\u00a0\u2003\u3000\u000b\u000c\u0085",
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789\u0661\u0662\u00b2\u2153\u0e51\u2167",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "'s'S't're'VE'll'd'm ",
    "\u00e9\u00df\u00e6\u00f8\u00c5\u0107\u017e\u0142\u011f",
    "\u4e2d\u6587\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\ud55c\uad6d\uc5b4",
    "\u0410\u0431\u0432\u03b1\u03b2\u05d0\u05d1\u0627\u0644\u0939\u093f\u0902\u0e01\u0e32",
    "\U0001F600\U0001F44D\U0001F3FD\u200d\u2764\ufe0f\U0001F1EB\U0001F1F7\u2728\U0001F999",
    "\u0301\u0308\u200b\u200c\u2028\u2029\ufeff\ue000\U000F0000",
    "<|im_start|><|im_end|><|endoftext|><s></s><|begin_of_text|><|eot_id|>",
]


def random_strings(n, seed):
    rng = random.Random(seed)
    for _ in range(n):
        parts = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 6)))
                 for pool in (rng.choice(POOLS) for _ in range(rng.randint(1, 12)))]
        s = bytearray("".join(parts).encode())
        if rng.random() < 0.1:
            s.insert(rng.randrange(len(s) + 1), rng.randrange(128, 256))
        yield bytes(s)


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


def main():
    if len(sys.argv) not in (3, 6) or (len(sys.argv) == 6 and sys.argv[3] != "--random"):
        sys.exit(__doc__)
    import llama_cpp
    llm = llama_cpp.Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)
    lines = [b"# llama.cpp token ids (llama-cpp-python %s), add_special=false" %
             llama_cpp.__version__.encode()]
    sets = ((b"S", STRINGS), (b"N", PLAIN))
    if len(sys.argv) == 6:
        strings = list(random_strings(int(sys.argv[4]), int(sys.argv[5])))
        sets = ((b"S", strings), (b"N", strings))
    for mode, strings in sets:
        for s in strings:
            ids = llm.tokenize(s, add_bos=False, special=mode == b"S")
            lines.append(mode + b"\t" + escape(s) + b"\t" + b",".join(b"%d" % i for i in ids))
    with open(sys.argv[2], "wb") as f:
        f.write(b"\n".join(lines) + b"\n")


if __name__ == "__main__":
    main()
