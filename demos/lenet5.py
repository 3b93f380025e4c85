"""LeNet-5 (ReLU, max-pooling) on 32x32 images: digits upsampled from 8x8, or CIFAR-10/MNIST.

By default the images are scikit-learn's 8x8 digits, upsampled to 32x32; with --data-dir,
CIFAR-10 (or MNIST, padded from 28x28 to 32x32).

    Conv2d(C, 6, 5) -> ReLU -> MaxPool2d(2) -> Conv2d(6, 16, 5) -> ReLU -> MaxPool2d(2)
    -> Flatten -> Linear(400, 120) -> ReLU -> Linear(120, 84) -> ReLU -> Linear(84, 10)

Trained with SGD + Nesterov momentum and a cosine learning-rate schedule. It prints test
accuracy, training throughput (images/s) and time per epoch, and draws the loss and accuracy
curves and the test set's confusion matrix.
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag
import nn
import nn.functional as F
import optim

from . import common

CIFAR_CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def lenet5(in_channels=1, n_classes=10):
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, n_classes))


def add_arguments(parser):
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default 20 on digits, 10 on CIFAR-10/MNIST; 2 / 1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=64, help="mini-batch size (default 64)")
    parser.add_argument("--lr", type=float, default=0.05, help="SGD learning rate (default 0.05)")
    parser.add_argument("--limit", type=int, default=None,
                        help="use at most this many training images (default: all; 2000 with --quick and --data-dir)")


def upsample_digits(x, size=32):
    """(N, 1, 8, 8) -> (N, 1, size, size) by bilinear interpolation (pixel centres aligned)."""
    n, c, h, w = x.shape
    pos = (np.arange(size) + 0.5) * h / size - 0.5
    i0 = np.clip(np.floor(pos).astype(int), 0, h - 1)
    i1 = np.clip(i0 + 1, 0, h - 1)
    t = np.clip(pos - i0, 0, 1).astype(np.float32)
    rows = x[:, :, i0, :] * (1 - t)[:, None] + x[:, :, i1, :] * t[:, None]
    return (rows[:, :, :, i0] * (1 - t) + rows[:, :, :, i1] * t).astype(np.float32)


def load_data(args):
    """(x_train, y_train, x_test, y_test, name, class names); images (N, C, 32, 32) standardized."""
    if args.data_dir is None:
        xtr, ytr, xte, yte = common.digits(seed=args.seed)
        xtr, xte = upsample_digits(xtr), upsample_digits(xte)
        name, classes = "digits (8x8 upsampled to 32x32)", [str(i) for i in range(10)]
        if args.limit:
            xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    else:
        limit = args.limit or (2000 if args.quick else None)
        try:
            xtr, ytr, xte, yte = common.cifar10(args.data_dir, seed=args.seed, limit=limit)
            name, classes = "CIFAR-10", list(CIFAR_CLASSES)
        except common.DataDirError as cifar_err:
            try:
                xtr, ytr, xte, yte = common.mnist(args.data_dir, seed=args.seed, limit=limit)
            except common.DataDirError:
                raise common.DataDirError(f"{cifar_err} -- or {common.MNIST_EXPECTED} (MNIST is padded to "
                                          "32x32)") from None
            pad = ((0, 0), (0, 0), (2, 2), (2, 2))
            xtr, xte = np.pad(xtr, pad), np.pad(xte, pad)
            name, classes = "MNIST (padded to 32x32)", [str(i) for i in range(10)]
    mean = xtr.mean(axis=(0, 2, 3), keepdims=True)
    std = xtr.std(axis=(0, 2, 3), keepdims=True)
    return (xtr - mean) / std, ytr, (xte - mean) / std, yte, name, classes


def confusion(y_true, y_pred, n=10):
    m = np.zeros((n, n), np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def run(args):
    common.start(args, "lenet5", "LeNet-5 with ReLU and max-pooling")
    xtr, ytr, xte, yte, data_name, classes = load_data(args)
    big = args.data_dir is not None
    epochs = args.epochs or ((1 if big else 2) if args.quick else (10 if big else 20))
    print(f"   {data_name}: {len(xtr)} training and {len(xte)} test images of {xtr.shape[1]}x32x32; {epochs} "
          f"epochs, batch {args.batch_size}", flush=True)

    ag.manual_seed(args.seed)
    model = lenet5(xtr.shape[1], len(classes))
    n_params = sum(p.numel() for p in model.parameters())
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    loader = nn.data.DataLoader(nn.data.TensorDataset(ag.from_numpy(xtr), ag.from_numpy(ytr)),
                                batch_size=args.batch_size, shuffle=True, generator=ag.Generator(args.seed))
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))

    hist = dict(loss=[], train_acc=[], test_acc=[], seconds=[])
    step_losses = []
    with common.progress(total=epochs * len(loader), desc="lenet5") as bar:
        for epoch in range(epochs):
            model.train()
            correct = total = 0
            ep_losses = []
            with common.Stopwatch() as sw:
                for xb, yb in loader:
                    opt.zero_grad()
                    logits = model(xb)
                    loss = F.cross_entropy(logits, yb)
                    loss.backward()
                    opt.step()
                    sched.step()
                    ep_losses.append(loss.item())
                    correct += int((logits._data.argmax(1) == yb._data).sum())
                    total += len(yb)
                    bar.update(1)
            test_acc = common.accuracy(common.evaluate(model, xte), yte)
            hist["loss"].append(float(np.mean(ep_losses)))
            hist["train_acc"].append(correct / total)
            hist["test_acc"].append(test_acc)
            hist["seconds"].append(sw.seconds)
            step_losses += ep_losses
            bar.set_postfix(loss=f"{hist['loss'][-1]:.3f}", test=f"{100 * test_acc:.1f}%", refresh=False)

    pred = common.evaluate(model, xte).argmax(1)
    cm = confusion(yte, pred, len(classes))
    acc = float(np.mean(pred == yte))
    sec_epoch = float(np.median(hist["seconds"]))
    ips = len(xtr) / sec_epoch
    rows = [[e + 1, hist["loss"][e], f"{100 * hist['train_acc'][e]:.2f}%", f"{100 * hist['test_acc'][e]:.2f}%",
             f"{hist['seconds'][e]:.2f}"] for e in range(epochs)]
    print(common.fmt_table(rows, ["epoch", "train loss", "train acc", "test acc", "seconds"]))
    print(f"LeNet-5 ({n_params} parameters) on {data_name}: test accuracy {100 * acc:.2f}%, "
          f"{ips:.0f} images/s in training, {sec_epoch:.2f} s per epoch (median)")

    files = [_plot_curves(args, hist, step_losses, len(loader), data_name), _plot_confusion(args, cm, classes, acc)]
    return {"test_accuracy": acc, "images_per_second": ips, "seconds_per_epoch": sec_epoch,
            "final_train_loss": hist["loss"][-1], "epochs": epochs, "n_params": int(n_params), "data": data_name,
            "history": hist, "files": files}


def _plot_curves(args, hist, step_losses, steps_per_epoch, data_name):
    fig = common.figure(1100, 420)
    ax = fig.add_subplot(1, 2, 1)
    steps = np.arange(1, len(step_losses) + 1) / steps_per_epoch
    ax.plot(steps, step_losses, color="tab:blue", alpha=0.3, lw=0.8, label="per step")
    ep = np.arange(1, len(hist["loss"]) + 1)
    ax.plot(ep, hist["loss"], "o-", color="tab:blue", label="epoch mean")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title(f"training loss ({data_name})", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(ep, 100 * np.array(hist["train_acc"]), "o-", color="tab:blue", label="train")
    ax.plot(ep, 100 * np.array(hist["test_acc"]), "s-", color="tab:red", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"accuracy: test {100 * hist['test_acc'][-1]:.2f}% after {len(ep)} epochs", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return common.save(fig, args.out / "lenet5_curves.png")


def _plot_confusion(args, cm, classes, acc):
    fig = common.figure(600, 560)
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(cm, cmap="Blues")
    n = len(classes)
    thresh = cm.max() / 2
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if cm[i, j] > thresh else "black")
    ax.set_xticks(range(n), classes, fontsize=8, rotation=45 if len(classes[0]) > 1 else 0)
    ax.set_yticks(range(n), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion matrix, test set (accuracy {100 * acc:.2f}%)", fontsize=10)
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    return common.save(fig, args.out / "lenet5_confusion.png")
