"""Backprop made visible: a 2-layer MLP on one iris flower, its tape, the explained backward and the graph.

The forward pass is traced op by op (``autograd_core.trace``) and printed as a listing; the
backward pass then runs with ``explain=`` so every VJP prints the gradient it receives and
the gradients it sends to its inputs, with their norms and the un-broadcast sums of the
biases. The graph picture (``backprop_graph.png``) labels every arrow with the norm of the
gradient that flowed back along it. Last, a few SGD steps on the whole data set run under the
profiler, which prints where the time went.
"""
from __future__ import annotations

import sys

import numpy as np

import autograd_core as ag
from autograd_core.inspect import draw, format_grad_fn, profile, scope, trace

from . import common


def add_arguments(parser):
    parser.add_argument("--hidden", type=int, default=5, help="hidden units of the MLP (default: 5)")
    parser.add_argument("--steps", type=int, default=None,
                        help="SGD steps on the whole data set under the profiler (default: 100, quick: 10)")


def _iris(seed):
    from sklearn.datasets import load_iris
    d = load_iris()
    x = d.data.astype(np.float32)
    x = (x - x.mean(0)) / x.std(0)
    return x, d.target.astype(np.int64), list(d.target_names)


def _params(n_in, n_hidden, n_out, rng):
    """PyTorch's nn.Linear layout and init: weight (out, in) ~ U(-1/sqrt(in), 1/sqrt(in))."""
    def linear(i, o):
        k = 1.0 / np.sqrt(i)
        w = rng.uniform(-k, k, (o, i)).astype(np.float32)
        b = rng.uniform(-k, k, (o,)).astype(np.float32)
        return ag.Tensor(w, requires_grad=True), ag.Tensor(b, requires_grad=True)
    w1, b1 = linear(n_in, n_hidden)
    w2, b2 = linear(n_hidden, n_out)
    return {"fc1.weight": w1, "fc1.bias": b1, "fc2.weight": w2, "fc2.bias": b2}


def mlp_loss(x, y, p):
    """Cross-entropy of a 2-layer tanh MLP: mean_i -log softmax(W2 tanh(W1 x_i + b1) + b2)[y_i]."""
    with scope("fc1"):
        h = (x @ p["fc1.weight"].T + p["fc1.bias"]).tanh()
    with scope("fc2"):
        logits = h @ p["fc2.weight"].T + p["fc2.bias"]
    logp = ag.log_softmax(logits, axis=1)
    return -logp[np.arange(len(y)), y].mean()


def run(args):
    rng = common.start(args, "backprop", "the tape of a 2-layer MLP, its explained backward and its graph")
    x_all, y_all, classes = _iris(args.seed)
    p = _params(4, args.hidden, 3, rng)
    i = int(rng.integers(len(x_all)))
    x, y = ag.from_numpy(x_all[i:i + 1]), y_all[i:i + 1]
    print(f"\none example: flower #{i} ({classes[y[0]]}), features {[round(float(v), 2) for v in x_all[i]]}\n")

    tape = trace(mlp_loss, x, y, p, names=p)
    print("-- the forward pass, as recorded on the tape:")
    print(tape)
    print("\n-- loss.grad_fn, walked through next_functions:")
    print(format_grad_fn(tape.output))

    print("\n-- the backward pass, one VJP at a time:")
    from autograd_core.inspect import ExplainLogger
    explainer = ExplainLogger(stream=sys.stdout)
    tape.backward(explain=explainer)
    grad_norms = {name: float(np.linalg.norm(t.grad._data)) for name, t in p.items()}
    explained = {lab.lstrip("%"): n for lab, n in explainer.leaf_grads.items()}
    match = all(np.isclose(explained[k], v, rtol=1e-5, atol=1e-8) for k, v in grad_norms.items())
    print(f"\nthe explained leaf gradients match the final .grad norms: {match}")

    out = args.out / "backprop_graph.png"
    draw(tape, out, title=f"one example through a 4-{args.hidden}-3 MLP: forward graph and gradient norms")
    print(f"graph picture: {out}")

    steps = args.steps if args.steps is not None else (10 if args.quick else 100)
    xs = ag.from_numpy(x_all)
    losses = []
    with profile() as prof:
        for _ in range(steps):
            loss = mlp_loss(xs, y_all, p)
            for t in p.values():
                t.grad = None
            loss.backward()
            with ag.no_grad():
                for t in p.values():
                    t -= 0.5 * t.grad
            losses.append(loss.item())
    print(f"\n-- {steps} SGD steps on all {len(x_all)} flowers (loss {losses[0]:.4f} -> {losses[-1]:.4f}), "
          "profiled:")
    print(prof.table(row_limit=10))
    with ag.no_grad():
        h = (xs @ p["fc1.weight"].T + p["fc1.bias"]).tanh()
        acc = common.accuracy(h @ p["fc2.weight"].T + p["fc2.bias"], y_all)
    print(f"training accuracy after {steps} steps: {acc:.3f}")
    return {"loss": float(tape.output.item()), "n_ops": len(tape), "explain_matches_grad": bool(match),
            "train_loss_first": losses[0], "train_loss_last": losses[-1], "train_accuracy": acc,
            "profiled_op_time_s": prof.self_time, "profiled_wall_s": prof.total_time,
            "grad_norms": grad_norms, "files": [out]}
