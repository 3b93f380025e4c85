"""nn.AdaptiveLogSoftmaxWithLoss: outputs, loss, log_prob, predict and every gradient against PyTorch in
float64 over hypothesis-drawn sizes and cutoffs; gradcheck on the input; PyTorch's argument errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
import nn
from autograd_core.testing import gradcheck


@st.composite
def configs(draw):
    n_classes = draw(st.integers(3, 12))
    cutoffs = sorted(draw(st.sets(st.integers(1, n_classes - 1), min_size=1, max_size=3)))
    in_features = draw(st.integers(2, 9))
    div_value = draw(st.sampled_from([1.0, 1.5, 2.0, 4.0]))
    batch = draw(st.integers(1, 7))
    return n_classes, cutoffs, in_features, div_value, draw(st.booleans()), batch, draw(st.integers(0, 2 ** 16))


def _pair(n_classes, cutoffs, in_features, div_value, head_bias):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=div_value,
                                                 head_bias=head_bias).double()
    ours = nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=div_value,
                                         head_bias=head_bias).double()
    ours.load_state_dict({k: ag.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return torch, ours, theirs


@given(configs())
def test_matches_torch_outputs_and_gradients(cfg):
    n_classes, cutoffs, in_features, div_value, head_bias, batch, seed = cfg
    torch, ours, theirs = _pair(n_classes, cutoffs, in_features, div_value, head_bias)
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal((batch, in_features)), rng.integers(0, n_classes, batch)
    w = rng.standard_normal(batch)
    X, TX = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, loss = ours(X, ag.tensor(t))
    tout, tloss = theirs(TX, torch.tensor(t))
    (loss + (out * ag.tensor(w)).sum()).backward()
    (tloss + (tout * torch.tensor(w)).sum()).backward()
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert loss.shape == () and loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(X.grad.numpy(), TX.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname and p.shape == tuple(tp.shape)
        g = np.zeros(p.shape) if p.grad is None else p.grad.numpy()
        tg = np.zeros(p.shape) if tp.grad is None else tp.grad.numpy()
        np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(ours.log_prob(ag.tensor(x)).detach().numpy(),
                               theirs.log_prob(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(ag.tensor(x)).numpy(), theirs.predict(torch.tensor(x)).numpy())
    o1, l1 = ours(ag.tensor(x[0]), ag.tensor(t[0]))        # one unbatched row
    to1, _ = theirs(torch.tensor(x[0]), torch.tensor(t[0]))
    assert o1.shape == () and o1.item() == pytest.approx(to1.item(), rel=1e-12)


@given(configs())
def test_log_prob_is_a_distribution_and_forward_reads_it(cfg):
    n_classes, cutoffs, in_features, div_value, head_bias, batch, seed = cfg
    ag.manual_seed(seed)
    asm = nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=div_value,
                                        head_bias=head_bias).double()
    rng = np.random.default_rng(seed)
    x, t = ag.tensor(rng.standard_normal((batch, in_features))), rng.integers(0, n_classes, batch)
    lp = asm.log_prob(x).detach().numpy()
    np.testing.assert_allclose(np.exp(lp).sum(1), 1.0, rtol=1e-12)
    out, loss = asm(x, ag.tensor(t))
    np.testing.assert_allclose(out.detach().numpy(), lp[np.arange(batch), t], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(asm.predict(x).numpy(), lp.argmax(1))


@given(configs())
def test_gradcheck_input(cfg):
    n_classes, cutoffs, in_features, div_value, head_bias, batch, seed = cfg
    ag.manual_seed(seed)
    asm = nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=div_value,
                                        head_bias=head_bias).double()
    rng = np.random.default_rng(seed)
    t = ag.tensor(rng.integers(0, n_classes, batch))
    x = ag.tensor(rng.standard_normal((batch, in_features)), requires_grad=True)
    assert gradcheck(lambda a: tuple(asm(a, t)), (x,))


def test_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique, positive integers"):
        nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5, 3])
    with pytest.raises(ValueError, match="between 1 and n_classes-1"):
        nn.AdaptiveLogSoftmaxWithLoss(4, 10, [10])
    asm = nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3, 6])
    with pytest.raises(RuntimeError, match=r"target values should be in \[0, 9\]"):
        asm(ag.randn(2, 4), ag.tensor([1, 10]))
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        asm(ag.randn(3, 4), ag.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="0-D or 1-D target"):
        asm(ag.randn(2, 4), ag.tensor([[1, 2]]))
