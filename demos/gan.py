"""A DCGAN-style GAN (ConvTranspose2d + BatchNorm generator, Conv2d discriminator) on digits or MNIST.

Binary cross-entropy with logits and Adam(2e-4, betas=(0.5, 0.999)) for both networks, on
scikit-learn's 8x8 digits, or on MNIST with --data-dir.

The original project wrote this GAN in TensorFlow because its own library could not train it;
here every layer, the losses and both optimizers run on this engine. Images are scaled to
[-1, 1]. Generator, for S x S images (b = S / 4):

    z (N, nz, 1, 1) -> ConvT(nz, 4w, b) -> BN -> ReLU -> ConvT(4w, 2w, 4, 2, 1) -> BN -> ReLU
    -> ConvT(2w, 1, 4, 2, 1) -> Tanh

Discriminator: Conv(1, 2w, 4, 2, 1) -> LeakyReLU(0.2) -> Conv(2w, 4w, 4, 2, 1) -> BN -> LeakyReLU(0.2)
-> Conv(4w, 1, b) -> one logit.

Each epoch draws a 5x5 grid from the same 25 noise vectors; the grids also go into a GIF. To put
a number on "looks like digits", a digit classifier (a small MLP) trained on the real images
labels 1000 samples: the demo prints how confident it is and how many classes appear.
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag
import nn
import nn.functional as F
import optim

from . import common


class Generator(nn.Module):
    """z (N, nz, 1, 1) -> images (N, 1, S, S) in [-1, 1]."""

    def __init__(self, nz, size, width):
        super().__init__()
        b = size // 4
        self.net = nn.Sequential(
            nn.ConvTranspose2d(nz, 4 * width, b, 1, 0, bias=False), nn.BatchNorm2d(4 * width), nn.ReLU(),
            nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    """images (N, 1, S, S) -> logits (N, 1): large for real images."""

    def __init__(self, size, width):
        super().__init__()
        b = size // 4
        self.net = nn.Sequential(
            nn.Conv2d(1, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 4 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * width), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * width, 1, b, 1, 0), nn.Flatten())

    def forward(self, x):
        return self.net(x)


def _init_dcgan(m):
    """DCGAN's initialization: conv weights N(0, 0.02), batch-norm scales N(1, 0.02)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def add_arguments(parser):
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default 60 on digits, 10 on MNIST; 2 / 1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=64, help="mini-batch size (default 64)")
    parser.add_argument("--nz", type=int, default=32, help="noise dimension (default 32)")
    parser.add_argument("--limit", type=int, default=None,
                        help="use at most this many training images (default: all; 2000 with --quick and --data-dir)")


def load_images(args):
    """(images in [-1, 1] as (N, 1, S, S), labels, name)."""
    if args.data_dir is not None:
        limit = args.limit or (2000 if args.quick else None)
        xtr, ytr, xte, yte = common.mnist(args.data_dir, seed=args.seed, limit=limit)
        x, y, name = xtr, ytr, "MNIST"
    else:
        xtr, ytr, xte, yte = common.digits(seed=args.seed, test_size=0.1)
        x, y, name = np.concatenate([xtr, xte]), np.concatenate([ytr, yte]), "digits"
        if args.limit:
            x, y = x[:args.limit], y[:args.limit]
    return (x * 2 - 1).astype(np.float32), y, name


