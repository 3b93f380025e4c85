"""Universal approximation: one hidden layer of 50 sigmoids fits y = x^2 + x - sqrt(x) on [0, 10].

The network is ``Linear(1, 50) -> Sigmoid -> Linear(50, 1)``, trained on 500 evenly spaced
points with Adam and a cosine-annealed learning rate. Inputs are scaled to [0, 1] and targets by
their range, so the same step size suits every weight; errors are reported in the target's own
units, on a 2001-point grid that includes the points between the training ones.
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag
import nn
import nn.functional as F
import optim

from . import common

X_MAX = 10.0


def target(x):
    """x^2 + x - sqrt(x)."""
    return x * x + x - np.sqrt(x)


def add_arguments(parser):
    parser.add_argument("--steps", type=int, default=None,
                        help="Adam steps (default 20000, 500 with --quick)")
    parser.add_argument("--hidden", type=int, default=50, help="number of sigmoid units (default 50)")
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam's initial learning rate (default 0.01)")


def run(args):
    common.start(args, "uat", f"{args.hidden} sigmoids fit y = x² + x − √x on [0, {X_MAX:g}]")
    steps = args.steps or (500 if args.quick else 20000)
    x = np.linspace(0, X_MAX, 500, dtype=np.float32)[:, None]
    scale = float(target(X_MAX))  # targets scaled to [0, ~1]
    xt, yt = ag.from_numpy(x / X_MAX), ag.from_numpy((target(x) / scale).astype(np.float32))
    dense = np.linspace(0, X_MAX, 2001, dtype=np.float32)[:, None]

    model = nn.Sequential(nn.Linear(1, args.hidden), nn.Sigmoid(), nn.Linear(args.hidden, 1))

    def predict(xs):
        with ag.no_grad():
            return model(ag.from_numpy(xs / X_MAX))._data[:, 0] * scale

    before = predict(dense)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=1e-4)
    losses = []
    with common.trange(steps, desc="uat") as bar:
        for i in bar:
            opt.zero_grad()
            loss = F.mse_loss(model(xt), yt)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if i % 200 == 0:
                bar.set_postfix(mse=f"{losses[-1] * scale ** 2:.3g}", refresh=False)
    after = predict(dense)
    truth = target(dense[:, 0])
    err = np.abs(after - truth)
    max_err, mean_err = float(err.max()), float(err.mean())
    worst = float(dense[np.argmax(err), 0])
    max_err_before = float(np.abs(before - truth).max())
    rel = max_err / float(truth.max() - truth.min())

    files = [_plot(args, dense[:, 0], truth, before, after, np.array(losses) * scale ** 2)]
    print(f"max |error| on [0, {X_MAX:g}]: {max_err:.4f} (at x = {worst:.3f}; {100 * rel:.2f}% of the target's "
          f"range {truth.max() - truth.min():.1f}); mean |error| {mean_err:.4f}; before training: "
          f"{max_err_before:.2f}")
    return {"max_abs_error": max_err, "mean_abs_error": mean_err, "max_abs_error_before": max_err_before,
            "relative_max_error": rel, "final_mse": float(losses[-1] * scale ** 2), "files": files}


def _plot(args, xs, truth, before, after, losses):
    fig = common.figure(1100, 800)
    for i, (title, fit) in enumerate([("before training", before), ("after training", after)]):
        ax = fig.add_subplot(2, 2, i + 1)
        ax.plot(xs, truth, "k--", lw=1.5, label="x² + x − √x")
        ax.plot(xs, fit, color="tab:red", lw=2, alpha=0.85, label=f"{args.hidden} sigmoids")
        ax.set_title(f"{title}: max |error| {np.abs(fit - truth).max():.3g}", fontsize=10)
        ax.set_xlabel("x")
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
    ax = fig.add_subplot(2, 2, 3)
    ax.semilogy(xs, np.maximum(np.abs(after - truth), 1e-6), color="tab:red", lw=1)
    ax.set_title("|error| after training", fontsize=10)
    ax.set_xlabel("x")
    ax.grid(alpha=0.3, which="both")
    ax = fig.add_subplot(2, 2, 4)
    ax.loglog(np.arange(1, len(losses) + 1), losses, color="tab:blue", lw=1)
    ax.set_title("training MSE", fontsize=10)
    ax.set_xlabel("step")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return common.save(fig, args.out / "uat_fit.png")
