#!/usr/bin/env python3
"""Writes checkpoints that run code when torch.load reads them, for the output-safety tests.

    make_payloads.py OUT_DIR FIXTURES_DIR MARKER

Each payload is a real `posix.system('touch MARKER')` call in the pickle (what an attacker
would write), placed somewhere else in an AudioCraft checkpoint taken from the torch 1.13
fixtures. Written with /usr/bin/python3's torch 1.13 by torch.save itself; objects whose
__reduce_ex__ returns the hostile call do the pickle surgery. Nothing here loads a payload.

OUT_DIR/<case>.th (base: FIXTURES_DIR/training/checkpoint.th):
  hooks          best_state.model tensor rebuilt as _rebuild_tensor_v2(..., False, <payload>)
  param_hooks    an nn.Parameter rebuilt as _rebuild_parameter(tensor, False, <payload>)
  extra_arg      a tensor with a 7th argument no torch writes (an int, no code): irregular
  build_state    a tensor that receives a BUILD with an attribute dict (irregular, no code)
  top_level      a top-level entry 'evil' = <payload>
  history        history[3]['x'] = <payload>
  storage_arg    a tensor whose storage argument is <payload> instead of a persistent id
  dict_key       top-level 'meta' = {<payload>: 1} (the payload is a dict key)
  cfg_content    xp.cfg DictConfig with a node whose value is <payload>
  optimizer      optimizer['state'][0]['step'] = <payload>
  clean          the base itself, rewritten by torch.save (control)
OUT_DIR/fsdp_<case>/checkpoint.th(.1) (base: FIXTURES_DIR/fsdp/):
  fsdp_rank0_history   rank 0's history[0]['x'] = <payload>
  fsdp_rank1_hooks     a model piece of rank 1 with <payload> as backward_hooks
  fsdp_rank1_top       rank 1 with a top-level entry 'evil' = <payload> (no output carries it)

    make_payloads.py --shard SHARD.bin MARKER

rewrites one torch shard of a shard set (a bare state dict) with <payload> as its first
tensor's backward_hooks.
"""
import collections
import os
import shutil
import sys

import torch
from omegaconf import OmegaConf


class Payload:
    """Pickles as posix.system('touch MARKER'): what a hostile checkpoint carries."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch '" + self.marker + "'",))


class RebuildCall:
    """A tensor pickled as torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
    requires_grad, hooks, *extra): torch.save's persistent_id still writes the storage."""

    def __init__(self, tensor, hooks, extra=(), storage=None, build_state=None):
        self.tensor, self.hooks, self.extra = tensor, hooks, extra
        self.storage, self.build_state = storage, build_state

    def __reduce_ex__(self, proto):
        t = self.tensor
        storage = t.storage() if self.storage is None else self.storage
        args = (storage, t.storage_offset(), tuple(t.size()), t.stride(), t.requires_grad, self.hooks) + self.extra
        if self.build_state is None:
            return (torch._utils._rebuild_tensor_v2, args)
        return (torch._utils._rebuild_tensor_v2, args, self.build_state)


class ParameterCall:
    """An nn.Parameter pickled as _rebuild_parameter(data, requires_grad, hooks)."""

    def __init__(self, tensor, hooks):
        self.tensor, self.hooks = tensor, hooks

    def __reduce_ex__(self, proto):
        return (torch._utils._rebuild_parameter, (self.tensor.detach(), True, self.hooks))


def load(path):
    return torch.load(path, map_location="cpu")  # the fixtures fsdpshard's tests wrote


def first_key(state):
    return next(iter(state))


def with_model_tensor(ck, make):
    model = ck["best_state"]["model"]
    name = first_key(model)
    model[name] = make(model[name])
    return ck


def patch_shard(path, marker):
    state = load(path)
    name = first_key(state)
    state[name] = RebuildCall(state[name], Payload(marker))
    torch.save(state, path)
    return 0


def main(argv):
    if argv[1] == "--shard":
        return patch_shard(argv[2], argv[3])
    out, fixtures, marker = argv[1], argv[2], argv[3]
    os.makedirs(out, exist_ok=True)
    base = os.path.join(fixtures, "training", "checkpoint.th")
    payload = Payload(marker)

    def save(name, ck):
        torch.save(ck, os.path.join(out, name + ".th"))

    save("clean", load(base))
    save("hooks", with_model_tensor(load(base), lambda t: RebuildCall(t, payload)))
    save("param_hooks", with_model_tensor(load(base), lambda t: ParameterCall(t, payload)))
    save("extra_arg", with_model_tensor(load(base), lambda t: RebuildCall(t, collections.OrderedDict(), (7,))))
    save("build_state", with_model_tensor(load(base), lambda t: RebuildCall(t, collections.OrderedDict(),
                                                                             build_state={"attr": 1})))
    save("storage_arg", with_model_tensor(load(base), lambda t: RebuildCall(t, collections.OrderedDict(),
                                                                             storage=payload)))
    ck = load(base)
    ck["evil"] = payload
    save("top_level", ck)
    ck = load(base)
    history = ck.setdefault("history", [])
    while len(history) < 4:
        history.append({})
    history[3] = dict(history[3], x=payload)
    save("history", ck)
    ck = load(base)
    ck["meta"] = {payload: 1}
    save("dict_key", ck)
    ck = load(base)
    cfg = ck["xp.cfg"]
    OmegaConf.set_struct(cfg, False)
    cfg._set_flag("allow_objects", True)
    cfg.evil = payload
    save("cfg_content", ck)
    ck = load(base)
    ck["optimizer"]["state"][0]["step"] = payload
    save("optimizer", ck)

    fsdp = os.path.join(fixtures, "fsdp")

    def fsdp_case(name, rank, change):
        d = os.path.join(out, "fsdp_" + name)
        os.makedirs(d, exist_ok=True)
        for f in ("checkpoint.th", "checkpoint.th.1"):
            shutil.copyfile(os.path.join(fsdp, f), os.path.join(d, f))
        path = os.path.join(d, "checkpoint.th" + ("" if rank == 0 else ".%d" % rank))
        torch.save(change(load(path)), path)

    def rank0_history(ck):
        ck.setdefault("history", []).insert(0, {"x": payload})
        return ck

    def rank1_hooks(ck):
        name = first_key(ck["model"])
        ck["model"][name] = RebuildCall(ck["model"][name], payload)
        return ck

    def rank1_top(ck):
        ck["evil"] = payload
        return ck

    fsdp_case("rank0_history", 0, rank0_history)
    fsdp_case("rank1_hooks", 1, rank1_hooks)
    fsdp_case("rank1_top", 1, rank1_top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
