#!/usr/bin/env python3
"""Seed corpora for the libFuzzer targets, cut from the test inputs (launch/fuzz.sh).

Usage: make_seeds.py OUT INPUT_DIR...

Walks each INPUT_DIR (the make_fixtures.py output, the make_hostile.py corpus) and writes
OUT/<target>/<n> seeds:
  fuzz_unpickle            each torch file's data.pkl (and the hostile pickles)
  fuzz_zip_reader          whole torch files
  fuzz_checkpoint          whole torch files
  fuzz_safetensors_file    .safetensors files, plus some made here from torch fixtures
  fuzz_safetensors_header  u64 buffer size + header JSON of each of those
Files above --max-bytes (default 256 KiB) are skipped: libFuzzer mutates small inputs
far faster, and the structure is the same.
Standard library only.
"""
import hashlib
import json
import os
import struct
import sys
import zipfile

TARGETS = ["fuzz_unpickle", "fuzz_zip_reader", "fuzz_checkpoint", "fuzz_safetensors_file",
           "fuzz_safetensors_header"]


def put(out, target, data: bytes):
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


def safetensors_from_zip(z: zipfile.ZipFile) -> bytes | None:
    """A small safetensors file holding the storages of a torch file as U8 tensors."""
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for info in z.infolist():
        parts = info.filename.split("/")
        if len(parts) == 3 and parts[1] == "data":
            raw = z.read(info)
            header[f"storage.{parts[2]}"] = {"dtype": "U8", "shape": [len(raw)],
                                             "data_offsets": [len(data), len(data) + len(raw)]}
            data += raw
    if len(header) == 1:
        return None
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def main(argv) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, inputs = argv[1], argv[2:]
    max_bytes = 256 * 1024
    for t in TARGETS:
        os.makedirs(os.path.join(out, t), exist_ok=True)
    counts = dict.fromkeys(TARGETS, 0)

    def add(target, data):
        put(out, target, data)
        counts[target] += 1

    for top in inputs:
        for folder, _, files in os.walk(top):
            for name in sorted(files):
                path = os.path.join(folder, name)
                size = os.path.getsize(path)
                if size > max_bytes or name.endswith((".json", ".stamp", ".yaml", ".RAN")):
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                if data[:8] and name.endswith(".safetensors"):
                    add("fuzz_safetensors_file", data)
                    if len(data) >= 8:
                        n = struct.unpack_from("<Q", data)[0]
                        if n <= len(data) - 8:
                            add("fuzz_safetensors_header", struct.pack("<Q", len(data) - 8 - n) + data[8:8 + n])
                    continue
                add("fuzz_zip_reader", data)
                add("fuzz_checkpoint", data)
                try:
                    with zipfile.ZipFile(path) as z:
                        for info in z.infolist():
                            if info.filename.endswith("data.pkl"):
                                add("fuzz_unpickle", z.read(info))
                        st = safetensors_from_zip(z)
                        if st is not None:
                            add("fuzz_safetensors_file", st)
                            n = struct.unpack_from("<Q", st)[0]
                            add("fuzz_safetensors_header", struct.pack("<Q", len(st) - 8 - n) + st[8:8 + n])
                except (zipfile.BadZipFile, OSError, ValueError, KeyError, NotImplementedError, EOFError):
                    pass  # a malformed input is a seed for the zip and checkpoint targets only
    print("seeds: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
