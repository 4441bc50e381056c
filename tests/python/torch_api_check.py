#!/usr/bin/env python3
"""Checks a state dict written by fsdpshard's LibTorch API against its source, with torch.

Usage: torch_api_check.py SOURCE OURS [--key DOTTED] [--dtype NAME] [--values-only]
                          [--any-order]
SOURCE is read by torch.load (weights_only=False: AudioCraft checkpoints hold DictConfig;
a .safetensors SOURCE is read by safetensors.torch), DOTTED picks its state dict. OURS
must load with torch.load(weights_only=True). Compared, bitwise: names and their order,
dtype, shape and bytes of every tensor; unless --values-only (or --dtype, whose cast gives
new tensors) also strides, storage offsets and which tensors share a storage.
--dtype NAME: SOURCE's float64/32/16 and bfloat16 tensors are cast with .to() first.
--any-order: the same names, in any order (a shard set lists its tensors shard by shard).
Exit 0 when equal; 1 with the differences listed."""
import argparse
import sys

import torch

CASTABLE = {torch.float64, torch.float32, torch.float16, torch.bfloat16}


def load_any(path, weights_only):
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        return load_file(path)
    return torch.load(path, map_location="cpu", weights_only=weights_only)


def pick(obj, dotted):
    for part in filter(None, (dotted or "").split(".")):
        obj = obj[part]
    return obj


def raw(t):
    flat = t.reshape(-1).contiguous()  # 0-dim tensors cannot be viewed as bytes
    return flat.view(torch.uint8) if t.numel() else flat.to(torch.uint8)


def sharing(sd):
    """Names grouped by the storage they view."""
    groups = {}
    for name, t in sd.items():
        groups.setdefault(t.storage().data_ptr(), []).append(name)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def differences(src, ours, any_order, layout):
    """What differs between the two state dicts, one line each; `layout`: strides, storage
    offsets and shared storages too."""
    key = sorted if any_order else list
    if key(src.keys()) != key(ours.keys()):
        yield f"names differ: {list(src.keys())[:6]}... vs {list(ours.keys())[:6]}..."
    for name in (n for n in src.keys() if n in ours):
        x, y = src[name], ours[name]
        if (x.dtype, x.shape) != (y.dtype, y.shape):
            yield f"{name}: {x.dtype} {tuple(x.shape)} vs {y.dtype} {tuple(y.shape)}"
        elif not torch.equal(raw(x), raw(y)):
            yield f"{name}: bytes differ"
        elif layout and (x.stride(), x.storage_offset()) != (y.stride(), y.storage_offset()):
            yield f"{name}: stride/offset {x.stride()}/{x.storage_offset()} vs {y.stride()}/{y.storage_offset()}"
    if layout and sharing(src) != sharing(ours):
        yield f"shared storages differ: {sharing(src)} vs {sharing(ours)}"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("source")
    p.add_argument("ours")
    p.add_argument("--key", default="")
    p.add_argument("--dtype", default="")
    p.add_argument("--values-only", action="store_true")
    p.add_argument("--any-order", action="store_true")
    a = p.parse_args()
    src = pick(load_any(a.source, weights_only=False), a.key)
    ours = load_any(a.ours, weights_only=True)
    if a.dtype:
        to = getattr(torch, a.dtype)
        src = {n: t.to(to) if t.dtype in CASTABLE else t for n, t in src.items()}
    problems = list(differences(src, ours, a.any_order, layout=not (a.values_only or a.dtype)))
    print("\n".join(problems + [f"{len(ours)} tensors compared, {len(problems)} problem(s)"]))
    return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main())
