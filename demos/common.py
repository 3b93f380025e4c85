"""What every demo shares: the command line, seeding, progress bars, plots and data sets.

Plots use matplotlib's object API on the Agg canvas (``Figure`` + ``FigureCanvasAgg``), never
``pyplot``, so demos run headless and leave no global figure state behind. A figure made by
``figure(w, h)`` is saved at exactly ``w`` x ``h`` pixels.

Data never comes from the network: the default sets ship inside scikit-learn, and
``--data-dir`` points at MNIST (IDX) or CIFAR-10 files that are already on disk.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

import autograd_core as ag

__all__ = ["DEFAULT_OUT", "DataDirError", "add_common_arguments", "make_args", "start", "seed_everything",
           "progress", "trange", "Stopwatch", "fmt_table", "figure", "save", "render", "save_gif", "image_grid",
           "accuracy", "evaluate", "digits", "mnist", "cifar10", "MNIST_EXPECTED", "CIFAR_EXPECTED"]

DEFAULT_OUT = Path("demo-output")


class DataDirError(ValueError):
    """``--data-dir`` does not hold the files a demo needs; the message lists what was expected."""


# -- command line -----------------------------------------------------------------------------
def add_common_arguments(parser):
    """The flags every demo takes: --out, --seed, --quick, --data-dir."""
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for the PNG/GIF files (default: {DEFAULT_OUT}/)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same run")
    parser.add_argument("--quick", action="store_true", help="small step counts (a smoke test, seconds)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder with MNIST (IDX) or CIFAR-10 files for the demos that use them")
    return parser


def make_args(module=None, **overrides):
    """An ``argparse.Namespace`` with every default of the common flags and of ``module.add_arguments``.

    For calling ``run`` from Python: ``gates.run(make_args(gates, out=tmp, quick=True))``.
    """
    parser = argparse.ArgumentParser(add_help=False)
    add_common_arguments(parser)
    if module is not None and hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    args = parser.parse_args([])
    for k, v in overrides.items():
        if not hasattr(args, k):
            raise TypeError(f"make_args: unknown option {k!r}")
        setattr(args, k, v)
    if args.out is not None:
        args.out = Path(args.out)
    if args.data_dir is not None:
        args.data_dir = Path(args.data_dir)
    return args


def seed_everything(seed):
    """Seed the engine's global generator (init, shuffling, dropout) and numpy's legacy one.

    Returns a fresh ``np.random.Generator`` for the demo's own draws.
    """
    ag.manual_seed(seed)
    np.random.seed(seed % 2**32)
    return np.random.default_rng(seed)


def start(args, name, what):
    """Create ``args.out``, seed everything, print a header line; returns the demo's numpy Generator."""
    args.out = Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    mode = "quick" if args.quick else "full"
    print(f"== {name}: {what} ({mode} run, seed {args.seed}, plots in {args.out}/)", flush=True)
    return seed_everything(args.seed)


# -- progress bars ----------------------------------------------------------------------------
def progress(iterable=None, desc=None, total=None, leave=True, **kw):
    """A tqdm bar on stderr; disabled by the environment variable DEMOS_NO_PROGRESS=1."""
    from tqdm.auto import tqdm
    return tqdm(iterable, desc=desc, total=total, leave=leave, dynamic_ncols=True, mininterval=0.25,
                file=sys.stderr, disable=os.environ.get("DEMOS_NO_PROGRESS", "") not in ("", "0"), **kw)


def trange(n, desc=None, leave=True, **kw):
    return progress(range(n), desc=desc, total=n, leave=leave, **kw)


class Stopwatch:
    """``with Stopwatch() as sw: ...``; then ``sw.seconds``."""

    def __enter__(self):
        self._t0 = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0
        return False


def fmt_table(rows, headers):
    """A plain-text table: ``rows`` of values, floats shown with 4 significant digits."""
    def cell(v):
        if isinstance(v, float):
            return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.3e}"
        return str(v)
    body = [[cell(v) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line, sep] + ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in body])


