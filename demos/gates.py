"""Logic gates learned by small networks: AND, OR and NOT by one neuron, XOR by a 2-4-1 MLP.

Each gate's network maps the corner (x1, x2) of the unit square to a logit; sigmoid(logit) is
its output, trained with binary cross-entropy on the truth table (NOT reads x1 only). AND, OR
and NOT are linearly separable, so one neuron suffices; XOR is not, and needs the hidden layer.
The contour plots show each network's output over [0, 1]^2 before and after training.
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag
import nn
import nn.functional as F
import optim

from . import common

CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
TRUTH = {
    "AND": np.array([0, 0, 0, 1], np.float32),
    "OR": np.array([0, 1, 1, 1], np.float32),
    "NOT": np.array([1, 1, 0, 0], np.float32),  # NOT x1
    "XOR": np.array([0, 1, 1, 0], np.float32),
}


class Gate(nn.Module):
    """A gate network: ``inputs`` of the corner's coordinates go through ``net`` to one logit."""

    def __init__(self, net, inputs=2):
        super().__init__()
        self.net = net
        self.inputs = inputs

    def forward(self, x):
        return self.net(x[:, :self.inputs])


def make_gates():
    return {
        "AND": Gate(nn.Linear(2, 1)),
        "OR": Gate(nn.Linear(2, 1)),
        "NOT": Gate(nn.Linear(1, 1), inputs=1),
        "XOR": Gate(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))),
    }


def add_arguments(parser):
    parser.add_argument("--steps", type=int, default=None,
                        help="Adam steps per gate (default 1500, 150 with --quick)")


def train_gate(model, name, steps, lr=0.05):
    """Fit ``model`` to the truth table of gate ``name`` with Adam on BCE-with-logits; returns the losses."""
    x, y = ag.from_numpy(CORNERS), ag.from_numpy(TRUTH[name][:, None])
    opt = optim.Adam(model.parameters(), lr=lr)
    curve = []
    with common.trange(steps, desc=f"{name:4s}") as bar:
        for _ in bar:
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(x), y)
            loss.backward()
            opt.step()
            curve.append(loss.item())
    return curve


def outputs(model, x):
    """sigmoid(model(x)) as an ndarray of shape (N,)."""
    with ag.no_grad():
        return model(ag.from_numpy(np.asarray(x, np.float32))).sigmoid()._data[:, 0]


def margin(out, truth):
    """How far the worst corner is on the right side of 0.5 (negative: a corner is wrong)."""
    return float(np.min(np.where(truth > 0.5, out - 0.5, 0.5 - out)))


def _grid(n=100):
    g = np.linspace(0, 1, n, dtype=np.float32)
    gx, gy = np.meshgrid(g, g)
    return gx, gy, np.stack([gx.ravel(), gy.ravel()], 1)


def _plot(args, gates, title, fname):
    gx, gy, pts = _grid(100)
    fig = common.figure(800, 720, layout="constrained")
    fig.suptitle(title)
    for i, (name, model) in enumerate(gates.items()):
        ax = fig.add_subplot(2, 2, i + 1)
        z = outputs(model, pts).reshape(gx.shape)
        cs = ax.contourf(gx, gy, z, levels=np.linspace(0, 1, 21), cmap="RdBu_r", vmin=0, vmax=1)
        ax.contour(gx, gy, z, levels=[0.5], colors="k", linewidths=1.5)
        t = TRUTH[name]
        ax.scatter(CORNERS[:, 0], CORNERS[:, 1], c=t, cmap="RdBu_r", vmin=0, vmax=1, s=120,
                   edgecolors="k", linewidths=1.5, zorder=3, clip_on=False)
        out = outputs(model, CORNERS)
        for (cx, cy), o in zip(CORNERS, out):
            ax.annotate(f"{o:.2f}", (cx, cy), xytext=(cx * 0.76 + 0.12, cy * 0.84 + 0.08), fontsize=9,
                        ha="center", color="k", bbox=dict(boxstyle="round,pad=0.15", fc="w", alpha=0.8))
        ax.set_title(name + (" (of x1)" if name == "NOT" else ""), fontsize=11)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_aspect("equal")
    fig.colorbar(cs, ax=fig.axes, shrink=0.7, label="output = sigmoid(logit)")
    return common.save(fig, args.out / fname)


def run(args):
    common.start(args, "gates", "AND, OR, NOT and XOR learned by small networks")
    steps = args.steps or (150 if args.quick else 1500)
    gates = make_gates()
    files = [_plot(args, gates, "gates before training", "gates_before.png")]
    losses = {name: train_gate(model, name, steps) for name, model in gates.items()}
    files.append(_plot(args, gates, "gates after training", "gates_after.png"))

    result, rows = {}, []
    for name, model in sorted(gates.items(), key=lambda kv: kv[0] != "XOR"):  # XOR first: the one that needs depth
        out = outputs(model, CORNERS)
        m = margin(out, TRUTH[name])
        rows.append([name] + [f"{o:.3f}" for o in out] + [f"{m:+.3f}", "yes" if m > 0 else "no",
                                                          f"{losses[name][-1]:.2e}"])
        result[f"{name.lower()}_outputs"] = [float(o) for o in out]
        result[f"{name.lower()}_margin"] = m
        result[f"{name.lower()}_loss"] = float(losses[name][-1])
    print(common.fmt_table(rows, ["gate", "(0,0)", "(0,1)", "(1,0)", "(1,1)", "margin", "solved", "loss"]))
    solved = result["xor_margin"] > 0.4
    if solved:
        print(f"XOR solved: every corner is at least {result['xor_margin']:.3f} on the right side of 0.5")
    else:
        print(f"XOR not solved (by a margin of 0.4): worst corner margin {result['xor_margin']:+.3f}")
    result["xor_solved"] = solved
    result["files"] = files
    return result
