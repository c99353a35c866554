#!/usr/bin/env python3
"""Turn a disk image into a sparse_image() fuzz input: one record per run of
non-zero 4 KiB blocks (offset u32 LE, length u32 LE, bytes), keeping the size.
Usage: sparse-seed.py IMAGE OUT"""
import struct, sys

data = open(sys.argv[1], "rb").read()
out = bytearray()
i, B = 0, 4096
while i < len(data):
    if any(data[i:i + B]):
        j = i
        while j < len(data) and any(data[j:j + B]):
            j += B
        out += struct.pack("<II", i, j - i) + data[i:j]
        i = j
    else:
        i += B
# A zero-length record at the end keeps the image its full size.
out += struct.pack("<II", len(data), 0)
open(sys.argv[2], "wb").write(out)
