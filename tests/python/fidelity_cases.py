#!/usr/bin/env python3
"""Checkpoints torch writes (or torch writes and a plain zip/pickle edit bends) that test how
fsdpshard keeps data it is not used to: keys that are not UTF-8, the empty key, storages
viewed as several dtypes, deflated records, every dtype torch 2.x saves
(tests/integration/data_fidelity_test.cpp).

  fidelity_cases.py make CASE OUT        write case CASE to OUT
  fidelity_cases.py load OUT             torch.load OUT; print its keys (repr), exit 1 if it fails
  fidelity_cases.py same A B             A and B load to the same keys, dtypes, shapes and bytes,
                                         and tensors sharing a storage in A share one in B
  fidelity_cases.py json FILE KEY        FILE is valid JSON holding the string KEY (a Python
                                         literal, e.g. "'a\\ufffd'") somewhere
  fidelity_cases.py safetensors FILE A   FILE loads with safetensors and equals A's tensors
Cases needing torch 2.x (dtypes, untyped_views) must run with the torch 2.x interpreter."""
import ast
import io
import json
import sys
import zipfile

import torch


def edit_pickle(path, old, new):
    """Rewrites data.pkl of the torch file at `path`, replacing bytes `old` by `new` once."""
    with zipfile.ZipFile(path) as z:
        records = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w") as out:
        for info, data in records:
            if info.filename.endswith("/data.pkl"):
                assert data.count(old) >= 1, (old, data)
                data = data.replace(old, new, 1)
            out.writestr(info, data)


def recompress(path, which):
    """Rewrites `path` with the records `which(name)` picks deflated, the others stored."""
    with zipfile.ZipFile(path) as z:
        records = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w") as out:
        for name, data in records:
            out.writestr(name, data, zipfile.ZIP_DEFLATED if which(name) else zipfile.ZIP_STORED)


def tensors():
    return {"w": torch.arange(6, dtype=torch.float32), "b": torch.arange(4, dtype=torch.float16)}


def new_dtype_tensors():
    # Every dtype torch 2.x saves that the legacy storage classes cannot name: each one
    # through _rebuild_tensor_v3 over a torch.UntypedStorage. Random bytes, viewed.
    names = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
             "float4_e2m1fn_x2", "uint16", "uint32", "uint64", "complex32", "bcomplex32", "bits8",
             "bits16", "bits1x8", "bits2x4", "bits4x2",
             "complex64"]  # a legacy dtype, here for its safetensors name (C64)
    g = torch.Generator().manual_seed(3)
    out = {}
    for name in names:
        dtype = getattr(torch, name, None)
        if dtype is None:
            continue
        size = torch.empty((), dtype=dtype).element_size()
        raw = torch.randint(0, 256, (6 * size,), generator=g, dtype=torch.uint8)
        out[name] = raw.view(dtype).reshape(2, 3)
    return out


def make(case, path):
    if case == "surrogate_key":      # str key with a lone surrogate: pickle writes it (surrogatepass)
        t = tensors()
        torch.save({"a\udcff": t["w"], "b": t["b"]}, path)
    elif case == "ff_unicode_key":   # BINUNICODE whose bytes are not UTF-8 at all (0xFF)
        torch.save({"aZ": tensors()["w"]}, path)
        edit_pickle(path, b"X\x02\x00\x00\x00aZ", b"X\x02\x00\x00\x00a\xff")
    elif case == "bytes_key":        # a bytes key (BINBYTES under protocol 3+)
        torch.save({b"\xff\xfe": tensors()["w"]}, path, pickle_protocol=3)
    elif case == "empty_key":
        t = tensors()
        torch.save({"": t["w"], "b": t["b"]}, path)
    elif case == "mixed_storage":    # one storage named as HalfStorage and as FloatStorage
        torch.save({"a": torch.arange(8, dtype=torch.float16), "b": torch.arange(4, dtype=torch.float32)}, path)
        edit_pickle(path, b"FloatStorage\nq\x0fX\x01\x00\x00\x001", b"FloatStorage\nq\x0fX\x01\x00\x00\x000")
    elif case == "float8_storage_class":  # a typed storage class torch does not have
        torch.save({"a": torch.arange(8, dtype=torch.float16)}, path)
        edit_pickle(path, b"ctorch\nHalfStorage\n", b"ctorch\nFloat8_e4m3fnStorage\n")
    elif case == "deflated_pickle":  # data.pkl and the small records deflated, tensors stored
        torch.save(tensors(), path)
        recompress(path, lambda name: "/data/" not in name)
    elif case == "deflated_tensors":  # every record deflated, tensor records included
        torch.save(tensors(), path)
        recompress(path, lambda name: True)
    elif case == "untyped_views":    # torch 2.x: a float8 tensor and a uint8 view of its bytes
        x = torch.arange(12, dtype=torch.float32).to(torch.float8_e4m3fn)
        torch.save({"f8": x, "u8": x.view(torch.uint8), "u16": x.view(torch.uint16)}, path)
    elif case == "dtypes":           # torch 2.x: every dtype it saves
        torch.save(new_dtype_tensors(), path)
    else:
        raise SystemExit(f"unknown case {case}")
    return 0


def load(path):
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # the point: does torch read it at all
        print(f"torch.load fails: {type(e).__name__}: {e}")
        return 1
    print(repr(list(obj.keys())))
    return 0


def raw(t):
    return t.contiguous().view(torch.uint8) if t.numel() else t


def same(a_path, b_path):
    a = torch.load(a_path, map_location="cpu", weights_only=False)
    b = torch.load(b_path, map_location="cpu", weights_only=False)
    problems = []
    if list(a.keys()) != list(b.keys()):
        problems.append(f"keys {list(a.keys())!r} vs {list(b.keys())!r}")
    for k in a.keys() & b.keys():
        x, y = a[k], b[k]
        if x.dtype != y.dtype or x.shape != y.shape or x.stride() != y.stride():
            problems.append(f"{k!r}: {x.dtype} {tuple(x.shape)} vs {y.dtype} {tuple(y.shape)}")
        elif not torch.equal(raw(x), raw(y)):
            problems.append(f"{k!r}: bytes differ")
    def sharing(d):
        groups = {}
        for k, t in d.items():
            groups.setdefault(t.untyped_storage().data_ptr(), []).append(k)
        return sorted(sorted(map(repr, g)) for g in groups.values())
    if sharing(a) != sharing(b):
        problems.append(f"storage sharing {sharing(a)} vs {sharing(b)}")
    for p in problems:
        print(p)
    print(f"{len(a)} tensors, {len(problems)} problem(s)")
    return 1 if problems else 0


def json_holds(path, key_literal):
    key = ast.literal_eval(key_literal)
    text = open(path, "rb").read().decode("utf-8")  # strict: the file must be UTF-8
    found = []
    def walk(v):
        if isinstance(v, str):
            found.append(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                found.append(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(json.loads(text))
    print(f"{key!r} {'found' if key in found else 'missing'}")
    return 0 if key in found else 1


def safetensors_equal(path, reference):
    from safetensors.torch import load_file
    got = load_file(path)
    want = torch.load(reference, map_location="cpu", weights_only=False)
    problems = [k for k in want if k not in got or got[k].dtype != want[k].dtype or not torch.equal(raw(got[k]), raw(want[k]))]
    print(f"keys {list(got.keys())!r}, {len(problems)} differ: {problems!r}")
    return 1 if problems or list(got.keys()) != list(want.keys()) else 0


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    sys.exit({"make": make, "load": load, "same": same, "json": json_holds,
              "safetensors": safetensors_equal}[command](*args))
