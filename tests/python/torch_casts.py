#!/usr/bin/env python3
"""torch's own casts, for tests/integration/cast_torch2_test.cpp (run with torch 2.x).

  torch_casts.py cast IN FROM TO OUT   raw little-endian elements of dtype FROM in IN,
                                       cast with .to(TO) as one contiguous tensor, raw to OUT
  torch_casts.py make OUT              a state dict whose tensors hold every 16-bit pattern
                                       (float16, bfloat16) and NaN/tie/subnormal float32s
  torch_casts.py check IN OUT DTYPE    OUT's tensors are bit for bit IN's tensors .to(DTYPE)
Exit 0 when fine, 1 with the first differences printed otherwise."""
import sys

import torch

BITS = {2: torch.int16, 4: torch.int32}


def raw(tensor):
    return tensor.contiguous().view(BITS[tensor.element_size()])


def cast(path_in, source, target, path_out):
    source, target = getattr(torch, source), getattr(torch, target)
    data = bytearray(open(path_in, "rb").read())
    tensor = torch.frombuffer(data, dtype=source)
    result = tensor.to(target)
    assert result.is_contiguous() and result.dtype == target
    open(path_out, "wb").write(result.view(torch.uint8).numpy().tobytes())
    return 0


def make(path_out):
    every16 = torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16)
    gen = torch.Generator().manual_seed(7)
    specials = torch.tensor([0x7FC00000, 0x7FA12345, 0x7F800001, 0x00000001, 0x007FFFFF,
                             0x477FF000, 0x33000000, 0x3F808000, 0x3F801000], dtype=torch.int64)
    randoms = torch.randint(0, 2**32, (1 << 20,), generator=gen, dtype=torch.int64)
    nans = 0x7F800000 | torch.randint(1, 1 << 23, (1 << 16,), generator=gen, dtype=torch.int64)
    f32 = torch.cat([specials, specials | 0x80000000, randoms, nans, nans | 0x80000000])
    f32 = torch.cat([f32, torch.zeros(-len(f32) % 64, dtype=torch.int64)])
    f32 = torch.where(f32 >= 2**31, f32 - 2**32, f32).to(torch.int32).view(torch.float32)
    state = {"half": every16.view(torch.float16), "bfloat16": every16.clone().view(torch.bfloat16),
             "float32": f32.reshape(-1, 64)}
    torch.save(state, path_out)
    return 0


def check(path_in, path_out, dtype):
    dtype = getattr(torch, dtype)
    source = torch.load(path_in, weights_only=True)
    ours = torch.load(path_out, weights_only=True)
    problems = 0
    for name, tensor in source.items():
        want = tensor.to(dtype)
        got = ours[name]
        if got.dtype != want.dtype or got.shape != want.shape:
            print(f"{name}: {got.dtype} {tuple(got.shape)}, torch {want.dtype} {tuple(want.shape)}")
            problems += 1
            continue
        differ = (raw(got) != raw(want)).flatten().nonzero().flatten()
        for i in differ[:5].tolist():
            print(f"{name}[{i}]: input 0x{raw(tensor).flatten()[i].item() & 0xFFFFFFFF:x}"
                  f" ours 0x{raw(got).flatten()[i].item() & 0xFFFFFFFF:x}"
                  f" torch 0x{raw(want).flatten()[i].item() & 0xFFFFFFFF:x}")
        problems += len(differ)
        print(f"{name}: {tensor.numel()} elements {tensor.dtype} -> {dtype}, {len(differ)} differ")
    return 1 if problems else 0


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    sys.exit({"cast": cast, "make": make, "check": check}[command](*args))
