#!/usr/bin/env python3
"""Checks that what fsdpshard wrote carries no code.

    check_output_safety.py MARKER [--weights-only] PATH...

For every torch.save file in PATH (a file, or every torch file of a folder):
  1. structure: every GLOBAL its data.pkl names is one torch.load(weights_only=True)
     allows (this torch's own list) or one of the AudioCraft globals fsdpshard allows
     (omegaconf containers/nodes, typing.Any, builtins containers, defaultdict);
  2. with --weights-only: torch.load(weights_only=True) accepts it;
  3. torch.load(weights_only=False) loads it, and MARKER (the file a payload would touch)
     still does not exist afterwards.
Prints one JSON line per file; exit 0 when all hold, 1 otherwise.
"""
import json
import os
import pickletools
import sys
import zipfile

import torch

AUDIOCRAFT = {
    "omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig", "omegaconf.base.ContainerMetadata",
    "omegaconf.base.Metadata", "omegaconf.nodes.AnyNode", "omegaconf.nodes.StringNode",
    "omegaconf.nodes.IntegerNode", "omegaconf.nodes.FloatNode", "omegaconf.nodes.BooleanNode",
    "typing.Any", "builtins.dict", "builtins.list", "builtins.int", "builtins.float", "builtins.str",
    "builtins.tuple", "builtins.bool", "collections.defaultdict",
}
PY2 = {("__builtin__", "long"): "builtins.int", ("__builtin__", "unicode"): "builtins.str"}


def torch_allowed():
    from torch import _weights_only_unpickler as w
    return set(w._get_allowed_globals())


def pickle_globals(path):
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl")
        data = z.read(name)
    found = set()
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            module, qualname = arg.split(" ", 1)
            found.add(PY2.get((module, qualname), ("builtins" if module == "__builtin__" else module) + "." + qualname))
        elif op.name in ("STACK_GLOBAL", "INST", "OBJ", "EXT1", "EXT2", "EXT4"):
            found.add("<opcode %s>" % op.name)  # fsdpshard writes none of these
    return found


def torch_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                full = os.path.join(p, name)
                if os.path.isfile(full) and zipfile.is_zipfile(full):
                    yield full
        else:
            yield p


def main(argv):
    marker, args = argv[1], argv[2:]
    weights_only = "--weights-only" in args
    paths = [a for a in args if a != "--weights-only"]
    allowed = torch_allowed() | AUDIOCRAFT
    ok = True
    count = 0
    for path in torch_files(paths):
        count += 1
        globals_ = pickle_globals(path)
        outside = sorted(globals_ - allowed)
        report = {"file": path, "globals": sorted(globals_), "outside": outside}
        if weights_only:
            try:
                torch.load(path, map_location="cpu", weights_only=True)
                report["weights_only"] = "loads"
            except Exception as e:  # noqa: BLE001 - reported, and fails the check
                report["weights_only"] = "refused: %s" % str(e).splitlines()[0]
        torch.load(path, map_location="cpu")
        report["marker_after_load"] = os.path.exists(marker)
        good = not outside and not report["marker_after_load"] and report.get("weights_only", "loads") == "loads"
        ok = ok and good
        print(json.dumps(report))
    if count == 0:
        print("no torch.save file in %s" % paths)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
