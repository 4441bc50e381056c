#!/usr/bin/env python3
"""Prints, as JSON, what torch.load sees in a checkpoint - the reference that
`fsdpshard inspect --json` is compared with in tests.

Usage: describe_checkpoint.py PATH [--no-weights-only-check]

Schema (keys shared with `fsdpshard inspect --json --tensors --cfg`):
  path, torch_version, omegaconf_version
  layout         training | fsdp-rank0 | fsdp-rank-shard | exported | state-dict | unknown
  top_level      [{key, type, qualname}]   type: Python type name (dict, OrderedDict,
                                           DictConfig, list, str, bool, Tensor...),
                                           qualname: module.qualified name
                 (a file whose top level is not a dict: one entry with key "")
  state_dicts    [{path, tensors, bytes, dtypes {dtype: count}, container}]
                 path: fsdp_best_state.model | best_state.model | model | ema.state.model |
                 best_state (exported) | "" (the whole file); listed when present and a
                 dict (empty ones too, with tensors 0). container: dict | OrderedDict.
  tensors        [{name, source, dtype, shape, bytes, record, storage_key, storage_offset,
                   stride, storage_bytes, contiguous, parameter}] for every tensor of every
                 state dict above; source is the state dict's path; bytes = numel *
                 element size; record = "data/<storage_key>" (relative to the zip root)
  all_tensors    the same for EVERY tensor anywhere in the file (optimizer state too);
                 name = dotted path from the top (list indices and int keys as numbers)
  records        number of distinct storages (data/* records) the tensors use
  cfg            xp.cfg as OmegaConf.to_yaml gives it (DictConfig, or a YAML string
                 round-tripped through OmegaConf.create), null if absent
  cfg_type       DictConfig | str | null
  globals        [{name, weights_only_safe}] every GLOBAL the pickle references, sorted;
                 weights_only_safe from torch's own weights-only allow list
  weights_only_loads  true/false: torch.load(weights_only=True) succeeds (null if this
                 torch has no weights_only or the check was skipped)
  dtype names are torch's (float16, bfloat16, float32, int64, bool, float8_e4m3fn, ...).
"""
from __future__ import annotations

import collections
import json
import os
import pickle
import pickletools
import sys
import types
import typing as tp
import zipfile

import torch

try:
    import omegaconf
    from omegaconf import OmegaConf, DictConfig, ListConfig
except ImportError:  # pragma: no cover
    omegaconf = None
    OmegaConf = DictConfig = ListConfig = None  # type: ignore


def _torch_version_tuple() -> tp.Tuple[int, int]:
    parts = torch.__version__.split("+")[0].split(".")
    return int(parts[0]), int(parts[1])


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _storage_cdata(t: torch.Tensor) -> int:
    if hasattr(t, "untyped_storage"):
        return t.untyped_storage()._cdata
    s = t.storage()
    return getattr(s, "_storage", s)._cdata


def _storage_nbytes(t: torch.Tensor) -> int:
    if hasattr(t, "untyped_storage"):
        return t.untyped_storage().nbytes()
    s = t.storage()
    return getattr(s, "_storage", s).nbytes()


class _Tracker:
    """Maps storages (by StorageImpl address) to their record key while torch.load runs."""

    def __init__(self):
        self.keys: tp.Dict[int, str] = {}

    def module(self) -> types.ModuleType:
        tracker = self

        class Unpickler(pickle._Unpickler):  # pure-Python unpickler: persistent_load read at call time
            _wrapped = None

            @property
            def persistent_load(self):
                return self._wrapped

            @persistent_load.setter
            def persistent_load(self, fn):
                def wrapped(pid):
                    obj = fn(pid)
                    try:
                        key = str(pid[2])
                        s = obj
                        for attr in ("_untyped_storage", "_storage"):
                            if getattr(obj, attr, None) is not None:
                                s = getattr(obj, attr)
                                break
                        tracker.keys[s._cdata] = key
                    except Exception:
                        pass
                    return obj
                self._wrapped = wrapped

        mod = types.ModuleType("describe_pickle")
        mod.__dict__.update({k: v for k, v in pickle.__dict__.items() if not k.startswith("__")})
        mod.Unpickler = Unpickler
        return mod


