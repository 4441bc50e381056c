"""A plain-Python safetensors reader and writer (struct + json), independent of the C++
code, for the archive tests.

  read FILE    validate FILE and print JSON: header length, key order, metadata and, per
               tensor, dtype, shape, data_offsets and the CRC-32 of its bytes
  write FILE   write a small file with keys in a non-sorted order and metadata last
"""
import json
import struct
import sys
import zlib

SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4,
         "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1}


def read(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    assert n <= 100_000_000 and 8 + n <= len(data)
    text = data[8 : 8 + n].decode("utf-8")
    pairs = json.loads(text, object_pairs_hook=lambda kv: kv)
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "duplicate keys"
    header = dict(pairs)
    buffer = data[8 + n :]
    out = {"header_len": n, "order": keys, "metadata": dict(header.get("__metadata__", [])),
           "tensors": {}}
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        info = dict(info)
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        assert count * SIZES[info["dtype"]] == end - begin, name
        spans.append((begin, end))
        out["tensors"][name] = {"dtype": info["dtype"], "shape": info["shape"],
                                "data_offsets": [begin, end],
                                "crc": zlib.crc32(buffer[begin:end])}
    pos = 0
    for begin, end in sorted(spans):
        assert begin == pos, "not contiguous"
        pos = end
    assert pos == len(buffer), "buffer not covered"
    return out


def write(path):
    tensors = [("zeta", "F32", [2, 2], bytes(range(16))),
               ("alpha", "I64", [1], struct.pack("<q", -5)),
               ("mid.bf16", "BF16", [3], b"\x80\x3f\x00\x40\x40\x40"),
               ("empty", "F16", [0, 3], b""),
               ("scalar", "U8", [], b"\x07")]
    header, offset, blob = {}, 0, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blob += raw
    header["__metadata__"] = {"format": "pt", "note": "written by python"}
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)


if __name__ == "__main__":
    if sys.argv[1] == "read":
        print(json.dumps(read(sys.argv[2])))
    elif sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        raise SystemExit("unknown command")
