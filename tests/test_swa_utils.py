"""optim.swa_utils: AveragedModel (equal-weight and exponential averages, buffers copied or averaged),
the avg_fn / multi_avg_fn helpers, update_bn and SWALR, by hand and against torch."""
import numpy as np
import pytest

import autograd_core as ag
import nn
import optim
from optim import swa_utils as S


def _torch():
    return pytest.importorskip("torch")


def _set(model, value):
    with ag.no_grad():
        for p in model.parameters():
            p.fill_(value)


def test_swa_average_is_the_mean_of_the_snapshots():
    model = nn.Linear(2, 2)
    swa = S.AveragedModel(model)
    for w in (1.0, 2.0, 6.0):
        _set(model, w)
        swa.update_parameters(model)
    assert int(swa.n_averaged) == 3
    np.testing.assert_allclose(swa.module.weight.numpy(), 3.0)
    assert swa.module.weight is not model.weight
    x = ag.randn(4, 2)
    np.testing.assert_allclose(swa(x).detach().numpy(), swa.module(x).detach().numpy())


def test_ema_and_custom_avg_fn():
    model = nn.Linear(1, 1, bias=False)
    ema = S.AveragedModel(model, multi_avg_fn=S.get_ema_multi_avg_fn(0.5))
    ema2 = S.AveragedModel(model, avg_fn=S.get_ema_avg_fn(0.5))
    swa2 = S.AveragedModel(model, avg_fn=S.get_swa_avg_fn())
    for w in (0.0, 4.0, 8.0):
        _set(model, w)
        for m in (ema, ema2, swa2):
            m.update_parameters(model)
    assert ema.module.weight.item() == pytest.approx(5.0)      # 0 -> 2 -> 5
    assert ema2.module.weight.item() == pytest.approx(5.0)
    assert swa2.module.weight.item() == pytest.approx(4.0)
    with pytest.raises(AssertionError, match="only one"):
        S.AveragedModel(model, avg_fn=S.get_swa_avg_fn(), multi_avg_fn=S.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match="decay"):
        S.get_ema_multi_avg_fn(1.5)


def test_buffers_are_copied_unless_averaged():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    swa = S.AveragedModel(model)
    ema_b = S.AveragedModel(model, multi_avg_fn=S.get_ema_multi_avg_fn(0.5), use_buffers=True)
    model(ag.randn(8, 2))
    swa.update_parameters(model)
    ema_b.update_parameters(model)
    np.testing.assert_array_equal(swa.module[1].running_mean.numpy(), model[1].running_mean.numpy())
    before = ema_b.module[1].running_mean.numpy().copy()
    model(ag.randn(8, 2) + 3)
    ema_b.update_parameters(model)
    np.testing.assert_allclose(ema_b.module[1].running_mean.numpy(),
                               0.5 * before + 0.5 * model[1].running_mean.numpy(), rtol=1e-6)


def test_update_bn_recomputes_the_statistics_over_one_pass():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2, momentum=0.3))
    model.eval()
    data = [(ag.randn(16, 2), ag.zeros(16)) for _ in range(4)]
    S.update_bn(data, model)
    bn = model[1]
    assert bn.momentum == 0.3 and not model.training and int(bn.num_batches_tracked) == 4
    with ag.no_grad():
        h = [model[0](x).numpy() for x, _ in data]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([a.mean(0) for a in h], 0), rtol=1e-5, atol=1e-6)
    S.update_bn(data, nn.Linear(2, 2))      # no batch norm: nothing to do


def test_swalr_anneals_to_swa_lr_and_holds():
    opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=1.0)
    sched = S.SWALR(opt, swa_lr=0.2, anneal_epochs=4, anneal_strategy="cos")
    lrs = []
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[-1] == pytest.approx(0.2) and lrs[-2] == pytest.approx(0.2)
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    with pytest.raises(ValueError, match="anneal_strategy"):
        S.SWALR(opt, swa_lr=0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs"):
        S.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 3])
def test_swalr_matches_torch(strategy, anneal_epochs):
    torch = _torch()
    o = optim.SGD([ag.zeros(1, requires_grad=True)], lr=1.0)
    so = S.SWALR(o, swa_lr=0.1, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    t = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    st = torch.optim.swa_utils.SWALR(t, swa_lr=0.1, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    for _ in range(6):
        o.step()
        so.step()
        t.step()
        st.step()
        assert o.param_groups[0]["lr"] == pytest.approx(t.param_groups[0]["lr"], rel=1e-12)


def test_averaged_models_and_update_bn_match_torch():
    torch = _torch()
    rng = np.random.default_rng(0)
    mo = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    mt = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    mt.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mo.state_dict().items()})
    pairs = [(S.AveragedModel(mo), torch.optim.swa_utils.AveragedModel(mt)),
             (S.AveragedModel(mo, multi_avg_fn=S.get_ema_multi_avg_fn(0.9)),
              torch.optim.swa_utils.AveragedModel(mt, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(0.9)))]
    for i in range(4):
        x = rng.standard_normal((5, 3)).astype(np.float32)
        with ag.no_grad():
            for p in mo.parameters():
                p.add_(0.1 * (i + 1))
        with torch.no_grad():
            for p in mt.parameters():
                p.add_(0.1 * (i + 1))
        mo(ag.tensor(x))
        mt(torch.tensor(x))
        for a, b in pairs:
            a.update_parameters(mo)
            b.update_parameters(mt)
    data = [rng.standard_normal((8, 3)).astype(np.float32) for _ in range(3)]
    S.update_bn([ag.tensor(d) for d in data], pairs[0][0])
    torch.optim.swa_utils.update_bn([torch.tensor(d) for d in data], pairs[0][1])
    for a, b in pairs:
        sa, sb = a.state_dict(), b.state_dict()
        assert sorted(sa) == sorted(sb)
        for k in sa:
            np.testing.assert_allclose(sa[k].numpy(), sb[k].numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_reachable_as_torch_optim_swa_utils():
    assert ag.optim.swa_utils.AveragedModel is nn.averaged.AveragedModel
    assert optim.swa_utils.update_bn is nn.averaged.update_bn
    with pytest.raises(AttributeError):
        optim.swa_utils.NoSuchThing
