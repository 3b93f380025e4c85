"""Gradient descent through a composite function: f(x) = N1(p(x) + w * N2(x)).

N1 and N2 are small tanh MLPs, p(x) = c0 + c1 x + c2 x^2 + c3 x^3 has learnable coefficients and
w is a learnable scalar. The whole expression is one tape: one ``backward`` reaches the weights
of both networks, the polynomial's coefficients and w. To show that this gradient is the true
one, the demo compares it, in float64, with central differences of the loss along a random
direction in parameter space.
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag
import nn
import nn.functional as F
import optim

from . import common


def target(x):
    """sin(2x) + 0.3 x^2: what f should learn on [-2, 2]."""
    return np.sin(2 * x) + 0.3 * x * x


class Composite(nn.Module):
    """f(x) = N1(p(x) + w N2(x)) for x of shape (N, 1); returns (N, 1)."""

    def __init__(self, hidden=16):
        super().__init__()
        self.n1 = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.n2 = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                nn.Linear(hidden, 1))
        self.coeffs = nn.Parameter(ag.tensor([0.0, 0.5, 0.0, 0.0]))
        self.w = nn.Parameter(ag.tensor([0.5]))

    def poly(self, x):
        c = self.coeffs
        return c[0] + c[1] * x + c[2] * x * x + c[3] * x * x * x

    def forward(self, x):
        return self.n1(self.poly(x) + self.w * self.n2(x))


def add_arguments(parser):
    parser.add_argument("--steps", type=int, default=None,
                        help="Adam steps (default 3000, 300 with --quick)")


def directional_check(model, x, y, seed=0, eps=1e-6):
    """Relative difference between the tape's directional derivative of the loss, grad . d, and
    the central difference (L(theta + eps d) - L(theta - eps d)) / (2 eps), both in float64."""
    rng = np.random.default_rng(seed)
    x64, y64 = ag.from_numpy(x.astype(np.float64)), ag.from_numpy(y.astype(np.float64))
    model.double()
    params = list(model.parameters())
    saved = [p._data.copy() for p in params]
    dirs = [rng.standard_normal(p.shape) for p in params]
    try:
        model.zero_grad()
        F.mse_loss(model(x64), y64).backward()
        analytic = sum(float(np.sum(p.grad._data * d)) for p, d in zip(params, dirs))

        def loss_at(t):
            for p, s, d in zip(params, saved, dirs):
                p._data[...] = s + t * d
            with ag.no_grad():
                return float(F.mse_loss(model(x64), y64).item())

        numeric = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    finally:
        for p, s in zip(params, saved):
            p._data[...] = s
        model.zero_grad()
        model.float()
    return abs(analytic - numeric) / max(abs(numeric), 1e-12), analytic, numeric


def run(args):
    common.start(args, "playground", "gradient descent on f(x) = N1(p(x) + w·N2(x))")
    steps = args.steps or (300 if args.quick else 3000)
    x = np.linspace(-2, 2, 200, dtype=np.float32)[:, None]
    y = target(x).astype(np.float32)
    xt, yt = ag.from_numpy(x), ag.from_numpy(y)
    model = Composite()
    n_params = sum(p.numel() for p in model.parameters())

    def predict():
        with ag.no_grad():
            return model(xt)._data[:, 0]

    loss_before = float(F.mse_loss(model(xt), yt).item())
    pred_before = predict()
    rel, analytic, numeric = directional_check(model, x, y, seed=args.seed)
    print(f"   {n_params} parameters in N1, N2, p and w; gradient check along a random direction: tape "
          f"{analytic:.8g} vs central differences {numeric:.8g} (relative difference {rel:.1e})")

    opt = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    with common.trange(steps, desc="playground") as bar:
        for i in bar:
            opt.zero_grad()
            loss = F.mse_loss(model(xt), yt)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if i % 100 == 0:
                bar.set_postfix(loss=f"{losses[-1]:.3g}", refresh=False)
    loss_after = float(F.mse_loss(model(xt), yt).item())
    pred_after = predict()
    with ag.no_grad():
        p_part = model.poly(xt)._data[:, 0]
        n2_part = (model.w * model.n2(xt))._data[:, 0]

    files = [_plot(args, x[:, 0], y[:, 0], pred_before, pred_after, p_part, n2_part, np.array(losses))]
    c = model.coeffs._data
    poly = f"{c[0]:.3f}" + "".join(f" {'-' if v < 0 else '+'} {abs(v):.3f}{p}"
                                   for v, p in zip(c[1:], ("x", "x²", "x³")))
    print(f"loss (MSE): before {loss_before:.4f}, after {loss_after:.2e}; learned p(x) = {poly}, "
          f"w = {float(model.w._data[0]):.3f}")
    return {"loss_before": loss_before, "loss_after": loss_after, "gradcheck_rel_error": rel,
            "n_params": int(n_params), "files": files}


def _plot(args, x, y, before, after, p_part, n2_part, losses):
    fig = common.figure(1200, 420)
    ax = fig.add_subplot(1, 3, 1)
    ax.plot(x, y, "k--", lw=1.5, label="target sin(2x) + 0.3x²")
    ax.plot(x, before, color="tab:gray", lw=1.5, label="f before")
    ax.plot(x, after, color="tab:red", lw=2, alpha=0.85, label="f after")
    ax.set_title("prediction before and after", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(1, 3, 2)
    ax.plot(x, p_part, color="tab:green", label="p(x)")
    ax.plot(x, n2_part, color="tab:purple", label="w·N2(x)")
    ax.plot(x, p_part + n2_part, color="k", lw=1, label="p(x) + w·N2(x): N1's input")
    ax.set_title("inside f after training", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(1, 3, 3)
    ax.loglog(np.arange(1, len(losses) + 1), losses, color="tab:blue")
    ax.set_title("training loss (MSE)", fontsize=10)
    ax.set_xlabel("step")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return common.save(fig, args.out / "playground.png")
