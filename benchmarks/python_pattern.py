#!/usr/bin/env python3
"""The user's Python recipe, timed by benchmarks/bench.py: load everything, pick the best
state, drop the description conditioner, patch the cfg, save.

Usage: python_pattern.py INPUT OUTPUT [--mmap]   (--mmap needs torch >= 2.1)
"""
import sys

import torch
from omegaconf import OmegaConf

src, dst, mmap = sys.argv[1], sys.argv[2], "--mmap" in sys.argv[3:]
kwargs = {"map_location": "cpu"}
if mmap:
    kwargs.update(mmap=True, weights_only=False)
elif tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 6):
    kwargs["weights_only"] = False
pkg = torch.load(src, **kwargs)
if pkg.get("exported"):  # audiocraft export_lm: best_state is the state dict, xp.cfg YAML text
    state, cfg = pkg["best_state"], OmegaConf.create(pkg["xp.cfg"])
else:
    state = pkg["fsdp_best_state"]["model"] if pkg.get("fsdp_best_state", {}).get("model") else pkg["best_state"]["model"]
    cfg = pkg["xp.cfg"]
for key in [k for k in state if k.startswith("condition_provider.conditioners.description")]:
    del state[key]
cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(["optim.lr=1e-5", "optim.epochs=50", "dataset.train.path=/data/ft"]))
torch.save({"best_state": {"model": state}, "fsdp_best_state": {}, "xp.cfg": cfg}, dst)
