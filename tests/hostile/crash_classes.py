"""Hostile command lines (issue 11): inputs and options that crashed or hung the tool.

make_hostile.py calls write(out, h) with itself as `h` (for its pickle/zip helpers); this
writes the files these cases need into `out` and returns the "invocations" of the
manifest, each:
  {"name", "what", "args": [...], "exit": N, "error": substring of stderr (exit 2),
   "mpi": run it under mpirun -np 2 too, "setup": special file the test makes first}
Placeholders in args: {dir} the corpus folder, {out} a fresh empty output folder,
{special} the special file of "setup" (a FIFO, a socket, a FIFO named *.safetensors, a
folder of FSDP rank files or a shard set with a FIFO member), made by the test, since a
FIFO in the corpus would hang anything that walks it (make_seeds.py reads every file).
Every failing case must leave {out} empty and every input unchanged.
"""
from __future__ import annotations

import os

# Ten times ten times ... 'lol': 10^9 strings from a 500-byte text ("billion laughs").
BILLION_LAUGHS = "lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{i}: &{chr(ord('a') + i)} [{', '.join(['*' + chr(ord('a') + i - 1)] * 10)}]\n" for i in range(1, 9))
# The same bomb in one flow value, for --set K=V.
SET_BOMB = "[" + ", ".join(["&a [x, x, x, x, x, x, x, x, x, x]"] +
                           [f"&{chr(ord('a') + i)} [{', '.join(['*' + chr(ord('a') + i - 1)] * 10)}]"
                            for i in range(1, 9)]) + "]"
GOOD_CFG = "optim:\n  lr: 0.001\n  epochs: 10\ndataset:\n  batch_size: 8\n"
LONG_KEY = "x" * 100_000  # std::regex recursed per character of this on '(x+x+)+y'


def exported(h, cfg_yaml: str, entries) -> bytes:
    """An exported checkpoint: {'best_state': state dict, 'xp.cfg': YAML text}."""
    body = h.P().raw(b"}").mark().s("best_state")
    h.state_dict(entries, body)
    body.s("xp.cfg").s(cfg_yaml).raw(b"u")  # SETITEMS
    return h.checkpoint(body.stop())


def write(out: str, h) -> list[dict]:
    files = {
        "good.th": h.GOOD,
        "exported_ok.th": exported(h, GOOD_CFG, h.good_entries()),
        "exported_billion_laughs.th": exported(h, BILLION_LAUGHS, h.good_entries()),
        "long_key.th": h.checkpoint(h.state_dict(
            h.good_entries() + [(lambda p: p.s(LONG_KEY), lambda p: p.tensor("1", "HalfStorage", 4, 0, (4,), (1,)))]
        ).stop()),
        "merge_billion_laughs.yaml": BILLION_LAUGHS.encode(),
        "merge_ok.yaml": b"optim:\n  lr: 0.5\n",
        # Found by fuzz_yaml_config: yaml-cpp's LoadAll loops forever on a stray ',', and
        # its DecodeBase64 read outside its table on a byte >= 0x80.
        "merge_stray_comma.yaml": b"\n,",
        "merge_binary_high_byte.yaml": b"x: !!binary a\xc7VsbG8=\n",
    }
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    # One byte over the 16 MiB --merge cap, sparse: no disk spent on it.
    with open(os.path.join(out, "merge_too_big.yaml"), "wb") as f:
        f.truncate((16 << 20) + 1)
    return list(invocations())


def case(name, what, args, error, exit_code=2, mpi=False, setup=None):
    c = {"name": name, "what": what, "args": args, "exit": exit_code, "error": error, "mpi": mpi}
    if setup:
        c["setup"] = setup
    return c


