"""Exercise 5's own tests: feedback that names each mistake, and the probes behind the checks."""

import pytest

from grader.grading.results import Curves, Table
from tests.conftest import REPO, graded

EX = "exercise5"


# The key, the stub, the correct styles and the bugs are graded by tests/checks/test_shared.py.


def test_the_report_shows_fine_tuned_beside_from_scratch():
    check = next(c for c in graded(EX, REPO / "solutions" / "exercise5.py").checks if c.name == "fine_tune_accuracy")
    assert check.passed
    (table,) = [f for f in check.figures if isinstance(f, Table)]
    rows = {row[0]: row[1] for row in table.rows}
    assert float(rows["pretrained, layer4 + fc trained"]) > float(rows["same budget from scratch"])


def test_the_report_draws_the_loss_curves_fine_tuned_and_from_scratch():
    from grader.checks.transfer import TUNE_EPOCHS

    check = next(c for c in graded(EX, REPO / "solutions" / "exercise5.py").checks if c.name == "fine_tune_accuracy")
    (curves,) = [f for f in check.figures if isinstance(f, Curves)]
    series = {label: (xs, ys) for label, xs, ys in curves.series}
    assert set(series) == {"pretrained, layer4 + fc trained", "from scratch, everything trained"}
    for xs, ys in series.values():  # one mean loss per epoch, as the key's fine_tune returned them
        assert xs == tuple(float(e) for e in range(1, TUNE_EPOCHS + 1)) and len(ys) == TUNE_EPOCHS
        assert ys[-1] < ys[0]
    # What pretraining buys: the fine-tuned model starts and ends lower than the one trained from scratch.
    tuned, fresh = series["pretrained, layer4 + fc trained"][1], series["from scratch, everything trained"][1]
    assert tuned[0] < fresh[0] and tuned[-1] < fresh[-1]


def test_drift_is_relative_per_layer_and_skips_what_cannot_be_read():
    import numpy as np

    from grader.checks.transfer import loss_curves, reported_losses, statistics_drift
    from grader.sandbox.protocol import TensorData

    t = lambda *v: TensorData(np.array(v, np.float32), "float32", "cpu", False)  # noqa: E731
    before = {"a.running_mean": t(1, -1), "a.running_var": t(1, 1), "b.running_mean": t(0, 0), "b.running_var": t(2, 2)}
    after = {"a.running_mean": t(1, -1), "a.running_var": t(1, 1), "b.running_mean": t(1, 1), "b.running_var": t(2, 4)}
    assert statistics_drift(before, after, ["a", "b", "c"]) == (("a", "b"), (0.0, 1.0))  # (1 + 1 + 2) / (0 + 4)
    after["b.running_var"] = t(2, 4, 6)  # another shape: nothing to compare
    assert statistics_drift(before, after, ["a", "b"]) == (("a",), (0.0,))
    assert reported_losses([t(0.5), 0.25, np.float64(0.125)]) == (0.5, 0.25, 0.125)
    assert reported_losses("loss") == () and reported_losses([float("inf")]) == () and reported_losses(3.0) == ()
    assert loss_curves([("a", None), ("b", "x")], "") == ()


def test_key_also_works_on_torchvision_resnet18():
    torchvision = pytest.importorskip("torchvision")
    import importlib.util

    spec = importlib.util.spec_from_file_location("key5", REPO / "solutions" / "exercise5.py")
    key = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(key)
    model = key.replace_head(torchvision.models.resnet18(weights=None), 3)
    assert model.fc.in_features == 512 and model.fc.out_features == 3
    names = key.freeze_except(model)
    assert names and all(n.startswith(("layer4", "fc")) for n in names)
    groups = key.make_optimizer(model).param_groups
    assert sum(len(g["params"]) for g in groups) == len(names)


