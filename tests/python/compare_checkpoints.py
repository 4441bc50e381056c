#!/usr/bin/env python3
"""Deep equality of two checkpoints as torch.load sees them.

Usage: compare_checkpoints.py A B [--ignore-key K]... [--ignore-order] [--check-storage]
                              [--max-diffs N] [--json]

Compared:
  * types exactly (dict vs OrderedDict, Tensor vs nn.Parameter, int vs bool, DictConfig vs str);
  * tensors: dtype, shape, then the bytes bitwise (NaNs and -0.0 included), requires_grad;
    with --check-storage also storage sharing (which tensors share one storage), storage
    offset and stride;
  * OrderedDict: key order and the `_metadata` attribute; plain dicts: keys, and key order
    unless --ignore-order; lists/tuples element by element;
  * omegaconf DictConfig/ListConfig: type, OmegaConf.to_yaml text and the struct/readonly flags;
  * floats bitwise (struct pack), other scalars with ==; other objects by type and __dict__.
--ignore-key K skips any entry whose dotted path equals K or whose own key equals K at the
top level (e.g. --ignore-key xp.cfg --ignore-key optimizer).

Prints one line per difference ("path: what differs") or "identical"; exit 0 when equal,
1 when different, 2 on usage errors or unreadable input.
"""
from __future__ import annotations

import argparse
import json
import math
import struct
import sys
import typing as tp

import torch

try:
    from omegaconf import OmegaConf, DictConfig, ListConfig
except ImportError:  # pragma: no cover
    OmegaConf = None
    DictConfig = ListConfig = ()  # type: ignore

_SAME_SIZE_INT = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def load(path: str):
    kwargs: tp.Dict[str, tp.Any] = {"map_location": "cpu"}
    try:
        parts = torch.__version__.split("+")[0].split(".")
        if (int(parts[0]), int(parts[1])) >= (1, 13):
            kwargs["weights_only"] = False
    except ValueError:
        pass
    return torch.load(path, **kwargs)


def _storage_cdata(t: torch.Tensor) -> int:
    if hasattr(t, "untyped_storage"):
        return t.untyped_storage()._cdata
    s = t.storage()
    return getattr(s, "_storage", s)._cdata


def _bits(t: torch.Tensor) -> torch.Tensor:
    t = t.detach().contiguous()
    if t.dtype.is_complex:
        t = torch.view_as_real(t).contiguous()
    size = t.element_size()
    if t.dtype == torch.bool:
        return t.to(torch.uint8)
    return t.view(_SAME_SIZE_INT[size]) if t.dim() > 0 else t.reshape(1).view(_SAME_SIZE_INT[size])


def _pstr(path: str) -> str:
    return path if path else "<root>"