def invocations():
    g, ok, out = "{dir}/good.th", "{dir}/exported_ok.th", "{out}/o.th"
    gather = ["gather", g, "-o", out]

    # 1. Regexes: linear time (RE2), bad or huge ones refused naming the option.
    yield case("include_catastrophic_regex", "--include 're:(x+x+)+y' on a 100000-byte key (SIGSEGV before)",
               ["gather", "{dir}/long_key.th", "-o", out, "--include", "re:(x+x+)+y"], "no tensor is left", mpi=True)
    yield case("exclude_catastrophic_regex", "--exclude 're:(x+x+)+y' on a 100000-byte key: nothing excluded",
               ["gather", "{dir}/long_key.th", "-o", out, "--exclude", "re:(x+x+)+y"], "", exit_code=0)
    yield case("rename_catastrophic_regex", "--rename '(x+x+)+y=>z' on a 100000-byte key",
               ["gather", "{dir}/long_key.th", "-o", out, "--rename", "(x+x+)+y=>z"], "", exit_code=0)
    yield case("include_bad_regex", "--include 're:(unclosed'", gather + ["--include", "re:(unclosed"],
               "--include '(unclosed': not a usable regular expression")
    yield case("exclude_nested_repetition", "--exclude 're:((((a{100}){100}){100}){100})'",
               gather + ["--exclude", "re:((((a{100}){100}){100}){100})"], "a repetition is too large")
    yield case("include_huge_regex", "--include 're:' + 700 x '.{1000}' (a 700000-instruction program)",
               gather + ["--include", "re:" + ".{1000}" * 700], "the pattern is too large")
    yield case("rename_backreference", "--rename '(a)\\1=>b': backreferences need backtracking",
               gather + ["--rename", "(a)\\1=>b"], "--rename '(a)\\1'")
    yield case("rename_missing_group", "--rename 'w=>\\3': no group 3", gather + ["--rename", "(w)=>\\3"],
               "refers to group 3 but the regex has 1")

    # 2. YAML alias bombs and unbounded --merge reads.
    yield case("exported_cfg_billion_laughs", "exported xp.cfg text of 10^9 aliased strings",
               ["gather", "{dir}/exported_billion_laughs.th", "-o", out], "expands to more than", mpi=True)
    yield case("cfg_billion_laughs", "cfg on an exported xp.cfg bomb", ["cfg", "{dir}/exported_billion_laughs.th"],
               "expands to more than")
    yield case("inspect_cfg_billion_laughs", "inspect --cfg on an exported xp.cfg bomb",
               ["inspect", "--cfg", "{dir}/exported_billion_laughs.th"], "expands to more than")
    yield case("merge_billion_laughs", "--merge FILE of 10^9 aliased strings",
               ["gather", ok, "-o", out, "--merge", "{dir}/merge_billion_laughs.yaml"], "expands to more than",
               mpi=True)
    yield case("cfg_merge_billion_laughs", "cfg --merge FILE bomb",
               ["cfg", ok, "-o", out, "--merge", "{dir}/merge_billion_laughs.yaml"], "expands to more than")
    yield case("set_billion_laughs", "--set K=<flow YAML bomb>", ["gather", ok, "-o", out, "--set", "a=" + SET_BOMB],
               "expands to more than")
    yield case("merge_stray_comma", "--merge FILE holding '\\n,' (hung in yaml-cpp's LoadAll)",
               ["cfg", ok, "-o", out, "--merge", "{dir}/merge_stray_comma.yaml"], "expected one YAML document")
    yield case("merge_binary_high_byte", "--merge FILE with !!binary text holding byte 0xc7 (SEGV in yaml-cpp)",
               ["cfg", ok, "-o", out, "--merge", "{dir}/merge_binary_high_byte.yaml"], "bad !!binary data")
    yield case("merge_dev_zero", "--merge /dev/zero (read forever before)",
               ["gather", ok, "-o", out, "--merge", "/dev/zero"], "/dev/zero: is a character device", mpi=True)
    yield case("merge_too_big", "--merge of 16 MiB + 1 byte", ["cfg", ok, "-o", out, "--merge",
                                                              "{dir}/merge_too_big.yaml"], "more than the 16 MiB")
    yield case("merge_fifo", "--merge FIFO (blocked forever before)",
               ["gather", ok, "-o", out, "--merge", "{special}"], "is a FIFO", mpi=True, setup="fifo")

    # 3. Non-regular inputs: refused up front, never blocked on.
    fifo_error = "is a FIFO (named pipe), not a regular file"
    for n, command in enumerate((["inspect", "{special}"], ["inspect", "--json", "{special}"], ["cfg", "{special}"],
                                 ["gather", "{special}", "-o", out],
                                 ["reshard", "{special}", "-o", "{out}/d", "--shards", "2"],
                                 ["verify", "{special}", g], ["verify", g, "{special}"])):
        yield case(f"fifo_input_{n}_{command[0]}", f"{' '.join(command)} on a FIFO", command, fifo_error,
                   mpi=True, setup="fifo")
    yield case("inspect_fifo_safetensors", "inspect on a FIFO named *.safetensors", ["inspect", "{special}"],
               fifo_error, mpi=True, setup="fifo.safetensors")
    yield case("inspect_socket", "inspect on a Unix socket", ["inspect", "{special}"],
               "is a socket, not a regular file", setup="socket")
    yield case("inspect_dev_zero", "inspect /dev/zero", ["inspect", "/dev/zero"], "is a character device")
    yield case("verify_dev_null", "verify /dev/null X", ["verify", "/dev/null", g], "is a character device")
    yield case("shapes_from_fifo", "gather --from model on FSDP rank files, --shapes-from FIFO",
               ["gather", "{special}/checkpoint.th", "-o", out, "--from", "model", "--shapes-from",
                "{special}/shapes.th"], fifo_error, mpi=True, setup="fsdp_shapes_from_fifo")
    yield case("shard_member_fifo", "a shard set whose shard file is a FIFO", ["inspect", "{special}"], fifo_error,
               mpi=True, setup="shard_set_fifo_member")
    yield case("shard_index_fifo", "a shard set's index is a FIFO", ["verify", "{special}", g], fifo_error,
               setup="shard_set_fifo_index")
    yield case("fsdp_rank_file_fifo", "FSDP rank file checkpoint.th.1 is a FIFO",
               ["gather", "{special}/checkpoint.th", "-o", out, "--from", "model"], fifo_error, mpi=True,
               setup="fsdp_rank1_fifo")

    # 4. Numeric options: NaN, infinities, negatives, zeros and overflows refused.
    for option, value, error in (("--rtol", "nan", "--rtol nan: expected a finite number >= 0"),
                                 ("--rtol", "-1", "--rtol -1: expected a finite number >= 0"),
                                 ("--rtol", "inf", "--rtol inf"), ("--atol", "nan", "--atol nan"),
                                 ("--atol", "-1e-3", "--atol -0.001"), ("--atol", "inf", "--atol inf")):
        yield case(f"verify{option[1:]}_{value}", f"verify {option} {value}", ["verify", g, g, option, value], error,
                   mpi=option == "--rtol" and value == "nan")
    for args, error in ((["--shards", "0"], "--shards"), (["--shards", "-3"], "--shards"),
                        (["--shards", "99999999999999999999"], "--shards"), (["--world", "0"], "--world"),
                        (["--world", "-1"], "--world"), (["--max-shard-size", "0"], "--max-shard-size '0'"),
                        (["--max-shard-size", "-5MB"], "--max-shard-size"),
                        (["--max-shard-size", "99999999999TB"], "--max-shard-size '99999999999TB'"),
                        (["--max-shard-size", "nan"], "--max-shard-size 'nan'"),
                        (["--shards", "2", "--max-inflight", "1KiB"], "--max-inflight must be at least"),
                        (["--shards", "2", "--max-inflight", "-1"], "--max-inflight '-1'"),
                        (["--shards", "2", "--max-inflight", "inf"], "--max-inflight 'inf'")):
        yield case("reshard" + "_".join(a.strip("-") for a in args), "reshard " + " ".join(args),
                   ["reshard", g, "-o", "{out}/d"] + args, error)
    yield case("gather_max_inflight_zero", "gather --max-inflight 0", gather + ["--max-inflight", "0"],
               "--max-inflight '0'")

    # 5. Filters that leave nothing: exit 2 unless --allow-empty.
    yield case("include_matches_nothing", "--include that matches no tensor", gather + ["--include", "nomatch*"],
               "--include 'nomatch*': no tensor is left of the 2", mpi=True)
    yield case("exclude_everything", "--exclude '*'", gather + ["--exclude", "*"], "--exclude '*': no tensor is left")
    yield case("reshard_include_nothing", "reshard --include that matches nothing",
               ["reshard", g, "-o", "{out}/d", "--shards", "2", "--include", "re:^nomatch$"], "no tensor is left")
    yield case("include_nothing_allowed", "--include nothing with --allow-empty: an empty state dict",
               gather + ["--include", "nomatch*", "--allow-empty"], "", exit_code=0)
