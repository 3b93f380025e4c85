"""The demo gallery: every demo's quick mode runs in-process, returns sensible numbers and writes
PNGs that open, have the right pixel size and are not blank; the command line and the
--data-dir errors behave."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")
pytest.importorskip("tqdm")

from matplotlib import image as mpimg  # noqa: E402

import demos  # noqa: E402
from demos import common  # noqa: E402
from demos.__main__ import main  # noqa: E402

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def _no_bars(monkeypatch):
    monkeypatch.setenv("DEMOS_NO_PROGRESS", "1")


def quick(name, out, **overrides):
    mod = demos.load(name)
    return mod.run(common.make_args(mod, out=out, quick=True, **overrides))


def check_png(path, width, height):
    """The PNG opens, is width x height pixels and holds a picture (many colours, not one)."""
    path = Path(path)
    assert path.is_file(), path
    img = mpimg.imread(path)
    assert img.shape[:2] == (height, width), f"{path.name}: {img.shape[1]}x{img.shape[0]}, expected {width}x{height}"
    rgb = (np.asarray(img)[..., :3].reshape(-1, 3) * 255).astype(np.uint32)
    assert rgb.std(axis=0).max() > 5, f"{path.name} is blank"
    colours = np.unique(rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2])
    assert len(colours) >= 16, f"{path.name} has almost no colours"


def check_gif(path, frames):
    PIL = pytest.importorskip("PIL.Image")
    with PIL.open(path) as im:
        assert im.format == "GIF"
        assert im.n_frames == frames
        assert len(set(np.asarray(im.convert("L")).ravel().tolist())) > 4


def files_by_name(result):
    return {Path(f).name: Path(f) for f in result["files"]}


def assert_finite(result, keys):
    for k in keys:
        assert math.isfinite(result[k]), f"{k} = {result[k]}"


def test_regression(tmp_path):
    r = quick("regression", tmp_path)
    f = files_by_name(r)
    check_png(f["regression_losses.png"], 1200, 380)
    check_png(f["regression_polynomial.png"], 1000, 420)
    check_png(f["regression_diabetes.png"], 520, 480)
    assert_finite(r, ["linear_test_mse", "sklearn_linear_test_mse", "logistic_test_accuracy", "poly_mse"])
    # even 200 steps of gradient descent land next to the closed-form / sklearn answers
    assert r["linear_test_mse"] < 1.05 * r["sklearn_linear_test_mse"]
    assert r["logistic_test_accuracy"] >= r["sklearn_logistic_test_accuracy"] - 0.03
    assert r["poly_mse"] < 2 * r["polyfit_mse"]


def test_playground(tmp_path):
    r = quick("playground", tmp_path)
    check_png(files_by_name(r)["playground.png"], 1200, 420)
    assert_finite(r, ["loss_before", "loss_after"])
    assert r["loss_after"] < r["loss_before"] / 10
    assert r["gradcheck_rel_error"] < 1e-6  # the tape's gradient of the whole composite is the true one


def test_uat(tmp_path):
    r = quick("uat", tmp_path)
    check_png(files_by_name(r)["uat_fit.png"], 1100, 800)
    assert_finite(r, ["max_abs_error", "mean_abs_error"])
    assert r["max_abs_error"] < r["max_abs_error_before"]


def test_gates_quick(tmp_path):
    r = quick("gates", tmp_path)
    f = files_by_name(r)
    check_png(f["gates_before.png"], 800, 720)
    check_png(f["gates_after.png"], 800, 720)
    for gate in ("and", "or", "not"):
        assert r[f"{gate}_margin"] > 0, gate
        assert all(0 <= o <= 1 for o in r[f"{gate}_outputs"])
    assert math.isfinite(r["xor_loss"])


def test_gates_default_steps_solve_xor():
    from demos import gates
    common.seed_everything(0)
    xor = gates.make_gates()["XOR"]
    gates.train_gate(xor, "XOR", 1500)  # the full run's step count
    out = gates.outputs(xor, gates.CORNERS)
    assert gates.margin(out, gates.TRUTH["XOR"]) > 0.4, out


def test_trajectories(tmp_path):
    r = quick("trajectories", tmp_path)
    f = files_by_name(r)
    for name in ("rosenbrock", "beale", "saddle"):
        check_png(f[f"trajectories_{name}.png"], 760, 620)
        for opt, fin in r[f"{name}_final"].items():
            assert math.isfinite(fin["loss"]), (name, opt)
    if "trajectories.gif" in f:
        check_gif(f["trajectories.gif"], 6)
    assert r["saddle_best_distance"] < 0.1  # someone escaped the saddle to a minimum


def test_optimizers(tmp_path):
    r = quick("optimizers", tmp_path)
    f = files_by_name(r)
    check_png(f["optimizers_loss.png"], 1200, 450)
    check_png(f["optimizers_mlp_weights.png"], 1200, 640)
    check_png(f["optimizers_cnn_kernels.png"], 900, 620)
    assert set(r["cnn_test_accuracy"]) == {"SGD", "momentum", "Nesterov", "RMSprop", "Adam", "AdamW", "Adagrad"}
    for kind in ("mlp", "cnn"):
        for opt, acc in r[f"{kind}_test_accuracy"].items():
            assert 0 <= acc <= 1
            assert math.isfinite(r[f"{kind}_final_loss"][opt]), (kind, opt)
    assert r["best_cnn_test_accuracy"] > 0.6 and r["best_mlp_test_accuracy"] > 0.6  # 1 epoch, far above 10%


def test_lenet5(tmp_path):
    r = quick("lenet5", tmp_path)
    f = files_by_name(r)
    check_png(f["lenet5_curves.png"], 1100, 420)
    check_png(f["lenet5_confusion.png"], 600, 560)
    assert_finite(r, ["test_accuracy", "images_per_second", "seconds_per_epoch", "final_train_loss"])
    assert r["n_params"] == 61706  # LeNet-5 on one channel
    assert r["test_accuracy"] > 0.5 and r["images_per_second"] > 0


def test_gan(tmp_path):
    r = quick("gan", tmp_path)
    f = files_by_name(r)
    check_png(f["gan_losses.png"], 1100, 420)
    check_png(f["gan_samples.png"], 900, 470)
    epochs = sorted((tmp_path / "gan_epochs").glob("epoch_*.png"))
    assert len(epochs) == r["epochs"] == 2
    for p in epochs:
        check_png(p, 300, 320)
    if "gan_progress.gif" in f:
        check_gif(f["gan_progress.gif"], 2)
    assert_finite(r, ["d_loss", "g_loss", "judge_confidence"])
    assert len(r["history"]["d_loss"]) == 2


def test_other_demos_follow_the_convention(tmp_path):
    """Demos written elsewhere (e.g. backprop) run in quick mode and write the files they list."""
    mine = {"regression", "playground", "uat", "gates", "trajectories", "optimizers", "lenet5", "gan"}
    others = [n for n in demos.available() if n not in mine]
    if not others:
        pytest.skip("no other demos present")
    for name in others:
        r = quick(name, tmp_path / name)
        assert isinstance(r, dict)
        for p in r.get("files", []):
            assert Path(p).is_file(), (name, p)


def test_same_seed_same_run(tmp_path):
    a = quick("gates", tmp_path / "a", steps=30, seed=3)
    b = quick("gates", tmp_path / "b", steps=30, seed=3)
    assert a["xor_outputs"] == b["xor_outputs"] and a["and_outputs"] == b["and_outputs"]
    from demos import gates
    inits = []
    for seed in (3, 4):
        common.seed_everything(seed)
        inits.append(gates.outputs(gates.make_gates()["XOR"], gates.CORNERS).tolist())
    assert inits[0] != inits[1]  # and another seed is another run


def test_cli_list_and_run(tmp_path, capsys):
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    for name in ("regression", "playground", "uat", "gates", "optimizers", "trajectories", "lenet5", "gan", "all"):
        assert name in listed
    out = tmp_path / "cli"
    assert main(["gates", "--quick", "--steps", "20", "--seed", "2", "--out", str(out)]) == 0
    assert (out / "gates_before.png").is_file() and (out / "gates_after.png").is_file()
    assert "XOR" in capsys.readouterr().out


def test_cli_all_runs_each_demo_and_reports_failures(tmp_path, capsys, monkeypatch):
    import types
    import demos.__main__ as cli

    def fake(name, fail=False):
        def run(args):
            if fail:
                raise RuntimeError("boom")
            args.out.mkdir(parents=True, exist_ok=True)
            p = args.out / f"{name}.txt"
            p.write_text(f"{args.seed} {args.quick}")
            return {"answer": 42.0, "files": [p]}
        return types.ModuleType(name, f"{name}: a stand-in demo"), run

    mods = {}
    for name, fail in (("one", False), ("two", True), ("three", False)):
        mod, run = fake(name, fail)
        mod.run = run
        mods[name] = mod
    monkeypatch.setattr(cli, "available", lambda: list(mods))
    monkeypatch.setattr(cli, "load", mods.__getitem__)
    assert main(["all", "--quick", "--seed", "7", "--out", str(tmp_path)]) == 1  # "two" failed
    text = capsys.readouterr().out
    assert "answer=42" in text and "FAILED" in text and "failed: two" in text
    assert (tmp_path / "one.txt").read_text() == "7 True" and (tmp_path / "three.txt").is_file()


@pytest.mark.parametrize("name, expected", [
    ("optimizers", ["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "gzip", "IDX"]),
    ("gan", ["train-images-idx3-ubyte", "t10k-images-idx3-ubyte", "gzip"]),
    ("lenet5", ["data_batch_1", "test_batch", "binary", "python", "train-images-idx3-ubyte"]),
])
def test_bad_data_dir_says_what_it_expected(tmp_path, capsys, name, expected):
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    (empty / "notes.txt").write_text("no data")
    assert main([name, "--quick", "--data-dir", str(empty), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "notes.txt" in err
    for word in expected:
        assert word in err, (word, err)
    assert len(err.strip().splitlines()) == 1  # one clear line, no traceback


def test_corrupt_mnist_file_is_named(tmp_path):
    bad = tmp_path / "mnist"
    bad.mkdir()
    (bad / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    (bad / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02")
    with pytest.raises(common.DataDirError, match="t10k-images-idx3-ubyte"):
        common.mnist(tmp_path)


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="../shared/data/mnist is not on this machine")
def test_optimizers_on_real_mnist(tmp_path):
    r = quick("optimizers", tmp_path, data_dir=MNIST_DIR, optimizers="Adam", limit=600)
    assert r["data"] == "MNIST"
    assert r["best_mlp_test_accuracy"] > 0.5  # one epoch on 600 images; chance is 0.1
    check_png(files_by_name(r)["optimizers_mlp_weights.png"], 1200, 640)


def test_lenet5_reads_cifar10_binary_batches(tmp_path):
    """A tiny CIFAR-10 binary test batch (random pixels) drives the 3-channel path end to end."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    labels = (np.arange(120) % 10).astype(np.uint8)
    records = np.concatenate([labels[:, None], rng.integers(0, 256, (120, 3072), dtype=np.uint8)], axis=1)
    (folder / "test_batch.bin").write_bytes(records.tobytes())
    r = quick("lenet5", tmp_path / "out", data_dir=tmp_path / "data", epochs=1)
    assert r["data"] == "CIFAR-10" and r["n_params"] == 62006  # 3 input channels: 150 more weights
    assert 0 <= r["test_accuracy"] <= 1 and math.isfinite(r["final_train_loss"])
    check_png(files_by_name(r)["lenet5_confusion.png"], 600, 560)


def test_digits_split():
    xtr, ytr, xte, yte = common.digits(seed=1)
    assert xtr.shape == (1437, 1, 8, 8) and xte.shape == (360, 1, 8, 8) and xtr.dtype == np.float32
    assert ytr.shape == (1437,) and yte.shape == (360,) and ytr.dtype == np.int64
    assert 0 <= xtr.min() and xtr.max() <= 1 and set(np.unique(yte)) == set(range(10))
