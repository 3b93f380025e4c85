"""Behaviours that the ported public scripts (tests/ported) reached and that once differed from PyTorch,
each checked on its own, against PyTorch in float64 where it is installed."""
import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("cls, name", [(nn.Dropout1d, "dropout1d"), (nn.Dropout2d, "dropout2d"),
                                       (nn.Dropout3d, "dropout3d")])
def test_channel_dropout_modules_call_the_functional_of_the_moment(cls, name, monkeypatch):
    # PyTorch's nn.Dropout2d.forward calls F.dropout2d by name, so replacing the functional reaches it
    calls = []

    def stand_in(input, p=0.5, training=True, inplace=False, **kwargs):  # noqa: A002
        calls.append((p, training))
        return input * 0.0 + 7.0
    monkeypatch.setattr(F, name, stand_in)
    out = cls(0.25)(ag.ones(2, 3, 4))
    assert calls == [(0.25, True)] and float(out.sum()) == 7.0 * out.numel()


def test_dropout2d_on_features_drops_elements_like_torch():
    # mnist_rnn's Dropout2d on (N, C) LSTM features: PyTorch draws one mask value per (n, c), with a warning
    torch = _torch()
    x = np.arange(1.0, 13.0).reshape(4, 3)
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):
        ours = nn.Dropout2d(0.5)(ag.tensor(x)).numpy()
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):
        theirs = torch.nn.Dropout2d(0.5)(torch.tensor(x)).numpy()
    for y in (ours, theirs):
        kept = y != 0
        np.testing.assert_allclose(y[kept], 2 * x[kept])
    assert ours.shape == theirs.shape
