"""torch.utils.checkpoint: checkpointed calls give the values and gradients of plain ones (dropout's masks
included), keep no per-op nodes, and refuse what they cannot do."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn
from autograd_core.utils.checkpoint import checkpoint, checkpoint_sequential


def _block():
    ag.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Dropout(0.3), nn.Linear(8, 4), nn.Tanh())


def _grads(model, x):
    return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]


@given(batch=st.integers(1, 5), seed=st.integers(0, 1000), reentrant=st.booleans())
@settings(max_examples=20, deadline=None)
def test_checkpointed_block_matches_plain_values_and_gradients(batch, seed, reentrant):
    model = _block()
    x0 = np.random.default_rng(seed).standard_normal((batch, 4))
    results = []
    for use_ckpt in (False, True):
        for p in model.parameters():
            p.grad = None
        x = ag.tensor(x0, dtype=ag.float32, requires_grad=True)
        ag.manual_seed(seed)
        h = x * 2
        y = checkpoint(model, h, use_reentrant=reentrant) if use_ckpt else model(h)
        y = y + ag.randn(*y.shape) * 0.01          # random draws after the call: the state must be restored
        (y * y).sum().backward()
        results.append((y.detach().numpy().copy(), _grads(model, x)))
    (ya, ga), (yb, gb) = results
    np.testing.assert_allclose(yb, ya, rtol=1e-6, atol=1e-7)
    for a, b in zip(ga, gb):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_checkpoint_keeps_one_node_and_handles_tuples_and_kwargs():
    w = ag.tensor([1.5, -0.5], requires_grad=True)

    def f(a, b, scale=1.0):
        return (a * w).sin() * scale, (b * w).exp()
    a = ag.tensor([0.3, 0.7], requires_grad=True)
    b = ag.tensor([0.1, 0.2], requires_grad=True)
    y1, y2 = checkpoint(f, a, b, scale=3.0, use_reentrant=False)
    names = set()
    todo = [y1.grad_fn, y2.grad_fn]
    while todo:
        node = todo.pop()
        if node is not None and type(node).__name__ not in names | {"AccumulateGrad"}:
            names.add(node.name() if hasattr(node, "name") else type(node).__name__)
            todo.extend(n for n, _ in node.next_functions)
    assert "_CheckpointBackward" in names and not {"SinBackward", "ExpBackward", "MulBackward"} & names, names
    (y1.sum() + 2 * y2.sum()).backward()
    got = [a.grad.numpy(), b.grad.numpy(), w.grad.numpy()]
    a2, b2, w2 = (ag.tensor(t.detach().numpy(), requires_grad=True) for t in (a, b, w))
    z1, z2 = (a2 * w2).sin() * 3.0, (b2 * w2).exp()
    (z1.sum() + 2 * z2.sum()).backward()
    for g, want in zip(got, [a2.grad.numpy(), b2.grad.numpy(), w2.grad.numpy()]):
        np.testing.assert_allclose(g, want, rtol=1e-6)


def test_checkpoint_sequential_matches_the_model():
    model = nn.Sequential(*[nn.Linear(3, 3) if i % 2 == 0 else nn.ReLU() for i in range(7)])
    x = ag.randn(5, 3, requires_grad=True)
    for segments in (1, 2, 3):
        for p in model.parameters():
            p.grad = None
        x.grad = None
        out = checkpoint_sequential(model, segments, x, use_reentrant=False)
        out.sum().backward()
        got = _grads(model, x)
        for p in model.parameters():
            p.grad = None
        x.grad = None
        model(x).sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
        for a, b in zip(got, _grads(model, x)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_checkpoint_without_grad_inputs_still_trains_parameters():
    layer = nn.Linear(2, 1)
    checkpoint(layer, ag.ones(3, 2), use_reentrant=False).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), [[3.0, 3.0]])


def test_checkpoint_refuses_changed_inputs_and_second_derivatives():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = checkpoint(lambda t: t * t, h, use_reentrant=False)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = checkpoint(lambda t: (t ** 3).sum(), x, use_reentrant=False)
    with pytest.raises(RuntimeError, match="second derivative through a checkpointed call"):
        (g,) = ag.autograd.grad(y, x, create_graph=True)
        g.sum().backward()
    with pytest.raises(TypeError, match="checkpoint: the first argument must be callable"):
        checkpoint(3, x)


def test_torch_utils_checkpoint_path_for_ported_scripts():
    """``torch.utils.checkpoint.checkpoint(...)`` in a ported script reaches this module, also through the
    namespace that importing ``nn`` fills in (``torch.utils.data``)."""
    assert ag.utils.checkpoint.checkpoint is checkpoint
    assert ag.utils.checkpoint.checkpoint_sequential is checkpoint_sequential
    assert ag.utils.data is nn.data
