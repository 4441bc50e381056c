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
  fuzz_yaml_config         every .yaml file, plus anchors/aliases/merge keys made here
  fuzz_selection           PATTERN\0REPLACEMENT\0KEYS made here, keys from safetensors headers
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
           "fuzz_safetensors_header", "fuzz_yaml_config", "fuzz_selection"]

# YAML the config reader must handle: anchors, aliases, merge keys, tags, flow style.
YAML_SEEDS = [
    b"optim:\n  lr: 1.0e-05\n  epochs: 50\n",
    b"base: &b {lr: 1, wd: 0}\nrun:\n  <<: *b\n  lr: 2\n",
    b"a: &a [1, 2, 3]\nb: [*a, *a]\nc: {x: *a, y: *a}\n",
    b"a: &a ['lol', 'lol']\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nd: [*c, *c, *c]\n",
    b"x: !!binary aGVsbG8=\ny: !!str 12\nz: !!float 1\nw: ~\nv: ${optim.lr}\nu: '???'\n",
    b"- 1\n- two\n- {three: 3}\n",
    b"k: |\n  block\n  text\nl: >\n  folded\n",
    b"1: int key\ntrue: bool key\n1.5: float key\n",
]

# Selection rules against key text: globs, regexes (with a catastrophic one) and renames.
SELECTION_RULES = [
    (b"transformer.*", b""),
    (b"^transformer\\.layers\\.([0-9]+)\\.", b"lm.\\1."),
    (b"(x+x+)+y", b"z"),
    (b"(weight|bias)$", b"$1_$&"),
    (b"a*", b"[$`|$']"),
    (b"condition_provider.conditioners.description*", b"$$"),
]
KEYS = [b"transformer.layers.0.self_attn.in_proj_weight", b"condition_provider.conditioners.description.w",
        b"emb.0.weight", b"out_norm.bias", b"x" * 64, b""]


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


def add_selection_seed(add, header: bytes):
    """The tensor names of a safetensors header under the first selection rule."""
    try:
        names = [k.encode("utf-8", "surrogatepass") for k in json.loads(header) if k != "__metadata__"]
    except (ValueError, AttributeError, TypeError):
        return
    pattern, replacement = SELECTION_RULES[1]
    add("fuzz_selection", pattern + b"\0" + replacement + b"\0" + b"\n".join(names))


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

    for text in YAML_SEEDS:
        add("fuzz_yaml_config", text)
    for pattern, replacement in SELECTION_RULES:
        add("fuzz_selection", pattern + b"\0" + replacement + b"\0" + b"\n".join(KEYS))

    for top in inputs:
        for folder, _, files in os.walk(top):
            for name in sorted(files):
                path = os.path.join(folder, name)
                size = os.path.getsize(path)
                if size <= max_bytes and name.endswith(".yaml"):
                    with open(path, "rb") as f:
                        add("fuzz_yaml_config", f.read())
                    continue
                if size > max_bytes or name.endswith((".json", ".stamp", ".RAN")):
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                if data[:8] and name.endswith(".safetensors"):
                    add("fuzz_safetensors_file", data)
                    if len(data) >= 8:
                        n = struct.unpack_from("<Q", data)[0]
                        if n <= len(data) - 8:
                            add("fuzz_safetensors_header", struct.pack("<Q", len(data) - 8 - n) + data[8:8 + n])
                            add_selection_seed(add, data[8:8 + n])
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
