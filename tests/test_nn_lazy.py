"""Lazy modules (nn.lazy): the input size comes from the first call or from a state dict; the
parameters are the same objects before and after (an optimizer built first keeps working); the
result is the layer PyTorch's lazy module becomes, with its initialization and state-dict names."""
import numpy as np
import pytest

import autograd_core as ag
import nn
import optim


def _torch():
    return pytest.importorskip("torch")


CONVS = [(nn.LazyConv1d, nn.Conv1d, (2, 3, 8)), (nn.LazyConv2d, nn.Conv2d, (2, 3, 6, 6)),
         (nn.LazyConv3d, nn.Conv3d, (2, 3, 5, 5, 5)), (nn.LazyConvTranspose1d, nn.ConvTranspose1d, (2, 3, 8)),
         (nn.LazyConvTranspose2d, nn.ConvTranspose2d, (2, 3, 5, 5)),
         (nn.LazyConvTranspose3d, nn.ConvTranspose3d, (1, 3, 4, 4, 4))]
NORMS = [(nn.LazyBatchNorm1d, nn.BatchNorm1d, (4, 3)), (nn.LazyBatchNorm2d, nn.BatchNorm2d, (2, 3, 4, 4)),
         (nn.LazyBatchNorm3d, nn.BatchNorm3d, (2, 3, 3, 3, 3)), (nn.LazyInstanceNorm1d, nn.InstanceNorm1d, (3, 8)),
         (nn.LazyInstanceNorm2d, nn.InstanceNorm2d, (2, 3, 4, 4)), (nn.LazyInstanceNorm3d, nn.InstanceNorm3d, (3, 4, 4, 4))]


def test_lazy_linear_sizes_itself_on_the_first_call_and_becomes_a_linear():
    layer = nn.LazyLinear(3)
    assert layer.in_features == 0 and layer.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="uninitialized"):
        layer.weight.shape
    w_before = layer.weight
    y = layer(ag.ones(2, 5))
    assert y.shape == (2, 3) and type(layer) is nn.Linear and layer.in_features == 5
    assert layer.weight is w_before and layer.weight.shape == (3, 5) and type(layer.weight) is nn.Parameter
    bound = 1 / np.sqrt(5)
    assert np.all(np.abs(layer.weight.detach().numpy()) <= bound) and np.all(np.abs(layer.bias.detach().numpy()) <= bound)


@pytest.mark.parametrize("lazy,real,shape", CONVS, ids=[c[0].__name__ for c in CONVS])
def test_lazy_convs_take_the_channel_dim(lazy, real, shape):
    layer = lazy(4, 3)
    out = layer(ag.randn(*shape))
    assert type(layer) is real and layer.in_channels == shape[1]
    ref = real(shape[1], 4, 3)
    assert layer.weight.shape == ref.weight.shape and out.shape == ref(ag.randn(*shape)).shape


def test_lazy_conv_with_groups_and_unbatched_input():
    g = nn.LazyConv2d(6, 3, groups=3)
    g(ag.randn(1, 3, 5, 5))
    assert g.weight.shape == (6, 1, 3, 3)
    u = nn.LazyConv1d(2, 3)
    assert u(ag.randn(4, 9)).shape == (2, 7) and u.in_channels == 4


@pytest.mark.parametrize("lazy,real,shape", NORMS, ids=[c[0].__name__ for c in NORMS])
def test_lazy_norms_take_the_feature_dim(lazy, real, shape):
    layer = lazy(eps=1e-3)
    layer(ag.randn(*shape))
    assert type(layer) is real and layer.num_features == 3 and layer.eps == 1e-3
    if layer.track_running_stats:
        assert layer.running_mean.shape == (3,) and layer.num_batches_tracked.item() == 1


def test_an_optimizer_built_before_the_first_call_trains_the_materialized_parameters():
    model = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    params = list(model.parameters())
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = ag.randn(16, 4), ag.randn(16, 1)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert [p for p in model.parameters()] == params
    assert losses[-1] < losses[0]


def test_load_state_dict_sizes_a_lazy_model_from_the_saved_weights():
    src = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 36, 5))
    dst = nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.LazyBatchNorm2d(), nn.Flatten(), nn.LazyLinear(5))
    dst.load_state_dict(src.state_dict())
    src.eval(), dst.eval()
    x = ag.randn(2, 3, 6, 6)
    np.testing.assert_array_equal(dst(x).detach().numpy(), src(x).detach().numpy())
    assert [type(m) for m in dst] == [type(m) for m in src]


def test_forward_hooks_on_a_lazy_module_survive_its_first_call():
    layer = nn.LazyLinear(2)
    seen = []
    layer.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    layer(ag.ones(3, 4))
    layer(ag.ones(1, 4))
    assert seen == [(3, 2), (1, 2)]


def test_lazy_model_matches_torch_after_loading_its_state_dict():
    torch = _torch()
    ours = nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(), nn.LazyLinear(5))
    x = ag.randn(2, 3, 6, 6)
    ours(x)
    theirs = torch.nn.Sequential(torch.nn.LazyConv2d(4, 3, padding=1), torch.nn.LazyBatchNorm2d(), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.LazyLinear(5))
    theirs(torch.zeros(2, 3, 6, 6))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(theirs(torch.tensor(x.numpy())).detach().numpy(), ours(x).detach().numpy(), atol=1e-5)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
