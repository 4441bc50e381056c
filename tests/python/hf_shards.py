#!/usr/bin/env python3
"""huggingface_hub's own shard output as the reference for `fsdpshard reshard` (torch 2.x venv).

  hf_shards.py make OUTDIR                   the state dicts (torch.save), one CASE.pt each
  hf_shards.py save JOBS.json                huggingface_hub.save_torch_state_dict for each job
                                             {"state", "out", "limit", "format", "metadata"}
  hf_shards.py compare (HF_DIR OUR_DIR)...   same file names, index bytes, per-file tensors
                                             (names, dtypes, shapes, bytes), safetensors metadata,
                                             storage sharing inside torch files
  hf_shards.py shared ORIGINAL GATHERED...   each GATHERED (torch.load) has ORIGINAL's tensors and
                                             every storage ORIGINAL shares is shared again
(several pairs / files per call: importing torch is the slow part)
  hf_shards.py load DIR ORIGINAL             load_torch_model into the tied module: weights equal
                                             ORIGINAL's; prints the missing keys
Exit 0 when the check holds, 1 (with the differences printed) otherwise.
"""
import json
import os
import sys

import torch
from torch import nn


class Tied(nn.Module):
    """A language-model-like module whose output head is the embedding (tied weights)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.body = nn.Linear(8, 8)
        self.head = nn.Linear(8, 50, bias=False)
        self.head.weight = self.emb.weight


def f32(n, seed):
    return torch.randn(n, generator=torch.Generator().manual_seed(seed))


def make(outdir):
    os.makedirs(outdir, exist_ok=True)
    names = []

    def add(name, sd):
        torch.save(sd, os.path.join(outdir, name + ".pt"))
        names.append(name)

    # Tensors larger than the limit in the middle (b, f): huggingface_hub puts each alone
    # at once and keeps filling the open shard ([b], [a,c], [d], [f], [e,g] at 5KB).
    big = {"a": f32(100, 1), "b": f32(3000, 2), "c": f32(200, 3), "d": f32(1000, 4), "e": f32(500, 5),
           "f": f32(2000, 6), "g": f32(10, 7).to(torch.bfloat16), "h": torch.arange(7, dtype=torch.int64)}
    add("big_middle", big)
    # Tied weights (a module's state_dict) plus one tensor under two names: each storage
    # counted once in total_size, the second names dropped from safetensors and recorded.
    torch.manual_seed(3)
    tied = Tied().state_dict()
    x = f32(64, 8)
    tied["x"] = x
    tied["x_again"] = x
    tied["z"] = f32(300, 9)
    add("tied", tied)
    # A reshaped view of a whole storage: huggingface_hub drops it (keeping "x") and its
    # shape is lost; fsdpshard refuses it in safetensors, keeps it shared in torch files.
    add("reshaped_view", {"x": x, "x_2d": x.view(8, 8), "y": f32(10, 15)})
    # One shard: model.safetensors / pytorch_model.bin alone, no index.
    add("single", {"w": f32(16, 10), "b": f32(4, 11)})
    # User metadata carried into the index; names needing JSON escapes.
    add("names", {"enc.w\u00e9": f32(400, 12), "enc.\"q\"": f32(400, 13), "dec\\w\U0001f600": f32(400, 14)})
    # A safetensors file whose metadata mixes a tied-name record ("alias": "w") with entries
    # that must not become tensors: "format": "pt" beside a tensor named "pt", a record
    # naming no tensor, a name recorded as itself. It reads back as odd_expected.pt.
    from safetensors.torch import save_file
    w, pt = f32(6, 16), f32(3, 17)
    save_file({"w": w, "pt": pt}, os.path.join(outdir, "odd_metadata.safetensors"),
              metadata={"format": "pt", "ghost": "missing", "w": "w", "alias": "w"})
    torch.save({"w": w, "pt": pt, "alias": w}, os.path.join(outdir, "odd_expected.pt"))
    print(f"{len(names)} state dicts in {outdir}: {' '.join(names)}, odd_metadata.safetensors")
    return 0


def save(jobs_file):
    from huggingface_hub import save_torch_state_dict
    with open(jobs_file, encoding="utf-8") as fh:
        jobs = json.load(fh)
    for job in jobs:
        sd = torch.load(job["state"], map_location="cpu", weights_only=True)
        os.makedirs(job["out"], exist_ok=True)
        save_torch_state_dict(sd, job["out"], max_shard_size=job["limit"], metadata=job["metadata"] or None,
                              safe_serialization=job["format"] == "safetensors")
        print(job["out"], " ".join(sorted(os.listdir(job["out"]))))
    return 0


def load_file(path):
    """(tensors, metadata) of one shard file."""
    if path.endswith(".safetensors"):
        from safetensors import safe_open
        with safe_open(path, framework="pt") as fh:
            return {k: fh.get_tensor(k) for k in fh.keys()}, fh.metadata()
    return torch.load(path, map_location="cpu", weights_only=True), None


def sharing(sd):
    """Groups of names whose tensors use one storage."""
    groups = {}
    for k, v in sd.items():
        groups.setdefault(v.untyped_storage().data_ptr(), []).append(k)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def compare_all(dirs):
    failed = 0
    for hf_dir, our_dir in zip(dirs[0::2], dirs[1::2]):
        print(f"== {hf_dir} vs {our_dir}")
        failed |= compare(hf_dir, our_dir)
    return failed


def compare(hf_dir, our_dir):
    problems = []
    hf_files = sorted(os.listdir(hf_dir))
    ours = sorted(f for f in os.listdir(our_dir) if f != "config.yaml")
    if hf_files != ours:
        problems.append(f"files: huggingface_hub {hf_files} vs fsdpshard {ours}")
    for name in sorted(set(hf_files) & set(ours)):
        a_path, b_path = os.path.join(hf_dir, name), os.path.join(our_dir, name)
        if name.endswith(".json"):
            a, b = open(a_path, "rb").read(), open(b_path, "rb").read()
            if a != b:
                problems.append(f"{name}: bytes differ\n--- huggingface_hub\n{a.decode()}\n--- fsdpshard\n{b.decode()}")
            continue
        (a, a_meta), (b, b_meta) = load_file(a_path), load_file(b_path)
        if a_meta != b_meta:
            problems.append(f"{name}: metadata {a_meta} vs {b_meta}")
        if list(a) != list(b) and (name.endswith(".bin") or set(a) != set(b)):
            problems.append(f"{name}: tensors {list(a)} vs {list(b)}")
        for k in a.keys() & b.keys():
            x, y = a[k], b[k]
            if x.dtype != y.dtype or x.shape != y.shape or not torch.equal(x, y):
                problems.append(f"{name}:{k}: {x.dtype} {tuple(x.shape)} vs {y.dtype} {tuple(y.shape)} or values")
        if sharing(a) != sharing(b):
            problems.append(f"{name}: shared storages {sharing(a)} vs {sharing(b)}")
    for p in problems:
        print(p)
    print(f"{len(hf_files)} files compared, {len(problems)} problem(s)")
    return 1 if problems else 0


def shared_all(original, gathered_files):
    failed = 0
    for gathered in gathered_files:
        print(f"== {gathered}")
        failed |= shared(original, gathered)
    return failed


def shared(original, gathered):
    a = torch.load(original, map_location="cpu", weights_only=True)
    b = torch.load(gathered, map_location="cpu", weights_only=True)
    problems = []
    if set(a) != set(b):
        problems.append(f"names: {sorted(set(a) ^ set(b))} differ")
    for k in a.keys() & b.keys():
        if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape or not torch.equal(a[k], b[k]):
            problems.append(f"{k}: differs")
    want, got = sharing(a), sharing(b)
    if want != got:
        problems.append(f"sharing: original {want} vs gathered {got}")
    for group in want:
        # A restored name is a view of the kept tensor: where the original's tensors start
        # at one address, so do the gathered ones.
        if len({a[k].data_ptr() for k in group}) != len({b[k].data_ptr() for k in group if k in b}):
            problems.append(f"{group}: not at the same addresses as in the original")
    for p in problems:
        print(p)
    print(f"{len(b)} tensors, shared groups {got}, {len(problems)} problem(s)")
    return 1 if problems else 0


def load(directory, original):
    from huggingface_hub import load_torch_model
    ref = torch.load(original, map_location="cpu", weights_only=True)
    model = Tied()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    pickled = any(f.endswith(".bin") for f in os.listdir(directory))
    result = load_torch_model(model, directory, strict=False, safe=not pickled, weights_only=True)
    problems = [k for k, v in model.state_dict().items() if not torch.equal(v, ref[k])]
    print(json.dumps({"missing": sorted(result.missing_keys), "unexpected": sorted(result.unexpected_keys),
                      "tied": model.head.weight.data_ptr() == model.emb.weight.data_ptr(), "wrong": problems}))
    return 1 if problems else 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make":
        return make(args[0])
    if cmd == "save":
        return save(args[0])
    if cmd == "compare":
        return compare_all(args)
    if cmd == "shared":
        return shared_all(args[0], args[1:])
    if cmd == "load":
        return load(args[0], args[1])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
