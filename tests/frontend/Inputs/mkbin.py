#!/usr/bin/env python3
"""Writes a small OpenVINO-style weights file (model.bin) for the frontend tests.

The committed Inputs/*.bin were made with it (the tests copy them rather than run
Python, to stay fast):
  f32_1_2_3.bin f32:1,2,3    f32_1_2.bin f32:1,2    zeros_24.bin zeros:24
  i64_1.bin i64:1            i64_4_2.bin i64:4,2    i64_m1_m1.bin i64:-1,-1
  i64_0_5.bin i64:0,5        i64_7.bin i64:7        i64_1_1.bin i64:1,1
  i64_m2_m3.bin i64:-2,-3    i64_4_m1.bin i64:4,-1  i64_5.bin i64:5

usage: mkbin.py OUT.bin ITEM...

Each ITEM appends little-endian values: TYPE:V,V,... with TYPE one of f32, f16,
i64, i32, i8, u8 (e.g. i64:2,-1 for a Reshape target shape), or zeros:N for N zero
bytes. The items are written back to back, so item k starts at the sum of the
sizes before it.
"""
import struct
import sys

FORMATS = {"f32": "<f", "f16": "<e", "i64": "<q", "i32": "<i", "i8": "<b", "u8": "<B"}


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out = bytearray()
    for item in argv[2:]:
        kind, _, values = item.partition(":")
        if kind == "zeros":
            out += bytes(int(values))
            continue
        if kind not in FORMATS:
            sys.exit(f"mkbin.py: unknown item type '{kind}'")
        conv = float if kind.startswith("f") else int
        for v in values.split(",") if values else []:
            out += struct.pack(FORMATS[kind], conv(v))
    with open(argv[1], "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main(sys.argv)
