#!/usr/bin/env python3
"""Checks a .safetensors file against a state dict of a torch.save checkpoint.

Usage: check_safetensors.py FILE.safetensors CKPT DOTTED.PATH
Parses the file by the format's definition (u64 header length, JSON header, data buffer;
no safetensors package needed), checks the header rules, and compares every tensor
bitwise with the checkpoint's state dict at DOTTED.PATH, in the same order.
"""
import json
import struct
import sys

import torch

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}


def main():
    path, ckpt_path, dotted = sys.argv[1:4]
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    assert (8 + n) % 8 == 0, "header not padded to a multiple of 8"
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    assert meta.get("format") == "pt", meta
    buffer = data[8 + n:]
    ckpt = torch.load(ckpt_path, map_location="cpu")
    state = ckpt
    for part in dotted.split("."):
        state = state[part]
    assert list(header.keys()) == list(state.keys()), (list(header.keys())[:5], list(state.keys())[:5])
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, stop = info["data_offsets"]
        assert begin == end, f"{name}: gap or overlap at {begin}"
        end = stop
    assert end == len(buffer), "buffer not covered exactly"
    for name, info in header.items():
        begin, stop = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        tensor = torch.frombuffer(bytearray(buffer[begin:stop]), dtype=dtype) if stop > begin else \
            torch.empty(0, dtype=dtype)
        tensor = tensor.reshape(info["shape"])
        ref = state[name]
        assert ref.dtype == dtype and list(ref.shape) == info["shape"], name
        assert torch.equal(ref.contiguous(), tensor), name
    if "xp.cfg" in ckpt:
        from omegaconf import OmegaConf
        assert meta.get("xp.cfg") == OmegaConf.to_yaml(ckpt["xp.cfg"]), "xp.cfg metadata differs"
    print(f"ok: {len(header)} tensors")


if __name__ == "__main__":
    main()
