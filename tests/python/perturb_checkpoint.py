#!/usr/bin/env python3
"""Makes a slightly different copy of a checkpoint, for `fsdpshard verify` tests.

Usage: perturb_checkpoint.py IN OUT --bump NAME          torch.load a flat state dict, add 1 to
                                                           the first element of NAME, torch.save
       perturb_checkpoint.py IN OUT --flip-record REC    copy the bytes, flip one bit in the
                                                           middle of zip record REC ("data/0");
                                                           the CRC-32 in the directory stays
"""
import shutil
import struct
import sys
import zipfile


def bump(src, dst, name):
    import torch
    sd = torch.load(src)
    t = sd[name]
    flat = t.view(-1) if t.is_contiguous() else None
    if flat is None:
        raise SystemExit(f"{name} is not contiguous")
    flat[0] += 1
    torch.save(sd, dst)


def flip(src, dst, record):
    shutil.copyfile(src, dst)
    with zipfile.ZipFile(src) as z:
        info = next(i for i in z.infolist() if i.filename.split("/", 1)[-1] == record)
    with open(dst, "r+b") as f:
        f.seek(info.header_offset)
        local = f.read(30)
        name_len, extra_len = struct.unpack_from("<HH", local, 26)
        at = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
        f.seek(at)
        byte = f.read(1)[0]
        f.seek(at)
        f.write(bytes([byte ^ 0x10]))


def main(argv):
    if len(argv) != 5 or argv[3] not in ("--bump", "--flip-record"):
        print(__doc__, file=sys.stderr)
        return 2
    (bump if argv[3] == "--bump" else flip)(argv[1], argv[2], argv[4])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
