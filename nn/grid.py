"""Spatial transformers' sampling, as ``torch.nn.functional.affine_grid`` and ``grid_sample``: 4-D input
(N, C, H, W) with bilinear, nearest or bicubic sampling, and 5-D input (N, C, D, H, W) with trilinear
("bilinear", PyTorch's name) or nearest sampling.

Both are tensor expressions (a matrix product; a gather of the neighbouring pixels weighted by their
distances), so their gradients, with respect to the input and to the grid, come from the tape.

    >>> import autograd_core as ag, nn.functional as F
    >>> theta = ag.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])       # the identity
    >>> x = ag.arange(4.0).reshape(1, 1, 2, 2)
    >>> F.grid_sample(x, F.affine_grid(theta, (1, 1, 2, 2), align_corners=False), align_corners=False)
    tensor([[[[0., 1.],
              [2., 3.]]]])
"""
from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

__all__ = ["affine_grid", "grid_sample"]

_CUBIC_A = -0.75      # PyTorch's (and OpenCV's) bicubic convolution constant


def _base(n, align_corners, dtype):
    """The normalized coordinates of n pixel centres (align_corners=False) or of the corner pixels' centres
    at -1 and 1 (True)."""
    if align_corners:
        return np.linspace(-1.0, 1.0, n, dtype=dtype) if n > 1 else np.zeros(1, dtype)
    return ((np.arange(n, dtype=np.float64) * 2 + 1) / n - 1).astype(dtype)


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``theta`` for an output of ``size``: theta (N, 2, 3) and size
    (N, C, H, W) give (N, H, W, 2) with ``grid[n, i, j] = theta[n] @ (x_j, y_i, 1)``; theta (N, 3, 4) and
    size (N, C, D, H, W) give (N, D, H, W, 3) with (x, y, z, 1). x, y, z are the normalized pixel
    coordinates in [-1, 1] (``align_corners`` as ``grid_sample``'s; None means False, as PyTorch).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.affine_grid(ag.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), (1, 1, 1, 2), align_corners=True)
    tensor([[[[-1.,  0.],
              [ 1.,  0.]]]])
    """
    theta = theta if isinstance(theta, Tensor) else Tensor(theta)
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise ValueError(f"affine_grid: size must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), got {size}")
    nd = len(size) - 2
    N = size[0]
    if theta.ndim != 3 or tuple(theta.shape) != (N, nd, nd + 1):
        raise ValueError(f"affine_grid: expected theta of shape ({N}, {nd}, {nd + 1}) for size {size}, got "
                         f"{tuple(theta.shape)}")
    if theta._data.dtype.kind != "f":
        raise TypeError(f"affine_grid: theta must be a floating point tensor, got {theta._data.dtype}")
    ac = bool(align_corners)
    dt = theta._data.dtype
    spatial = size[2:]                                   # (H, W) or (D, H, W)
    axes = [_base(n, ac, dt) for n in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")             # each of the spatial shape
    base = np.empty(spatial + (nd + 1,), dt)
    for j in range(nd):                                  # component j: x (the last dim), then y, then z
        base[..., j] = mesh[nd - 1 - j]
    base[..., nd] = 1
    grid = ag.tensor(base.reshape(1, -1, nd + 1)) @ theta.transpose(1, 2)    # (N, prod(spatial), nd)
    return grid.reshape((N,) + spatial + (nd,))


def _unnormalize(c, n, align_corners):
    return (c + 1) * ((n - 1) / 2) if align_corners else ((c + 1) * n - 1) / 2


def _reflect(c, low2, high2):
    """PyTorch's reflect_coordinates: c reflected into [low2 / 2, high2 / 2] as often as needed."""
    if low2 == high2:
        return c * 0
    mn, span = low2 / 2, (high2 - low2) / 2
    d = (c - mn).abs()
    extra = ag.fmod(d, span)
    flips = np.floor(d.detach()._data / span)
    return ag.where(ag.tensor(flips % 2 == 0), extra + mn, (span - extra) + mn)


def _reflect_np(c, low2, high2):
    """``_reflect`` on an array (the integer taps of bicubic sampling)."""
    if low2 == high2:
        return np.zeros_like(c)
    mn, span = low2 / 2, (high2 - low2) / 2
    with np.errstate(invalid="ignore"):
        d = np.abs(c - mn)
        extra = np.fmod(d, span)
        flips = np.floor(d / span)
    return np.where(flips % 2 == 0, extra + mn, (span - extra) + mn)


def _clip(c, n):
    """c clamped to [0, n - 1], with PyTorch's clip_coordinates_set_grad: the gradient passes only
    strictly inside, a coordinate on the border counting as outside (clamp's own rule keeps the ends)."""
    clipped = c.clamp(0, n - 1)
    inside = (c.detach()._data > 0) & (c.detach()._data < n - 1)
    return clipped if inside.all() else ag.where(ag.tensor(inside), clipped, clipped.detach())


def _source(c, n, padding_mode, align_corners):
    c = _unnormalize(c, n, align_corners)
    if padding_mode == "border":
        c = _clip(c, n)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (n - 1)) if align_corners else _reflect(c, -1, 2 * n - 1)
        c = _clip(c, n)
    return c


def _tap(c, n, padding_mode, align_corners):
    """An integer tap coordinate (array) mapped as PyTorch's compute_coordinates (bicubic's taps)."""
    if padding_mode == "border":
        return np.clip(c, 0, n - 1)
    if padding_mode == "reflection":
        c = _reflect_np(c, 0, 2 * (n - 1)) if align_corners else _reflect_np(c, -1, 2 * n - 1)
        return np.clip(c, 0, n - 1)
    return c


