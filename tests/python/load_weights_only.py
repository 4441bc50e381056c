#!/usr/bin/env python3
"""Loads a checkpoint with torch.load(weights_only=True); exit 0 when torch accepts it."""
import sys

import torch

obj = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
print(type(obj).__name__, sorted(obj.keys()) if isinstance(obj, dict) else "")
