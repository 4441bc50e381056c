#!/usr/bin/env python3
"""Compares two state dicts bitwise: same names, order, shapes, dtypes and bytes.

Usage: compare_state_dicts.py A B [--key-a DOTTED] [--key-b DOTTED]
A dotted key picks a nested mapping first (e.g. --key-a model). Exit 0 when equal, 1 with
the differences listed otherwise."""
import argparse
import sys

import torch


def pick(obj, dotted):
    for part in filter(None, (dotted or "").split(".")):
        obj = obj[part]
    return obj


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--key-a", default="")
    p.add_argument("--key-b", default="")
    a_ = p.parse_args()
    a = pick(torch.load(a_.a, map_location="cpu", weights_only=False), a_.key_a)
    b = pick(torch.load(a_.b, map_location="cpu", weights_only=False), a_.key_b)
    problems = []
    if list(a.keys()) != list(b.keys()):
        problems.append(f"keys differ: {list(a.keys())[:5]}... vs {list(b.keys())[:5]}...")
    for k in a.keys() & b.keys():
        x, y = a[k], b[k]
        if x.shape != y.shape or x.dtype != y.dtype:
            problems.append(f"{k}: {tuple(x.shape)} {x.dtype} vs {tuple(y.shape)} {y.dtype}")
        elif not torch.equal(x.contiguous().view(torch.uint8) if x.numel() else x,
                             y.contiguous().view(torch.uint8) if y.numel() else y):
            problems.append(f"{k}: values differ (max abs diff {(x.double() - y.double()).abs().max().item()})")
    for line in problems:
        print(line)
    print(f"{len(a)} tensors compared, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