class Comparer:
    def __init__(self, ignore: tp.Sequence[str], ignore_order: bool, check_storage: bool, max_diffs: int):
        self.ignore = set(ignore)
        self.ignore_order = ignore_order
        self.check_storage = check_storage
        self.max_diffs = max_diffs
        self.diffs: tp.List[str] = []
        self.seen: tp.Set[tp.Tuple[int, int]] = set()
        self.storage_map_a: tp.Dict[int, int] = {}
        self.storage_map_b: tp.Dict[int, int] = {}

    def diff(self, path: str, msg: str) -> None:
        self.diffs.append(f"{_pstr(path)}: {msg}")

    def ignored(self, path: str, key, depth: int) -> bool:
        return path in self.ignore or (depth == 1 and str(key) in self.ignore)

    def compare(self, a, b, path: str = "", depth: int = 0) -> None:
        if len(self.diffs) >= self.max_diffs:
            return
        if type(a) is not type(b):
            self.diff(path, f"type {type(a).__module__}.{type(a).__qualname__} != "
                            f"{type(b).__module__}.{type(b).__qualname__}")
            return
        if isinstance(a, torch.Tensor):
            self.compare_tensor(a, b, path)
            return
        if DictConfig and isinstance(a, (DictConfig, ListConfig)):
            ya, yb = OmegaConf.to_yaml(a), OmegaConf.to_yaml(b)
            if ya != yb:
                la, lb = ya.splitlines(), yb.splitlines()
                first = next((i for i in range(min(len(la), len(lb))) if la[i] != lb[i]), min(len(la), len(lb)))
                self.diff(path, f"config YAML differs at line {first + 1}: "
                                f"{la[first] if first < len(la) else '<end>'!r} != "
                                f"{lb[first] if first < len(lb) else '<end>'!r}")
            for flag in ("struct", "readonly"):
                fa, fb = a._get_flag(flag), b._get_flag(flag)
                if fa != fb:
                    self.diff(path, f"config flag {flag}: {fa} != {fb}")
            return
        key = (id(a), id(b))
        if isinstance(a, (dict, list, tuple)) or hasattr(a, "__dict__"):
            if key in self.seen:
                return
            self.seen.add(key)
        if isinstance(a, dict):
            ka, kb = list(a.keys()), list(b.keys())
            sa, sb = set(ka), set(kb)
            for k in ka:
                if k not in sb and not self.ignored(self.child(path, k), k, depth + 1):
                    self.diff(self.child(path, k), "only in A")
            for k in kb:
                if k not in sa and not self.ignored(self.child(path, k), k, depth + 1):
                    self.diff(self.child(path, k), "only in B")
            common_a = [k for k in ka if k in sb and not self.ignored(self.child(path, k), k, depth + 1)]
            common_b = [k for k in kb if k in sa and not self.ignored(self.child(path, k), k, depth + 1)]
            check_order = not self.ignore_order or type(a).__name__ == "OrderedDict"
            if check_order and common_a != common_b:
                self.diff(path, "key order differs")
            ma, mb = getattr(a, "_metadata", None), getattr(b, "_metadata", None)
            if (ma is None) != (mb is None):
                self.diff(path, f"_metadata {'present' if ma is not None else 'absent'} in A, "
                                f"{'present' if mb is not None else 'absent'} in B")
            elif ma is not None:
                self.compare(ma, mb, self.child(path, "_metadata"), depth + 1)
            for k in common_a:
                self.compare(a[k], b[k], self.child(path, k), depth + 1)
            return
        if isinstance(a, (list, tuple)):
            if len(a) != len(b):
                self.diff(path, f"length {len(a)} != {len(b)}")
            for i, (x, y) in enumerate(zip(a, b)):
                self.compare(x, y, self.child(path, i), depth + 1)
            return
        if isinstance(a, float):
            if struct.pack("<d", a) != struct.pack("<d", b) and not (math.isnan(a) and math.isnan(b)):
                self.diff(path, f"{a!r} != {b!r}")
            return
        if isinstance(a, (int, str, bytes, bool, type(None), complex)):
            if a != b:
                self.diff(path, f"{_short(a)} != {_short(b)}")
            return
        if isinstance(a, (torch.dtype, torch.device, torch.Size)):
            if a != b:
                self.diff(path, f"{a} != {b}")
            return
        if hasattr(a, "__dict__"):
            self.compare(vars(a), vars(b), path + ".__dict__", depth + 1)
            return
        if a != b:
            self.diff(path, f"{_short(a)} != {_short(b)}")

    @staticmethod
    def child(path: str, key) -> str:
        return f"{path}.{key}" if path else str(key)

    def compare_tensor(self, a: torch.Tensor, b: torch.Tensor, path: str) -> None:
        if a.dtype != b.dtype:
            self.diff(path, f"dtype {a.dtype} != {b.dtype}")
            return
        if tuple(a.shape) != tuple(b.shape):
            self.diff(path, f"shape {list(a.shape)} != {list(b.shape)}")
            return
        if a.requires_grad != b.requires_grad:
            self.diff(path, f"requires_grad {a.requires_grad} != {b.requires_grad}")
        if a.numel() and not torch.equal(_bits(a), _bits(b)):
            ba, bb = _bits(a).reshape(-1), _bits(b).reshape(-1)
            n = int((ba != bb).sum())
            self.diff(path, f"values differ ({n} of {a.numel()} elements)")
        if self.check_storage:
            if a.storage_offset() != b.storage_offset() or tuple(a.stride()) != tuple(b.stride()):
                self.diff(path, f"storage offset/stride {a.storage_offset()}/{list(a.stride())} != "
                                f"{b.storage_offset()}/{list(b.stride())}")
            ca, cb = _storage_cdata(a), _storage_cdata(b)
            if self.storage_map_a.setdefault(ca, cb) != cb or self.storage_map_b.setdefault(cb, ca) != ca:
                self.diff(path, "storage sharing differs")


def _short(v) -> str:
    r = repr(v)
    return r if len(r) <= 80 else r[:77] + "..."


def compare_objects(a, b, ignore=(), ignore_order=False, check_storage=False, max_diffs=100) -> tp.List[str]:
    c = Comparer(ignore, ignore_order, check_storage, max_diffs)
    c.compare(a, b)
    return c.diffs


def main(argv: tp.Sequence[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--ignore-key", action="append", default=[])
    p.add_argument("--ignore-order", action="store_true")
    p.add_argument("--check-storage", action="store_true")
    p.add_argument("--max-diffs", type=int, default=100)
    p.add_argument("--json", action="store_true")
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        a, b = load(args.a), load(args.b)
    except Exception as e:  # noqa: BLE001
        print(f"cannot load: {e}", file=sys.stderr)
        return 2
    diffs = compare_objects(a, b, args.ignore_key, args.ignore_order, args.check_storage, args.max_diffs)
    if args.json:
        print(json.dumps({"identical": not diffs, "differences": diffs}, indent=1))
    elif diffs:
        for d in diffs:
            print(d)
    else:
        print("identical")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
