#!/usr/bin/env python3
"""The user's Python recipe that `fsdpshard gather` replaces, as the reference in tests.

Usage: python_recipe.py INPUT OUTPUT [--to training|export|state-dict] [--from PATH]
                        [--exclude GLOB]... [--set K=V]... [--unset K]... [--dtype D]
                        [--keep KEY]... [--cfg-format dictconfig|yaml] [--version-string V]

torch.load the whole file, pick the state dict (fsdp_best_state['model'] if non-empty,
else best_state['model'], else an exported flat best_state, else the file itself), delete
the excluded keys, cast floating tensors, patch xp.cfg with OmegaConf, torch.save.
"""
import argparse
import collections
import fnmatch

import torch
from omegaconf import DictConfig, OmegaConf


def pick_state(ckpt, source):
    if source != "auto":
        node = ckpt
        for part in source.split("."):
            node = node[part]
        return node
    fsdp = ckpt.get("fsdp_best_state") if isinstance(ckpt, dict) else None
    if fsdp and fsdp.get("model"):
        return fsdp["model"]
    best = ckpt.get("best_state") if isinstance(ckpt, dict) else None
    if isinstance(best, dict) and isinstance(best.get("model"), dict) and best["model"]:
        return best["model"]
    if isinstance(ckpt, dict) and ckpt.get("exported"):
        return best
    return ckpt


def patch_cfg(cfg, sets, unsets):
    if isinstance(cfg, str):
        cfg = OmegaConf.create(cfg)
    if sets:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(sets))
    for key in unsets:
        parent_key, _, leaf = key.rpartition(".")
        parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
        del parent[leaf]
    return cfg


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--to", default="training")
    parser.add_argument("--from", dest="source", default="auto")
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--unset", dest="unsets", action="append", default=[])
    parser.add_argument("--dtype", default="keep")
    parser.add_argument("--keep", action="append", default=[])
    parser.add_argument("--cfg-format", default="")
    parser.add_argument("--version-string", default="1.3.0")
    args = parser.parse_args()

    ckpt = torch.load(args.input, map_location="cpu")
    state = pick_state(ckpt, args.source)
    for key in list(state.keys()):
        if any(fnmatch.fnmatchcase(key, pat) for pat in args.exclude):
            del state[key]
    if args.dtype != "keep":
        dtype = getattr(torch, args.dtype)
        for key, value in state.items():
            if value.is_floating_point():
                state[key] = value.to(dtype)
    cfg = ckpt.get("xp.cfg") if isinstance(ckpt, dict) else None
    if cfg is not None:
        cfg = patch_cfg(cfg, args.sets, args.unsets)

    if args.to == "state-dict":
        out = state
    elif args.to == "export":
        out = {"best_state": state, "xp.cfg": OmegaConf.to_yaml(cfg),
               "version": ckpt.get("version", args.version_string), "exported": True}
    else:
        if args.cfg_format == "yaml":
            cfg = OmegaConf.to_yaml(cfg)
        out = {"best_state": {"model": state}, "fsdp_best_state": {}, "xp.cfg": cfg}
        for key in args.keep:
            out[key] = ckpt[key]
    torch.save(out, args.output)


if __name__ == "__main__":
    main()
