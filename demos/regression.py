"""Linear, logistic and polynomial regression by gradient descent, next to scikit-learn's answers.

* linear: ``load_diabetes`` (442 patients, 10 features), ``nn.Linear`` + MSE, compared with
  ``sklearn.linear_model.LinearRegression`` on the same split;
* logistic: ``load_breast_cancer`` (569 tumours, 30 features), ``nn.Linear`` + binary
  cross-entropy with logits plus the same L2 penalty as ``LogisticRegression(C=1)``, so both
  minimise one objective: mean log-loss + ||w||^2 / (2 C n);
* polynomial: y = 2x^3 + 4x^2 + 3x + 1 plus noise, fitted as c0 + c1 x + c2 x^2 + c3 x^3 with the
  four coefficients as tensors, compared with the least-squares fit (``np.polyfit``).
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag
import nn
import nn.functional as F
import optim

from . import common

TRUE_POLY = (1.0, 3.0, 4.0, 2.0)  # c0..c3 of 2x^3 + 4x^2 + 3x + 1


def add_arguments(parser):
    parser.add_argument("--steps", type=int, default=None,
                        help="gradient steps for each model (default 2000, 200 with --quick)")


def _standardize(xtr, xte):
    mu, sd = xtr.mean(0), xtr.std(0)
    sd[sd == 0] = 1
    return ((xtr - mu) / sd).astype(np.float32), ((xte - mu) / sd).astype(np.float32)


def _train(loss_fn, opt, steps, desc):
    """Full-batch gradient descent: ``steps`` times loss_fn().backward() and opt.step(); returns the losses."""
    losses = []
    with common.trange(steps, desc=desc) as bar:
        for i in bar:
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if i % 50 == 0:
                bar.set_postfix(loss=f"{losses[-1]:.4g}", refresh=False)
    return np.array(losses)


def linear(args, steps):
    """Diabetes progression from 10 standardized features; the target is standardized for training
    (so one learning rate suits it) and the MSE is reported in the original units."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split

    x, y = load_diabetes(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=args.seed)
    xtr_s, xte_s = _standardize(xtr, xte)
    y_mu, y_sd = ytr.mean(), ytr.std()
    xt, yt = ag.from_numpy(xtr_s), ag.from_numpy(((ytr - y_mu) / y_sd).astype(np.float32)[:, None])

    model = nn.Linear(x.shape[1], 1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = _train(lambda: F.mse_loss(model(xt), yt), opt, steps, "linear    ")

    with ag.no_grad():
        pred = model(ag.from_numpy(xte_s))._data[:, 0] * y_sd + y_mu
    mse = float(np.mean((pred - yte) ** 2))
    ref = LinearRegression().fit(xtr, ytr)
    ref_mse = float(np.mean((ref.predict(xte) - yte) ** 2))
    return dict(mse=mse, sk_mse=ref_mse, losses=losses * y_sd ** 2, pred=pred, ref_pred=ref.predict(xte), y=yte)


def logistic(args, steps, C=1.0):
    """Malignant vs benign from 30 standardized features, the objective of LogisticRegression(C)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=args.seed, stratify=y)
    xtr_s, xte_s = _standardize(xtr, xte)
    xt, yt = ag.from_numpy(xtr_s), ag.from_numpy(ytr.astype(np.float32)[:, None])
    n = len(xtr)

    model = nn.Linear(x.shape[1], 1)
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)

    def loss_fn():
        # sklearn minimises C * sum(log-loss) + ||w||^2 / 2; divided by C n that is this:
        return (F.binary_cross_entropy_with_logits(model(xt), yt)
                + (model.weight * model.weight).sum() / (2 * C * n))

    losses = _train(loss_fn, opt, steps, "logistic  ")
    with ag.no_grad():
        logits = model(ag.from_numpy(xte_s))._data[:, 0]
    acc = float(np.mean((logits > 0) == (yte == 1)))
    ref = LogisticRegression(C=C, max_iter=5000).fit(xtr_s, ytr)
    ref_acc = float(ref.score(xte_s, yte))
    # sklearn's solution scored with our objective: equal values mean we found the same minimum
    z = xtr_s @ ref.coef_[0] + ref.intercept_[0]
    ref_obj = float(np.mean(np.logaddexp(0, z) - ytr * z) + (ref.coef_ ** 2).sum() / (2 * C * n))
    return dict(acc=acc, sk_acc=ref_acc, losses=losses, sk_objective=ref_obj)


def polynomial(args, steps, rng):
    """Fit c0 + c1 x + c2 x^2 + c3 x^3 to noisy samples of the true cubic, starting from random c."""
    x = np.sort(rng.uniform(-2.0, 1.0, 200)).astype(np.float32)
    y = (np.polyval(TRUE_POLY[::-1], x) + rng.normal(0, 0.5, x.shape)).astype(np.float32)
    xt, yt = ag.from_numpy(x), ag.from_numpy(y)
    c = ag.tensor(rng.normal(0, 1, 4).astype(np.float32), requires_grad=True)

    def predict(xs):
        return c[0] + c[1] * xs + c[2] * xs ** 2 + c[3] * xs ** 3

    before = c._data.copy()
    opt = optim.Adam([c], lr=0.05)
    losses = _train(lambda: ((predict(xt) - yt) ** 2).mean(), opt, steps, "polynomial")
    lsq = np.polyfit(x, y, 3)[::-1]
    with ag.no_grad():
        mse = float(((predict(xt) - yt) ** 2).mean().item())
    lsq_mse = float(np.mean((np.polyval(lsq[::-1], x) - y) ** 2))
    return dict(x=x, y=y, before=before, after=c._data.copy(), lsq=lsq, mse=mse, lsq_mse=lsq_mse, losses=losses)


def run(args):
    rng = common.start(args, "regression", "linear, logistic and polynomial regression")
    steps = args.steps or (200 if args.quick else 2000)
    lin = linear(args, steps)
    log = logistic(args, steps)
    poly = polynomial(args, steps, rng)

    files = [_plot_losses(args, lin, log, poly), _plot_poly(args, poly), _plot_linear(args, lin)]

    print(common.fmt_table([
        ["linear (diabetes)", "test MSE", f"{lin['mse']:.2f}", f"{lin['sk_mse']:.2f} (LinearRegression)"],
        ["logistic (breast cancer)", "test accuracy", f"{100 * log['acc']:.2f}%",
         f"{100 * log['sk_acc']:.2f}% (LogisticRegression)"],
        ["", "train objective", f"{log['losses'][-1]:.5f}", f"{log['sk_objective']:.5f}"],
        ["polynomial (cubic)", "train MSE", f"{poly['mse']:.4f}", f"{poly['lsq_mse']:.4f} (np.polyfit)"],
    ], ["model", "metric", "ours (gradient descent)", "reference"]))
    fmt = lambda c: ", ".join(f"{v:.3f}" for v in c)  # noqa: E731
    print(f"polynomial coefficients c0..c3: true {fmt(TRUE_POLY)}; learned {fmt(poly['after'])}; "
          f"least squares {fmt(poly['lsq'])}")
    return {
        "linear_test_mse": lin["mse"], "sklearn_linear_test_mse": lin["sk_mse"],
        "logistic_test_accuracy": log["acc"], "sklearn_logistic_test_accuracy": log["sk_acc"],
        "logistic_objective": float(log["losses"][-1]), "sklearn_logistic_objective": log["sk_objective"],
        "poly_mse": poly["mse"], "polyfit_mse": poly["lsq_mse"],
        "poly_coefficients": [float(v) for v in poly["after"]],
        "files": files,
    }


def _plot_losses(args, lin, log, poly):
    fig = common.figure(1200, 380)
    for i, (title, curve, ylabel) in enumerate([
            ("linear: diabetes", lin["losses"], "train MSE"),
            ("logistic: breast cancer", log["losses"], "train loss (log-loss + L2)"),
            ("polynomial: 2x³+4x²+3x+1", poly["losses"], "train MSE")]):
        ax = fig.add_subplot(1, 3, i + 1)
        ax.plot(np.arange(1, len(curve) + 1), curve, color="tab:blue")
        ax.set_yscale("log")
        ax.set_xscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return common.save(fig, args.out / "regression_losses.png")


def _plot_poly(args, poly):
    fig = common.figure(1000, 420)
    xs = np.linspace(poly["x"].min(), poly["x"].max(), 200)
    for i, (title, coef) in enumerate([("before training", poly["before"]), ("after training", poly["after"])]):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.scatter(poly["x"], poly["y"], s=8, color="0.6", label="noisy samples")
        ax.plot(xs, np.polyval(TRUE_POLY[::-1], xs), "k--", lw=1.2, label="2x³+4x²+3x+1")
        ax.plot(xs, np.polyval(coef[::-1], xs), color="tab:red", lw=2, label="model")
        ax.set_title(f"{title}: c = [{', '.join(f'{v:.2f}' for v in coef)}]", fontsize=9)
        ax.set_xlabel("x")
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return common.save(fig, args.out / "regression_polynomial.png")


def _plot_linear(args, lin):
    fig = common.figure(520, 480)
    ax = fig.add_subplot(1, 1, 1)
    lo, hi = lin["y"].min(), lin["y"].max()
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.scatter(lin["y"], lin["ref_pred"], s=14, marker="x", color="tab:orange",
               label=f"sklearn LinearRegression (MSE {lin['sk_mse']:.0f})")
    ax.scatter(lin["y"], lin["pred"], s=10, color="tab:blue", alpha=0.7,
               label=f"ours, gradient descent (MSE {lin['mse']:.0f})")
    ax.set_xlabel("true disease progression (test set)")
    ax.set_ylabel("predicted")
    ax.set_title("diabetes: test predictions", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return common.save(fig, args.out / "regression_diabetes.png")
