#!/usr/bin/env python3
"""Checks a folder written by `fsdpshard reshard` against the source checkpoint.

Usage: check_shards.py DIR CKPT DOTTED.PATH --format torch|safetensors [--shards N]
                       [--max-shard-size BYTES] [--exclude GLOB]...
Each shard loads alone (torch.load, or a plain struct+json safetensors reader), the
union equals the source state dict (bitwise, same dtypes/shapes), the index names every
tensor's file and total_size (each storage once), config.yaml equals OmegaConf.to_yaml(xp.cfg).
"""
import argparse
import fnmatch
import json
import os
import struct
import sys

import torch

ST_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
             "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
             "BOOL": torch.bool}


def load_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    assert meta.get("format") == "pt", f"{path}: __metadata__ lacks format=pt"
    buffer = data[8 + n:]
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = ST_DTYPES[info["dtype"]]
        t = torch.frombuffer(bytearray(buffer[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("ckpt")
    p.add_argument("path")
    p.add_argument("--format", default="torch")
    p.add_argument("--shards", type=int, default=0)
    p.add_argument("--max-shard-size", type=int, default=0)
    p.add_argument("--exclude", action="append", default=[])
    a = p.parse_args()
    ckpt = torch.load(a.ckpt, map_location="cpu")
    state = ckpt
    for part in a.path.split(".") if a.path else []:
        state = state[part]
    state = {k: v for k, v in state.items() if not any(fnmatch.fnmatchcase(k, g) for g in a.exclude)}

    st = a.format == "safetensors"
    index_name = "model.safetensors.index.json" if st else "pytorch_model.bin.index.json"
    index = json.load(open(os.path.join(a.dir, index_name)))
    weight_map = index["weight_map"]
    files = sorted(set(f for f in os.listdir(a.dir) if f.endswith(".safetensors" if st else ".bin")))
    if a.shards:
        assert len(files) == a.shards, f"{len(files)} files, expected {a.shards}"
    union = {}
    for name in files:
        shard = load_safetensors(os.path.join(a.dir, name)) if st else torch.load(os.path.join(a.dir, name),
                                                                                 map_location="cpu")
        size = 0
        for key, t in shard.items():
            assert key not in union, f"{key} in two shards"
            assert weight_map.get(key) == name, f"index maps {key} to {weight_map.get(key)}, found in {name}"
            union[key] = t
            size += t.numel() * t.element_size()
        if a.max_shard_size and len(shard) > 1:
            assert size <= a.max_shard_size, f"{name}: {size} bytes > {a.max_shard_size}"
    assert set(union) == set(state), (sorted(set(state) - set(union))[:5], sorted(set(union) - set(state))[:5])
    for key, ref in state.items():
        got = union[key]
        assert got.dtype == ref.dtype and got.shape == ref.shape, key
        assert torch.equal(got, ref), key
    # total_size as huggingface_hub counts it: each written storage once, at its size.
    # Torch shards keep a storage whole when several tensors (or a strided view) use it
    # and write a lone compact tensor compact; safetensors files hold each tensor alone.
    def storage_id(key, ref):  # empty storages have no address to share
        return ref.storage().data_ptr() if ref.storage().nbytes() else key

    users = {}
    for key, ref in state.items():
        users[storage_id(key, ref)] = users.get(storage_id(key, ref), 0) + 1
    storages = {}
    for key, ref in state.items():
        ptr = storage_id(key, ref)
        whole = not st and (users[ptr] > 1 or not ref.is_contiguous())
        storages[ptr if whole else key] = ref.storage().nbytes() if whole else ref.numel() * ref.element_size()
    total = sum(storages.values())
    assert index["metadata"]["total_size"] == total, (index["metadata"], total)
    assert set(weight_map) == set(state)
    if "xp.cfg" in ckpt:
        from omegaconf import OmegaConf
        cfg = ckpt["xp.cfg"]
        expected = OmegaConf.to_yaml(OmegaConf.create(cfg) if isinstance(cfg, str) else cfg)
        assert open(os.path.join(a.dir, "config.yaml")).read() == expected, "config.yaml differs"
    print(f"ok: {len(files)} shards, {len(union)} tensors, {total} bytes")


if __name__ == "__main__":
    main()
