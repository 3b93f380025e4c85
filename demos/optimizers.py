"""Seven optimizers (SGD, momentum, Nesterov, RMSprop, Adam, AdamW, Adagrad) on one MLP and one CNN.

The data are scikit-learn's 8x8 digits, or MNIST with --data-dir.

Every run starts from the same initial weights and sees the same batches in the same order, so
the optimizer is the only difference. Learning rates are the usual ones for each method at batch
size 32. The demo prints a table of test accuracy and training time, and draws the loss curves,
the MLP's first-layer weights and the CNN's first-layer kernels as images.

MLP: Flatten -> Linear(H*W, 64) -> ReLU -> Linear(64, 10).
CNN: Conv2d(1, 16, 3, padding=1) -> ReLU -> MaxPool2d(2) -> Conv2d(16, 32, 3, padding=1) -> ReLU
     -> MaxPool2d(2) -> Flatten -> Linear(32 * H/4 * W/4, 10).
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag
import nn
import nn.functional as F
import optim

from . import common

OPTIMIZERS = {
    "SGD": (optim.SGD, dict(lr=0.1)),
    "momentum": (optim.SGD, dict(lr=0.02, momentum=0.9)),
    "Nesterov": (optim.SGD, dict(lr=0.02, momentum=0.9, nesterov=True)),
    "RMSprop": (optim.RMSprop, dict(lr=1e-3)),
    "Adam": (optim.Adam, dict(lr=2e-3)),
    "AdamW": (optim.AdamW, dict(lr=2e-3, weight_decay=1e-2)),
    "Adagrad": (optim.Adagrad, dict(lr=3e-2)),
}
COLORS = dict(zip(OPTIMIZERS, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:pink",
                               "tab:brown"]))
HIDDEN = 64


def make_mlp(shape):
    c, h, w = shape
    return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 10))


def make_cnn(shape):
    c, h, w = shape
    return nn.Sequential(
        nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * (h // 4) * (w // 4), 10))


def add_arguments(parser):
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run (default 30 on digits, 3 on MNIST; 1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default 32)")
    parser.add_argument("--limit", type=int, default=None,
                        help="use at most this many training images (default: all; 2000 on MNIST with --quick)")
    parser.add_argument("--optimizers", type=_names, default=list(OPTIMIZERS),
                        help=f"comma-separated subset of {','.join(OPTIMIZERS)} (default: all)")


def _names(text):
    import argparse
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown optimizer(s) {unknown}; choose from {', '.join(OPTIMIZERS)}")
    return names


def load_data(args):
    """(x_train, y_train, x_test, y_test, name): digits by default, MNIST from --data-dir."""
    if args.data_dir is not None:
        limit = args.limit or (2000 if args.quick else None)
        return common.mnist(args.data_dir, seed=args.seed, limit=limit) + ("MNIST",)
    xtr, ytr, xte, yte = common.digits(seed=args.seed)
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    return xtr, ytr, xte, yte, "digits"


def train(model, opt, xtr, ytr, epochs, batch_size, seed, bar):
    """Mini-batch training with cross-entropy; returns (per-step losses, training seconds)."""
    loader = nn.data.DataLoader(nn.data.TensorDataset(ag.from_numpy(xtr), ag.from_numpy(ytr)),
                                batch_size=batch_size, shuffle=True, generator=ag.Generator(seed))
    losses = []
    model.train()
    with common.Stopwatch() as sw:
        for _ in range(epochs):
            for xb, yb in loader:
                opt.zero_grad()
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
                losses.append(loss.item())
                bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-len(loader):]):.3f}", refresh=False)
    return np.array(losses), sw.seconds


def run(args):
    common.start(args, "optimizers", "seven optimizers, one MLP and one CNN")
    names = _names(args.optimizers) if isinstance(args.optimizers, str) else list(args.optimizers)
    xtr, ytr, xte, yte, data_name = load_data(args)
    epochs = args.epochs or (1 if args.quick else (3 if data_name == "MNIST" else 30))
    shape = xtr.shape[1:]
    steps_per_epoch = -(-len(xtr) // args.batch_size)
    print(f"   {data_name}: {len(xtr)} training and {len(xte)} test images of {shape[1]}x{shape[2]}; "
          f"{epochs} epoch(s) of {steps_per_epoch} steps (batch {args.batch_size}) per run", flush=True)

    runs = {}
    for kind, make in (("MLP", make_mlp), ("CNN", make_cnn)):
        ag.manual_seed(args.seed)
        init = make(shape)  # every optimizer starts from these weights
        init_state = {k: v._data.copy() for k, v in init.state_dict().items()}
        for name in names:
            cls, kw = OPTIMIZERS[name]
            model = make(shape)
            model.load_state_dict({k: ag.tensor(v) for k, v in init_state.items()})
            opt = cls(model.parameters(), **kw)
            with common.progress(total=epochs * steps_per_epoch, desc=f"{kind} {name:9s}") as bar:
                losses, secs = train(model, opt, xtr, ytr, epochs, args.batch_size, args.seed, bar)
            acc = common.accuracy(common.evaluate(model, xte), yte)
            runs[kind, name] = dict(model=model, losses=losses, seconds=secs, acc=acc)
        runs[kind, "init"] = dict(model=init)

    rows = []
    for name in names:
        m, c = runs["MLP", name], runs["CNN", name]
        lr = OPTIMIZERS[name][1]["lr"]
        rows.append([name, f"{lr:g}", f"{100 * m['acc']:.2f}%", f"{m['seconds']:.1f}", f"{100 * c['acc']:.2f}%",
                     f"{c['seconds']:.1f}"])
    print(common.fmt_table(rows, ["optimizer", "lr", "MLP test acc", "MLP s", "CNN test acc", "CNN s"]))

    files = [_plot_losses(args, runs, names, steps_per_epoch, data_name),
             _plot_weights(args, runs, names, shape),
             _plot_kernels(args, runs, names)]
    best_cnn = max(names, key=lambda n: runs["CNN", n]["acc"])
    best_mlp = max(names, key=lambda n: runs["MLP", n]["acc"])
    print(f"best CNN: {best_cnn} {100 * runs['CNN', best_cnn]['acc']:.2f}%; best MLP: {best_mlp} "
          f"{100 * runs['MLP', best_mlp]['acc']:.2f}% ({data_name} test set, {len(xte)} images)")
    result = {"best_cnn_test_accuracy": runs["CNN", best_cnn]["acc"], "best_cnn_optimizer": best_cnn,
              "best_mlp_test_accuracy": runs["MLP", best_mlp]["acc"], "best_mlp_optimizer": best_mlp,
              "data": data_name, "epochs": epochs}
    for kind in ("MLP", "CNN"):
        result[f"{kind.lower()}_test_accuracy"] = {n: runs[kind, n]["acc"] for n in names}
        result[f"{kind.lower()}_seconds"] = {n: runs[kind, n]["seconds"] for n in names}
        result[f"{kind.lower()}_final_loss"] = {n: float(np.mean(runs[kind, n]["losses"][-steps_per_epoch:]))
                                                for n in names}
    result["files"] = files
    return result


def _smooth(y, window):
    if window <= 1 or len(y) < 2 * window:
        return np.arange(len(y)), y
    k = np.ones(window) / window
    return np.arange(window - 1, len(y)), np.convolve(y, k, mode="valid")


def _plot_losses(args, runs, names, steps_per_epoch, data_name):
    fig = common.figure(1200, 450)
    for i, kind in enumerate(("MLP", "CNN")):
        ax = fig.add_subplot(1, 2, i + 1)
        for name in names:
            x, y = _smooth(runs[kind, name]["losses"], max(1, steps_per_epoch // 2))
            ax.plot((x + 1) / steps_per_epoch, y, color=COLORS[name], lw=1.4,
                    label=f"{name} ({100 * runs[kind, name]['acc']:.1f}%)")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (cross-entropy, smoothed)")
        ax.set_title(f"{kind} on {data_name}  (legend: test accuracy)", fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return common.save(fig, args.out / "optimizers_loss.png")


def _plot_weights(args, runs, names, shape, units=16):
    """The first 16 rows of the MLP's first Linear layer, each as an H x W image (red +, blue -)."""
    fig = common.figure(1200, 640)
    panels = ["init"] + names
    cols = 4
    rows = -(-len(panels) // cols)
    for i, name in enumerate(panels):
        w = runs["MLP", name]["model"][1].weight._data[:units].reshape(units, shape[0], shape[1], shape[2])
        ax = fig.add_subplot(rows, cols, i + 1)
        _signed_images(ax, w[:, 0], ncols=4)
        ax.set_title("initial weights" if name == "init" else name, fontsize=10)
    fig.suptitle(f"MLP: first-layer weights of {units} hidden units (red positive, blue negative)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96), h_pad=2.0)
    return common.save(fig, args.out / "optimizers_mlp_weights.png")


def _plot_kernels(args, runs, names):
    """The CNN's 16 first-layer 3x3 kernels: one row per optimizer, the initial ones on top."""
    panels = ["init"] + names
    fig = common.figure(900, 70 * len(panels) + 60)
    for i, name in enumerate(panels):
        k = runs["CNN", name]["model"][0].weight._data[:, 0]
        ax = fig.add_subplot(len(panels), 1, i + 1)
        _signed_images(ax, k, ncols=len(k))
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        for s in ax.spines.values():
            s.set_visible(False)
        ax.set_ylabel("initial" if name == "init" else name, rotation=0, ha="right", va="center", fontsize=10)
    fig.suptitle("CNN: first-layer 3x3 kernels (red positive, blue negative)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return common.save(fig, args.out / "optimizers_cnn_kernels.png")


def _signed_images(ax, images, ncols):
    """Tiles of signed weights, each scaled by its own max |w| so that 0 is white."""
    images = np.asarray(images, np.float64)
    scale = np.abs(images).reshape(len(images), -1).max(1).reshape(-1, 1, 1)
    grid = common.image_grid(images / np.maximum(scale, 1e-12), ncols=ncols, normalize=None, fill=np.nan)
    import matplotlib
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.55")  # gray gaps between tiles
    ax.imshow(grid, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
