#!/usr/bin/env python3
"""The forward pass of examples/musicgen_lm/musicgen_lm.cpp, in Python, on the same
checkpoint and the same fixed inputs; compared with the logits the example wrote.

Usage: musicgen_lm.py CHECKPOINT LOGITS.pt
Exit 0 when the logits agree (float32, atol=rtol=1e-5), 1 otherwise."""
import math
import sys

import torch
import torch.nn.functional as F

HEADS = 2


def attention(x, memory, w_in, w_out, causal):
    dim = x.shape[-1]
    wq, wk, wv = w_in.chunk(3, 0)

    def heads(t):
        return t.view(t.shape[0], t.shape[1], HEADS, dim // HEADS).transpose(1, 2)

    q, k, v = heads(x @ wq.t()), heads(memory @ wk.t()), heads(memory @ wv.t())
    scores = q @ k.transpose(-2, -1) / math.sqrt(dim // HEADS)
    if causal:
        mask = torch.ones(x.shape[1], memory.shape[1], dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(x.shape[0], x.shape[1], dim)
    return out @ w_out.t()


def forward(sd, codes, condition):
    n_q = sum(1 for k in sd if k.startswith("emb."))
    n_layers = sum(1 for k in sd if k.startswith("transformer.layers.") and k.endswith(".linear1.weight"))
    x = sum(F.embedding(codes[:, k], sd[f"emb.{k}.weight"]) for k in range(n_q))
    p = "condition_provider.conditioners.description.output_proj."
    memory = F.linear(condition, sd[p + "weight"], sd[p + "bias"])
    dim = x.shape[-1]
    for i in range(n_layers):
        L = lambda name: sd[f"transformer.layers.{i}.{name}"]  # noqa: E731
        norm = lambda t, n: F.layer_norm(t, (dim,), L(n + ".weight"), L(n + ".bias"))  # noqa: E731
        h = norm(x, "norm1")
        x = x + attention(h, h, L("self_attn.in_proj_weight"), L("self_attn.out_proj.weight"), True)
        x = x + attention(norm(x, "norm_cross"), memory, L("cross_attention.in_proj_weight"),
                          L("cross_attention.out_proj.weight"), False)
        x = x + F.linear(F.gelu(F.linear(norm(x, "norm2"), L("linear1.weight"))), L("linear2.weight"))
    x = F.layer_norm(x, (dim,), sd["out_norm.weight"], sd["out_norm.bias"])
    return torch.stack([F.linear(x, sd[f"linears.{k}.weight"]) for k in range(n_q)], 1)


def main() -> int:
    ckpt = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
    sd = {k: v.float() for k, v in ckpt["best_state"].items()}
    n_q = sum(1 for k in sd if k.startswith("emb."))
    card = sd["linears.0.weight"].shape[0]
    cond_dim = sd[next(k for k in sd if k.endswith("output_proj.weight"))].shape[1]
    codes = (torch.arange(2 * n_q * 5, dtype=torch.long) * 7).remainder(card + 1).view(2, n_q, 5)
    condition = torch.sin(torch.arange(2 * 3 * cond_dim, dtype=torch.float) * 0.01).view(2, 3, cond_dim)
    with torch.no_grad():
        want = forward(sd, codes, condition)
    got = torch.load(sys.argv[2], map_location="cpu", weights_only=True)["logits"]
    diff = (want - got).abs().max().item() if want.shape == got.shape else float("inf")
    print(f"logits {tuple(got.shape)}, max abs difference {diff:.3g}")
    return 0 if want.shape == got.shape and torch.allclose(want, got, atol=1e-5, rtol=1e-5) else 1


if __name__ == "__main__":
    sys.exit(main())
