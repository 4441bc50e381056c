#!/usr/bin/env python3
"""Checks an output of `fsdpshard cfg` against omegaconf doing the same edits.

Usage: cfg_check.py INPUT OUTPUT [--set K=V]... [--unset K]... [--merge FILE]...
                    [--expect-type DictConfig|str]
Expected cfg: OmegaConf.create(input xp.cfg), merged with each --merge file, then the
--set dotlist, then each --unset deleted. Checks OmegaConf.to_yaml(output xp.cfg) equals
it, the xp.cfg type, and that every other top-level entry equals the input's.
"""
import argparse
import os
import subprocess
import sys

import torch
from omegaconf import DictConfig, OmegaConf

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--set", dest="sets", action="append", default=[])
    p.add_argument("--unset", dest="unsets", action="append", default=[])
    p.add_argument("--merge", dest="merges", action="append", default=[])
    p.add_argument("--expect-type", default=None)
    p.add_argument("--only-cfg", action="store_true", help="do not compare the other entries")
    a = p.parse_args()
    src = torch.load(a.input, map_location="cpu")
    out = torch.load(a.output, map_location="cpu")
    cfg = src["xp.cfg"]
    cfg = OmegaConf.create(cfg) if isinstance(cfg, str) else cfg
    # Hydra saves xp.cfg in struct mode, where omegaconf refuses new keys; fsdpshard edits
    # offline and adds them (the struct flag itself is kept in the output).
    OmegaConf.set_struct(cfg, False)
    for path in a.merges:
        cfg = OmegaConf.merge(cfg, OmegaConf.load(path))
    if a.sets:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(a.sets))
    for key in a.unsets:
        parent_key, _, leaf = key.rpartition(".")
        parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
        del parent[leaf]
    expected = OmegaConf.to_yaml(cfg)
    got_cfg = out["xp.cfg"]
    want_type = a.expect_type or type(src["xp.cfg"]).__name__
    if type(got_cfg).__name__ != want_type:
        sys.exit(f"xp.cfg is a {type(got_cfg).__name__}, expected {want_type}")
    got = OmegaConf.to_yaml(OmegaConf.create(got_cfg) if isinstance(got_cfg, str) else got_cfg)
    if got != expected:
        sys.exit(f"xp.cfg differs.\n--- got\n{got}\n--- expected\n{expected}")
    if isinstance(got_cfg, DictConfig):
        # A loaded DictConfig must behave: interpolations resolve through the parents.
        OmegaConf.to_container(got_cfg, resolve=False)
    if a.only_cfg:
        print("ok")
        return
    rest = subprocess.run([sys.executable, os.path.join(HERE, "compare_checkpoints.py"), a.input, a.output,
                           "--ignore-key", "xp.cfg"], capture_output=True, text=True)
    if rest.returncode != 0:
        sys.exit("other entries differ:\n" + rest.stdout + rest.stderr)
    print("ok")


if __name__ == "__main__":
    main()
