#!/usr/bin/env python3
"""Loading a large checkpoint in C++ with fsdpshard::libtorch::load vs Python's
torch.load(mmap=True) vs torch.load: time to first tensor, time to every tensor, peak RSS.

Usage: torch_api_bench.py [--scale xsmall|small|medium|large] [--kind exported|training]
                          [--work DIR] [--build DIR] [--results FILE]
One run per contender and mode, side by side, warm page cache (the file is read once
before). Each contender is its own process (wait4's ru_maxrss is its peak RSS):
  fsdpshard-torch  build/fsdpshard_torch_load_bench (benchmarks/torch_api_load.cpp),
                   zero-copy views of a private mapping of the file
  torch-mmap       torch.load(path, mmap=True) (torch >= 2.1: the torch 2.x venv)
  torch            torch.load(path)
Modes: first (load, then read the first tensor's storage), all (load, then read every
tensor's storage). Times are measured inside the process from the call to the load, so
interpreter start-up and `import torch` are not in them; the process wall time is shown
too. The checkpoint comes from make_checkpoint.py (cached in --work). Heavy at the larger
scales: run it on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MAKER_PYTHON = "/usr/bin/python3"
TORCH2_PYTHON = os.environ.get("FSDPSHARD_TORCH2_PYTHON",
                               os.path.expanduser("~/.cache/fsdpshard/venv-torch2/bin/python"))

# The Python contenders: the same two steps as torch_api_load.cpp.
PY_CONTENDER = r"""
import json, sys, time
import torch
path, mode, mmap = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
def pick(obj):
    if "best_state" in obj and isinstance(obj["best_state"], dict):
        obj = obj["best_state"]
        return obj["model"] if "model" in obj else obj
    return obj
def touch(t):
    b = t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage().untyped()
    b = torch.tensor([], dtype=torch.uint8).set_(b)
    return int(b[::64].sum()) if b.numel() else 0
start = time.perf_counter()
kw = {"mmap": True} if mmap else {}
sd = pick(torch.load(path, map_location="cpu", weights_only=False, **kw))
tensors = [v for v in sd.values() if isinstance(v, torch.Tensor)]
s = touch(tensors[0])
out = {"first_s": time.perf_counter() - start}
if mode == "all":
    for t in tensors:
        s += touch(t)
    out["all_s"] = time.perf_counter() - start
print(json.dumps(out))
"""


def run(argv: list[str]) -> dict:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv[0]} failed: {err[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(wall_s=wall, peak_rss=usage.ru_maxrss * 1024)
    return result


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--scale", default="small")
    p.add_argument("--kind", default="exported", choices=["exported", "training"])
    p.add_argument("--work", default=os.path.join(REPO, "build", "bench-torch-api"))
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--results", default="")
    a = p.parse_args()

    subprocess.run(["cmake", "--build", a.build, "--target", "fsdpshard_torch_load_bench"], check=True)
    loader = os.path.join(a.build, "fsdpshard_torch_load_bench")
    path = os.path.join(a.work, f"{a.scale}-{a.kind}", "state_dict.bin" if a.kind == "exported" else "checkpoint.th")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run([MAKER_PYTHON, os.path.join(HERE, "make_checkpoint.py"), "--scale", a.scale, "--kind", a.kind,
                        "-o", path], check=True)
    with open(path, "rb") as f:  # warm the page cache: every contender starts alike
        while f.read(64 << 20):
            pass

    contenders = [("fsdpshard-torch", lambda mode: [loader, path, mode])]
    torch2 = TORCH2_PYTHON if os.path.exists(TORCH2_PYTHON) else ""
    if torch2:
        contenders.append(("torch-mmap", lambda mode: [torch2, "-c", PY_CONTENDER, path, mode, "1"]))
    contenders.append(("torch", lambda mode: [torch2 or MAKER_PYTHON, "-c", PY_CONTENDER, path, mode, "0"]))

    size = os.path.getsize(path)
    lines = [f"Loading {os.path.basename(path)} ({a.scale} {a.kind}, {size / 2**30:.2f} GiB), one run each, warm cache",
             "", "| contender | mode | to first tensor (s) | to all tensors (s) | process wall (s) | peak RSS (MiB) |",
             "|---|---|---|---|---|---|"]
    for name, argv_of in contenders:
        for mode in ("first", "all"):
            r = run(argv_of(mode))
            all_s = f"{r['all_s']:.3f}" if "all_s" in r else "-"
            lines.append(f"| {name} | {mode} | {r['first_s']:.3f} | {all_s} | {r['wall_s']:.2f} | "
                         f"{r['peak_rss'] / 2**20:.0f} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.results:
        with open(a.results, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
