"""Optimizer paths on 2-D test functions (Rosenbrock, Beale, a saddle), drawn over their contours.

Each function is one tensor expression in the point (x, y); every optimizer from ``optim`` starts
at the same point and takes the same number of steps, with gradients from the tape. The plot
shows where each one went (and a GIF shows how, when Pillow is installed).
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag
import optim

from . import common


def rosenbrock(x, y):
    """(1 - x)^2 + 100 (y - x^2)^2; minimum 0 at (1, 1), at the end of a long curved valley."""
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def beale(x, y):
    """(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2; minimum 0 at (3, 0.5)."""
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2


def saddle(x, y):
    """x^2 - y^2 + y^4 / 4: a saddle at the origin between two minima, -1 at (0, +-sqrt 2)."""
    return x * x - y * y + 0.25 * y ** 4


# name: (function, title, start, minimum, (xmin, xmax, ymin, ymax), log-scaled contours, steps, quick steps,
#        {optimizer: (class, kwargs)}). Learning rates are tuned per function, as one would in practice.
PROBLEMS = {
    "rosenbrock": (rosenbrock, r"Rosenbrock $(1-x)^2 + 100(y-x^2)^2$", (-1.5, 2.0), (1.0, 1.0),
                   (-2.0, 2.0, -1.0, 3.0), True, 3000, 300, {
                       "SGD": (optim.SGD, dict(lr=1e-3)),
                       "momentum": (optim.SGD, dict(lr=5e-4, momentum=0.9)),
                       "Nesterov": (optim.SGD, dict(lr=5e-4, momentum=0.9, nesterov=True)),
                       "RMSprop": (optim.RMSprop, dict(lr=3e-3)),
                       "Adam": (optim.Adam, dict(lr=2e-2)),
                       "Adagrad": (optim.Adagrad, dict(lr=0.3)),
                   }),
    "beale": (beale, r"Beale $\sum_k (c_k - x + x y^k)^2$, $c = (1.5, 2.25, 2.625)$", (1.0, 1.5), (3.0, 0.5),
              (-1.0, 4.5, -1.5, 2.5), True, 3000, 300, {
                  "SGD": (optim.SGD, dict(lr=1e-2)),
                  "momentum": (optim.SGD, dict(lr=1e-3, momentum=0.9)),
                  "Nesterov": (optim.SGD, dict(lr=1e-3, momentum=0.9, nesterov=True)),
                  "RMSprop": (optim.RMSprop, dict(lr=3e-3)),
                  "Adam": (optim.Adam, dict(lr=5e-2)),
                  "Adagrad": (optim.Adagrad, dict(lr=0.5)),
              }),
    "saddle": (saddle, r"saddle $x^2 - y^2 + y^4/4$", (-1.8, 1e-3), (0.0, np.sqrt(2.0)),
               (-2.0, 2.0, -2.0, 2.0), False, 400, 100, {
                   "SGD": (optim.SGD, dict(lr=5e-2)),
                   "momentum": (optim.SGD, dict(lr=1e-2, momentum=0.9)),
                   "Nesterov": (optim.SGD, dict(lr=1e-2, momentum=0.9, nesterov=True)),
                   "RMSprop": (optim.RMSprop, dict(lr=1e-2)),
                   "Adam": (optim.Adam, dict(lr=5e-2)),
                   "Adagrad": (optim.Adagrad, dict(lr=0.3)),
               }),
}

COLORS = {"SGD": "tab:blue", "momentum": "tab:orange", "Nesterov": "tab:green", "RMSprop": "tab:red",
          "Adam": "tab:purple", "Adagrad": "tab:brown"}


def add_arguments(parser):
    parser.add_argument("--steps", type=int, default=None,
                        help="optimizer steps per path (default: per function; fewer with --quick)")
    parser.add_argument("--no-gif", action="store_true", help="skip the animated GIF")


def follow(fn, start, opt_cls, kwargs, steps, bar=None):
    """The points visited by ``opt_cls`` minimizing ``fn`` from ``start``: an array (steps + 1, 2).

    Stops early if the point leaves the finite numbers (a diverged optimizer).
    """
    p = ag.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = opt_cls([p], **kwargs)
    pts = [p._data.copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss = fn(p[0], p[1])
        loss.backward()
        opt.step()
        pts.append(p._data.copy())
        if bar is not None:
            bar.update(1)
        if not np.all(np.isfinite(p._data)) or np.abs(p._data).max() > 1e6:
            break
    return np.array(pts)


def _contours(ax, fn, box, log):
    x0, x1, y0, y1 = box
    gx, gy = np.meshgrid(np.linspace(x0, x1, 250), np.linspace(y0, y1, 250))
    z = fn(gx, gy)
    if log:
        from matplotlib.colors import LogNorm
        levels = np.logspace(np.log10(max(z.min(), 1e-3)), np.log10(z.max()), 20)
        ax.contour(gx, gy, z, levels=levels, cmap="viridis", linewidths=0.6, norm=LogNorm(), alpha=0.8)
    else:
        ax.contour(gx, gy, z, levels=20, cmap="viridis", linewidths=0.6, alpha=0.8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def _draw(ax, problem, paths, fontsize=10):
    """Contours, start (black square), minimum (red star) and one line per optimizer's path."""
    fn, title, start, minimum, box, log = problem[:6]
    _contours(ax, fn, box, log)
    lines = []
    for opt_name, pts in paths.items():
        (line,) = ax.plot(pts[:, 0], pts[:, 1], "-", color=COLORS[opt_name], lw=1.5, label=opt_name)
        (dot,) = ax.plot(pts[-1:, 0], pts[-1:, 1], "o", color=COLORS[opt_name], ms=4)
        lines.append((pts, line, dot))
    ax.plot(*start, "ks", ms=6)
    ax.plot(*minimum, "r*", ms=12)
    ax.set_title(title, fontsize=fontsize)
    return lines


def run(args):
    common.start(args, "trajectories", "optimizer paths on 2-D test functions")
    files, rows, all_paths = [], [], {}
    result = {}
    for name, problem in PROBLEMS.items():
        fn, _, start, minimum, _, _, steps, quick_steps, opts = problem
        n = args.steps or (quick_steps if args.quick else steps)
        paths = {}
        with common.progress(total=n * len(opts), desc=f"{name:10s}") as bar:
            for opt_name, (cls, kw) in opts.items():
                paths[opt_name] = follow(fn, start, cls, kw, n, bar)
        all_paths[name] = paths
        final = {}
        for opt_name, pts in paths.items():
            x, y = pts[-1]
            ok = bool(np.all(np.isfinite(pts[-1])))
            val = float(fn(x, y)) if ok else float("inf")
            # the saddle has two minima, (0, +-sqrt 2): distance to the nearer one
            dist = float(np.hypot(x - minimum[0], abs(y) - minimum[1] if name == "saddle" else y - minimum[1]))
            final[opt_name] = dict(x=float(x), y=float(y), loss=val, distance=dist if ok else float("inf"))
            rows.append([name, opt_name, len(pts) - 1, float(x), float(y), val, final[opt_name]["distance"]])
        best = min(final, key=lambda k: final[k]["distance"])
        result[f"{name}_best"] = best
        result[f"{name}_best_distance"] = final[best]["distance"]
        result[f"{name}_final"] = final
        fig = common.figure(760, 620)
        ax = fig.add_subplot(1, 1, 1)
        _draw(ax, problem, paths, fontsize=12)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend(loc="best", fontsize=9)
        fig.tight_layout()
        files.append(common.save(fig, args.out / f"trajectories_{name}.png"))

    if not args.no_gif:
        gif = _animate(args, all_paths, 6 if args.quick else 40)
        if gif is not None:
            files.append(gif)

    print(common.fmt_table(rows, ["function", "optimizer", "steps", "x", "y", "f(x, y)", "to minimum"]))
    result["files"] = files
    return result


def _animate(args, all_paths, n_frames):
    """One GIF, the three panels side by side, the paths growing frame by frame."""
    fig = common.figure(1200, 430)
    artists = []
    for i, (name, problem) in enumerate(PROBLEMS.items()):
        ax = fig.add_subplot(1, 3, i + 1)
        artists += _draw(ax, problem, all_paths[name], fontsize=9)
        if i == 0:
            ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    frames = []
    for k in range(1, n_frames + 1):
        frac = k / n_frames
        for pts, line, dot in artists:
            m = max(1, int(round(frac ** 2 * len(pts))))  # slow start: the early steps matter most
            line.set_data(pts[:m, 0], pts[:m, 1])
            dot.set_data(pts[m - 1:m, 0], pts[m - 1:m, 1])
        frames.append(common.render(fig))
    return common.save_gif(frames, args.out / "trajectories.gif", duration_ms=100)
