#!/usr/bin/env python3
"""The I/O floor for scattered tensors, timed by benchmarks/bench.py: read exactly the
byte ranges gather reads (in file order, 16 MiB at a time, plain pread), write them to
one file and fsync it, as fsdpshard does before its rename.

Usage: read_ranges.py INPUT RANGES.json OUTPUT      RANGES.json: [[offset, length], ...]
"""
import json
import os
import sys

src, ranges_path, dst = sys.argv[1:4]
PIECE = 16 << 20
ranges = sorted(json.load(open(ranges_path)))
fi = os.open(src, os.O_RDONLY)
fo = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
buffer = memoryview(bytearray(PIECE))  # one buffer, as dd and fsdpshard use: no page faults per piece
for offset, length in ranges:
    while length > 0:
        n = os.preadv(fi, [buffer[:min(length, PIECE)]], offset)
        if n == 0:
            sys.exit(f"{src}: ends before offset {offset}")
        written = 0
        while written < n:
            written += os.write(fo, buffer[written:n])
        offset += n
        length -= n
os.fsync(fo)
os.close(fo)
os.close(fi)
