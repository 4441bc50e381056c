#!/usr/bin/env python3
"""Prints the keys of a saved state dict, one per line (tests check selection with it)."""
import sys

import torch

for key in torch.load(sys.argv[1], map_location="cpu").keys():
    print(key)
