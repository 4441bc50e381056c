#!/usr/bin/env python3
"""Checks on AudioCraft FSDP rank-file sets (checkpoint.th, checkpoint.th.1, ...) written
by `fsdpshard reshard --world M`; runs with torch 1.13 as well as 2.x.

  same A B            every file loads; A and B have as many rank files, and on every rank
                      the same entries: per-rank tensors (model, best_state, ema, optimizer
                      state, fsdp_best_state) equal bitwise, model views at the same storage
                      offsets, everything else equal (xp.cfg as YAML)
  optim DIR FULL      the optimizer's per-element state put end to end in rank order equals
                      FULL (FSDP.optim_state_dict, keyed by names); step equals too
Exit 0 when the check holds, 1 with the differences printed.
"""
import os
import sys

import torch


def rank_files(folder):
    files = [os.path.join(folder, "checkpoint.th")]
    while os.path.exists(f"{files[0]}.{len(files)}"):
        files.append(f"{files[0]}.{len(files)}")
    # weights_only=False: xp.cfg is a DictConfig, which torch >= 2.6's default refuses.
    return [torch.load(f, map_location="cpu", weights_only=False) for f in files]


def bits(t):
    return t.detach().reshape(-1).contiguous().view(torch.uint8)


def same_tensor(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(bits(a), bits(b))


def compare(a, b, where, problems, offsets=False):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and same_tensor(a, b)):
            problems.append(f"{where}: tensors differ")
        elif offsets and a.storage_offset() != b.storage_offset():
            problems.append(f"{where}: storage offset {a.storage_offset()} != {b.storage_offset()}")
    elif isinstance(a, dict) and isinstance(b, dict):
        if list(a.keys()) != list(b.keys()):
            problems.append(f"{where}: keys {list(a.keys())} != {list(b.keys())}")
            return
        for k in a:
            compare(a[k], b[k], f"{where}[{k!r}]", problems, offsets)
    elif isinstance(a, (list, tuple)) and type(a) is type(b) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            compare(x, y, f"{where}[{i}]", problems, offsets)
    elif type(a).__name__ == "DictConfig":
        from omegaconf import OmegaConf
        if type(b).__name__ != "DictConfig" or OmegaConf.to_yaml(a) != OmegaConf.to_yaml(b):
            problems.append(f"{where}: xp.cfg differs")
    elif a != b:
        problems.append(f"{where}: {a!r} != {b!r}")


def same(a_dir, b_dir):
    a, b = rank_files(a_dir), rank_files(b_dir)
    if len(a) != len(b):
        return [f"{len(a)} rank files != {len(b)}"]
    problems = []
    for r, (x, y) in enumerate(zip(a, b)):
        if list(x.keys()) != list(y.keys()):
            problems.append(f"rank {r}: top-level keys {list(x.keys())} != {list(y.keys())}")
            continue
        for key in x:
            compare(x[key], y[key], f"rank {r} {key}", problems, offsets=key == "model")
    return problems


def optim(folder, full_path):
    ranks = rank_files(folder)
    full = torch.load(full_path, map_location="cpu")
    names = list(ranks[0]["model"].keys())
    problems = []
    for name, state in full["state"].items():
        i = names.index(name)
        held = [r["optimizer"]["state"][i] for r in ranks if i in r["optimizer"]["state"]]
        for key, value in state.items():
            if key == "step":
                if not all(float(h[key]) == float(value) for h in held):
                    problems.append(f"{name}.step differs")
                continue
            pieces = torch.cat([h[key] for h in held]) if held else torch.zeros(0)
            if not same_tensor(pieces, value.reshape(-1)):
                problems.append(f"{name}.{key}: the rank pieces differ from the full state")
    if len(full["state"]) != len({i for r in ranks for i in r["optimizer"]["state"]}):
        problems.append("the rank files hold state for other parameters than the full state")
    return problems


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    problems = same(*args) if mode == "same" else optim(*args)
    for p in problems[:40]:
        print(p)
    print(f"{mode}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
