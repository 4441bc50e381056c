#!/usr/bin/env python3
"""Times fsdpshard gather against the Python way on synthetic MusicGen checkpoints.

Usage: bench.py [--scale xsmall|small|medium|large] [--kinds training,fsdp] [--runs N]
                [--work DIR] [--results FILE] [--no-cold] [--build DIR]

For each kind it makes the checkpoint once (make_checkpoint.py, cached in --work), then
measures, alternating the contenders run by run so drift hits them alike:
  python        torch.load + pick state + drop description conditioner + patch cfg + torch.save
  python-mmap   the same with torch.load(mmap=True), when a torch >= 2.1 is found
  fsdpshard     fsdpshard gather, one process
  fsdpshard-np2 fsdpshard gather under mpirun -np 2
  floor         dd: read the span of the input that holds the selected tensors (the disk
                region gather reads) and write (and fsync) it; where those tensors lie
                scattered (the span is over 1.25x their bytes) as many bytes from the start
  floor-ranges  read_ranges.py: plain pread of exactly the selected tensors' bytes, in file
                order, written to one file and fsynced (the floor for scattered tensors)
  cp            cp of the whole input
Wall time (median, min, max) and peak RSS (wait4's ru_maxrss: the largest process of the
run, so for mpirun the largest rank) per contender; warm page cache, and cold for the
input (posix_fadvise DONTNEED on it before each run) unless --no-cold. Prints a table and
rewrites --results (benchmarks/RESULTS.md by default).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TORCH_PYTHON = "/usr/bin/python3"
EXCLUDE = "condition_provider.conditioners.description*"
SETS = ["optim.lr=1e-5", "optim.epochs=50", "dataset.train.path=/data/ft"]


def torch2_python() -> str | None:
    """An interpreter with torch >= 2.1 (for mmap=True): FSDPSHARD_TORCH2_PYTHON, else the
    cached venv of launch/torch2-venv.sh. None when neither exists, which is an error
    where the torch 2.x contenders are required (CI=true, FSDPSHARD_REQUIRE_TORCH2=1)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for candidate in (os.environ.get("FSDPSHARD_TORCH2_PYTHON"),
                      os.path.join(cache, "fsdpshard", "venv-torch2", "bin", "python")):
        if candidate and os.path.exists(candidate):
            return candidate
    if os.environ.get("CI") == "true" or os.environ.get("FSDPSHARD_REQUIRE_TORCH2") == "1":
        sys.exit("bench.py: the torch 2.x venv is required for the mmap=True contender and is missing "
                 "(launch/torch2-venv.sh)")
    return None


def evict(path: str) -> None:
    """Drops the file's pages from the page cache (no root needed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def timed(argv: list[str], env: dict | None = None) -> tuple[float, int]:
    """Runs argv; returns (seconds, peak RSS in bytes). Raises on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}): {err[-2000:]}")
    return seconds, usage.ru_maxrss * 1024


def make_input(scale: str, kind: str, work: str) -> str:
    path = os.path.join(work, f"{scale}-{kind}", "state_dict.bin" if kind == "exported" else "checkpoint.th")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        print(f"making {path} ...", flush=True)
        subprocess.run([TORCH_PYTHON, os.path.join(HERE, "make_checkpoint.py"), "--scale", scale, "--kind", kind,
                        "--world", "2", "--seed", "1", "-o", path], check=True)
    return path


def selected_tensors(binary: str, path: str) -> list[dict]:
    """The tensors gather takes (inspect --json --tensors, filtered like the task)."""
    out = subprocess.run([binary, "inspect", path, "--json", "--tensors"], check=True, capture_output=True, text=True)
    report = json.loads(out.stdout)
    source = "fsdp_best_state.model" if report["layout"] == "fsdp-rank0" else "best_state.model"
    if report["layout"] == "exported":
        source = "best_state"
    return [t for t in report["tensors"]
            if t["source"] == source and not t["name"].startswith("condition_provider.conditioners.description")]