def test_moves_are_seen_in_every_style_and_watching_stops():
    import copy

    import torch

    from grader.checks.transfer import on_device
    from grader.sandbox import transfer_probes as tp

    loader = tp.loader(torch.randn(6, 3, 4, 4), torch.arange(6), 3, 0)
    model = torch.nn.Linear(2, 2)
    tp.watch_moves(model)
    model = model.to(torch.device("cpu"))
    copy.deepcopy(model).to(dtype=torch.float64)  # a copy's move is noted too, and moves the copy only
    assert model.weight.dtype == torch.float32
    for batch in loader:
        images, labels = [t.to("cpu", non_blocking=True) for t in (batch[0].float(), batch[1].long())]
    seen = tp.moves(model, loader)
    assert seen["model"] == ["cpu", None] and seen["batches"] == 2
    assert len(seen["images"]) == len(seen["labels"]) == 2
    assert all(on_device(t, "cpu") for t in seen["images"] + seen["labels"])
    assert "to" not in model.__dict__ and "cuda" not in model.__dict__
    assert isinstance(loader, torch.utils.data.DataLoader) and len(loader) == 2 and len(loader.dataset) == 6


def test_move_targets_are_read_like_torch_reads_them():
    import torch

    from grader.checks.transfer import on_device
    from grader.sandbox.transfer_probes import _target

    assert _target("to", (torch.float64,), {}) is None
    assert _target("to", (torch.zeros(1),), {}) == "cpu"
    assert _target("to", ("cuda:0",), {"non_blocking": True, "copy": True}) == "cuda:0"
    assert _target("to", (), {"device": torch.device("cuda"), "dtype": torch.float16}) == "cuda"
    assert _target("cuda", (), {}) == "cuda" and _target("cuda", (1,), {}) == "cuda:1"
    assert _target("to", ("no such device",), {}) is None
    assert on_device("cuda:0", "cuda") and on_device("cuda", "cuda:0") and on_device("cpu", "cpu")
    assert not on_device("cuda:1", "cuda:0") and not on_device("cpu", "cuda") and not on_device(None, "cpu")