# -- plotting ---------------------------------------------------------------------------------
def figure(width_px, height_px, dpi=100, **kw):
    """A matplotlib Figure on an Agg canvas that saves at exactly ``width_px`` x ``height_px``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, **kw)
    FigureCanvasAgg(fig)
    return fig


def save(fig, path, colors=256):
    """Write ``fig`` as PNG at its own pixel size (no tight bbox, so the size is predictable).

    The image is stored with a 256-colour palette: plots hold few colours, and the files come
    out about three times smaller than 24-bit ones, with no visible change.
    """
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, dpi=fig.dpi, format="png")
    try:
        from PIL import Image
    except ImportError:  # matplotlib needs Pillow, but keep working without it
        path.write_bytes(buf.getvalue())
        return path
    buf.seek(0)
    with Image.open(buf) as im:
        im.convert("RGB").quantize(colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) \
            .save(path, format="PNG", optimize=True)
    return path


def render(fig):
    """The figure's pixels as an (H, W, 3) uint8 array."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def save_gif(frames, path, duration_ms=120, loop=0):
    """Write frames (Figures or HxWx3 uint8 arrays) as an animated GIF; returns the path, or None
    when Pillow is not installed (the GIF is optional; the PNGs carry the results)."""
    try:
        from PIL import Image
    except ImportError:
        return None
    imgs = []
    for f in frames:
        arr = f if isinstance(f, np.ndarray) else render(f)
        imgs.append(Image.fromarray(arr).convert("P", palette=Image.Palette.ADAPTIVE, colors=128))
    if not imgs:
        return None
    path = Path(path)
    imgs[0].save(path, save_all=True, append_images=imgs[1:], duration=duration_ms, loop=loop, optimize=True)
    return path


def image_grid(images, ncols=None, pad=1, normalize="each", fill=None):
    """Tile ``images`` (N, H, W) or (N, C, H, W) with C in {1, 3} into one (rows*H, cols*W[, 3]) array.

    ``normalize='each'`` scales each tile to [0, 1] (for weights and kernels); ``'all'`` uses the
    global min/max; None leaves values as they are (already in [0, 1]).
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4:
        images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
    n = images.shape[0]
    if normalize == "each":
        flat = images.reshape(n, -1)
        lo, hi = flat.min(1), flat.max(1)
        shape = (n,) + (1,) * (images.ndim - 1)
        images = (images - lo.reshape(shape)) / np.maximum(hi - lo, 1e-12).reshape(shape)
    elif normalize == "all":
        images = (images - images.min()) / max(float(images.max() - images.min()), 1e-12)
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    h, w = images.shape[1:3]
    extra = images.shape[3:]
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad) + extra,
                   1.0 if fill is None else fill)
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = images[i]
    return grid


# -- training helpers -------------------------------------------------------------------------
def accuracy(logits, y):
    """Fraction of rows of ``logits`` whose argmax equals ``y``."""
    logits = logits._data if isinstance(logits, ag.Tensor) else np.asarray(logits)
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(y)))


def evaluate(model, x, batch_size=500):
    """Logits of ``model`` on ``x`` (ndarray), in eval mode and without the tape; returns an ndarray."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    outs = []
    with ag.no_grad():
        for i in range(0, len(x), batch_size):
            outs.append(model(ag.from_numpy(x[i:i + batch_size]))._data)
    if was_training:
        model.train()
    return np.concatenate(outs)


# -- data -------------------------------------------------------------------------------------
def _split(x, y, test_size, seed):
    from sklearn.model_selection import train_test_split
    return train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)


