"""Tricky xp.cfg contents shared by the cfg oracle scripts (tests/unit/cfg_test.cpp).

CONFIGS: Python objects turned into DictConfigs with OmegaConf.create.
YAML_TEXTS: YAML documents as users write them, for normalize_yaml.
"""

import dataclasses
from typing import Any, Optional

LONG_WORDS = " ".join(["word%d" % i for i in range(40)])
STRINGS = [
    "", " ", "a ", " a", "a  b", "a: b", "a:b", "a #b", "a#b", "#a", "- a", "-a", "-", "--",
    "?", "? a", "?a", ":", ":a", "a:", "---", "--- a", "...", "...a", ",a", "[a]", "{a}",
    "a, b", "a[0]", "true", "True", "TRUE", "yes", "Yes", "y", "Y", "n", "no", "on", "off",
    "Off", "null", "Null", "NULL", "none", "None", "~", "1", "-1", "+1", " 1", "1 ", "1.0",
    "1.", ".5", "1e5", "1e-5", "1E5", "1_000", "1__0", "_1", "0x1F", "0o17", "0b11", "017",
    "08", "00", "1:30", "1:30.5", "190:20:30", "inf", "-inf", "+inf", "Infinity", "nan",
    "NaN", ".inf", "-.inf", ".nan", ".NaN", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5", "<<", "=", "@a", "`a", "%a", "!a", "&a", "*a", "|", ">",
    "|a", "'", '"', "it's", 'say "hi"', "back\\slash", "multi\nline", "trail\n", "\nlead",
    "a\n\nb", "a \nb", "a\n b", "tab\tx", "\t", "café", "日本語", "emoji 😀", "\x00",
    "\x07", "\x1b", "\x7f", "\xa0", "\ufeff", "\U0010fffe", "???",
    "${a.b}", "${oc.env:HOME}", "pre ${a} post", "a" * 100, LONG_WORDS,
    "x " * 60, "y  " * 40, LONG_WORDS + "\n" + LONG_WORDS, "true " + LONG_WORDS,
    "\x07" + LONG_WORDS, "1 " * 50, "١٢٣", "１２", " ٣ ", "1_0.5",
]
FLOATS = [0.0, -0.0, 0.1, 1.5, 3.0, 1e-05, 1e-4, 1e16, 1e15, 1.5e-07, 123456789.123,
          1e100, 2.5e-300, 1e22, 1234567890123456.0, 12345678901234567.0,
          float("inf"), float("-inf"), float("nan")]
INTS = [0, 1, -1, 2**31, 2**63 - 1, -2**63, 2**64, -2**70, 10**30]


def configs():
    out = {}
    out["empty"] = {}
    out["scalars"] = {"i": 1, "f": 0.5, "b": True, "nb": False, "n": None, "s": "text",
                      "m": "???", "interp": "${i}", "env": "${oc.env:HOME,/tmp}"}
    out["strings"] = {"s%d" % i: s for i, s in enumerate(STRINGS)}
    out["string_list"] = {"l": list(STRINGS)}
    out["floats"] = {"f%d" % i: f for i, f in enumerate(FLOATS)}
    out["ints"] = {"i%d" % i: v for i, v in enumerate(INTS)}
    out["nested"] = {
        "a": {"b": {"c": {"d": 1, "e": [1, 2, {"f": [], "g": {}}]}}},
        "lists": [[1, 2], [[3]], [], {}, {"x": [{"y": None}]}, "s"],
        "empty_map": {}, "empty_list": [],
        "lm": [{"a": 1, "b": 2}, {"c": {"d": [1]}}],
    }
    out["keys"] = {1: "int", 2.5: "float", True: "bool", "": "empty", "a b": 1,
                   "k" * 130: "long key", "k" * 122: "simple", "k" * 123: "complex", "f" * 121: 1.5, "multi\nline": 2, "true": 3, "1": 4, "???": 5,
                   "日本": 6, "-": 7, "a: b": 8, " lead": 9, "x" * 127: 10}
    out["string_keys"] = {s: i for i, s in enumerate(STRINGS)}
    # YAML 1.1 line breaks (NEL, LS, PS): dumped like omegaconf, but YAML text holding
    # them reads differently (yaml-cpp follows YAML 1.2), so no round trip for these.
    out["yaml11_breaks"] = {"nel": "\x85", "ls": "\u2028", "ps": "\u2029", "mid": "a\x85b",
                            "sp": "\x85  ", "list": ["\u2028 x"], "\x85": "key"}
    out["missing_containers"] = {"d": "???", "l": "${d}", "n": None}
    out["bytes"] = {"b": b"hello", "e": b"", "long": bytes(range(256))}
    out["audiocraft_like"] = {
        "solver": "musicgen", "device": "cuda", "dtype": "float32", "seed": 2036,
        "optim": {"epochs": 500, "lr": 1e-4, "optimizer": "dadam", "adam": {"betas": [0.9, 0.95], "weight_decay": 0.1, "eps": 1e-8}},
        "fsdp": {"use": True, "param_dtype": "float16", "reduce_dtype": "float32", "buffer_dtype": "float32", "sharding_strategy": "shard_grad_op", "per_block": True},
        "dataset": {"batch_size": 192, "segment_duration": 30, "train": {"num_samples": 1000000}, "valid": {"num_samples": 10000}},
        "transformer_lm": {"dim": 1024, "num_heads": 16, "num_layers": 24, "card": 2048, "n_q": 4, "q_modeling": None},
        "conditioners": {"description": {"model": "t5", "t5": {"name": "t5-base", "finetune": False, "word_dropout": 0.3, "normalize_text": False}}},
        "dora": {"dir": "/checkpoint/${oc.env:USER}/experiments/audiocraft/outputs", "exclude": ["device", "wandb.*", "tensorboard.*", "logging.*", "dataset.num_workers", "eval.num_workers", "special.*", "metrics.visqol.bin", "metrics.fad.bin", "execute_only", "execute_best", "generate.every", "optim.eager_sync", "profiler.*", "deadlock.*", "efficient_attention_backend", "num_threads", "mp_start_method"]},
        "generate": {"lm": {"prompted_samples": True, "unprompted_samples": True, "gen_gt_samples": False, "prompt_duration": None, "gen_duration": None, "remove_prompts": False, "use_sampling": True, "temp": 1.0, "top_k": 250, "top_p": 0.0}},
        "label": None, "continue_from": None, "execute_only": None,
    }
    return out


YAML_TEXTS = {
    "scalars": "a: 1e5\nb: 1e-5\nc: 017\nd: 0x1F\ne: 0b11\nf: 1:30\ng: 1_000\nh: 08\ni: .5\nj: 1.\n"
               "k: y\nl: 2001-12-14\nm: 99999999999999999999999\nn: -0.0\no: ~\np:\nq: yes\nr: Off\n"
               "s: .inf\nt: -.Inf\nu: .NaN\nv: +1\nw: -017\nx: 1:30.5\ny: 1_0.5\nz: 0.1e3\n",
    "quoted": "a: '1'\nb: \"true\"\nc: 'it''s'\nd: \"tab\\there\"\ne: \"\\u00e9\"\nf: ''\ng: \"\"\n",
    "block": "lit: |\n  line one\n  line two\nfold: >\n  folded\n  text\n\n  para\nkeep: |+\n  x\n\nstrip: |-\n  y\n",
    "flow": "a: [1, 2, {b: c}]\nd: {e: [], f: {}}\ng: [[1], [2, [3]]]\n",
    "nested_lists": "a:\n  - [1,2]\n  - - x\n    - y\n  - {}\n  - - - deep\n",
    "anchors": "base: &b {x: 1, y: [1, 2]}\nuse: *b\nmerged:\n  <<: *b\n  y: 3\n",
    "multi_merge": "a: &a {k: 1, p: a}\nb: &b {k: 2, q: b}\nc:\n  <<: [*a, *b]\n  r: c\n",
    "comments": "# head\na: 1 # one\nb: 'x # not a comment'\nc: x#y\n",
    "tags": "a: !!str 12\nb: !!float 1\nc: !!int '7'\nd: !!bool yes\ne: !!binary aGVsbG8=\nf: !!null ''\n",
    "keys": "1: int\n1.5: float\ntrue: bool\n'': empty\n'1': strkey\n? complex\n: value\n",
    "interp": "a: ${b}\nb: '???'\nc: ???\nd: ${oc.env:HOME}\ne: pre ${a} post\n",
    "unicode": "name: café\njp: 日本語\nemoji: 😀\n",
    "long": "text: " + LONG_WORDS + "\n",
    "empty": "",
    "empty_map": "{}\n",
    "top_list": "- 1\n- a: 2\n",
    "document_marker": "---\na: 1\n...\n",
    "dup_int_keys": "1: a\n1: b\n",
    "ints_equal_keys": "1: a\ntrue: b\n",
}


BASE = """\
optim:
  lr: 1.0e-4
  epochs: 500
  betas: [0.9, 0.95]
  sched: {name: cosine, warmup: 100}
dataset:
  train: {path: /data/train, n: 10}
  valid: {path: /data/valid}
  segments: []
label: null
missing: ???
link: ${optim.lr}
empty: {}
"""

# --set / --merge / --unset cases; "diverges" marks a deliberate difference from
# omegaconf (fsdpshard refuses where omegaconf would silently replace), checked as an error.
EDIT_CASES = {
    "set_scalars": {"sets": [["optim.lr", "1e-5"], ["optim.epochs", "50"], ["label", "run 1"],
                             ["flag", "true"], ["nothing", "null"], ["empty_value", ""],
                             ["quoted", "'007'"], ["text", "yes please"], ["big", "99999999999999999999"]]},
    "set_new_paths": {"sets": [["brand.new.key", "[1, x, {a: 2}]"], ["dataset.test.path", "/t"],
                               ["label.sub", "1"], ["missing.x", "2"]]},
    "set_merges_maps": {"sets": [["optim.sched", "{warmup: 5, extra: [1]}"], ["empty", "{a: 1}"]]},
    "set_replaces_lists": {"sets": [["optim.betas", "[0.5]"], ["dataset.segments", "[{a: 1}]"]]},
    "set_missing_keeps": {"sets": [["optim.lr", "???"], ["new_missing", "???"]]},
    "set_interpolations": {"sets": [["ref", "${optim.epochs}"], ["env", "${oc.env:HOME,/x}"], ["link", "3"]]},
    "set_container_to_scalar": {"sets": [["optim.sched", "5"], ["dataset.valid", "null"]]},
    "set_scalar_to_map": {"sets": [["optim.lr", "{a: 1}"]]},
    "set_scalar_to_list": {"sets": [["link", "[1, 2]"], ["label", "[1]"], ["missing", "[{a: 1}]"]]},
    "set_unicode_and_floats": {"sets": [["name", "café ☕"], ["f", "1e5"], ["g", ".inf"], ["h", "-1_000"],
                                        ["i", "0x10"], ["j", "2001-12-14"], ["k", "1:30"]]},
    "unset": {"unsets": ["optim.sched", "dataset.valid.path", "link"]},
    "merge": {"merges": ["optim:\n  ema: {decay: 0.99}\n  lr: 3.0e-4\nnew_section:\n  a: [1, 2]\n",
                         "dataset:\n  train:\n    n: ???\n    extra: 1\nlabel: {x: 1}\nmissing: {m: 1}\nempty: {deep: {er: [1]}}\n"]},
    "merge_then_set_then_unset": {"merges": ["optim: {lr: 1}\n"], "sets": [["optim.lr", "2"]],
                                  "unsets": ["optim.epochs"]},
    "err_set_through_float": {"sets": [["optim.lr.sub", "1"]], "diverges": True},
    "err_set_through_list": {"sets": [["optim.betas.x", "1"]], "diverges": True},
    "err_set_through_interpolation": {"sets": [["link.x", "1"]], "diverges": True},
    "err_unset_missing": {"unsets": ["optim.nope"]},
    "err_unset_through_leaf": {"unsets": ["optim.lr.x"]},
    "err_merge_map_into_list": {"merges": ["optim: {betas: {a: 1}}\n"]},
    "err_set_list_into_map": {"sets": [["optim.sched", "[1]"]]},
    "err_bad_yaml_value": {"sets": [["a", "[1, 2"]]},
}


@dataclasses.dataclass
class Inner:
    f: float = 0.5
    i: int = 3
    b: bool = False
    s: str = "text"
    o: Optional[float] = None


@dataclasses.dataclass
class Typed:
    inner: Inner = dataclasses.field(default_factory=Inner)
    any: Any = 1
    lr: float = 1e-4


def check_config(name, cfg):
    """Nothing to check; a hook for debugging a case."""
    return cfg
