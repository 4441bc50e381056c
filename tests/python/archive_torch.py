"""Torch-side helpers for the archive tests (run with the interpreter that has torch).

  save OUT             torch.save a mixed checkpoint to OUT (root folder: OUT's base name)
  save_bytesio OUT     the same, saved to a BytesIO then written out (root: 'archive')
  zipinfo FILE         JSON list of records as Python's zipfile sees them
  check FILE           zipfile.testzip() and 64-byte data alignment, as JSON
  compare A B          torch.load both; exit 0 when tensors and objects are equal
  big_pickle OUT N     data.pkl for a uint8 tensor of N bytes in record data/0
  big_check FILE N     zipfile size/CRC of data/0 and torch.load of the N-byte tensor
"""
import collections
import io
import json
import pickle
import struct
import sys
import zipfile

import torch


def checkpoint():
    torch.manual_seed(0)
    base = torch.randn(6, 5)
    return {
        "model": collections.OrderedDict(
            [
                ("linear.weight", torch.randn(4, 3)),
                ("linear.bias", torch.arange(4, dtype=torch.float16)),
                ("emb", torch.randn(3, 2).to(torch.bfloat16)),
                ("steps", torch.tensor([1, 2, 3], dtype=torch.int64)),
                ("mask", torch.tensor([True, False, True])),
                ("bytes", torch.arange(200, dtype=torch.uint8)),
            ]
        ),
        # Views sharing one storage, one of them strided.
        "base": base,
        "view_row": base[2],
        "view_col": base[:, 1],
        "scalar": torch.tensor(3.5, dtype=torch.float64),
        "empty": torch.zeros(0, 4),
        "many": [torch.full((i + 1,), float(i)) for i in range(12)],  # keys 0..11+ sort as strings
        "meta": {"epoch": 7, "name": "weird", "lr": 1e-3, "tags": ("a", "b"), "none": None},
    }


def zip_records(path):
    out = []
    with open(path, "rb") as raw, zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            raw.seek(info.header_offset)
            header = raw.read(30)
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            out.append(
                {
                    "name": info.filename,
                    "header_offset": info.header_offset,
                    "data_offset": info.header_offset + 30 + name_len + extra_len,
                    "size": info.file_size,
                    "compress_size": info.compress_size,
                    "crc": info.CRC,
                    "method": info.compress_type,
                }
            )
    return out


def equal(a, b, path="root"):
    if isinstance(a, torch.Tensor):
        if not isinstance(b, torch.Tensor):
            raise AssertionError(f"{path}: tensor vs {type(b)}")
        if a.dtype != b.dtype or a.shape != b.shape or a.stride() != b.stride():
            raise AssertionError(f"{path}: {a.dtype}{tuple(a.shape)} vs {b.dtype}{tuple(b.shape)}")
        if not torch.equal(a, b):
            raise AssertionError(f"{path}: values differ")
        return
    if type(a) is not type(b):
        raise AssertionError(f"{path}: {type(a)} vs {type(b)}")
    if isinstance(a, dict):
        if list(a.keys()) != list(b.keys()):
            raise AssertionError(f"{path}: keys {list(a)} vs {list(b)}")
        for k in a:
            equal(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        if len(a) != len(b):
            raise AssertionError(f"{path}: length {len(a)} vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            equal(x, y, f"{path}[{i}]")
    elif a != b:
        raise AssertionError(f"{path}: {a!r} vs {b!r}")


def check_sharing(obj):
    # Views must still share the base's storage after the round trip.
    base = obj["base"]
    assert obj["view_row"].storage().data_ptr() == base.storage().data_ptr(), "sharing lost"
    assert obj["view_col"].storage().data_ptr() == base.storage().data_ptr(), "sharing lost"


class _Storage:
    pass


class _BigTensor:
    def __init__(self, n):
        self.n = n

    def __reduce__(self):
        return (
            torch._utils._rebuild_tensor_v2,
            (_Storage(), 0, (self.n,), (1,), False, collections.OrderedDict()),
        )


def big_pickle(n):
    # The pickle torch.save writes for a uint8 tensor of n bytes, without the n bytes.
    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _Storage):
                return ("storage", torch.ByteStorage, "0", "cpu", n)
            return None

    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump({"big": _BigTensor(n)})
    return buf.getvalue()


def pattern_at(i):
    return i % 251


def main():
    cmd = sys.argv[1]
    if cmd == "save":
        torch.save(checkpoint(), sys.argv[2])
    elif cmd == "save_bytesio":
        buf = io.BytesIO()
        torch.save(checkpoint(), buf)
        with open(sys.argv[2], "wb") as f:
            f.write(buf.getvalue())
    elif cmd == "zipinfo":
        print(json.dumps(zip_records(sys.argv[2])))
    elif cmd == "check":
        with zipfile.ZipFile(sys.argv[2]) as zf:
            bad = zf.testzip()
        records = zip_records(sys.argv[2])
        aligned = all(r["data_offset"] % 64 == 0 for r in records)
        print(json.dumps({"testzip": bad, "aligned": aligned, "count": len(records)}))
    elif cmd == "compare":
        a = torch.load(sys.argv[2])
        b = torch.load(sys.argv[3])
        equal(a, b)
        if isinstance(b, dict) and "base" in b:
            check_sharing(b)
        print("equal")
    elif cmd == "big_pickle":
        with open(sys.argv[2], "wb") as f:
            f.write(big_pickle(int(sys.argv[3])))
    elif cmd == "big_check":
        path, n = sys.argv[2], int(sys.argv[3])
        with zipfile.ZipFile(path) as zf:
            info = next(i for i in zf.infolist() if i.filename.endswith("/data/0"))
            assert info.file_size == n, (info.file_size, n)
            # Reading to the end makes zipfile compare the CRC it computed with the stored one.
            with zf.open(info) as f:
                while f.read(64 << 20):
                    pass
            assert zf.testzip() is None
        t = torch.load(path)["big"]
        assert t.dtype == torch.uint8 and t.numel() == n, (t.dtype, t.numel())
        for i in list(range(0, 1000)) + list(range((1 << 32) - 500, (1 << 32) + 500)) + list(range(max(0, n - 1000), n)):
            if i < n:
                assert int(t[i]) == pattern_at(i), (i, int(t[i]))
        print("big ok")
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
