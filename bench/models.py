"""Time one training step of a public example model in autograd_core, and in PyTorch if installed.

    python bench/models.py --model wordlm          # 1 and 2 threads, each library in a fresh subprocess
    python bench/models.py --model resnet --threads 1

The models are those of well-known PyTorch examples, at their usual CPU sizes, written once for both
libraries:

* ``wordlm``: pytorch/examples' word language model: an embedding of 200, a 2-layer ``nn.LSTM`` of 200,
  a Linear decoder over a 10000-word vocabulary, ``log_softmax`` + ``nll_loss``, 35 steps of batch 20,
  gradient clipping at 0.25, plain SGD written by hand on ``p.data``;
* ``dcgan``: pytorch/examples' DCGAN at 64x64 (generator and discriminator of width 64, batch norm,
  leaky ReLU, BCE), batch 16, one discriminator and one generator update with Adam per step;
* ``resnet``: a CIFAR-10 ResNet (3x3 convolutions of 16, 32 and 64 channels in six basic blocks, batch
  norm, a 1x1 projection where the shape changes), batch 64, SGD with momentum, cross-entropy;
* ``mnist``: pytorch/examples' MNIST CNN (two 3x3 convolutions of 32 and 64 channels, max pooling,
  a 9216-128-10 head, ``log_softmax`` + ``nll_loss``), batch 64, Adadelta.

Dropout is left out, so that both libraries' first losses match (the cross-check printed with the times).
The weights are drawn once with NumPy (fixed seed) and loaded into both models; the data is random.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import harness  # bench/harness.py (the script's folder is on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("wordlm", "dcgan", "resnet", "mnist")


def init_state(state, seed=0):
    """The same weights for either library's state dict: uniform(-k, k) with k = 1/sqrt(fan-in) for weights
    of 2 or more dims, ones for 1-D weights and running variances, zeros for biases and running means."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, v in state.items():
        shape = tuple(v.shape)
        if "num_batches_tracked" in name:
            continue
        if len(shape) >= 2:
            k = 1 / np.sqrt(np.prod(shape[1:]))
            out[name] = rng.uniform(-k, k, shape).astype(np.float32)
        elif name.endswith("weight") or name.endswith("running_var"):
            out[name] = np.ones(shape, np.float32)
        else:
            out[name] = np.zeros(shape, np.float32)
    return out


def _load(torch, model):
    model.load_state_dict({k: torch.tensor(v) for k, v in init_state(model.state_dict()).items()}, strict=False)


def wordlm(torch, nn, optim, F):
    V, E, H, L, B = 10000, 200, 200, 35, 20

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(V, E)
            self.rnn = nn.LSTM(E, H, 2)
            self.decoder = nn.Linear(H, V)

        def forward(self, x, hidden):
            output, hidden = self.rnn(self.encoder(x), hidden)
            return F.log_softmax(self.decoder(output).view(-1, V), dim=1), hidden

    model = RNNModel()
    _load(torch, model)
    data = torch.tensor(np.random.default_rng(1).integers(0, V, (L + 1, B)))
    zeros = torch.zeros(2, B, H)
    state = {"hidden": (zeros, zeros)}

    def step():
        hidden = tuple(h.detach() for h in state["hidden"])
        model.zero_grad()
        out, state["hidden"] = model(data[:-1], hidden)
        loss = F.nll_loss(out, data[1:].reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-20)
        return float(loss.item())
    return step


def dcgan(torch, nn, optim, F):
    nz, ngf, ndf, B = 100, 64, 64, 16
    G = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    _load(torch, G)
    _load(torch, D)
    crit = nn.BCELoss()
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(1)
    real = torch.tensor(rng.uniform(-1, 1, (B, 3, 64, 64)).astype(np.float32))
    noise = torch.tensor(rng.standard_normal((B, nz, 1, 1)).astype(np.float32))
    ones, zeros = torch.ones(B), torch.zeros(B)

    def step():
        D.zero_grad()
        crit(D(real).view(-1), ones).backward()
        fake = G(noise)
        crit(D(fake.detach()).view(-1), zeros).backward()
        opt_d.step()
        G.zero_grad()
        loss = crit(D(fake).view(-1), ones)
        loss.backward()
        opt_g.step()
        return float(loss.item())
    return step


def resnet(torch, nn, optim, F):
    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.short = nn.Sequential() if stride == 1 and cin == cout else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = F.relu(self.b1(self.c1(x)))
            return F.relu(self.b2(self.c2(out)) + self.short(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn = nn.BatchNorm2d(16)
            self.layers = nn.Sequential(Block(16, 16, 1), Block(16, 16, 1), Block(16, 32, 2), Block(32, 32, 1),
                                        Block(32, 64, 2), Block(64, 64, 1))
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = self.layers(F.relu(self.bn(self.conv(x))))
            return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

    model = ResNet()
    return _classifier(torch, model, lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9), F.cross_entropy,
                       (64, 3, 32, 32))


def mnist(torch, nn, optim, F):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            x = F.relu(self.fc1(torch.flatten(x, 1)))
            return F.log_softmax(self.fc2(x), dim=1)

    model = Net()
    return _classifier(torch, model, lambda ps: optim.Adadelta(ps, lr=1.0), F.nll_loss, (64, 1, 28, 28))


def _classifier(torch, model, make_opt, loss_fn, shape):
    """The training step of an image classifier over 10 classes on one random batch of ``shape``; the
    optimizer made by ``make_opt(parameters)`` once the weights are loaded."""
    _load(torch, model)
    opt = make_opt(model.parameters())
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal(shape).astype(np.float32))
    y = torch.tensor(rng.integers(0, 10, shape[0]))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return float(loss.item())
    return step


def build(lib, name):
    if lib == "ours":
        import autograd_core as torch
        import nn
        import nn.functional as F
        import optim
    else:
        import torch
        nn, optim, F = torch.nn, torch.optim, torch.nn.functional
    return globals()[name](torch, nn, optim, F)


def worker(threads, steps, warmup, lib, name):
    harness.worker(threads, steps, warmup, lib, lambda which: build(which, name))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_arguments(ap, steps=15, warmup=3)
    ap.add_argument("--model", choices=MODELS, default="wordlm")
    a = ap.parse_args()
    if a.worker:
        sys.path.insert(0, ROOT)
        worker(a.worker, a.steps, a.warmup, a.lib, a.model)
        return
    a.worker_args = ["--model", a.model]
    print(f"{a.model}: one training step, float32; median of {a.steps} steps after {a.warmup} warm-up steps")
    harness.run_and_report(os.path.abspath(__file__), a)


if __name__ == "__main__":
    main()
