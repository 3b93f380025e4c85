"""A PyTorch training script, unchanged except for its import lines, runs here and trains as in PyTorch.

``train_script`` is written against the names ``torch``, ``nn``, ``optim`` and ``data`` only. It runs
once with this project's modules (``import autograd_core as torch``, ``nn``, ``optim``, ``nn.data``)
and, when PyTorch is installed, once with PyTorch itself from the same initial weights; the loss of
every step must agree.
"""
import io
import os
import tempfile
import warnings

import numpy as np
import pytest

import autograd_core
import nn as our_nn
import optim as our_optim
from nn import data as our_data


def train_script(torch, nn, optim, data, init_state=None, save=None, load=None, epochs=3):
    """A typical small PyTorch script: device selection, seeding, AMP scaffolding, a DataLoader, a
    training loop printing f"{loss:.4f}", evaluation under no_grad / inference_mode, a checkpoint."""
    torch.manual_seed(0)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(0)
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    use_amp = torch.cuda.is_available()
    amp_dtype = torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float16

    rng = np.random.default_rng(0)
    X = torch.tensor(rng.standard_normal((96, 4)), dtype=torch.float32)
    w_true = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    y = (X.mm(w_true).squeeze(1) > 0).long()
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=16, shuffle=False)

    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2)).to(device)
    if init_state is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init_state.items()})
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

    losses, log = [], io.StringIO()
    for epoch in range(epochs):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device, non_blocking=True)
            opt.zero_grad()
            with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=use_amp):
                out = model(xb)
                loss = criterion(out, yb)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            losses.append(loss.item())
        print(f"epoch {epoch}: loss {loss:.4f}", file=log)

    model.eval()
    with torch.no_grad():
        logits = model(X.to(device))
        _, pred = logits.max(1)
        acc = (pred == y.to(device)).float().mean().item()
    with torch.inference_mode():
        probs = torch.softmax(model(X[:4]), dim=1)
    top = torch.topk(probs, 1, dim=1).indices.squeeze(1)
    assert torch.equal(top, pred[:4])
    first_w = model[0].weight.data.cpu().numpy().copy()
    if save is not None:
        save(model.state_dict(), os.path.join(load, "model.safetensors"))
    return losses, acc, log.getvalue(), first_w, probs.detach().cpu().numpy()


def _initial_state():
    autograd_core.manual_seed(1)
    m = our_nn.Sequential(our_nn.Linear(4, 16), our_nn.Tanh(), our_nn.Linear(16, 2))
    return {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}


def test_script_runs_unchanged_and_trains():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on a CPU-only run: the AMP parts are disabled
        with tempfile.TemporaryDirectory() as d:
            losses, acc, log, w, _ = train_script(autograd_core, our_nn, our_optim, our_data, save=our_nn.save,
                                                  load=d)
            state = our_nn.load(os.path.join(d, "model.safetensors"))
    assert acc >= 0.9 and losses[-1] < losses[0]
    lines = log.splitlines()
    assert len(lines) == 3 and all(line.startswith(f"epoch {i}: loss ") for i, line in enumerate(lines))
    assert lines[-1].endswith(f"{losses[-1]:.4f}")
    np.testing.assert_array_equal(np.asarray(state["0.weight"]), w)


def test_script_trains_as_in_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as torch_data
    init = _initial_state()
    ours = train_script(autograd_core, our_nn, our_optim, our_data, init_state=init)
    theirs = train_script(torch, torch.nn, torch.optim, torch_data, init_state=init)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-5)
    assert ours[1] == theirs[1]
    assert ours[2].splitlines()[0] == theirs[2].splitlines()[0]
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[4], theirs[4], rtol=1e-4, atol=1e-5)


def test_script_device_idioms():
    torch = autograd_core
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    x = torch.randn(3, 2, device=device)
    assert x.device == device and not x.is_cuda and x.cpu() is x
    n = torch.zeros(2, device=device, dtype=torch.long)
    assert n.type() == "torch.LongTensor"
    samples = torch.multinomial(torch.tensor([0.2, 0.8]), 4, replacement=True)
    assert samples.shape == (4,) and samples.dtype == torch.long
    idx = torch.randperm(3, device=device)
    assert sorted(idx.tolist()) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="CPU only"):
        x.cuda()
    with pytest.raises(RuntimeError, match="CPU only"):
        x.to("cuda")


def test_torch_save_before_nn_is_imported_says_to_import_nn():
    # The engine does not import nn; until nn is imported its save/load stand-ins say what to do.
    import subprocess
    import sys
    code = ("import autograd_core as torch\n"
            "try:\n    torch.save({'a': 1}, 'x.pt')\nexcept RuntimeError as e:\n    print(e)\n"
            "import nn\nprint(torch.save is nn.save, torch.load is nn.load)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert "add `import nn`" in out.stdout and out.stdout.strip().endswith("True True"), out.stdout + out.stderr