def _cubic_weights(t):
    """The four bicubic convolution weights of the taps at -1, 0, 1, 2 for the fraction t (a tensor)."""
    A = _CUBIC_A

    def near(x):    # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):     # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",  # noqa: A002
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` at the normalized points ``grid`` (x, then y, then z; -1 and 1 are the edges, or the
    corner pixels' centres with ``align_corners=True``): input (N, C, H, W) and grid (N, Ho, Wo, 2) give
    (N, C, Ho, Wo); input (N, C, D, H, W) and grid (N, Do, Ho, Wo, 3) give (N, C, Do, Ho, Wo). ``mode``:
    "bilinear" (the 4 or 8 neighbours weighted by distance), "nearest", or "bicubic" (4-D only: 16
    neighbours, PyTorch's cubic convolution with A = -0.75); ``padding_mode``: "zeros" (outside is 0),
    "border" (clamped to the edge) or "reflection". As ``torch.nn.functional.grid_sample`` (None for
    align_corners means False); the gradient reaches the input and (bilinear, bicubic) the grid.

    >>> import autograd_core as ag, nn.functional as F
    >>> x = ag.tensor([[[[0.0, 10.0]]]])                                # one row, two pixels
    >>> F.grid_sample(x, ag.tensor([[[[0.0, 0.0]]]]), align_corners=True)  # halfway between them
    tensor([[[[5.]]]])
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    grid = grid if isinstance(grid, Tensor) else Tensor(grid)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic', got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection', got {padding_mode!r}")
    if x.ndim not in (4, 5) or grid.ndim != x.ndim or grid.shape[-1] != x.ndim - 2 or grid.shape[0] != x.shape[0]:
        raise ValueError(f"grid_sample: expected input (N, C, H, W) with grid (N, Ho, Wo, 2), or input (N, C, D, H, W) "
                         f"with grid (N, Do, Ho, Wo, 3), with the same N; got {tuple(x.shape)} and "
                         f"{tuple(grid.shape)}")
    if mode == "bicubic" and x.ndim != 4:
        raise ValueError("grid_sample: bicubic interpolation only supports 4-D input (as in PyTorch)")
    if x._data.dtype != grid._data.dtype:
        raise TypeError(f"grid_sample: input and grid must have the same dtype, got {x._data.dtype} and "
                        f"{grid._data.dtype}")
    N, C = x.shape[0], x.shape[1]
    sizes = tuple(x.shape[2:])                   # (H, W) or (D, H, W)
    nd = len(sizes)
    out_sp = tuple(grid.shape[1:-1])
    P = int(np.prod(out_sp))
    ac = bool(align_corners)
    flat = x.reshape(N, C, int(np.prod(sizes)))
    out: Any
    strides = [int(np.prod(sizes[j + 1:])) for j in range(nd)]

    def comp(j):
        """grid's coordinate along spatial dim j (dim 0 is the outermost: y for 4-D, z for 5-D): (N, 1, P)."""
        return grid[..., nd - 1 - j].reshape(N, 1, P)

    def gather(idx):
        """input at the integer points ``idx`` (one array (N, 1, P) per spatial dim), 0 outside: (N, C, P)."""
        inside = np.ones(idx[0].shape, bool)
        lin = np.zeros(idx[0].shape, np.int64)
        for j, (c, n) in enumerate(zip(idx, sizes)):
            c = np.where(np.isfinite(c), c, -1)   # a NaN or infinite coordinate reads no pixel
            inside &= (c >= 0) & (c <= n - 1)
            lin += np.clip(c, 0, n - 1).astype(np.int64) * strides[j]
        vals = flat.gather(2, ag.tensor(np.broadcast_to(lin, (N, C, P)).copy()))
        return vals * ag.tensor(inside.astype(x._data.dtype)) if not inside.all() else vals

    if mode == "bicubic":
        iy = _unnormalize(comp(0), sizes[0], ac)
        ix = _unnormalize(comp(1), sizes[1], ac)
        y0 = np.floor(iy.detach()._data)
        x0 = np.floor(ix.detach()._data)
        wy = _cubic_weights(iy - ag.tensor(y0))
        wx = _cubic_weights(ix - ag.tensor(x0))
        out = None
        for a in range(4):
            ty = _tap(y0 - 1 + a, sizes[0], padding_mode, ac)
            row = None
            for b in range(4):
                tx = _tap(x0 - 1 + b, sizes[1], padding_mode, ac)
                term = gather([ty, tx]) * wx[b]
                row = term if row is None else row + term
            out = row * wy[a] if out is None else out + row * wy[a]
        return out.reshape((N, C) + out_sp)

    coords = [_source(comp(j), sizes[j], padding_mode, ac) for j in range(nd)]
    if mode == "nearest":
        out = gather([np.rint(c.detach()._data) for c in coords])    # half to even, as PyTorch's nearbyint
        if grid.requires_grad:   # the grid's gradient is zeros, as PyTorch's, not None: a where() that picks 0
            zero = ag.where(ag.tensor(np.zeros(coords[0].shape, bool)), sum(coords[1:], coords[0]), 0.0)
            out = out + zero
        return out.reshape((N, C) + out_sp)
    lows = [np.floor(c.detach()._data) for c in coords]
    fracs = [c - ag.tensor(lo) for c, lo in zip(coords, lows)]
    out = None
    for corner in itertools.product((0, 1), repeat=nd):        # the 2^nd neighbours
        w = None
        for f, bit in zip(fracs, corner):
            wj = f if bit else 1 - f
            w = wj if w is None else w * wj
        term = gather([lo + bit for lo, bit in zip(lows, corner)]) * w
        out = term if out is None else out + term
    return out.reshape((N, C) + out_sp)