def test_reported_losses_are_judged_against_each_batch_at_lr0():
    import importlib.util
    import types

    import torch

    from grader.backbone import SOURCE_CLASSES, pretrained_state
    from grader.checks.transfer import epoch_candidates, judge_reported_losses, split
    from grader.errors import CheckFailed
    from grader.sandbox import transfer_probes as tp

    model = tp.backbone([16, 32, 64, 128], len(SOURCE_CLASSES), pretrained_state(), "float32", "cpu", 3)
    tp.new_head(model, 3, 3)
    tp.freeze(model, ["layer4", "fc"])
    train_x, train_y, _, _ = split(3)
    loader = tp.loader(torch.tensor(train_x), torch.tensor(train_y), 16, 3, record=True)
    spec = importlib.util.spec_from_file_location("key5", REPO / "solutions" / "exercise5.py")
    key = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(key)
    reported = key.fine_tune(model, loader, epochs=2, lr=0.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    recomputed = tp.batch_losses(model, loader)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # restored after train mode
    ctx = types.SimpleNamespace(device="cpu")
    judge_reported_losses(ctx, reported, recomputed)  # the key's means pass
    passes = recomputed["frozen BatchNorm in eval mode"]
    assert [len(p) for p in passes] == [-(-len(train_y) // 16)] * 2  # two passes over batches of 16
    wrong = {name: [epoch_candidates(passes, e)[name] for e in range(2)] for name in ("last batch", "total")}
    for name, values in wrong.items():
        with pytest.raises(CheckFailed, match=name.split()[-1]):
            judge_reported_losses(ctx, values, recomputed)
    judge_reported_losses(ctx, [epoch_candidates(passes, e)["per-sample mean"] for e in range(2)], recomputed)


# --- the from-scratch comparison: the grader's reference run, cached per seed ---------------------------------
def cache_setup(tmp_path, monkeypatch):
    """A private user cache and no shipped file; a counting stand-in for the reference run."""
    from grader.checks import scratch_reference as sr

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(sr, "SHIPPED", tmp_path / "none.json")
    runs = []

    def compute(seed):
        def run():
            runs.append(seed)
            return {"accuracy": 0.5 + seed / 100, "losses": [1.0, 0.5]}
        return run
    return sr, runs, compute


def test_an_absent_cache_runs_the_reference_once_then_keeps_it(tmp_path, monkeypatch):
    sr, runs, compute = cache_setup(tmp_path, monkeypatch)
    wanted = {"version": 1, "epochs": 2}
    assert not sr.cache_path().exists()
    assert sr.reference(3, wanted, compute(3)) == {"accuracy": 0.53, "losses": [1.0, 0.5]}
    assert sr.cache_path() == tmp_path / "cache" / "cnn-grade" / "scratch_reference.json"
    assert sr.reference(3, wanted, compute(3))["accuracy"] == 0.53 and runs == [3]  # read back, not rerun
    assert sr.reference(3, {"version": 1, "epochs": 5}, compute(3)) and runs == [3, 3]  # other settings: rerun


def test_a_corrupt_cache_is_ignored_and_replaced(tmp_path, monkeypatch):
    import json

    sr, runs, compute = cache_setup(tmp_path, monkeypatch)
    wanted = {"version": 1}
    for garbage in ("{not json", json.dumps({"settings": wanted, "seeds": {"3": {"accuracy": 7, "losses": []}}}),
                    json.dumps([1, 2]), "\x00\xff"):
        sr.cache_path().parent.mkdir(parents=True, exist_ok=True)
        sr.cache_path().write_text(garbage)
        assert sr.reference(3, wanted, compute(3))["accuracy"] == 0.53
        assert json.loads(sr.cache_path().read_text())["seeds"]["3"]["accuracy"] == 0.53
    assert runs == [3] * 4


def test_another_seed_is_computed_and_added_beside_the_cached_ones(tmp_path, monkeypatch):
    import json

    sr, runs, compute = cache_setup(tmp_path, monkeypatch)
    wanted = {"version": 1}
    sr.reference(3, wanted, compute(3))
    assert sr.reference(4, wanted, compute(4))["accuracy"] == 0.54 and runs == [3, 4]
    assert set(json.loads(sr.cache_path().read_text())["seeds"]) == {"3", "4"}
    (tmp_path / "a_file").write_text("")  # a cache folder that cannot be made: the figure is still given
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a_file"))
    assert sr.reference(5, wanted, compute(5))["accuracy"] == 0.55 and runs == [3, 4, 5]


def test_the_shipped_figures_are_the_reference_run_for_the_default_and_test_seeds():
    from grader.backbone import train_from_scratch
    from grader.checks import scratch_reference as sr
    from grader.checks import transfer as t

    wanted = sr.settings(t.TUNE_PER_CLASS, t.VAL_PER_CLASS, t.TUNE_EPOCHS, t.TUNE_BATCH, t.TUNE_LR, t.WIDTHS)
    shipped = sr._read(sr.SHIPPED, wanted)
    assert {"5005", "7"} <= set(shipped)  # the default seed and the tests' other seed never train at grading time
    fresh = train_from_scratch(5005, t.split(5005), epochs=t.TUNE_EPOCHS, batch_size=t.TUNE_BATCH, lr=t.TUNE_LR)
    assert fresh["losses"] == pytest.approx(shipped["5005"]["losses"], abs=1e-3)
    assert fresh["accuracy"] == pytest.approx(shipped["5005"]["accuracy"], abs=0.02)


def test_the_accuracy_check_starts_from_a_zero_head_so_a_model_that_never_learns_scores_chance():
    import numpy as np
    import torch

    from grader.backbone import SOURCE_CLASSES, TARGET_CLASSES, pretrained_state
    from grader.checks import transfer as t
    from grader.sandbox import transfer_probes as tp
    from grader.sandbox.torch_probes import predict

    _, _, val_x, val_y = t.split(5007)  # a seed where the random head alone scored 0.63 on pretrained features
    scores = {}
    for zero in (False, True):
        model = tp.backbone(list(t.WIDTHS), len(SOURCE_CLASSES), pretrained_state(), "float32", "cpu", 5007)
        tp.new_head(model, len(TARGET_CLASSES), 5007, zero=zero)
        out = predict(model, torch.from_numpy(np.array(val_x))).numpy()
        scores[zero] = float(np.mean(out.argmax(1) == val_y))
    assert scores[True] == pytest.approx(1 / 3) and np.bincount(val_y).tolist() == [t.VAL_PER_CLASS] * 3
    assert scores[False] > t.TUNE_THRESHOLD  # why the head starts at zero: a random one can clear the bar untrained
