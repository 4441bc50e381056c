#!/usr/bin/env python3
"""Prints a checkpoint's xp.cfg as OmegaConf.to_yaml gives it (YAML text goes through OmegaConf.create)."""
import sys

import torch
from omegaconf import OmegaConf

cfg = torch.load(sys.argv[1], map_location="cpu")["xp.cfg"]
sys.stdout.write(OmegaConf.to_yaml(OmegaConf.create(cfg) if isinstance(cfg, str) else cfg))
