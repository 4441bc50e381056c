#!/usr/bin/env python3
"""Writes a synthetic AudioCraft/MusicGen checkpoint with the real torch.save.

  make_checkpoint.py --scale {micro,tiny,mini,xsmall,small,medium,large}
                     --kind {training,fsdp,exported} [--world N] [--rank R | --all-ranks]
                     [--seed S] [--scratch DIR|auto|none] -o PATH

Kinds (docs/FORMATS.md §5, §6; tests/fixtures/audiocraft_like.py does the work):
  training  non-FSDP checkpoint.th: fp32 `model`, AdamW `optimizer` (exp_avg, exp_avg_sq,
            step), fp16 `best_state`, `fsdp_best_state = {}`, DictConfig `xp.cfg`, history,
            lr_scheduler, scaler, ema
  fsdp      the file of FSDP rank R of --world N: rank 0 holds the full fp16
            fsdp_best_state, every rank its 1-D local pieces of model/optimizer/best_state/ema.
            PATH is rank 0's name (checkpoint.th); rank R > 0 is written to PATH.R.
            --all-ranks writes every rank's file.
  exported  state_dict.bin as audiocraft's export_lm writes it

Scales (dim/heads/layers, card 2048, 4 codebooks): xsmall 512/8/8 (~33M params),
small 1024/16/24 (~420M), medium 1536/24/48 (~1.84B), large 2048/32/48 (~3.26B);
micro/tiny/mini are test and demo sizes.

Memory: torch.save needs every tensor to exist while it writes, so by default the tensors
of medium and large (and any run with --scratch DIR) live in unlinked memory-mapped scratch
files next to the output (--scratch auto): Python's anonymous memory stays small, the page
cache holds the data, and the scratch space (about the checkpoint size) is freed at exit.
Data is random (never zeros) and reproducible by --seed; for tensors above 4M elements it
is drawn from a seeded random pool at random offsets (fast enough for multi-GB files).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "fixtures"))

import torch  # noqa: E402

import audiocraft_like as A  # noqa: E402

BIG_SCALES = ("medium", "large")


def estimate_bytes(kind: str, scale: str, world: int, rank: int) -> int:
    n = A.param_count(scale)
    if kind == "exported":
        return 2 * n
    if kind == "training":
        return n * (4 + 2 + 8 + 4)  # model fp32, best fp16, exp_avg + exp_avg_sq, ema
    local = n // world
    return (2 * n if rank == 0 else 0) + local * (4 + 2 + 8 + 4)


def main(argv) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1].strip(),
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--scale", required=True, choices=sorted(A.SCALES))
    p.add_argument("--kind", required=True, choices=["training", "fsdp", "exported"])
    p.add_argument("--world", type=int, default=2, help="FSDP world size (kind fsdp)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--rank", type=int, default=0, help="FSDP rank whose file to write (kind fsdp)")
    g.add_argument("--all-ranks", action="store_true", help="write every rank's file (kind fsdp)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scratch", default="auto",
                   help="folder for memory-mapped tensor scratch files, 'auto' (medium/large: next to "
                        "the output) or 'none' (all in memory)")
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args(argv)

    if args.world < 1 or not (0 <= args.rank < args.world):
        p.error("need 0 <= --rank < --world")
    out = os.path.abspath(args.output)
    out_dir = os.path.dirname(out)
    os.makedirs(out_dir, exist_ok=True)

    scratch_root = None
    if args.scratch == "auto":
        scratch_root = out_dir if args.scale in BIG_SCALES else None
    elif args.scratch != "none":
        scratch_root = args.scratch
    scratch = tempfile.mkdtemp(prefix=".make_checkpoint-", dir=scratch_root) if scratch_root else None

    ranks = list(range(args.world)) if args.all_ranks else [args.rank]
    t0 = time.time()
    try:
        written = []
        if args.kind == "fsdp":
            est = sum(estimate_bytes("fsdp", args.scale, args.world, r) for r in ranks)
            print(f"writing {args.scale} fsdp rank(s) {ranks} of {args.world}, ~{est / 1e9:.2f} GB", file=sys.stderr)
            for r in ranks:
                f = A.TensorFactory(args.seed * 7919 + r, scratch_dir=scratch)
                ck = A.fsdp_checkpoint(args.scale, rank=r, world_size=args.world, seed=args.seed, factory=f,
                                       scale_name=args.scale)
                path = out if r == 0 else f"{out}.{r}"
                A.save(ck, path)
                del ck, f
                written.append(path)
        else:
            est = estimate_bytes(args.kind, args.scale, 1, 0)
            print(f"writing {args.scale} {args.kind}, ~{est / 1e9:.2f} GB", file=sys.stderr)
            f = A.TensorFactory(args.seed, scratch_dir=scratch)
            if args.kind == "training":
                ck = A.training_checkpoint(args.scale, seed=args.seed, factory=f, scale_name=args.scale)
            else:
                ck = A.exported_checkpoint(args.scale, seed=args.seed, factory=f, scale_name=args.scale)
            A.save(ck, out)
            del ck
            written.append(out)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for w in written:
        print(f"{w}\t{os.path.getsize(w)} bytes")
    print(f"done in {time.time() - t0:.1f}s, peak RSS {rss_mb:.0f} MB (torch {torch.__version__})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
