"""L-BFGS, as ``torch.optim.LBFGS`` (without a line search)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List

import numpy as np

from autograd_core import enable_grad, no_grad

from .optimizer import Array, Optimizer, ParamsT, _nonneg

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    r"""Limited-memory BFGS (``torch.optim.LBFGS``, same arguments and defaults): each ``step(closure)``
    runs up to ``max_iter`` iterations, each a quasi-Newton direction from the last ``history_size``
    (s, y) pairs (the two-loop recursion, initial Hessian y's / y'y) and a fixed step ``lr`` (the first
    iteration of a run scales it by min(1, 1 / ||g||_1)), calling ``closure`` (which must zero the
    gradients, compute the loss, call ``backward`` and return the loss) after each. It stops early when
    the gradient's largest entry is at most ``tolerance_grad``, or a step or the loss changes by less
    than ``tolerance_change``, or after ``max_eval`` evaluations. One parameter group only; all the
    parameters are one flat vector. ``line_search_fn='strong_wolfe'`` is not available here.

    >>> w = ag.tensor([3.0, -2.0], requires_grad=True)
    >>> opt = optim.LBFGS([w], lr=1.0)
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - 1.0) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> w.detach().round(decimals=4)
    tensor([1., 1.])
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn is not None:
            raise NotImplementedError(f"LBFGS: line_search_fn={line_search_fn!r} (a line search) is not available "
                                      "here; use the default None (a fixed step lr)")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "tolerance_grad", "tolerance_change")

    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """As the base, but LBFGS has one parameter group only: a second one is refused.

        >>> opt = optim.LBFGS([ag.zeros(1, requires_grad=True)])
        >>> try:
        ...     opt.add_param_group({"params": [ag.zeros(1, requires_grad=True)]})
        ... except ValueError as e:
        ...     print("refused")
        refused
        """
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _flat_grad(self) -> Array:
        return np.concatenate([np.zeros(p._data.size, p._data.dtype) if p.grad is None else
                               p.grad._data.reshape(-1) for p in self._params])

    def _add(self, t: float, d: Array) -> None:
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += (t * d[offset:offset + n]).reshape(p._data.shape).astype(p._data.dtype, copy=False)
            p._version += 1
            offset += n

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` L-BFGS iterations, calling ``closure`` to re-evaluate; returns the loss
        of the first evaluation.

        >>> w = ag.tensor([2.0], requires_grad=True)
        >>> opt = optim.LBFGS([w], max_iter=5)
        >>> def closure():
        ...     opt.zero_grad(); loss = (w * w).sum(); loss.backward(); return loss
        >>> opt.step(closure)
        tensor(4., grad_fn=<SumBackward>)
        """
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the model and returns the loss")
        self._opt_called = True
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change, history = group["tolerance_grad"], group["tolerance_change"], group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tol_grad:
            return orig_loss

        d: Array | None = state.get("d")
        t: float = state.get("t", lr)
        old_dirs: List[Array] = state.get("old_dirs", [])
        old_stps: List[Array] = state.get("old_stps", [])
        ro: List[float] = state.get("ro", [])
        h_diag: float = state.get("H_diag", 1.0)
        prev_flat_grad: Array | None = state.get("prev_flat_grad")
        prev_loss: float = state.get("prev_loss", loss)

        n_iter = 0
        with no_grad():
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1 or d is None or prev_flat_grad is None:
                    d = -flat_grad
                    old_dirs, old_stps, ro, h_diag = [], [], [], 1.0
                else:
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = float(y @ s)
                    if ys > 1e-10:
                        if len(old_dirs) == history:
                            old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                        old_dirs.append(y)
                        old_stps.append(s)
                        ro.append(1.0 / ys)
                        h_diag = ys / float(y @ y)
                    q = -flat_grad
                    al = [0.0] * len(old_dirs)
                    for i in range(len(old_dirs) - 1, -1, -1):
                        al[i] = float(old_stps[i] @ q) * ro[i]
                        q = q - al[i] * old_dirs[i]
                    r = q * h_diag
                    for i in range(len(old_dirs)):
                        be_i = float(old_dirs[i] @ r) * ro[i]
                        r = r + (al[i] - be_i) * old_stps[i]
                    d = r.astype(flat_grad.dtype, copy=False)
                prev_flat_grad = flat_grad.copy()
                prev_loss = loss
                t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
                gtd = float(flat_grad @ d)
                if gtd > -tol_change:
                    break
                self._add(t, d)
                ls_evals = 0
                opt_cond = False
                if n_iter != max_iter:
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._flat_grad()
                    opt_cond = bool(np.abs(flat_grad).max() <= tol_grad)
                    ls_evals = 1
                current_evals += ls_evals
                state["func_evals"] += ls_evals
                if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                    break
                if np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                    break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss
