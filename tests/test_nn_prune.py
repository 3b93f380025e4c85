"""nn.utils.prune: masks by hand (L1, Ln-structured, random, custom, global, iterative), the pruned
form (weight_orig, weight_mask, the recomputing pre-hook, gradients only where the mask is 1),
remove, and PyTorch parity of the masks, outputs, gradients and state dict keys."""
import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.utils.prune as prune
import optim


def _torch():
    return pytest.importorskip("torch")


def test_l1_unstructured_masks_the_smallest_and_trains_only_the_rest():
    layer = nn.Linear(4, 1, bias=False)
    with ag.no_grad():
        layer.weight.copy_(ag.tensor([[0.5, -3.0, 0.1, 2.0]]))
    prune.l1_unstructured(layer, "weight", amount=0.5)
    assert layer.weight_mask.tolist() == [[0.0, 1.0, 0.0, 1.0]]
    assert sorted(n for n, _ in layer.named_parameters()) == ["weight_orig"]
    assert sorted(layer.state_dict()) == ["weight_mask", "weight_orig"]
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = ag.ones(3, 4)
    layer(x).sum().backward()
    assert layer.weight_orig.grad.tolist() == [[0.0, 3.0, 0.0, 3.0]]
    opt.step()
    layer(x)            # the pre-hook recomputes weight from the updated weight_orig
    assert layer.weight.tolist()[0][0] == 0.0 and layer.weight.tolist()[0][1] == pytest.approx(-3.3)


def test_amount_as_a_count_or_fraction_and_its_checks():
    layer = nn.Linear(10, 1)
    prune.random_unstructured(layer, "weight", amount=3)
    assert int((layer.weight_mask == 0).sum()) == 3
    with pytest.raises(ValueError, match="amount"):
        prune.l1_unstructured(nn.Linear(2, 1), "weight", amount=1.5)
    with pytest.raises(ValueError, match="smaller than the number"):
        prune.l1_unstructured(nn.Linear(2, 1), "weight", amount=5)
    with pytest.raises(TypeError, match="amount"):
        prune.l1_unstructured(nn.Linear(2, 1), "weight", amount="half")


def test_iterative_pruning_combines_masks_on_what_is_left():
    layer = nn.Linear(6, 1, bias=False)
    with ag.no_grad():
        layer.weight.copy_(ag.tensor([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]))
    prune.l1_unstructured(layer, "weight", amount=2)
    prune.l1_unstructured(layer, "weight", amount=2)
    assert layer.weight_mask.tolist() == [[0.0, 0.0, 0.0, 0.0, 1.0, 1.0]]
    hooks = [h for h in layer._forward_pre_hooks.values() if isinstance(h, prune.BasePruningMethod)]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == 2


def test_ln_structured_prunes_whole_channels():
    conv = nn.Conv2d(1, 4, 2, bias=False)
    with ag.no_grad():
        for i, s in enumerate([1.0, 0.1, 3.0, 0.2]):
            conv.weight[i].fill_(s)
    prune.ln_structured(conv, "weight", amount=2, n=1, dim=0)
    assert conv.weight_mask.sum((1, 2, 3)).tolist() == [4.0, 0.0, 4.0, 0.0]


def test_custom_mask_global_remove_and_is_pruned():
    a, b = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    with ag.no_grad():
        a.weight.copy_(ag.tensor([[1.0, 8.0], [2.0, 7.0]]))
        b.weight.copy_(ag.tensor([[3.0, 6.0], [4.0, 5.0]]))
    prune.global_unstructured([(a, "weight"), (b, "weight")], prune.L1Unstructured, amount=3)
    assert a.weight_mask.tolist() == [[0.0, 1.0], [0.0, 1.0]] and b.weight_mask.tolist() == [[0.0, 1.0], [1.0, 1.0]]
    assert prune.is_pruned(nn.Sequential(a)) and not prune.is_pruned(nn.Linear(1, 1))
    prune.remove(a, "weight")
    assert isinstance(a.weight, nn.Parameter) and a.weight.tolist() == [[0.0, 8.0], [0.0, 7.0]]
    assert sorted(a.state_dict()) == ["weight"] and not prune.is_pruned(a)
    with pytest.raises(ValueError, match="has to be pruned"):
        prune.remove(a, "weight")
    c = prune.custom_from_mask(nn.Linear(2, 1), "bias", ag.tensor([0.0]))
    assert c.bias.tolist() == [0.0]


@pytest.mark.parametrize("steps", [["l1"], ["l1", "ln"], ["ln", "l1", "l1"]])
def test_matches_torch(steps):
    torch = _torch()
    import torch.nn.utils.prune as TP
    mo = nn.Conv2d(2, 6, 3)
    mt = torch.nn.Conv2d(2, 6, 3)
    mt.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mo.state_dict().items()})
    for s in steps:
        if s == "l1":
            prune.l1_unstructured(mo, "weight", amount=0.3)
            TP.l1_unstructured(mt, "weight", amount=0.3)
        else:
            prune.ln_structured(mo, "weight", amount=0.5, n=2, dim=0)
            TP.ln_structured(mt, "weight", amount=0.5, n=2, dim=0)
        np.testing.assert_array_equal(mo.weight_mask.numpy(), mt.weight_mask.numpy())
    assert sorted(mo.state_dict()) == sorted(mt.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 5)).astype(np.float32)
    yo, yt = mo(ag.tensor(x)), mt(torch.tensor(x))
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), atol=1e-5)
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(mo.weight_orig.grad.numpy(), mt.weight_orig.grad.numpy(), atol=1e-4)
    prune.remove(mo, "weight")
    TP.remove(mt, "weight")
    assert sorted(mo.state_dict()) == sorted(mt.state_dict())
    np.testing.assert_allclose(mo.weight.detach().numpy(), mt.weight.detach().numpy())
