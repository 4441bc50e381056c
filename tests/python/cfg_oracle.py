"""Reference answers from real omegaconf for tests/unit/cfg_test.cpp.

  cfg_oracle.py normalize IN.json OUT.json   {name: yaml} -> {name: to_yaml(create(yaml)) | {"error": msg}}
  cfg_oracle.py edit IN.json OUT.json        {name: {yaml, merges, sets, unsets}} -> expected to_yaml | error
  cfg_oracle.py cases OUT_DIR                writes <name>.pkl (pickle protocol 2) and <name>.yaml for
                                             cfg_cases.configs(), and yaml_texts.json
  cfg_oracle.py check_pickles IN.json OUT.json [structural]
                                             {name: [pkl_path, expected_yaml]} -> {name: "ok" | reason}

Run with the interpreter that has omegaconf (/usr/bin/python3 on the CI machine).
"""
import json
import os
import pickle
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yaml  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from omegaconf._utils import get_yaml_loader  # noqa: E402

import cfg_cases  # noqa: E402


def normalize(cases):
    out = {}
    for name, text in cases.items():
        try:
            out[name] = OmegaConf.to_yaml(OmegaConf.create(text))
        except Exception as e:  # the C++ side must fail too
            out[name] = {"error": "%s: %s" % (type(e).__name__, e)}
    return out


def apply_edits(case):
    # The same recipe as tests/python/cfg_check.py (what `fsdpshard cfg` promises).
    cfg = OmegaConf.create(case.get("yaml", cfg_cases.BASE))
    for text in case.get("merges", []):
        cfg = OmegaConf.merge(cfg, OmegaConf.create(text))
    sets = ["%s=%s" % (k, v) for k, v in case.get("sets", [])]
    if sets:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(sets))
    for key in case.get("unsets", []):
        parent_key, _, leaf = key.rpartition(".")
        parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
        del parent[leaf]
    return OmegaConf.to_yaml(cfg)


def edit(cases):
    out = {}
    for name, case in cases.items():
        try:
            out[name] = apply_edits(case)
        except Exception as e:
            out[name] = {"error": "%s: %s" % (type(e).__name__, e)}
    return out


def write_cases(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, obj in cfg_cases.configs().items():
        cfg = OmegaConf.create(obj)
        cfg_cases.check_config(name, cfg)
        with open(os.path.join(out_dir, name + ".pkl"), "wb") as f:
            f.write(pickle.dumps(cfg, protocol=2))
        with open(os.path.join(out_dir, name + ".yaml"), "w", encoding="utf-8") as f:
            f.write(OmegaConf.to_yaml(cfg))
    with open(os.path.join(out_dir, "yaml_texts.json"), "w", encoding="utf-8") as f:
        json.dump(cfg_cases.YAML_TEXTS, f)
    with open(os.path.join(out_dir, "edit_base.pkl"), "wb") as f:
        f.write(pickle.dumps(OmegaConf.create(cfg_cases.BASE), protocol=2))
    cases = {}
    for name, case in cfg_cases.EDIT_CASES.items():
        case = dict(case, yaml=cfg_cases.BASE)
        case["expected"] = {"error": "fsdpshard refuses this"} if case.get("diverges") else edit({name: case})[name]
        cases[name] = case
    with open(os.path.join(out_dir, "edit_cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f)
    typed = OmegaConf.structured(cfg_cases.Typed)
    with open(os.path.join(out_dir, "typed.pkl"), "wb") as f:
        f.write(pickle.dumps(typed, protocol=2))


def same(a, b):
    """Equal values of the same types, NaN equal to NaN (dict order counts)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


def check_pickles(cases, text_too=True):
    """text_too=False for other omegaconf versions: 2.4 dumps through libyaml's C emitter
    when available, which lays out a few edge cases (empty or long keys, non-BMP
    characters) differently from the pure-Python emitter of 2.1-2.3."""
    out = {}
    for name, (path, expected) in cases.items():
        try:
            with open(path, "rb") as f:
                cfg = pickle.loads(f.read())
            got = OmegaConf.to_yaml(cfg)
            # The loaded object must behave: equal to a config made from the text.
            if text_too and got != expected:
                out[name] = "to_yaml differs:\n" + got
            elif not same(OmegaConf.to_container(cfg), OmegaConf.to_container(OmegaConf.create(expected))):
                out[name] = "not equal to OmegaConf.create(expected)"
            else:
                OmegaConf.set_struct(cfg, False)
                cfg.fsdpshard_probe = 1  # a loaded config must stay editable
                OmegaConf.to_container(cfg, resolve=False)
                out[name] = "ok"
        except Exception as e:
            out[name] = "%s: %s" % (type(e).__name__, e)
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "cases":
        write_cases(sys.argv[2])
        return
    with open(sys.argv[2], encoding="utf-8") as f:
        cases = json.load(f)
    if cmd == "check_pickles" and sys.argv[4:] == ["structural"]:
        result = check_pickles(cases, text_too=False)
    else:
        result = {"normalize": normalize, "edit": edit, "check_pickles": check_pickles}[cmd](cases)
    with open(sys.argv[3], "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
