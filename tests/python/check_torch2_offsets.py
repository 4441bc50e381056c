#!/usr/bin/env python3
"""Loads a torch.save file the ways torch 2.7+ computes storage offsets instead of reading
them, and fails when a computed offset is not where the bytes are.

Usage: check_torch2_offsets.py PATH [--weights-only]

torch 2.7+ writes a '.format_version' record; for such archives torch.load can compute
each storage's offset from the previous one (miniz's layout: local header, zip64 and
padding extras, data descriptor) instead of reading the local header. It does so
  * with torch.utils.serialization.config.load.calculate_storage_offsets = True (mmap=True);
  * under map_location="meta" (storage._checkpoint_offset, always);
  * with TORCH_SERIALIZATION_DEBUG=1, which also compares every computed offset with the
    real one and raises on a mismatch.
This script runs all three (the first two under the debug check), checks the meta load's
_checkpoint_offset of every storage against the record's data offset from Python's
zipfile, and compares the mmap'd, offset-computing load with a plain load bitwise.
Needs torch >= 2.7. Prints one summary line; exit 0 ok, 1 a check failed.
"""
from __future__ import annotations

import os
import struct
import sys
import zipfile

os.environ["TORCH_SERIALIZATION_DEBUG"] = "1"  # read by torch.load at each call

import torch  # noqa: E402
from torch.utils.serialization import config  # noqa: E402


def record_data_offsets(path: str) -> dict:
    """'data/<key>' -> file offset of its first byte, from the local headers."""
    offsets = {}
    with open(path, "rb") as f, zipfile.ZipFile(path) as z:
        for info in z.infolist():
            f.seek(info.header_offset)
            header = f.read(30)
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            rel = info.filename.split("/", 1)[1]
            offsets[rel] = info.header_offset + 30 + name_len + extra_len
    return offsets


def tensors(obj, prefix=""):
    """(dotted path, tensor) for every tensor reachable through dicts, lists and tuples."""
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from tensors(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from tensors(v, f"{prefix}.{i}" if prefix else str(i))


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.numel() == 0:
        return True
    return bytes(a.contiguous().view(-1).view(torch.uint8).numpy()) == bytes(
        b.contiguous().view(-1).view(torch.uint8).numpy())


def main(argv) -> int:
    path = argv[0]
    weights_only = "--weights-only" in argv[1:]
    names = zipfile.ZipFile(path).namelist()
    if not any(n.endswith("/.format_version") for n in names):
        print(f"{path}: no .format_version record: torch reads every offset, nothing to check")
        return 1
    plain = torch.load(path, map_location="cpu", weights_only=weights_only)  # debug-checked offsets
    config.load.calculate_storage_offsets = True
    try:
        computed = torch.load(path, map_location="cpu", mmap=True, weights_only=weights_only)
    finally:
        config.load.calculate_storage_offsets = False
    a = dict(tensors(plain))
    b = dict(tensors(computed))
    if a.keys() != b.keys():
        print(f"{path}: the offset-computing load has other tensors")
        return 1
    bad = [k for k in a if not same_bits(a[k], b[k])]
    if bad:
        print(f"{path}: {len(bad)} tensors differ when offsets are computed, e.g. {bad[:3]}")
        return 1
    # map_location="meta" computes each storage's offset (no debug check there): compare.
    meta = torch.load(path, map_location="meta", weights_only=weights_only)
    real = record_data_offsets(path)
    checked = 0
    seen = set()
    for name, t in tensors(meta):
        storage = t.untyped_storage()
        key = id(storage)
        if key in seen or not hasattr(storage, "_checkpoint_offset"):
            continue
        seen.add(key)
        offset = storage._checkpoint_offset
        if offset not in real.values():
            print(f"{path}: meta load puts {name}'s storage at {offset}, where no record's data starts")
            return 1
        checked += 1
    if checked == 0 and a:
        print(f"{path}: the meta load reported no storage offsets")
        return 1
    print(f"{path}: offsets ok ({len(a)} tensors, {checked} meta storage offsets, torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
