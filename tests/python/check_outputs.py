#!/usr/bin/env python3
"""Checks many fsdpshard outputs against their inputs in one interpreter (torch's import is
the slow part of every Python check): the torch 2.x venv's or Debian's torch 1.13.

Usage: check_outputs.py PLAN.json

PLAN.json: {"checks": [CHECK, ...]}; each CHECK has "output" (a torch.save file, a
.safetensors file or a shard folder as `reshard` writes it) and any of:
  "same_as": {"reference": PATH, "ref_key": "best_state.model", "out_key": "", "ignore": [KEY...]}
      the output's subtree at out_key ("" = all) equals the reference's at ref_key:
      torch outputs deeply (types, OrderedDict order and _metadata, tensors bitwise;
      compare_checkpoints.py), safetensors outputs and shard sets tensor by tensor;
  "cfg": {"reference": PATH, "sets": ["k=v", ...], "type": "DictConfig"|"str"}
      OmegaConf.to_yaml of the output's xp.cfg equals the reference's with the --set edits,
      and xp.cfg has that Python type;
  "version": "1.3.0"       the output's 'version' entry;
  "weights_only": true     torch.load(weights_only=True) accepts the output;
  "offsets": true          torch 2.7+'s computed storage offsets are right (check_torch2_offsets.py);
  "fsdp_same": DIR          the output folder's FSDP rank files equal DIR's (check_fsdp_ranks.py same);
  "records_from": PATH     the zip records torch writes besides data.pkl and data/* (.format_version,
      .storage_alignment, byteorder, version, .data/serialization_id...) are PATH's,
      same names, same order, same bytes.
Prints one line per check ("ok ..." or "FAIL ..."); exit 0 when all pass, 1 otherwise.
"""
from __future__ import annotations

import json
import os
import sys
import typing as tp
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import compare_checkpoints as C  # noqa: E402

_loaded: tp.Dict[str, tp.Any] = {}


def load(path: str):
    if path not in _loaded:
        _loaded[path] = C.load(path)
    return _loaded[path]


def subtree(obj, dotted: str):
    for part in dotted.split(".") if dotted else []:
        obj = obj[part]
    return obj


def load_tensors(path: str) -> tp.Dict[str, torch.Tensor]:
    """A .safetensors file or a shard folder, as one name -> tensor map."""
    if os.path.isdir(path):
        index = [f for f in os.listdir(path) if f.endswith(".index.json")]
        if len(index) == 1:
            with open(os.path.join(path, index[0])) as f:
                files = sorted(set(json.load(f)["weight_map"].values()))
        else:
            files = sorted(f for f in os.listdir(path) if f.endswith((".safetensors", ".bin")))
        merged: tp.Dict[str, torch.Tensor] = {}
        for name in files:
            part = load_tensors(os.path.join(path, name))
            if set(part) & set(merged):
                raise ValueError(f"{name} repeats tensors of another shard")
            merged.update(part)
        return merged
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        return load_file(path)
    return dict(load(path))


def check_same_as(out: str, spec: dict) -> tp.List[str]:
    ref = subtree(load(spec["reference"]), spec.get("ref_key", ""))
    if os.path.isdir(out) or out.endswith(".safetensors"):
        got = load_tensors(out)
        problems = [f"missing {k}" for k in ref if k not in got] + [f"extra {k}" for k in got if k not in ref]
        for k in ref:
            if k in got and not (got[k].dtype == ref[k].dtype and got[k].shape == ref[k].shape and
                                 torch.equal(C._bits(got[k]), C._bits(ref[k]))):
                problems.append(f"{k}: differs")
        return problems
    got = subtree(load(out), spec.get("out_key", ""))
    return C.compare_objects(ref, got, ignore=tuple(spec.get("ignore", ())))


def check_cfg(out: str, spec: dict) -> tp.List[str]:
    from omegaconf import OmegaConf
    cfg = load(spec["reference"])["xp.cfg"]
    cfg = OmegaConf.create(cfg) if isinstance(cfg, str) else cfg.copy()
    OmegaConf.set_struct(cfg, False)  # fsdpshard edits offline, new keys included
    if spec.get("sets"):
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(spec["sets"]))
    got = load(out)["xp.cfg"]
    problems = []
    if type(got).__name__ != spec["type"]:
        problems.append(f"xp.cfg is a {type(got).__name__}, expected {spec['type']}")
    text = OmegaConf.to_yaml(OmegaConf.create(got) if isinstance(got, str) else got)
    if text != OmegaConf.to_yaml(cfg):
        problems.append("xp.cfg differs from the reference with the edits")
    return problems


def torch_records(path: str) -> tp.List[tp.Tuple[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        out = []
        for info in z.infolist():
            rel = info.filename.split("/", 1)[1]
            if rel != "data.pkl" and not rel.startswith("data/"):
                out.append((rel, z.read(info)))
        return out


def run(check: dict) -> tp.List[str]:
    out = check["output"]
    problems: tp.List[str] = []
    if "same_as" in check:
        problems += check_same_as(out, check["same_as"])
    if "cfg" in check:
        problems += check_cfg(out, check["cfg"])
    if "version" in check and load(out).get("version") != check["version"]:
        problems.append(f"version is {load(out).get('version')!r}, expected {check['version']!r}")
    if check.get("weights_only"):
        try:
            torch.load(out, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any refusal is the finding
            problems.append(f"torch.load(weights_only=True) refuses it: {str(e).splitlines()[0]}")
    if "records_from" in check:
        want, got = torch_records(check["records_from"]), torch_records(out)
        if want != got:
            problems.append(f"torch's records differ: {[n for n, _ in got]} vs the input's {[n for n, _ in want]}")
    if "fsdp_same" in check:
        import check_fsdp_ranks
        problems += check_fsdp_ranks.same(out, check["fsdp_same"])
    if check.get("offsets"):
        import check_torch2_offsets
        if check_torch2_offsets.main([out] + (["--weights-only"] if check.get("weights_only") else [])) != 0:
            problems.append("computed storage offsets are wrong (line above)")
    return problems


def main(argv) -> int:
    with open(argv[0]) as f:
        checks = json.load(f)["checks"]
    failed = 0
    for check in checks:
        what = ", ".join(k for k in check if k != "output")
        try:
            problems = run(check)
        except Exception as e:  # noqa: BLE001 - report and go on with the other checks
            problems = [f"{type(e).__name__}: {e}"]
        if problems:
            failed += 1
            print(f"FAIL {check['output']} ({what}): " + "; ".join(problems[:5]))
        else:
            print(f"ok {check['output']} ({what})")
    print(f"torch {torch.__version__}: {len(checks) - failed}/{len(checks)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