def load(path: str, track: tp.Optional[_Tracker] = None):
    kwargs: tp.Dict[str, tp.Any] = {"map_location": "cpu"}
    if _torch_version_tuple() >= (1, 13):
        kwargs["weights_only"] = False
    if track is None:
        return torch.load(path, **kwargs)
    mod = track.module()
    kwargs["pickle_module"] = mod
    # torch 1.13's torch.load replaces pickle_module by its own `pickle` when
    # weights_only=False, so swap the module it refers to while loading.
    import torch.serialization as ser
    saved = ser.pickle
    ser.pickle = mod
    try:
        return torch.load(path, **kwargs)
    finally:
        ser.pickle = saved


def type_names(v) -> tp.Tuple[str, str]:
    t = type(v)
    return t.__name__, f"{t.__module__}.{t.__qualname__}"


def _is_state_dict_like(v) -> bool:
    return isinstance(v, dict) and all(isinstance(x, torch.Tensor) for x in v.values())


def find_state_dicts(obj) -> tp.List[tp.Tuple[str, dict]]:
    found: tp.List[tp.Tuple[str, dict]] = []
    if not isinstance(obj, dict):
        return found

    def get(path: tp.Sequence[str]):
        cur = obj
        for p in path:
            if not isinstance(cur, dict) or p not in cur:
                return None
            cur = cur[p]
        return cur

    exported = obj.get("exported") is True or (isinstance(obj.get("xp.cfg"), str) and "best_state" in obj)
    if exported and _is_state_dict_like(obj.get("best_state")):
        return [("best_state", obj["best_state"])]
    for path in (("fsdp_best_state", "model"), ("best_state", "model"), ("model",), ("ema", "state", "model")):
        v = get(path)
        if isinstance(v, dict) and _is_state_dict_like(v):
            found.append((".".join(path), v))
    if not found and _is_state_dict_like(obj) and len(obj) > 0:
        found.append(("", obj))
    return found


def detect_layout(obj) -> str:
    if not isinstance(obj, dict):
        return "unknown"
    if obj.get("exported") is True or (isinstance(obj.get("xp.cfg"), str) and "best_state" in obj
                                       and "model" not in obj):
        return "exported"
    if "fsdp_best_state" in obj and isinstance(obj["fsdp_best_state"], dict):
        fbs = obj["fsdp_best_state"]
        if isinstance(fbs.get("model"), dict) and len(fbs["model"]) > 0:
            return "fsdp-rank0"
        if "model" in fbs:
            return "fsdp-rank-shard"
        return "training"
    if "best_state" in obj and "model" in obj:
        return "training"
    if len(obj) > 0 and _is_state_dict_like(obj):
        return "state-dict"
    return "unknown"


def tensor_info(name: str, t: torch.Tensor, keys: tp.Dict[int, str]) -> dict:
    key = keys.get(_storage_cdata(t))
    return {
        "name": name,
        "dtype": dtype_name(t.dtype),
        "shape": list(t.shape),
        "bytes": t.numel() * t.element_size(),
        "record": f"data/{key}" if key is not None else None,
        "storage_key": key,
        "storage_offset": t.storage_offset(),
        "stride": list(t.stride()),
        "storage_bytes": _storage_nbytes(t),
        "contiguous": t.is_contiguous(),
        "parameter": isinstance(t, torch.nn.Parameter),
    }


def walk_tensors(obj, prefix: str, out: list, keys, seen: set) -> None:
    if isinstance(obj, torch.Tensor):
        out.append(tensor_info(prefix, obj, keys))
        return
    if id(obj) in seen:
        return
    if isinstance(obj, dict):
        seen.add(id(obj))
        for k, v in obj.items():
            walk_tensors(v, f"{prefix}.{k}" if prefix else str(k), out, keys, seen)
    elif isinstance(obj, (list, tuple)):
        seen.add(id(obj))
        for i, v in enumerate(obj):
            walk_tensors(v, f"{prefix}.{i}" if prefix else str(i), out, keys, seen)