def record_ranges(path: str, records: set[str]) -> list[tuple[int, int]]:
    """(offset, length) of each named record's data in the zip at `path`, in file order."""
    ranges = []
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        for info in z.infolist():
            if info.filename.split("/", 1)[-1] not in records:
                continue
            f.seek(info.header_offset)
            name_len, extra_len = struct.unpack("<HH", f.read(30)[26:30])
            ranges.append((info.header_offset + 30 + name_len + extra_len, info.file_size))
    return sorted(ranges)


def contenders(binary: str, mpirun: str, src: str, out_dir: str, span: tuple[int, int],
               ranges_file: str) -> dict[str, list[str]]:
    gather = [binary, "gather", src, "--exclude", EXCLUDE, "--force", "-q"]
    for s in SETS:
        gather += ["--set", s]
    env_mpi = ["--oversubscribe", "--bind-to", "none", "-np", "2"]
    c = {
        "python": [TORCH_PYTHON, os.path.join(HERE, "python_pattern.py"), src, os.path.join(out_dir, "py.th")],
        "fsdpshard": gather + ["-o", os.path.join(out_dir, "fs.th"), "--backend", "local"],
        "fsdpshard-np2": [mpirun, *env_mpi, *gather, "-o", os.path.join(out_dir, "fs2.th"), "--backend", "mpi"],
        # Read the region gather reads and write as many bytes, durably (fsdpshard fsyncs
        # its output before renaming it into place): the I/O a perfect tool does.
        "floor": ["dd", f"if={src}", f"of={os.path.join(out_dir, 'floor.bin')}", "bs=16M", f"skip={span[0]}",
                  f"count={span[1]}", "iflag=skip_bytes,count_bytes", "conv=fsync", "status=none"],
        "floor-ranges": [TORCH_PYTHON, os.path.join(HERE, "read_ranges.py"), src, ranges_file,
                         os.path.join(out_dir, "ranges.bin")],
        "cp": ["cp", src, os.path.join(out_dir, "copy.th")],
    }
    t2 = torch2_python()
    if t2:
        c["python-mmap"] = [t2, os.path.join(HERE, "python_pattern.py"), src, os.path.join(out_dir, "pymm.th"), "--mmap"]
    return c


def fmt_s(x: float) -> str:
    return f"{x:.2f}"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--scale", default="small")
    p.add_argument("--kinds", default="training,fsdp")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--work", default=os.path.join(HERE, "out"))
    p.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--no-cold", action="store_true")
    a = p.parse_args()

    binary = os.path.join(a.build, "fsdpshard")
    mpirun = shutil.which("mpirun") or "mpirun"
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    os.makedirs(a.work, exist_ok=True)
    rows = []
    for kind in a.kinds.split(","):
        src = make_input(a.scale, kind, a.work)
        out_dir = os.path.join(a.work, f"{a.scale}-{kind}", "outputs")
        os.makedirs(out_dir, exist_ok=True)
        tensors = selected_tensors(binary, src)
        read = sum(t["bytes"] for t in tensors)
        ranges = record_ranges(src, {t["record"] for t in tensors})
        ranges_file = os.path.join(a.work, f"{a.scale}-{kind}", "ranges.json")
        with open(ranges_file, "w") as f:
            json.dump(ranges, f)
        span = (ranges[0][0], ranges[-1][0] + ranges[-1][1] - ranges[0][0]) if ranges else (0, 0)
        if span[1] > read * 5 // 4:
            span = (0, read)  # scattered: dd of one region that large cannot stand for gather's reads
        cmds = contenders(binary, mpirun, src, out_dir, span, ranges_file)
        for cache in (["warm"] if a.no_cold else ["warm", "cold"]):
            results: dict[str, list[tuple[float, int]]] = {name: [] for name in cmds}
            if cache == "warm":  # one untimed pass so every contender starts from a warm cache
                subprocess.run(["cat", src], stdout=subprocess.DEVNULL, check=True)
            for run in range(a.runs):
                for name, argv in cmds.items():
                    if cache == "cold":
                        evict(src)
                    results[name].append(timed(argv, env))
                    for f in os.listdir(out_dir):
                        os.remove(os.path.join(out_dir, f))
            for name, samples in results.items():
                times = [s for s, _ in samples]
                rows.append({"kind": kind, "cache": cache, "contender": name, "median": statistics.median(times),
                             "min": min(times), "max": max(times), "rss": max(r for _, r in samples),
                             "input": os.path.getsize(src), "read": read, "span": span})
            print_rows([r for r in rows if r["kind"] == kind and r["cache"] == cache])
    write_results(a, rows)
    return 0


