#!/usr/bin/env python3
"""Tensor bytes of files: for a torch.save zip, every distinct storage torch.load gives,
once, at its size (what fsdpshard writes for it); for a .safetensors file, the bytes its
header's data_offsets span (safetensors has no sharing). Usage: tensor_bytes.py FILE... ;
prints one JSON object {FILE: bytes}. Other files (config.yaml, a shard index) hold no
tensor bytes: 0."""
import json
import struct
import sys
import zipfile

import torch


def storage_sizes(obj, seen):
    """Sum of the sizes of the storages under `obj` not in `seen` (storage addresses)."""
    if isinstance(obj, torch.Tensor):
        storage = obj.storage()
        if storage.data_ptr() in seen:
            return 0
        seen.add(storage.data_ptr())
        return storage.nbytes()
    if isinstance(obj, dict):
        return sum(storage_sizes(v, seen) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(storage_sizes(v, seen) for v in obj)
    return 0


def safetensors_bytes(path):
    """The safetensors layout: an 8-byte little-endian header length, the JSON header."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    return sum(end - begin for name, entry in header.items() if name != "__metadata__"
               for begin, end in [entry["data_offsets"]])


def main():
    sizes = {}
    for path in sys.argv[1:]:
        if path.endswith(".safetensors"):
            sizes[path] = safetensors_bytes(path)
        elif zipfile.is_zipfile(path):
            sizes[path] = storage_sizes(torch.load(path, map_location="cpu"), set())
        else:
            sizes[path] = 0
    print(json.dumps(sizes))


if __name__ == "__main__":
    main()
