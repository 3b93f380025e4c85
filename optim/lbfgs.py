"""L-BFGS, as ``torch.optim.LBFGS``, with its optional strong-Wolfe line search (``_strong_wolfe``, a port of
PyTorch's, itself after minFunc: a bracketing phase, then a zoom by cubic interpolation)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List

import numpy as np

from autograd_core import enable_grad, no_grad

from .optimizer import Array, Optimizer, ParamsT, _nonneg

__all__ = ["LBFGS"]


def _cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                       bounds: tuple | None = None) -> float:
    """The minimizer of the cubic through (x1, f1, slope g1) and (x2, f2, slope g2), clamped to ``bounds``
    (default: between x1 and x2); the bounds' midpoint when the cubic has no minimum."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square ** 0.5
        # a loss linear along the line (g1 == g2, so d2 == 0) divides by zero: as in PyTorch (whose slopes
        # are tensors), that gives +-inf, which the bounds clamp, or NaN
        with np.errstate(divide="ignore", invalid="ignore"):
            if x1 <= x2:
                min_pos = x2 - (x2 - x1) * (np.float64(g2 + d2 - d1) / np.float64(g2 - g1 + 2 * d2))
            else:
                min_pos = x1 - (x1 - x2) * (np.float64(g1 + d2 - d1) / np.float64(g1 - g2 + 2 * d2))
        return float(min(max(min_pos, xmin_bound), xmax_bound))
    return float((xmin_bound + xmax_bound) / 2.0)


def _strong_wolfe(obj_func: Callable, x: Any, t: float, d: Array, f: float, g: Array, gtd: float, c1: float = 1e-4,
                  c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple:
    """A step t along d that satisfies the strong Wolfe conditions f(x + t d) <= f + c1 t g'd and
    |g(x + t d)'d| <= c2 |g'd|: (f_new, g_new, t, evaluations). ``obj_func(x, t, d)`` returns the loss and
    the flat gradient at x + t d. PyTorch's algorithm step for step."""
    d_norm = float(np.abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: List[float] = []
    bracket_f: List[float] = []
    bracket_g: List[Array] = []
    bracket_gtd: List[float] = []
    while ls_iter < max_ls:
        # check conditions
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # interpolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:   # reached the maximum number of evaluations
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    # zoom: until a point satisfying the criteria is found, or the bracket is too small
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # force a step away from the bracket's ends when progress stalls
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # the Armijo condition fails, or the point is not lower than the lowest
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    r"""Limited-memory BFGS (``torch.optim.LBFGS``, same arguments and defaults): each ``step(closure)``
    runs up to ``max_iter`` iterations, each a quasi-Newton direction from the last ``history_size``
    (s, y) pairs (the two-loop recursion, initial Hessian y's / y'y) and a fixed step ``lr`` (the first
    iteration of a run scales it by min(1, 1 / ||g||_1)), calling ``closure`` (which must zero the
    gradients, compute the loss, call ``backward`` and return the loss) after each. It stops early when
    the gradient's largest entry is at most ``tolerance_grad``, or a step or the loss changes by less
    than ``tolerance_change``, or after ``max_eval`` evaluations. One parameter group only; all the
    parameters are one flat vector. ``line_search_fn='strong_wolfe'`` picks each step's length by a
    strong-Wolfe line search (PyTorch's) instead of the fixed ``lr``.

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
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "tolerance_grad", "tolerance_change")

    def _load_state_value(self, key: str, v: Any, p: Any) -> Any:
        # the state (kept on the first parameter) holds flat vectors over all the parameters, the
        # (s, y) history as lists of them, and scalars
        if key in ("old_dirs", "old_stps", "ro", "al"):
            if not isinstance(v, (list, tuple)):
                raise ValueError(f"should be a list, got {type(v).__name__}")
            return [self._load_state_value("d" if key in ("old_dirs", "old_stps") else "t", x, p) for x in v]
        if v is None:
            return None
        if key in ("d", "prev_flat_grad"):
            a = np.asarray(v)
            n = sum(q._data.size for q in self._params)
            if a.shape != (n,):
                raise ValueError(f"has shape {a.shape} but the parameters have {n} elements in all: it needs ({n},)")
            return np.array(a, dtype=p._data.dtype, copy=True)
        if key in ("func_evals", "n_iter"):
            return int(np.asarray(v))
        return float(np.asarray(v))

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

    def _directional_evaluate(self, closure: Callable[[], Any], x: List[Array], t: float, d: Array) -> tuple:
        """The loss and flat gradient at params + t d; the parameters are put back to ``x`` after."""
        self._add(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._flat_grad()
        for p, xd in zip(self._params, x):
            p._data[...] = xd
            p._version += 1
        return loss, flat_grad

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
                    # kept in the state, as PyTorch's (entries past the history's length stay None)
                    al = state.setdefault("al", [None] * history)
                    if len(al) < len(old_dirs):  # a history_size raised since
                        al.extend([None] * (len(old_dirs) - len(al)))
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
                ls_evals = 0
                opt_cond = False
                if group["line_search_fn"] == "strong_wolfe":
                    x_init = [p._data.copy() for p in self._params]
                    loss, flat_grad, t, ls_evals = _strong_wolfe(
                        lambda x, t_, d_: self._directional_evaluate(closure, x, t_, d_),
                        x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                    self._add(t, d)
                    opt_cond = bool(np.abs(flat_grad).max() <= tol_grad)
                else:
                    self._add(t, d)
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
