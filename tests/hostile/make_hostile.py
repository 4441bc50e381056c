#!/usr/bin/env python3
"""Writes the hostile / malformed input corpus (issue 7) and its manifest.

Usage: make_hostile.py OUTDIR            write OUTDIR/*.th|*.safetensors + OUTDIR/manifest.json
       make_hostile.py --detonate FILE   torch.load(FILE, weights_only=False): the positive
                                         control proving a payload is live (it runs it!)

Standard library only for writing (no torch needed): pickles are assembled opcode by
opcode, zips are written by zipfile and then patched, so every lie is exactly the one
named. manifest.json lists each case (and, under "invocations", the hostile command lines of
crash_classes.py):
  {"file", "what", "error": substring every command's error line must contain,
   "inspect"/"gather"/"verify_crc"/"cfg": {"exit": N, "error": substring} overrides,
   "marker": file the payload would create if anything ran it}
Commands without an override must exit 2 with `error` in their one error line.
"""
from __future__ import annotations

import io
import json
import os
import struct
import sys
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_classes  # noqa: E402  (next to this file)

ROOT = "archive"


# ---------------------------------------------------------------------------------------
# A tiny pickle assembler (protocol 2 opcodes, as torch.save writes them)
# ---------------------------------------------------------------------------------------
class P:
    def __init__(self):
        self.b = bytearray(b"\x80\x02")

    def raw(self, data: bytes):
        self.b += data
        return self

    def glob(self, module: str, name: str):
        return self.raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def s(self, text: str):
        data = text.encode("utf-8", "surrogatepass")
        return self.raw(b"X" + struct.pack("<I", len(data)) + data)

    def i(self, v: int):
        if 0 <= v < 256:
            return self.raw(b"K" + bytes([v]))
        if -2**31 <= v < 2**31:
            return self.raw(b"J" + struct.pack("<i", v))
        n = (v.bit_length() + 8) // 8
        return self.raw(b"\x8a" + bytes([n]) + v.to_bytes(n, "little", signed=True))

    def mark(self):
        return self.raw(b"(")

    def tuple_(self):
        return self.raw(b"t")

    def ints(self, values):
        self.mark()
        for v in values:
            self.i(v)
        return self.tuple_()

    def empty_ordered_dict(self):
        return self.glob("collections", "OrderedDict").raw(b")R")

    def tensor(self, key: str, storage: str = "FloatStorage", numel: int = 16, offset: int = 0,
               size=(16,), stride=(1,)):
        self.glob("torch._utils", "_rebuild_tensor_v2").mark()
        self.mark().s("storage").glob("torch", storage).s(key).s("cpu").i(numel).tuple_().raw(b"Q")
        self.i(offset).ints(size).ints(stride).raw(b"\x89")  # NEWFALSE: requires_grad
        self.empty_ordered_dict()
        return self.tuple_().raw(b"R")

    def stop(self) -> bytes:
        return bytes(self.b + b".")


def state_dict(entries, pkl: P | None = None) -> P:
    """entries: list of (key writer, value writer) callables on the assembler."""
    p = pkl or P()
    p.empty_ordered_dict().mark()
    for key, value in entries:
        key(p)
        value(p)
    return p.raw(b"u")  # SETITEMS


W_BYTES = struct.pack("<16f", *range(16))
B_BYTES = struct.pack("<4e", 1.0, 1.0, 1.0, 1.0)


def good_entries():
    return [(lambda p: p.s("w"), lambda p: p.tensor("0")),
            (lambda p: p.s("b"), lambda p: p.tensor("1", "HalfStorage", 4, 0, (4,), (1,)))]


def zip_bytes(records: list[tuple[str, bytes]], compress: set[str] = frozenset()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in records:
            info = zipfile.ZipInfo(f"{ROOT}/{name}", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED
            z.writestr(info, data)
    return buf.getvalue()


def checkpoint(pkl: bytes, data: dict[str, bytes] | None = None, **kw) -> bytes:
    data = {"0": W_BYTES, "1": B_BYTES} if data is None else data
    records = [("data.pkl", pkl)] + [(f"data/{k}", v) for k, v in data.items()] + [("version", b"3\n")]
    return zip_bytes(records, **kw)


GOOD = checkpoint(state_dict(good_entries()).stop())


# Zip structure, for patching: offsets of the EOCD and of each central entry.
def eocd_offset(z: bytes) -> int:
    return z.rindex(b"PK\x05\x06")


def central_entries(z: bytes) -> list[int]:
    e = eocd_offset(z)
    cd = struct.unpack_from("<I", z, e + 16)[0]
    out, pos = [], cd
    while pos < e and z[pos:pos + 4] == b"PK\x01\x02":
        out.append(pos)
        n, x, c = struct.unpack_from("<HHH", z, pos + 28)
        pos += 46 + n + x + c
    return out


def central_entry_named(z: bytes, suffix: str) -> int:
    for pos in central_entries(z):
        n = struct.unpack_from("<H", z, pos + 28)[0]
        if z[pos + 46:pos + 46 + n].decode().endswith(suffix):
            return pos
    raise KeyError(suffix)


def patch(z: bytes, offset: int, fmt: str, *values) -> bytes:
    b = bytearray(z)
    struct.pack_into(fmt, b, offset, *values)
    return bytes(b)


def local_data_offset(z: bytes, suffix: str) -> int:
    c = central_entry_named(z, suffix)
    local = struct.unpack_from("<I", z, c + 42)[0]
    n, x = struct.unpack_from("<HH", z, local + 26)
    return local + 30 + n + x


# ---------------------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------------------
def safetensors(header: dict | str, data: bytes, length: int | None = None) -> bytes:
    text = header if isinstance(header, str) else json.dumps(header)
    raw = text.encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


# ---------------------------------------------------------------------------------------
def cases(out: str):
    """Yields (file name, bytes, what, error substring, overrides)."""
    yield "not_a_zip.th", b"this is not a checkpoint\n" * 8, "text file", "not a zip archive", {}
    yield "empty.th", b"", "empty file", "not a zip archive", {}
    for frac in (10, 50, 90):
        cut = len(GOOD) * frac // 100
        yield (f"truncated_{frac}pct.th", GOOD[:cut], f"first {frac}% of a good file",
               "truncated", {})
    yield "truncated_eocd.th", GOOD[:-1], "last byte of the end record cut", "truncated", {}
    e = eocd_offset(GOOD)
    yield ("cd_offset_past_end.th", patch(GOOD, e + 16, "<I", len(GOOD) + 1000),
           "end record puts the central directory past the end", "beyond the end of the file", {})
    yield ("cd_size_lies.th", patch(GOOD, e + 12, "<I", struct.unpack_from("<I", GOOD, e + 12)[0] + 46),
           "end record claims a larger central directory", "central directory", {})
    yield ("cd_entries_lie.th", patch(patch(GOOD, e + 8, "<H", 9), e + 10, "<H", 9),
           "end record claims 9 entries", "entries", {})
    yield ("cd_billion_entries.th", GOOD[:e] + zip64_lie(GOOD, 10**9),
           "zip64 end record declares 10^9 entries", "10000000", {})
    c = central_entry_named(GOOD, "data/0")
    yield ("cd_record_size_lies.th", patch(patch(GOOD, c + 20, "<I", 10**6), c + 24, "<I", 10**6),
           "central directory says data/0 holds 1 MB", "runs into the central directory", {})
    yield ("cd_local_offset_lies.th", patch(GOOD, c + 42, "<I", 7),
           "central directory points data/0 at a wrong local header", "local header", {})
    yield ("short_record.th", checkpoint(state_dict(good_entries()).stop(), {"0": W_BYTES[:8], "1": B_BYTES}),
           "data/0 has 8 of the 64 bytes its storage needs", "holds 8 bytes but its storage needs 64", {})
    yield ("missing_record.th", checkpoint(state_dict(good_entries()).stop(), {"1": B_BYTES}),
           "data/0 absent", "missing record 'data/0'", {})
    yield ("compressed_record.th", checkpoint(state_dict(good_entries()).stop(), compress={"data/0"}),
           "data/0 deflated", "compressed", {})

    def one(value):
        return state_dict([(lambda p: p.s("w"), value)]).stop()
    yield ("view_past_storage.th", checkpoint(one(lambda p: p.tensor("0", offset=10, size=(16,)))),
           "offset 10 + 16 elements in a 16-element storage", "goes past its storage", {})
    yield ("view_stride_past_storage.th", checkpoint(one(lambda p: p.tensor("0", size=(4, 4), stride=(5, 1)))),
           "strides reach element 19 of 16", "goes past its storage", {})
    yield ("negative_shape.th", checkpoint(one(lambda p: p.tensor("0", size=(-1,)))),
           "size (-1,)", "negative entry", {})
    yield ("negative_stride.th", checkpoint(one(lambda p: p.tensor("0", size=(4,), stride=(-1,)))),
           "stride (-1,)", "negative entry", {})
    yield ("negative_offset.th", checkpoint(one(lambda p: p.tensor("0", offset=-4, size=(4,)))),
           "storage offset -4", "negative storage offset", {})
    yield ("overflowing_shape.th", checkpoint(one(lambda p: p.tensor("0", size=(2**40, 2**40), stride=(1, 1)))),
           "2^40 x 2^40 elements", "implausibly", {})
    yield ("overflowing_stride.th", checkpoint(one(lambda p: p.tensor("0", size=(2,), stride=(2**63 - 1,)))),
           "stride 2^63-1", "implausibly", {})
    yield ("overflowing_numel.th", checkpoint(one(lambda p: p.tensor("0", numel=2**62))),
           "storage of 2^62 elements", "impossible size", {})
    yield ("unknown_storage_class.th", checkpoint(one(lambda p: p.tensor("0", storage="EvilStorage"))),
           "GLOBAL torch EvilStorage", "unknown storage class", {})

    def pkl(body: bytes) -> bytes:
        return checkpoint(b"\x80\x02" + body)
    yield "unknown_opcode.th", pkl(b"\xff."), "opcode 0xff", "unknown opcode 0xff", {}
    yield "unbalanced_mark.th", pkl(b"K\x01t."), "TUPLE without a MARK", "unbalanced MARK", {}
    yield "mark_left_open.th", pkl(b"K\x01(."), "STOP with only a MARK above the value", "stack underflow", {}
    yield "memo_get_missing.th", pkl(b"h\x07."), "BINGET 7 before any PUT", "memo key 7 not found", {}
    yield "stack_underflow.th", pkl(b"R."), "REDUCE on an empty stack", "stack underflow", {}
    yield "no_stop.th", pkl(b"K\x01"), "ends without STOP", "without a STOP", {}
    deep = 10**6
    yield ("nesting_1e6_lists.th", pkl(b"]" * deep + b"a" * (deep - 1) + b"."),
           "10^6 nested lists", "nests deeper than", {})
    yield ("nesting_1e6_marks.th", pkl(b"(" * deep + b"t" * deep + b"."),
           "10^6 nested tuples", "nests deeper than", {})
    yield ("string_1e9.th", pkl(b"X" + struct.pack("<I", 10**9) + b"abc."),
           "BINUNICODE declaring 10^9 bytes", "needs 1000000000 byte(s)", {})
    yield ("bytes8_1e18.th", pkl(b"\x8e" + struct.pack("<Q", 10**18) + b"abc."),
           "BINBYTES8 declaring 10^18 bytes", "needs 1000000000000000000 byte(s)", {})
    yield ("frame_1e9.th", pkl(b"\x95" + struct.pack("<Q", 10**9) + b"N."),
           "FRAME declaring 10^9 bytes", "frame of 1000000000 bytes", {})

    # Inert globals: inspect succeeds and lists them as unsafe; gather refuses the
    # non-tensor; the payload (which would create `marker`) never runs.
    for name, module, func, arg in (
            ("global_os_system.th", "os", "system", "touch {marker}"),
            ("builtins_eval.th", "builtins", "eval", "__import__('os').system('touch {marker}')"),
            ("posix_system.th", "posix", "system", "touch {marker}")):
        marker = os.path.join(out, name + ".RAN")
        payload = arg.format(marker=marker)

        def evil(p, module=module, func=func, payload=payload):
            p.glob(module, func).s(payload).raw(b"\x85R")  # TUPLE1 REDUCE

        body = P().raw(b"}").mark().s("best_state").raw(b"}").s("model")
        state_dict(good_entries() + [(lambda p: p.s("evil"), evil)], body).raw(b"s")  # SETITEM
        body.raw(b"u")
        yield (name, checkpoint(body.stop()), f"{module}.{func}(payload) REDUCEd inside the state dict",
               "not a tensor", {"inspect": {"exit": 0, "unsafe_global": f"{module}.{func}"}, "marker": marker})

    dup = state_dict(good_entries() + [(lambda p: p.s("w"), lambda p: p.tensor("1", "HalfStorage", 4, 0, (4,), (1,)))])
    yield "duplicate_keys.th", checkpoint(dup.stop()), "key 'w' twice", "has the key 'w' twice", {}
    nonstr = state_dict(good_entries() + [(lambda p: p.i(5), lambda p: p.tensor("1", "HalfStorage", 4, 0, (4,), (1,)))])
    yield "non_string_key.th", checkpoint(nonstr.stop()), "int key 5", "has a key of type int", {}

    # xp.cfg: a DictConfig without '_content' (a truncated omegaconf object).
    body = P().raw(b"}").mark().s("xp.cfg")
    body.glob("omegaconf.dictconfig", "DictConfig").raw(b")\x81")  # EMPTY_TUPLE NEWOBJ
    body.raw(b"}(").s("_metadata").raw(b"N").s("_parent").raw(b"Nu").raw(b"b")  # {'_metadata': None, '_parent': None} BUILD
    body.s("best_state").raw(b"}").s("model")
    state_dict(good_entries(), body).raw(b"s")  # SETITEM: best_state = {'model': …}
    body.raw(b"u")
    yield ("dictconfig_missing_fields.th", checkpoint(body.stop()), "xp.cfg DictConfig without _content",
           "malformed omegaconf.dictconfig.DictConfig (no '_content')", {"cfg": {"exit": 2}})

    # A flipped byte in a tensor record: zip readers that check CRCs see it; torch.load
    # does not, nor do inspect and gather (they never read every byte). verify --crc must.
    off = local_data_offset(GOOD, "data/0") + 5
    flipped = bytearray(GOOD)
    flipped[off] ^= 0x40
    yield ("wrong_crc.th", bytes(flipped), "byte 5 of data/0 flipped after the CRC was taken",
           "fails its CRC-32 check", {"inspect": {"exit": 0}, "gather": {"exit": 0},
                                      "verify_crc": {"exit": 2, "error": "record 'data/0' fails its CRC-32 check"}})

    # safetensors files (inspect, gather and verify read them too)
    st_ok_header = {"w": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]}}
    yield ("st_header_too_long.safetensors", safetensors(st_ok_header, W_BYTES, length=10**12),
           "safetensors header length 10^12", "exceeds the 100 MB limit", {})
    yield ("st_offsets_overlap.safetensors",
           safetensors({"w": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]},
                        "v": {"dtype": "F32", "shape": [4], "data_offsets": [48, 64]}}, W_BYTES),
           "safetensors tensors overlapping", "must be contiguous", {})
    yield ("st_shape_1e9.safetensors",
           safetensors({"w": {"dtype": "F32", "shape": [10**9, 10**9], "data_offsets": [0, 64]}}, W_BYTES),
           "safetensors shape of 10^18 elements over 64 bytes", "data_offsets span 64", {})


