#!/usr/bin/env python3
"""Compares two outputs of make_fsdp_fixtures.py resume / resume-full ({'model': full
state dict, 'optim': full optimizer state}) bitwise; prints how many tensors differ and by
how much. Exit 0 when all are equal."""
import sys

import torch


def main():
    a = torch.load(sys.argv[1], weights_only=False)
    b = torch.load(sys.argv[2], weights_only=False)
    pairs = [(f"model.{k}", v, b["model"].get(k)) for k, v in a["model"].items()]
    for name, state in a["optim"]["state"].items():
        pairs += [(f"optim.{name}.{k}", v, b["optim"]["state"].get(name, {}).get(k)) for k, v in state.items()]
    differ, worst = 0, 0.0
    for name, x, y in pairs:
        if y is None or x.shape != y.shape or not torch.equal(x, y):
            differ += 1
            if y is not None and x.shape == y.shape:
                worst = max(worst, (x.double() - y.double()).abs().max().item())
            print(f"differs: {name}")
    print(f"{len(pairs)} tensors compared, {differ} differ, max abs difference {worst}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
