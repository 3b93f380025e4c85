"""nn.utils.weight_norm / spectral_norm and their remove_*: outputs, gradients, buffers and state-dict keys
as PyTorch's (float64, same weights and power-iteration vectors), and the reparametrizations' own
properties without torch."""
import warnings

import numpy as np
import pytest

import autograd_core as ag
import nn

LAYERS = {
    "linear": (lambda m: m.Linear(4, 3), (2, 4)),
    "conv2d": (lambda m: m.Conv2d(2, 3, 3), (1, 2, 5, 5)),
    "conv_transpose2d": (lambda m: m.ConvTranspose2d(2, 3, 3), (1, 2, 4, 4)),
}


def _pair(kind, torch):
    make, xshape = LAYERS[kind]
    ours, theirs = make(nn).double(), make(torch.nn).double()
    rng = np.random.default_rng(0)
    w0, b0 = rng.standard_normal(tuple(theirs.weight.shape)), rng.standard_normal(tuple(theirs.bias.shape))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w0))
        theirs.bias.copy_(torch.tensor(b0))
    ours.weight.data = ag.tensor(w0)
    ours.bias.data = ag.tensor(b0)
    return ours, theirs, rng.standard_normal(xshape)


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(kind, dim):
    torch = pytest.importorskip("torch")
    ours, theirs, x = _pair(kind, torch)
    nn.utils.weight_norm(ours, dim=dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # PyTorch's deprecation notice
        torch.nn.utils.weight_norm(theirs, dim=dim)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    y, ty = ours(ag.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    for name in ("weight_g", "weight_v", "bias"):
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), getattr(theirs, name).grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_spectral_norm_matches_torch(kind):
    torch = pytest.importorskip("torch")
    ours, theirs, x = _pair(kind, torch)
    nn.utils.spectral_norm(ours)
    torch.nn.utils.spectral_norm(theirs)
    with torch.no_grad():                    # the same starting vectors (each library draws its own)
        theirs.weight_u.copy_(torch.tensor(ours.weight_u.numpy()))
        theirs.weight_v.copy_(torch.tensor(ours.weight_v.numpy()))
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    for _ in range(3):                       # each training forward takes one power-iteration step
        y, ty = ours(ag.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.weight_u.numpy(), theirs.weight_u.numpy(), rtol=1e-10)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(ours.weight_orig.grad.numpy(), theirs.weight_orig.grad.numpy(), rtol=1e-9)
    ours.eval()
    theirs.eval()
    u = ours.weight_u.numpy().copy()
    np.testing.assert_allclose(ours(ag.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10)
    np.testing.assert_array_equal(ours.weight_u.numpy(), u)      # eval mode: no iteration


def test_weight_norm_starts_at_the_weight_and_remove_restores_a_parameter():
    layer = nn.Linear(5, 3)
    w = layer.weight.detach().numpy().copy()
    nn.utils.weight_norm(layer)
    np.testing.assert_allclose(layer.weight.detach().numpy(), w, rtol=1e-6)
    np.testing.assert_allclose(layer.weight_g.detach().numpy().ravel(), np.linalg.norm(w, axis=1), rtol=1e-6)
    with ag.no_grad():
        layer.weight_g.mul_(2)
    out = layer(ag.ones(1, 5))                       # the hook recomputes the weight from g and v
    np.testing.assert_allclose(layer.weight.detach().numpy(), 2 * w, rtol=1e-6)
    assert out.shape == (1, 3)
    nn.utils.remove_weight_norm(layer)
    assert sorted(n for n, _ in layer.named_parameters()) == ["bias", "weight"]
    np.testing.assert_allclose(layer.weight.detach().numpy(), 2 * w, rtol=1e-6)
    with pytest.raises(ValueError, match="remove_weight_norm: weight_norm of 'weight' not found in Linear"):
        nn.utils.remove_weight_norm(layer)
    with pytest.raises(ValueError, match="weight_norm: Linear has no parameter 'scale'"):
        nn.utils.weight_norm(layer, name="scale")


def test_spectral_norm_brings_the_largest_singular_value_to_one():
    layer = nn.utils.spectral_norm(nn.Linear(6, 4))
    for _ in range(30):
        layer(ag.ones(1, 6))
    s = np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)
    assert abs(s[0] - 1) < 1e-3
    nn.utils.remove_spectral_norm(layer)
    assert sorted(layer.state_dict()) == ["bias", "weight"]
