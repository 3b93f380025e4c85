"""End to end: an MLP learns XOR, a small CNN learns scikit-learn's digits, and models match PyTorch
(same state_dict names, equal outputs, gradients and running statistics)."""
import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F
import optim


def test_mlp_learns_xor():
    nn.manual_seed(0)
    x = ag.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = ag.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(300):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    pred = (model(x)._data > 0).astype(np.float32)
    np.testing.assert_array_equal(pred, y._data)
    assert loss.item() < 0.05


def test_small_cnn_learns_digits():
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8) in [0, 1]
    y = digits.target.astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(y))
    x, y = x[perm], y[perm]
    xtr, ytr, xte, yte = x[:1400], y[:1400], x[1400:], y[1400:]

    nn.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),    # 8 x 4 x 4
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),                      # 16 x 2 x 2
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(16 * 2 * 2, 10))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    loader = nn.DataLoader(nn.TensorDataset(xtr, ytr), batch_size=64, shuffle=True)
    for _epoch in range(4):  # 88 steps; about 97.5% for any seed
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
    model.eval()
    with ag.no_grad():
        acc = (model(ag.tensor(xte))._data.argmax(1) == yte).mean()
    assert acc >= 0.95, acc


# -- PyTorch parity ----------------------------------------------------------------------------------
def _copy_to_torch(ours, ref):
    torch = pytest.importorskip("torch")
    sd = {k: torch.tensor(np.array(v._data)) for k, v in ours.state_dict().items()}
    ref.load_state_dict(sd, strict=True)  # same names, same shapes
    return ref


def _compare(ours, ref, x, target, loss_ours, loss_ref, rtol=1e-9, atol=1e-11):
    torch = pytest.importorskip("torch")
    xo = ag.Tensor(x.copy(), requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out_o, out_t = ours(xo), ref(xt)
    np.testing.assert_allclose(out_o._data, out_t.detach().numpy(), rtol=rtol, atol=atol)
    loss_ours(out_o, target).backward()
    loss_ref(out_t, torch.tensor(target)).backward()
    np.testing.assert_allclose(xo.grad._data, xt.grad.numpy(), rtol=rtol, atol=atol)
    ref_params = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad._data, ref_params[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name)
    ref_sd = ref.state_dict()
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b._data, ref_sd[name].numpy(), rtol=rtol, atol=atol, err_msg=name)


def test_mlp_matches_torch():
    torch = pytest.importorskip("torch")
    nn.manual_seed(0)
    ours = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 16), nn.GELU(), nn.LayerNorm(16),
                         nn.Linear(16, 4)).double()
    ref = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.GELU(),
                              torch.nn.LayerNorm(16), torch.nn.Linear(16, 4)).double()
    _copy_to_torch(ours, ref)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5))
    y = rng.integers(0, 4, 7)
    _compare(ours, ref, x, y, lambda o, t: F.cross_entropy(o, t, label_smoothing=0.1),
             lambda o, t: torch.nn.functional.cross_entropy(o, t, label_smoothing=0.1))


@pytest.mark.parametrize("training", [True, False])
def test_cnn_with_batchnorm_matches_torch(training):
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    def build(m):
        return m.Sequential(
            m.Conv2d(3, 6, 3, padding=1), m.BatchNorm2d(6), m.ReLU(), m.MaxPool2d(2),
            m.Conv2d(6, 8, 3, stride=2, padding=1, groups=2, bias=False), m.BatchNorm2d(8, momentum=None),
            m.LeakyReLU(0.1), m.Dropout(0.5), m.ConvTranspose2d(8, 4, 2, stride=2), m.ELU(),
            m.Upsample(scale_factor=2), m.AvgPool2d(3, stride=2, padding=1), m.AdaptiveAvgPool2d(2), m.Flatten(),
            m.Linear(16, 10), m.BatchNorm1d(10), m.Softplus(), m.Linear(10, 3))

    nn.manual_seed(1)
    ours = build(nn).double()
    ref = build(tnn).double()
    rng = np.random.default_rng(1)
    with ag.no_grad():  # running statistics that differ from the defaults, so eval mode is a real check
        for m in ours.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean._data[...] = rng.normal(size=m.num_features)
                m.running_var._data[...] = rng.uniform(0.5, 2, m.num_features)
                m.num_batches_tracked._data[...] = 3
                m.weight._data[...] = rng.uniform(0.5, 2, m.num_features)
    _copy_to_torch(ours, ref)
    ours.train(training)
    ref.train(training)
    ours[7].eval()  # dropout off in both
    ref[7].eval()
    x = rng.normal(size=(4, 3, 8, 8))
    y = rng.integers(0, 3, 4)
    _compare(ours, ref, x, y, F.cross_entropy, torch.nn.functional.cross_entropy, rtol=1e-8, atol=1e-10)
    assert repr(ours) == repr(ref)


def test_float32_model_trains_in_float32():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    x = ag.randn(3, 1, 4, 4)
    out = model(x)
    assert out.dtype == np.float32
    F.cross_entropy(out, np.array([0, 1, 1])).backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    assert model[1].running_var.dtype == np.float32