def digit_judge(x, y, seed, steps=300):
    """A digit classifier of real images, trained here (an MLP, Adam, mini-batches of 128); returns
    a function images -> class probabilities (N, 10)."""
    rng = np.random.default_rng(seed)
    ag.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(x[0].size, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = optim.Adam(model.parameters(), lr=3e-3)
    for _ in common.trange(steps, desc="judge", leave=False):
        idx = rng.integers(0, len(x), 128)
        opt.zero_grad()
        F.cross_entropy(model(ag.from_numpy(x[idx])), ag.from_numpy(y[idx])).backward()
        opt.step()

    def proba(imgs):
        with ag.no_grad():
            return model(ag.from_numpy(np.asarray(imgs, np.float32))).softmax(axis=-1)._data
    return proba


def run(args):
    common.start(args, "gan", "a DCGAN-style GAN (ConvTranspose2d + BatchNorm, BCE with logits, Adam)")
    x, y, data_name = load_images(args)
    size = x.shape[-1]
    width = 16  # channels 32/64 in the middle layers: enough for digits, and affordable on a CPU
    big = args.data_dir is not None
    epochs = args.epochs or ((1 if big else 2) if args.quick else (10 if big else 60))
    print(f"   {data_name}: {len(x)} images of {size}x{size}; {epochs} epochs, batch {args.batch_size}, "
          f"noise dim {args.nz}", flush=True)

    ag.manual_seed(args.seed)
    G, D = Generator(args.nz, size, width), Discriminator(size, width)
    G.apply(_init_dcgan)
    D.apply(_init_dcgan)
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = nn.data.DataLoader(nn.data.TensorDataset(ag.from_numpy(x)), batch_size=args.batch_size,
                                shuffle=True, drop_last=True, generator=ag.Generator(args.seed))
    gen = ag.Generator(args.seed + 1)
    fixed_z = ag.randn(25, args.nz, 1, 1, generator=gen)
    frames_dir = args.out / "gan_epochs"
    frames_dir.mkdir(parents=True, exist_ok=True)

    hist = dict(d_loss=[], g_loss=[], d_real=[], d_fake=[])
    grids, files = [], []
    with common.progress(total=epochs * len(loader), desc="gan") as bar:
        for epoch in range(epochs):
            G.train()
            D.train()
            dl, gl, dr, df = [], [], [], []
            for (real,) in loader:
                n = len(real)
                ones, zeros = ag.ones(n, 1), ag.zeros(n, 1)
                fake = G(ag.randn(n, args.nz, 1, 1, generator=gen))
                # discriminator: real -> 1, fake -> 0 (the fake is detached: G is not updated here)
                opt_d.zero_grad()
                d_real, d_fake = D(real), D(fake.detach())
                loss_d = F.binary_cross_entropy_with_logits(d_real, ones) + \
                    F.binary_cross_entropy_with_logits(d_fake, zeros)
                loss_d.backward()
                opt_d.step()
                # generator: make D call the fake real (the non-saturating loss)
                opt_g.zero_grad()
                loss_g = F.binary_cross_entropy_with_logits(D(fake), ones)
                loss_g.backward()
                opt_g.step()
                dl.append(loss_d.item())
                gl.append(loss_g.item())
                dr.append(float(d_real._data.mean()))
                df.append(float(d_fake._data.mean()))
                bar.update(1)
            for k, v in zip(("d_loss", "g_loss", "d_real", "d_fake"), (dl, gl, dr, df)):
                hist[k].append(float(np.mean(v)))
            bar.set_postfix(D=f"{hist['d_loss'][-1]:.3f}", G=f"{hist['g_loss'][-1]:.3f}", refresh=False)
            grid = _samples(G, fixed_z)
            grids.append(grid)
            files.append(_save_grid(grid, frames_dir / f"epoch_{epoch + 1:03d}.png", f"epoch {epoch + 1}"))

    # how digit-like are the samples? a classifier of real digits judges 1000 of them
    judge = digit_judge(x, y, args.seed, steps=100 if args.quick else 300)
    G.eval()
    with ag.no_grad():
        samples = G(ag.randn(1000, args.nz, 1, 1, generator=gen))._data
    proba = judge(samples)
    confidence = float(proba.max(1).mean())
    counts = np.bincount(proba.argmax(1), minlength=10)
    real_conf = float(judge(x[:1000]).max(1).mean())

    every = max(1, epochs // 15)
    rows = [[e + 1, hist["d_loss"][e], hist["g_loss"][e], hist["d_real"][e], hist["d_fake"][e]]
            for e in range(epochs) if (e + 1) % every == 0 or e in (0, epochs - 1)]
    print(common.fmt_table(rows, ["epoch", "D loss", "G loss", "mean D(x) logit", "mean D(G(z)) logit"]))
    print(f"a digit classifier trained on the real images gives the samples a mean confidence of "
          f"{confidence:.3f} (real images: {real_conf:.3f}); classes among 1000 samples: {counts.tolist()}")

    files = [_plot_losses(args, hist, data_name), _plot_final(args, grids[-1], x, epochs)] + files
    gif = common.save_gif([_frame(g, i + 1) for i, g in enumerate(grids)], args.out / "gan_progress.gif",
                          duration_ms=150)
    if gif is not None:
        files.insert(2, gif)
    return {"d_loss": hist["d_loss"][-1], "g_loss": hist["g_loss"][-1], "judge_confidence": confidence,
            "judge_confidence_real": real_conf, "classes_present": int((counts > 0).sum()),
            "class_counts": counts.tolist(), "epochs": epochs, "data": data_name, "history": hist, "files": files}


def _samples(G, z):
    """G(z) in eval mode (batch-norm running statistics) as a 5x5 grid in [0, 1]."""
    G.eval()
    with ag.no_grad():
        imgs = G(z)._data
    G.train()
    return common.image_grid((imgs + 1) / 2, ncols=5, normalize=None, fill=0.3)


def _frame(grid, epoch, scale=None):
    """The grid as an RGB uint8 frame, upscaled (nearest) to about 200 px, with no labels."""
    scale = scale or max(1, 200 // grid.shape[0])
    img = np.kron(np.clip(grid, 0, 1), np.ones((scale, scale)))
    return np.repeat((255 * (1 - img)).astype(np.uint8)[..., None], 3, axis=2)  # dark digits on white


def _save_grid(grid, path, title):
    fig = common.figure(300, 320)
    ax = fig.add_axes([0.02, 0.02, 0.96, 0.88])
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    fig.suptitle(title, fontsize=10)
    return common.save(fig, path)


def _plot_losses(args, hist, data_name):
    fig = common.figure(1100, 420)
    ep = np.arange(1, len(hist["d_loss"]) + 1)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(ep, hist["d_loss"], "-", color="tab:blue", label="D loss")
    ax.plot(ep, hist["g_loss"], "-", color="tab:red", label="G loss")
    ax.axhline(2 * np.log(2), color="tab:blue", ls=":", lw=1, label="D at equilibrium (2 ln 2)")
    ax.axhline(np.log(2), color="tab:red", ls=":", lw=1, label="G at equilibrium (ln 2)")
    ax.set_xlabel("epoch")
    ax.set_title(f"losses per epoch ({data_name})", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(ep, hist["d_real"], color="tab:green", label="mean D logit on real images")
    ax.plot(ep, hist["d_fake"], color="tab:purple", label="mean D logit on generated images")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("epoch")
    ax.set_title("what the discriminator says", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return common.save(fig, args.out / "gan_losses.png")


def _plot_final(args, grid, x, epochs):
    fig = common.figure(900, 470)
    ax = fig.add_subplot(1, 2, 1)
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"generated, after {epochs} epochs", fontsize=11)
    ax = fig.add_subplot(1, 2, 2)
    real = common.image_grid((x[:25] + 1) / 2, ncols=5, normalize=None, fill=0.3)
    ax.imshow(real, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title("real training images", fontsize=11)
    fig.tight_layout()
    return common.save(fig, args.out / "gan_samples.png")
