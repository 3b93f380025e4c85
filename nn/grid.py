"""Spatial transformers' sampling, as ``torch.nn.functional.affine_grid`` and ``grid_sample`` (4-D, NCHW).

Both are tensor expressions (a matrix product; a gather of four corners weighted by their distances),
so their gradients, with respect to the input and to the grid, come from the tape.

    >>> import autograd_core as ag, nn.functional as F
    >>> theta = ag.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])       # the identity
    >>> x = ag.arange(4.0).reshape(1, 1, 2, 2)
    >>> F.grid_sample(x, F.affine_grid(theta, (1, 1, 2, 2), align_corners=False), align_corners=False)
    tensor([[[[0., 1.],
              [2., 3.]]]])
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

__all__ = ["affine_grid", "grid_sample"]


def _base(n, align_corners, dtype):
    """The normalized coordinates of n pixel centres (align_corners=False) or of the corner pixels' centres
    at -1 and 1 (True)."""
    if align_corners:
        return np.linspace(-1.0, 1.0, n, dtype=dtype) if n > 1 else np.zeros(1, dtype)
    return ((np.arange(n, dtype=np.float64) * 2 + 1) / n - 1).astype(dtype)


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``theta`` (N, 2, 3) for an output of ``size`` (N, C, H, W):
    (N, H, W, 2) with ``grid[n, i, j] = theta[n] @ (x_j, y_i, 1)``, x and y the normalized pixel
    coordinates in [-1, 1] (``align_corners`` as ``grid_sample``'s; None means False, as PyTorch).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.affine_grid(ag.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), (1, 1, 1, 2), align_corners=True)
    tensor([[[[-1.,  0.],
              [ 1.,  0.]]]])
    """
    theta = theta if isinstance(theta, Tensor) else Tensor(theta)
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid: only 4-D sizes (N, C, H, W) are supported here, got {size}")
    N, _, H, W = size
    if theta.ndim != 3 or tuple(theta.shape) != (N, 2, 3):
        raise ValueError(f"affine_grid: expected theta of shape ({N}, 2, 3) for size {size}, got "
                         f"{tuple(theta.shape)}")
    if theta._data.dtype.kind != "f":
        raise TypeError(f"affine_grid: theta must be a floating point tensor, got {theta._data.dtype}")
    ac = bool(align_corners)
    dt = theta._data.dtype
    xs, ys = _base(W, ac, dt), _base(H, ac, dt)
    base = np.empty((H, W, 3), dt)
    base[..., 0] = xs[None, :]
    base[..., 1] = ys[:, None]
    base[..., 2] = 1
    grid = ag.tensor(base.reshape(1, H * W, 3)) @ theta.transpose(1, 2)      # (N, H W, 2)
    return grid.reshape(N, H, W, 2)


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


def _source(c, n, padding_mode, align_corners):
    c = _unnormalize(c, n, align_corners)
    if padding_mode == "border":
        c = c.clamp(0, n - 1)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (n - 1)) if align_corners else _reflect(c, -1, 2 * n - 1)
        c = c.clamp(0, n - 1)
    return c


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",  # noqa: A002
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) at the normalized points ``grid`` (N, Ho, Wo, 2) (x, then y; -1 and 1 are
    the edges, or the corner pixels' centres with ``align_corners=True``): (N, C, Ho, Wo). ``mode``:
    "bilinear" (the four neighbours weighted by distance) or "nearest"; ``padding_mode``: "zeros"
    (outside is 0), "border" (clamped to the edge) or "reflection". As ``torch.nn.functional.grid_sample``
    (None for align_corners means False); the gradient reaches the input and (bilinear) the grid.

    >>> import autograd_core as ag, nn.functional as F
    >>> x = ag.tensor([[[[0.0, 10.0]]]])                                # one row, two pixels
    >>> F.grid_sample(x, ag.tensor([[[[0.0, 0.0]]]]), align_corners=True)  # halfway between them
    tensor([[[[5.]]]])
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    grid = grid if isinstance(grid, Tensor) else Tensor(grid)
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"grid_sample: mode must be 'bilinear' or 'nearest' here, got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection', got {padding_mode!r}")
    if x.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != x.shape[0]:
        raise ValueError(f"grid_sample: expected input (N, C, H, W) and grid (N, Ho, Wo, 2) with the same N, got "
                         f"{tuple(x.shape)} and {tuple(grid.shape)} (only 4-D input is supported here)")
    if x._data.dtype != grid._data.dtype:
        raise TypeError(f"grid_sample: input and grid must have the same dtype, got {x._data.dtype} and "
                        f"{grid._data.dtype}")
    N, C, H, W = x.shape
    _, Ho, Wo, _ = grid.shape
    ac = bool(align_corners)
    ix = _source(grid[..., 0], W, padding_mode, ac).reshape(N, 1, Ho * Wo)
    iy = _source(grid[..., 1], H, padding_mode, ac).reshape(N, 1, Ho * Wo)
    flat = x.reshape(N, C, H * W)

    def corner(cx, cy):
        """input at the integer points (cx, cy) (arrays, (N, 1, P)), 0 where outside: (N, C, P)."""
        cx = np.where(np.isfinite(cx), cx, -1)      # a NaN or infinite coordinate reads no pixel
        cy = np.where(np.isfinite(cy), cy, -1)
        inside = (cx >= 0) & (cx <= W - 1) & (cy >= 0) & (cy <= H - 1)
        idx = (np.clip(cy, 0, H - 1) * W + np.clip(cx, 0, W - 1)).astype(np.int64)
        vals = flat.gather(2, ag.tensor(np.broadcast_to(idx, (N, C, idx.shape[-1])).copy()))
        return vals * ag.tensor(inside.astype(x._data.dtype)) if not inside.all() else vals

    if mode == "nearest":
        cx = np.rint(ix.detach()._data)      # half to even, as PyTorch's nearbyint
        cy = np.rint(iy.detach()._data)
        out = corner(cx, cy)
        if grid.requires_grad:   # the grid's gradient is zeros, as PyTorch's, not None: a where() that picks 0
            out = out + ag.where(ag.tensor(np.zeros(ix.shape, bool)), ix + iy, 0.0)
        return out.reshape(N, C, Ho, Wo)
    x0 = np.floor(ix.detach()._data)
    y0 = np.floor(iy.detach()._data)
    wx1, wy1 = ix - ag.tensor(x0), iy - ag.tensor(y0)
    wx0, wy0 = 1 - wx1, 1 - wy1
    out = (corner(x0, y0) * (wx0 * wy0) + corner(x0 + 1, y0) * (wx1 * wy0)
           + corner(x0, y0 + 1) * (wx0 * wy1) + corner(x0 + 1, y0 + 1) * (wx1 * wy1))
    return out.reshape(N, C, Ho, Wo)