def pickle_globals(path: str) -> tp.List[str]:
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl")
        data = z.read(name)
    names = set()
    strings: tp.List[str] = []
    for op, arg, _pos in pickletools.genops(data):
        if op.name in ("GLOBAL", "INST"):
            module, qual = arg.split(" ", 1)
            names.add(f"{module}.{qual}")
        elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
            names.add(f"{strings[-2]}.{strings[-1]}")
        if isinstance(arg, str):
            strings.append(arg)
    return sorted(names)


def weights_only_allowed() -> tp.Optional[set]:
    try:
        from torch._weights_only_unpickler import _get_allowed_globals
    except Exception:
        return None
    allowed = set(_get_allowed_globals().keys())
    try:
        from torch.serialization import get_safe_globals
        for g in get_safe_globals():
            obj = g[0] if isinstance(g, tuple) else g
            allowed.add(f"{obj.__module__}.{obj.__qualname__}")
    except Exception:
        pass
    return allowed


def _weights_only_name(name: str) -> str:
    # The weights-only unpickler reads protocol-2 names through _compat_pickle (fix_imports).
    if name.startswith("__builtin__."):
        return "builtins." + name[len("__builtin__."):]
    return name


def weights_only_loads(path: str) -> tp.Optional[bool]:
    if _torch_version_tuple() < (1, 13):
        return None
    try:
        torch.load(path, map_location="cpu", weights_only=True)
        return True
    except Exception:
        return False


def cfg_yaml(obj) -> tp.Tuple[tp.Optional[str], tp.Optional[str]]:
    if not isinstance(obj, dict) or "xp.cfg" not in obj:
        return None, None
    c = obj["xp.cfg"]
    if OmegaConf is None:
        return None, type(c).__name__
    if isinstance(c, (DictConfig, ListConfig)):
        return OmegaConf.to_yaml(c), type(c).__name__
    if isinstance(c, str):
        return OmegaConf.to_yaml(OmegaConf.create(c)), "str"
    if isinstance(c, dict):
        return OmegaConf.to_yaml(OmegaConf.create(c)), "dict"
    return None, type(c).__name__


def describe(path: str, check_weights_only: bool = True) -> dict:
    tracker = _Tracker()
    obj = load(path, tracker)
    keys = tracker.keys
    if isinstance(obj, dict):
        top = []
        for k, v in obj.items():
            tn, qn = type_names(v)
            top.append({"key": k, "type": tn, "qualname": qn})
    else:
        tn, qn = type_names(obj)
        top = [{"key": "", "type": tn, "qualname": qn}]
    sds = []
    tensors = []
    for sd_path, sd in find_state_dicts(obj):
        dtypes: tp.Dict[str, int] = collections.OrderedDict()
        nbytes = 0
        for name, t in sd.items():
            info = tensor_info(name, t, keys)
            info["source"] = sd_path
            tensors.append(info)
            dtypes[info["dtype"]] = dtypes.get(info["dtype"], 0) + 1
            nbytes += info["bytes"]
        sds.append({"path": sd_path, "tensors": len(sd), "bytes": nbytes, "dtypes": dtypes,
                    "container": type(sd).__name__,
                    "has_metadata": getattr(sd, "_metadata", None) is not None})
    all_tensors: tp.List[dict] = []
    walk_tensors(obj, "", all_tensors, keys, set())
    allowed = weights_only_allowed()
    globs = []
    for g in pickle_globals(path):
        safe = None if allowed is None else (_weights_only_name(g) in allowed or g in allowed)
        globs.append({"name": g, "weights_only_safe": safe})
    cfg, cfg_type = cfg_yaml(obj)
    return {
        "path": os.path.abspath(path),
        "torch_version": torch.__version__,
        "omegaconf_version": getattr(omegaconf, "__version__", None),
        "layout": detect_layout(obj),
        "top_level": top,
        "state_dicts": sds,
        "tensors": tensors,
        "all_tensors": all_tensors,
        "records": len({t["storage_key"] for t in all_tensors}),
        "cfg": cfg,
        "cfg_type": cfg_type,
        "globals": globs,
        "weights_only_loads": weights_only_loads(path) if check_weights_only else None,
    }


def main(argv: tp.Sequence[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    d = describe(args[0], check_weights_only="--no-weights-only-check" not in argv)
    json.dump(d, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