def zip64_lie(z: bytes, entries: int) -> bytes:
    """A zip64 end record + locator + classic end record, claiming `entries` entries."""
    e = eocd_offset(z)
    cd_size, cd_off = struct.unpack_from("<II", z, e + 12)
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, entries, entries, cd_size, cd_off)
    loc = struct.pack("<IIQI", 0x07064B50, 0, e, 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return z64 + loc + eocd


def write_all(out: str) -> int:
    os.makedirs(out, exist_ok=True)
    manifest = []
    for name, data, what, error, overrides in cases(out):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        entry = {"file": name, "what": what, "error": error}
        entry.update(overrides)
        manifest.append(entry)
        marker = overrides.get("marker")
        if marker and os.path.exists(marker):
            os.remove(marker)
    # Hostile command lines (options, special files, cfg bombs): tests/hostile/crash_classes.py.
    invocations = crash_classes.write(out, sys.modules[__name__])
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"cases": manifest, "invocations": invocations}, f, indent=1)
    print(f"wrote {len(manifest)} hostile inputs to {out}")
    return 0


def detonate(path: str) -> int:
    import torch
    torch.load(path, weights_only=False) if "weights_only" in torch.load.__code__.co_varnames else torch.load(path)
    return 0


def main(argv) -> int:
    if len(argv) == 3 and argv[1] == "--detonate":
        return detonate(argv[2])
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    return write_all(os.path.abspath(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