def ratio_notes(rows: list[dict]) -> list[str]:
    notes = []
    for kind in sorted({r["kind"] for r in rows}):
        for cache in ("warm", "cold"):
            by = {r["contender"]: r for r in rows if r["kind"] == kind and r["cache"] == cache}
            if "fsdpshard" not in by:
                continue
            fs = by["fsdpshard"]["median"]
            line = f"- {kind}, {cache}: python / fsdpshard = {by['python']['median'] / fs:.1f}x"
            if "python-mmap" in by:
                line += f", python-mmap / fsdpshard = {by['python-mmap']['median'] / fs:.1f}x"
            line += f", fsdpshard / floor = {fs / by['floor']['median']:.2f}x"
            if "floor-ranges" in by:
                line += f", fsdpshard / floor-ranges = {fs / by['floor-ranges']['median']:.2f}x"
            line += f", fsdpshard-np2 / floor = {by['fsdpshard-np2']['median'] / by['floor']['median']:.2f}x"
            notes.append(line)
    return notes


def print_rows(rows: list[dict]) -> None:
    for r in rows:
        print(f"{r['kind']:9} {r['cache']:5} {r['contender']:14} median {fmt_s(r['median']):>7} s  "
              f"min {fmt_s(r['min']):>7}  max {fmt_s(r['max']):>7}  peak RSS {r['rss'] / 2**20:8.0f} MiB", flush=True)


def write_results(a, rows: list[dict]) -> None:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `benchmarks/run.sh {a.scale}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), {mem / 2**30:.0f} GiB, {platform.platform()}; "
        f"torch {subprocess.run([TORCH_PYTHON, '-c', 'import torch; print(torch.__version__)'], capture_output=True, text=True).stdout.strip()} "
        f"at {TORCH_PYTHON}" + (f", torch 2.x for mmap at {torch2_python()}" if torch2_python() else "") + ".",
        "",
        f"Scale `{a.scale}`, {a.runs} runs per contender, alternating. Task: the user's fine-tuning preparation "
        "(take the FSDP best state or best_state, drop `condition_provider.conditioners.description*`, set "
        "optim.lr/optim.epochs/dataset.train.path, save). Peak RSS = largest process of the run (largest rank "
        "under mpirun). Cold = the input's pages dropped from the page cache before each run.",
        "",
        "| kind | cache | contender | median s | min s | max s | peak RSS MiB | input MiB | tensor bytes read MiB | floor reads MiB at offset MiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['kind']} | {r['cache']} | {r['contender']} | {fmt_s(r['median'])} | {fmt_s(r['min'])} | "
                     f"{fmt_s(r['max'])} | {r['rss'] / 2**20:.0f} | {r['input'] / 2**20:.0f} | {r['read'] / 2**20:.0f} | "
                     f"{r['span'][1] / 2**20:.0f} at {r['span'][0] / 2**20:.0f} |")
    lines += ["", "Ratios (medians):", ""] + ratio_notes(rows) + [""]
    previous = ""
    if os.path.exists(a.results):
        text = open(a.results).read()
        marker = "\n## Notes"
        previous = text[text.index(marker):] if marker in text else ""
    open(a.results, "w").write("\n".join(lines) + previous)
    print(f"wrote {a.results}")


if __name__ == "__main__":
    sys.exit(main())
