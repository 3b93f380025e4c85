"""Time one training step of a character-level GPT in autograd_core, and in PyTorch if installed.

    python bench/gpt.py                     # 1 and 2 threads, each in a fresh subprocess
    python bench/gpt.py --threads 2 --neighbour --steps 20

The model is minGPT's / nanoGPT's, at the size people train on a CPU: vocabulary 65 (characters),
context 64, batch 16, width 128, 4 heads, 2 layers, no dropout. Token and position embeddings (the
token table indexed with the ids, ``wte[idx]``, which is what ``nn.Embedding`` does), per block
LayerNorm -> causal self-attention (one Linear for q, k, v; ``softmax(q k^T / sqrt(d))`` with the
future masked; an output Linear) -> residual, LayerNorm -> Linear 4x -> GELU -> Linear -> residual; a
final LayerNorm, the output Linear (no bias), cross-entropy over all positions, AdamW. Both libraries
start from the same weights and data (fixed seeds); the first losses are printed as a cross-check.
Each library runs in its own process per thread count (``bench/harness.py``).
"""
from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np

import harness  # bench/harness.py (the script's folder is on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB, CTX, BATCH, WIDTH, HEADS, LAYERS = 65, 64, 16, 128, 4, 2
LR, WD = 3e-4, 0.1


def init_params(seed=0):
    """GPT-2's init (normal(0, 0.02), zero biases, unit LayerNorm), float32, as an ordered dict."""
    rng = np.random.default_rng(seed)
    C = WIDTH

    def normal(*shape):
        return (0.02 * rng.standard_normal(shape)).astype(np.float32)

    p = {"wte": normal(VOCAB, C), "wpe": normal(CTX, C)}
    for i in range(LAYERS):
        p.update({f"h{i}.ln1.w": np.ones(C, np.float32), f"h{i}.ln1.b": np.zeros(C, np.float32),
                  f"h{i}.attn.w": normal(3 * C, C), f"h{i}.attn.b": np.zeros(3 * C, np.float32),
                  f"h{i}.proj.w": normal(C, C), f"h{i}.proj.b": np.zeros(C, np.float32),
                  f"h{i}.ln2.w": np.ones(C, np.float32), f"h{i}.ln2.b": np.zeros(C, np.float32),
                  f"h{i}.fc.w": normal(4 * C, C), f"h{i}.fc.b": np.zeros(4 * C, np.float32),
                  f"h{i}.fc2.w": normal(C, 4 * C), f"h{i}.fc2.b": np.zeros(C, np.float32)})
    p.update({"lnf.w": np.ones(C, np.float32), "lnf.b": np.zeros(C, np.float32), "head.w": normal(VOCAB, C)})
    return p


def data(seed=1):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, VOCAB, (BATCH, CTX + 1))
    return idx[:, :-1].copy(), idx[:, 1:].copy()


def forward(F, P, idx, targets, mask, neg_inf, transpose):
    """The model written once for both libraries (``F``: their functional module; ``P``: name -> tensor)."""
    B, T = idx.shape
    C, nh = WIDTH, HEADS
    x = P["wte"][idx] + P["wpe"][:T]
    for i in range(LAYERS):
        h = F.layer_norm(x, (C,), P[f"h{i}.ln1.w"], P[f"h{i}.ln1.b"])
        qkv = F.linear(h, P[f"h{i}.attn.w"], P[f"h{i}.attn.b"])
        q, k, v = (qkv[:, :, j * C:(j + 1) * C].reshape(B, T, nh, C // nh).transpose(1, 2) for j in range(3))
        att = (q @ transpose(k)) * (1.0 / math.sqrt(C // nh))
        att = F.softmax(att.masked_fill(mask, neg_inf), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + F.linear(y, P[f"h{i}.proj.w"], P[f"h{i}.proj.b"])
        h = F.layer_norm(x, (C,), P[f"h{i}.ln2.w"], P[f"h{i}.ln2.b"])
        x = x + F.linear(F.gelu(F.linear(h, P[f"h{i}.fc.w"], P[f"h{i}.fc.b"])), P[f"h{i}.fc2.w"], P[f"h{i}.fc2.b"])
    x = F.layer_norm(x, (C,), P["lnf.w"], P["lnf.b"])
    logits = F.linear(x, P["head.w"])
    return F.cross_entropy(logits.reshape(B * T, VOCAB), targets.reshape(B * T))


def ours(idx_np, tgt_np):
    import autograd_core as ag
    import nn.functional as F
    import optim

    P = {k: ag.tensor(v, requires_grad=True) for k, v in init_params().items()}
    opt = optim.AdamW(list(P.values()), lr=LR, weight_decay=WD)
    idx, tgt = ag.tensor(idx_np), ag.tensor(tgt_np)
    mask = ag.tensor(np.triu(np.ones((CTX, CTX), bool), 1))

    def step():
        loss = forward(F, P, idx, tgt, mask, float("-inf"), lambda t: t.transpose(-2, -1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.item())
    return step


def theirs(idx_np, tgt_np):
    import torch
    import torch.nn.functional as F

    P = {k: torch.tensor(v, requires_grad=True) for k, v in init_params().items()}
    opt = torch.optim.AdamW(list(P.values()), lr=LR, weight_decay=WD)
    idx, tgt = torch.from_numpy(idx_np), torch.from_numpy(tgt_np)
    mask = torch.from_numpy(np.triu(np.ones((CTX, CTX), bool), 1))

    def step():
        loss = forward(F, P, idx, tgt, mask, float("-inf"), lambda t: t.transpose(-2, -1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def worker(threads, steps, warmup, lib):
    idx, tgt = data()
    harness.worker(threads, steps, warmup, lib, lambda which: (ours if which == "ours" else theirs)(idx, tgt))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_arguments(ap, steps=30, warmup=5)
    a = ap.parse_args()
    if a.worker:
        sys.path.insert(0, ROOT)
        worker(a.worker, a.steps, a.warmup, a.lib)
        return
    print(f"char-level GPT training step (vocab {VOCAB}, context {CTX}, batch {BATCH}, width {WIDTH}, {HEADS} heads, "
          f"{LAYERS} layers, AdamW), float32; median of {a.steps} steps after {a.warmup} warm-up steps")
    harness.run_and_report(os.path.abspath(__file__), a)


if __name__ == "__main__":
    main()
