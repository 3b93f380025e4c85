"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), as ``torch.optim.Adam/AdamW``.

The update of one parameter runs either as a handful of in-place numpy operations or, when
Numba is available (``fused=None`` or ``True``), as one fused loop over the elements, which
reads and writes each array once (about 3x faster on an MLP's parameters). Both follow the
same rule and are tested against each other. The loop compiles at the first step (about a second
with an empty Numba cache), not in the background as the ops' kernels do: a compile holds the GIL for
most of that time, and the script's next lines ran slowly beside it (a Hypothesis test right after
training failed its health check).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, Tuple

import numpy as np

from autograd_core.kernels import HAVE_NUMBA, kernel, numba_active, parallel_for
from autograd_core.kernels.threads import split

from .optimizer import Array, Optimizer, ParamsT, _adam_moments, _impl_flags, _betas, _nonneg, _signed_decayed

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam: adaptive moment estimation, with bias correction (``torch.optim.Adam``, same arguments
    and defaults).

    With g = grad + weight_decay * p (negated first if ``maximize``; with
    ``decoupled_weight_decay`` the decay is instead p <- p * (1 - lr * weight_decay)), step t does

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v)   and use v_max for v        (amsgrad)
        p <- p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)

    ``fused``: None uses the fused Numba kernel when Numba is available, True requires Numba, False
    always uses numpy. Parameters that aren't contiguous float32/float64 arrays take the numpy path.
    Parameters of any shape; the state holds ``step`` and ``exp_avg`` (m), ``exp_avg_sq`` (v) and,
    with amsgrad, ``max_exp_avg_sq`` (v_max), each of the parameter's shape.

    The first step moves every element by about lr, whatever the gradient's scale:

    >>> w = ag.tensor([1.0, -200.0], requires_grad=True)
    >>> opt = optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([   0.9000, -199.9000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        if fused and not HAVE_NUMBA:
            raise ValueError(f"{type(self).__name__}: fused=True needs Numba, which is not available")
        super().__init__(params, dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "eps", "weight_decay")
        _betas(self._name, group)

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, betas: Tuple[float, float], eps: float,
                weight_decay: float, amsgrad: bool, maximize: bool, fused: bool | None,
                decoupled_weight_decay: bool) -> None:
        t, m, v = _adam_moments(state, p)
        beta1, beta2 = betas
        if amsgrad and "max_exp_avg_sq" not in state:  # first step, or amsgrad switched on mid-run
            state["max_exp_avg_sq"] = v.copy()
        bc1, bc2 = 1 - beta1 ** t, 1 - beta2 ** t
        if fused is not False and _fusable(p, g):
            f = p.dtype.type  # scalars in the parameter's precision, as PyTorch computes
            arrays = (p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                      (state["max_exp_avg_sq"] if amsgrad else v).reshape(-1))
            scalars = (f(beta1), f(beta2), f(1 - beta1), f(1 - beta2), f(eps), f(weight_decay),
                       f(1 - lr * weight_decay), f(lr / bc1), f(math.sqrt(bc2)),
                       bool(amsgrad), bool(maximize), bool(decoupled_weight_decay))
            k = _ADAM.get(p.dtype.char, arrays + scalars, wait=True)
            if k is not None:
                # the update is memory-bound: a big parameter in runs over the threads (each reads its
                # own share of the five arrays), a small one on the calling thread
                per, chunks = split(p.size, _PAR_CHUNK)
                if chunks == 1:
                    k(*arrays, *scalars)
                else:
                    parallel_for(_adam_chunk, chunks, k, arrays, scalars, per, p.size)
                return
        g = _signed_decayed(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if amsgrad:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        denom = np.sqrt(v)
        denom /= math.sqrt(bc2)
        denom += eps
        p -= (lr / bc1) * m / denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``.

    Each step first shrinks the parameter, p <- p * (1 - lr * weight_decay), then takes the Adam
    step on the plain gradient (see ``Adam``), so the decay is not rescaled by Adam's
    denominator. The default weight_decay is 1e-2, as PyTorch. ``Adam(...,
    decoupled_weight_decay=True)`` is the same optimizer.

    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()                        # p * (1 - 0.1 * 0.5) - 0.1
    >>> w
    tensor([0.8500, 1.8000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 fused: bool | None = None, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, fused=fused,
                         decoupled_weight_decay=True, foreach=foreach, capturable=capturable,
                         differentiable=differentiable)


def _adam_loop(p: Array, g: Array, m: Array, v: Array, vmax: Array, beta1: Any, beta2: Any, one_minus_beta1: Any,
               one_minus_beta2: Any, eps: Any, weight_decay: Any, decay: Any, step_size: Any, bc2_sqrt: Any,
               amsgrad: bool, maximize: bool, decoupled: bool) -> None:
    """The Adam rule one element at a time (compiled by Numba; ``decay`` = 1 - lr * weight_decay,
    ``step_size`` = lr / (1 - beta1^t), ``bc2_sqrt`` = sqrt(1 - beta2^t); scalars have p's dtype).

    p[i] is read once and written once, the weight decay chosen by selects: a conditional write of p
    before its update kept LLVM from vectorizing the loop, and AdamW ran 4.5x slower than Adam."""
    shrink = weight_decay != 0 and decoupled
    l2 = weight_decay != 0 and not decoupled
    for i in range(p.size):
        gi = -g[i] if maximize else g[i]
        pi = p[i] * decay if shrink else p[i]
        gi = gi + weight_decay * pi if l2 else gi
        mi = beta1 * m[i] + one_minus_beta1 * gi
        vi = beta2 * v[i] + one_minus_beta2 * gi * gi
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = max(vmax[i], vi)
            vmax[i] = vi
        p[i] = pi - step_size * mi / (np.sqrt(vi) / bc2_sqrt + eps)


# error_model="numpy": no zero-division checks in the loop, so LLVM can vectorize it
_ADAM = kernel("adam_step", error_model="numpy")(_adam_loop)
_PAR_CHUNK = 1 << 17    # elements per run over the threads, at least (smaller runs gained nothing)


def _adam_chunk(i: int, tid: int, k: Callable[..., None], arrays: Tuple[Array, ...], scalars: Tuple[Any, ...],
                per: int, n: int) -> None:
    s = slice(i * per, min(n, (i + 1) * per))
    k(*(a[s] for a in arrays), *scalars)


def _fusable(p: Array, g: Array) -> bool:
    return bool(numba_active() and p.dtype == g.dtype and p.dtype in (np.float32, np.float64)
            and p.flags.c_contiguous and g.flags.c_contiguous)
