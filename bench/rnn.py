"""Time one training step of a character-level recurrent language model in autograd_core, and in PyTorch
if installed.

    python bench/rnn.py                     # LSTM; 1 and 2 threads, each in a fresh subprocess
    python bench/rnn.py --kind gru --threads 1

The model is the char-rnn of tutorials and of pytorch/examples' word language model, at a CPU size:
vocabulary 65, an embedding of 64, a 2-layer ``nn.LSTM`` (or ``nn.GRU``) of width 128 with batch-first
input, a Linear decoder, sequences of 32 characters in batches of 16, cross-entropy over every position,
Adam. Both libraries start from the same weights and data (fixed seeds); the first losses are printed as a
cross-check. Each library runs in its own process per thread count (``bench/harness.py``).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import harness  # bench/harness.py (the script's folder is on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB, EMB, HIDDEN, LAYERS, BATCH, SEQ = 65, 64, 128, 2, 16, 32
LR = 2e-3


def init_params(kind, seed=0):
    """PyTorch's init for each parameter (uniform(-1/sqrt(H), 1/sqrt(H)) for the recurrent layer, N(0, 1)
    for the embedding, the Linear's default), float32, in PyTorch's state dict names."""
    rng = np.random.default_rng(seed)
    G = {"lstm": 4, "gru": 3}[kind]
    k = 1 / np.sqrt(HIDDEN)
    p = {"emb.weight": rng.standard_normal((VOCAB, EMB))}
    for layer in range(LAYERS):
        inp = EMB if layer == 0 else HIDDEN
        p.update({f"rnn.weight_ih_l{layer}": rng.uniform(-k, k, (G * HIDDEN, inp)),
                  f"rnn.weight_hh_l{layer}": rng.uniform(-k, k, (G * HIDDEN, HIDDEN)),
                  f"rnn.bias_ih_l{layer}": rng.uniform(-k, k, G * HIDDEN),
                  f"rnn.bias_hh_l{layer}": rng.uniform(-k, k, G * HIDDEN)})
    p.update({"head.weight": rng.uniform(-k, k, (VOCAB, HIDDEN)), "head.bias": rng.uniform(-k, k, VOCAB)})
    return {name: v.astype(np.float32) for name, v in p.items()}


def data(seed=1):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, VOCAB, (BATCH, SEQ + 1))
    return idx[:, :-1].copy(), idx[:, 1:].copy()


def build(torch, nn, optim, F, kind, idx_np, tgt_np):
    """The model and its training step, written once for both libraries."""
    class CharRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB, EMB)
            self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(EMB, HIDDEN, num_layers=LAYERS, batch_first=True)
            self.head = nn.Linear(HIDDEN, VOCAB)

        def forward(self, x):
            h, _ = self.rnn(self.emb(x))
            return self.head(h)

    model = CharRNN()
    model.load_state_dict({k: torch.tensor(v) for k, v in init_params(kind).items()})
    opt = optim.Adam(model.parameters(), lr=LR)
    idx, tgt = torch.tensor(idx_np), torch.tensor(tgt_np)

    def step():
        logits = model(idx)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.item())
    return step


def ours(kind, idx, tgt):
    import autograd_core as ag
    import nn
    import nn.functional as F
    import optim
    return build(ag, nn, optim, F, kind, idx, tgt)


def theirs(kind, idx, tgt):
    import torch
    return build(torch, torch.nn, torch.optim, torch.nn.functional, kind, idx, tgt)


def worker(threads, steps, warmup, lib, kind):
    idx, tgt = data()
    harness.worker(threads, steps, warmup, lib, lambda which: (ours if which == "ours" else theirs)(kind, idx, tgt))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_arguments(ap, steps=30, warmup=5)
    ap.add_argument("--kind", choices=["lstm", "gru"], default="lstm")
    a = ap.parse_args()
    if a.worker:
        sys.path.insert(0, ROOT)
        worker(a.worker, a.steps, a.warmup, a.lib, a.kind)
        return
    a.worker_args = ["--kind", a.kind]
    print(f"char-level {a.kind.upper()} language model training step (vocab {VOCAB}, embedding {EMB}, {LAYERS} "
          f"layers of {HIDDEN}, batch {BATCH}, {SEQ} steps, Adam), float32; median of {a.steps} steps after "
          f"{a.warmup} warm-up steps")
    harness.run_and_report(os.path.abspath(__file__), a)


if __name__ == "__main__":
    main()
