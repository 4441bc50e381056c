#!/usr/bin/env python3
"""Golden outputs: proves that fsdpshard's outputs do not change (ctest's `GoldenOutputs`).

Usage:
  golden_outputs.py --binary BIN --fixtures DIR --work DIR [--mpiexec MPIRUN] [--record]
                    [--only SUBSTRING]

Runs every command of commands.txt (next to this script) with the fsdpshard binary BIN and
compares what it produced with manifest.json (next to this script): the exit code, the
sha256 of its normalised stdout and stderr, and the sha256 of every file it wrote (a folder:
every file in it, by relative name, sorted). A mismatch names the command and what differs
(the stream, or the file), and the test fails. Only the standard library is used.

commands.txt: one command a line, `NAME :: ARGS` (ARGS split as a POSIX shell would, no
shell runs); `#` starts a comment line. NAME may start with `mpiN/` to run under mpirun
with N ranks. Placeholders in ARGS:
  {golden}  tests/fixtures/golden (committed files, written once by torch 2.x)
  {fsdp}    tests/fixtures/fsdp (committed AudioCraft FSDP runs, world sizes 2 and 3)
  {here}    this folder (small committed inputs such as merge.yaml)
  {fix}     the test-time fixtures of tests/fixtures/make_fixtures.py (torch 1.13, seeded:
            the same bytes on every run with the same torch)
  {out}     an empty folder of this command's own: every file in it afterwards is its output
  {run}     the folder holding every command's {out} by NAME, to read an earlier output

Normalised before hashing (and only this, as it is nondeterministic by design or depends
on where the test runs):
  - the absolute paths above are written back as their placeholders;
  - the summary line's wall time (`... in 12 ms (1 rank, local)`) becomes `in <time>`;
  - verify --json's "seconds" field is dropped (its value becomes <time>).
  - under mpirun (`mpiN/` commands) stderr is not compared: mpirun may add lines of its own
    (the ranks' messages are compared in the single-process commands).
The sha256 of every input is recorded as well and checked first, so that other input
bytes (make_fixtures.py under another torch, a regenerated fixture) are reported as such,
not as changed outputs.
Output files are hashed as written: fsdpshard writes no timestamp and no random value into
them (zip entries carry a fixed date), so they are byte-identical from run to run.

--only SUBSTRING runs a subset, for debugging (a command that reads an earlier command's
output through {run} needs that one in the subset too).

--record rewrites manifest.json from this run. Recording is ONLY for a deliberate output
change whose reason is explained in the commit that re-records (or when a command is added
to commands.txt): the point of the manifest is that a refactoring leaves it untouched.
The first recording was made with main's 9964891, before the issue 13 redesign.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COMMANDS = os.path.join(HERE, "commands.txt")
MANIFEST = os.path.join(HERE, "manifest.json")

# Test-time fixtures that are written afresh by make_fixtures.py but are not inputs
# (their contents hold absolute paths or the generator's stamp).
NOT_INPUTS = ("expected/", "manifest.json", ".stamp")

# Files next to the committed inputs that no command reads (generators, notes, this driver).
SOURCES_NOT_INPUTS = (".py", ".md", ".json", ".txt", ".pyc")

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}


def sha256_of_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def files_under(folder: str) -> dict:
    """{relative path: sha256} of every file under `folder` (links and the like named as such)."""
    found = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            found[rel] = sha256_of_file(path) if os.path.isfile(path) and not os.path.islink(path) \
                else "not-a-regular-file"
    return dict(sorted(found.items()))


def read_commands() -> list:
    commands = []
    with open(COMMANDS, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, args = line.partition(" :: ")
            if not sep or not name.strip():
                raise SystemExit(f"{COMMANDS}:{number}: expected 'NAME :: ARGS'")
            commands.append((name.strip(), args.strip()))
    names = [name for name, _ in commands]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SystemExit(f"{COMMANDS}: names used twice: {', '.join(duplicates)}")
    return commands


class Places:
    """The placeholders of commands.txt and the paths they stand for."""

    def __init__(self, fixtures: str, work: str):
        self.paths = {
            "golden": os.path.join(REPO, "tests", "fixtures", "golden"),
            "fsdp": os.path.join(REPO, "tests", "fixtures", "fsdp"),
            "here": HERE,
            "fix": os.path.abspath(fixtures),
            "run": os.path.abspath(work),
        }

    def expand(self, text: str, out: str) -> str:
        for key, path in self.paths.items():
            text = text.replace("{" + key + "}", path)
        return text.replace("{out}", out)

    def normalise(self, text: str, out: str) -> str:
        """Paths back to placeholders (longest first: {out} lies inside {run})."""
        pairs = [(out, "{out}")] + [(p, "{" + k + "}") for k, p in self.paths.items()]
        for path, placeholder in sorted(pairs, key=lambda pair: -len(pair[0])):
            text = text.replace(path, placeholder)
        return text


SUMMARY_TIME = re.compile(r" in [0-9]+(\.[0-9]+)? (ms|s) \(")
JSON_SECONDS = re.compile(r'"seconds": [-+0-9.eE]+')


def normalise_stream(data: bytes, places: Places, out: str) -> str:
    text = data.decode("utf-8", errors="backslashreplace")
    text = places.normalise(text, out)
    text = SUMMARY_TIME.sub(" in <time> (", text)
    return JSON_SECONDS.sub('"seconds": <time>', text)


def run_command(binary: str, mpiexec: str, name: str, args: str, places: Places) -> dict:
    out = os.path.join(places.paths["run"], name)
    os.makedirs(out)
    argv = [os.path.abspath(binary)] + shlex.split(places.expand(args, out))
    env = dict(os.environ)
    env.pop("FSDPSHARD_TEST_PAUSE_AFTER_PLAN", None)
    mpi = re.match(r"mpi([0-9]+)/", name)
    if mpi:
        env.update(MPI_ENV)
        argv = [mpiexec, "--oversubscribe", "--bind-to", "none", "-np", mpi.group(1)] + argv
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                          cwd=places.paths["run"], timeout=300)
    stdout = normalise_stream(done.stdout, places, out)
    stderr = normalise_stream(done.stderr, places, out)
    result = {
        "args": args,
        "exit": done.returncode,
        "stdout": hashlib.sha256(stdout.encode()).hexdigest(),
        "files": files_under(out),
    }
    # mpirun may add its own lines to stderr; the ranks' stderr is compared in the
    # single-process commands.
    if not mpi:
        result["stderr"] = hashlib.sha256(stderr.encode()).hexdigest()
    result["_text"] = (stdout, stderr)  # for the failure message only; not recorded
    return result


def input_files(places: Places) -> dict:
    """{"{placeholder}/relative path": sha256} of every input the commands may read."""
    inputs = {}
    for key in ("golden", "fsdp", "here", "fix"):
        for rel, sha in files_under(places.paths[key]).items():
            if key == "fix" and rel.startswith(NOT_INPUTS):
                continue
            if key != "fix" and rel.endswith(SOURCES_NOT_INPUTS):
                continue
            inputs["{" + key + "}/" + rel] = sha
    return inputs


def compare(name: str, expected: dict, got: dict) -> list:
    problems = []
    if expected.get("args") != got["args"]:
        return [f"{name}: commands.txt says `{got['args']}` but the manifest recorded "
                f"`{expected.get('args')}` (record deliberately with --record)"]
    if expected["exit"] != got["exit"]:
        problems.append(f"{name}: exit code {got['exit']}, recorded {expected['exit']}")
    for stream, index in (("stdout", 0), ("stderr", 1)):
        if stream in expected and expected[stream] != got.get(stream):
            text = got["_text"][index]
            shown = text if len(text) < 2000 else text[:2000] + "\n[...]"
            problems.append(f"{name}: {stream} differs from the recording; it is now:\n{shown}")
    want, have = expected["files"], got["files"]
    for rel in sorted(set(want) | set(have)):
        if rel not in have:
            problems.append(f"{name}: file {rel} was not written")
        elif rel not in want:
            problems.append(f"{name}: file {rel} is new (not in the recording)")
        elif want[rel] != have[rel]:
            problems.append(f"{name}: file {rel} differs (sha256 {have[rel]}, recorded {want[rel]})")
    return problems


def recorded_commit() -> str:
    try:
        done = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=30)
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "src", "include"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        return done.stdout.strip() + (" (with uncommitted changes to src/include)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--mpiexec", default="mpirun", help="for the mpiN/ commands")
    parser.add_argument("--fixtures", required=True, help="make_fixtures.py's output folder")
    parser.add_argument("--work", required=True, help="scratch folder (emptied first)")
    parser.add_argument("--record", action="store_true",
                        help="rewrite manifest.json: only for a deliberate, explained output change")
    parser.add_argument("--only", default="", help="run only the commands whose name contains this")
    args = parser.parse_args(argv)

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    places = Places(args.fixtures, args.work)
    commands = read_commands()
    if args.only:
        if args.record:
            raise SystemExit("--record records every command: drop --only")
        commands = [(n, a) for n, a in commands if args.only in n]

    manifest = {}
    if not args.record:
        with open(MANIFEST, encoding="utf-8") as f:
            manifest = json.load(f)
        inputs = input_files(places)
        changed_inputs = [f"input {rel}: sha256 {inputs.get(rel)}, recorded {sha}"
                          for rel, sha in manifest["inputs"].items() if inputs.get(rel) != sha]
        if changed_inputs:
            print("The inputs differ from those the manifest was recorded with (make_fixtures.py "
                  "under another torch? a regenerated fixture?): comparing the outputs would say "
                  "nothing about fsdpshard. Re-record deliberately if the new inputs are meant.")
            print("\n".join(changed_inputs))
            return 1

    results = {}
    problems = []
    for name, command_args in commands:
        got = run_command(args.binary, args.mpiexec, name, command_args, places)
        results[name] = got
        if not args.record:
            if name not in manifest["commands"]:
                problems.append(f"{name}: not in the manifest (new command? record with --record)")
            else:
                problems.extend(compare(name, manifest["commands"][name], got))

    if args.record:
        for got in results.values():
            del got["_text"]
        manifest = {
            "about": "sha256 of fsdpshard's outputs for tests/golden_outputs/commands.txt; "
                     "see golden_outputs.py. Re-record only for a deliberate, explained change.",
            "recorded_at": recorded_commit(),
            "inputs": input_files(places),
            "commands": results,
        }
        with open(MANIFEST, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1, sort_keys=False)
            f.write("\n")
        files = sum(len(r["files"]) for r in results.values())
        print(f"recorded {len(results)} commands, {files} output files into {MANIFEST}")
        return 0

    if not args.only:
        missing = sorted(set(manifest["commands"]) - {n for n, _ in commands})
        problems.extend(f"{n}: in the manifest but no longer in commands.txt" for n in missing)
    if problems:
        print("\n".join(problems))
        print(f"GoldenOutputs: {len(problems)} difference(s) in {len(commands)} commands")
        return 1
    files = sum(len(r["files"]) for r in results.values())
    print(f"GoldenOutputs: {len(commands)} commands, {files} output files, all as recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