def digits(seed=0, test_size=0.2):
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes), pixels scaled to [0, 1].

    Returns ``(x_train, y_train, x_test, y_test)``: x float32 (N, 1, 8, 8), y int64, from a
    stratified split seeded by ``seed``.
    """
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = _split(x, y, test_size, seed)
    return xtr, ytr, xte, yte


_MNIST_SUBDIRS = ("", "mnist", "MNIST", "MNIST/raw", "fashion-mnist", "FashionMNIST/raw")
_CIFAR_SUBDIRS = ("", "cifar-10-batches-bin", "cifar-10-batches-py", "cifar10", "CIFAR10")

MNIST_EXPECTED = ("MNIST IDX files train-images-idx3-ubyte + train-labels-idx1-ubyte and/or t10k-images-idx3-ubyte "
                  "+ t10k-labels-idx1-ubyte (raw IDX, or gzip-compressed with a .gz suffix), in that folder or in "
                  "mnist/ or MNIST/raw/ under it")
CIFAR_EXPECTED = ("CIFAR-10 batches data_batch_1 .. data_batch_5 and/or test_batch, either the binary version "
                  "(data_batch_1.bin ... test_batch.bin, as in cifar-10-batches-bin/) or the python version "
                  "(data_batch_1 ... test_batch, as in cifar-10-batches-py/), in that folder or that subfolder")


def _listing(folder):
    folder = Path(folder)
    if not folder.exists():
        return "that folder does not exist"
    try:
        names = sorted(p.name for p in folder.iterdir())
    except OSError:
        return "that folder cannot be read"
    if not names:
        return "that folder is empty"
    shown = ", ".join(names[:8]) + (f", ... ({len(names)} entries)" if len(names) > 8 else "")
    return f"it holds: {shown}"


def _load_splits(loader, data_dir, subdirs, prefixes):
    """``(folder, {'train': (x, y), 'test': (x, y)}, notes)`` for whatever splits ``loader(folder,
    train=...)`` finds in ``data_dir`` or one of ``subdirs``. Bad files raise DataDirError naming the
    file; ``notes`` keeps the loader's complaints about folders that hold some of the files."""
    notes = []
    for sub in subdirs:
        folder = Path(data_dir) / sub
        if not folder.is_dir():
            continue
        parts = {}
        for split in ("train", "test"):
            try:
                parts[split] = loader(folder, train=split == "train")
            except FileNotFoundError as e:
                if any(p.name.startswith(prefixes) for p in folder.iterdir()):
                    notes.append(str(e))  # e.g. only some of the CIFAR-10 training batches are there
            except ValueError as e:  # bad magic number, wrong size, truncated: the message names the file
                raise DataDirError(str(e)) from None
        if parts:
            return folder, parts, notes
    return None, {}, notes


def _missing(what, data_dir, notes):
    extra = "".join(f"; {n}" for n in dict.fromkeys(notes))
    return DataDirError(f"--data-dir {data_dir}: expected {what}; {_listing(data_dir)}{extra}")


def _train_test(name, folder, parts, seed, limit):
    if len(parts) == 2:
        (xtr, ytr), (xte, yte) = parts["train"], parts["test"]
    else:
        (split, (x, y)), = parts.items()
        print(f"   only the {split} split of {name} is in {folder}: using a seeded 5:1 split of its {len(x)} images",
              flush=True)
        xtr, xte, ytr, yte = _split(x, y, 1 / 6, seed)
    if limit is not None and len(xtr) > limit:
        keep = np.sort(np.random.default_rng(seed).choice(len(xtr), limit, replace=False))
        xtr, ytr = xtr[keep], ytr[keep]
    return xtr, ytr, xte, yte


def mnist(data_dir, seed=0, limit=None):
    """MNIST (or Fashion-MNIST) IDX files under ``data_dir``, read by ``nn.data.load_mnist``.

    Returns ``(x_train, y_train, x_test, y_test)``, x float32 (N, 1, 28, 28) in [0, 1]. With only one
    split on disk, that split is divided 5:1 (stratified, seeded). ``limit`` keeps a seeded random
    subset of the training images, to keep CPU runs short."""
    import nn.data
    folder, parts, notes = _load_splits(nn.data.load_mnist, data_dir, _MNIST_SUBDIRS, ("train-", "t10k-"))
    if not parts:
        raise _missing(MNIST_EXPECTED, data_dir, notes)
    return _train_test("MNIST", folder, parts, seed, limit)


def cifar10(data_dir, seed=0, limit=None):
    """CIFAR-10 batches under ``data_dir``, read by ``nn.data.load_cifar10`` (binary or python version).

    Returns ``(x_train, y_train, x_test, y_test)``, x float32 (N, 3, 32, 32) in [0, 1]; one split alone
    is divided 5:1 as for ``mnist``."""
    import nn.data
    folder, parts, notes = _load_splits(nn.data.load_cifar10, data_dir, _CIFAR_SUBDIRS, ("data_batch", "test_batch"))
    if not parts:
        raise _missing(CIFAR_EXPECTED, data_dir, notes)
    return _train_test("CIFAR-10", folder, parts, seed, limit)
