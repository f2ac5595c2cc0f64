"""Exercise 3's own tests: feedback that names each mistake, and the probes behind the checks."""

import pytest

from grader.checks.exercise3 import device_names
from grader.grading.results import Curves, Maps, Table
from tests.conftest import REPO, graded

EX = "exercise3"


# The key, the stub, the correct styles and the bugs are graded by tests/checks/test_shared.py.


def test_the_report_shows_cnn_and_mlp_accuracy_side_by_side():
    check = next(c for c in graded(EX, REPO / "solutions" / "exercise3.py").checks if c.name == "it_learns")
    assert check.passed
    (table,) = [f for f in check.figures if isinstance(f, Table)]
    accuracy = {row[0]: row[1] for row in table.rows}
    cnn, mlp = float(accuracy["your ThreeBlockCNN(widths=(8, 16, 32))"]), float(accuracy["your mlp_baseline"])
    assert cnn > mlp + 0.3  # the lesson of the exercise, in numbers


def test_the_report_draws_learning_curves_and_feature_maps_of_the_trained_cnn():
    check = next(c for c in graded(EX, REPO / "solutions" / "exercise3.py").checks if c.name == "it_learns")
    (curves,) = [f for f in check.figures if isinstance(f, Curves)]
    series = {label: (xs, ys) for label, xs, ys in curves.series}
    assert set(series) == {"your ThreeBlockCNN", "your mlp_baseline"}
    steps = int(check.message.split(" after ")[1].split()[0])  # the CNN stopped early, past the bar
    assert 40 <= steps < 150 and f"stopped at step {steps} of 150" in curves.caption
    for xs, ys in series.values():  # one loss per training step of the grader's loop, the same budget for both
        assert xs == tuple(float(i) for i in range(1, steps + 1)) and len(ys) == steps
    cnn, mlp = series["your ThreeBlockCNN"][1], series["your mlp_baseline"][1]
    assert sum(cnn[-10:]) < sum(mlp[-10:]) and sum(cnn[-10:]) < sum(cnn[:10]) / 2  # the CNN learns, far faster
    assert "0.50" in curves.caption
    (maps,) = [f for f in check.figures if isinstance(f, Maps)]
    assert maps.columns == ("block 1", "block 2", "block 3") and len(maps.rows) == 4
    sides = [[(len(grid), len(grid[0])) for grid in grids] for _, grids in maps.rows]
    assert sides == [[(16, 16), (8, 8), (4, 4)]] * 4  # a 32x32 image halved by each block
    assert all(v >= 0 for _, grids in maps.rows for grid in grids for row in grid for v in row)  # after ReLU
    assert any(v > 0 for _, grids in maps.rows for grid in grids[2:] for row in grid for v in row)


def test_block_maps_returns_each_blocks_first_channels_for_one_image(monkeypatch):
    import sys
    import types

    import torch
    import torch.nn as nn

    from grader.checks.modules import feature_maps
    from grader.sandbox import torch_probes as tp
    from grader.sandbox.protocol import TensorData

    class ConvBlock(nn.Module):
        def __init__(self, c_in, c_out):
            super().__init__()
            self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)

        def forward(self, x):
            return nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)

    student = types.ModuleType("submission")
    student.ConvBlock = ConvBlock
    monkeypatch.setitem(sys.modules, "submission", student)
    net = nn.Sequential(ConvBlock(3, 6), ConvBlock(6, 2), ConvBlock(2, 8)).train()
    found = tp.block_maps(net, torch.rand(1, 3, 128, 128), "ConvBlock")
    assert [tuple(m.shape) for m in found] == [(4, 64, 64), (2, 32, 32), (4, 16, 16)]
    assert net.training  # the mode it had
    maps = feature_maps([TensorData(m.numpy(), "float32", "cpu", False) for m in found], "t")
    assert len(maps.rows) == 2  # as many rows as the narrowest block has channels
    assert [len(g) for g in maps.rows[0][1]] == [32, 32, 16]  # 64x64 averaged down to 32x32
    assert feature_maps([TensorData(found[0].numpy(), "float32", "cpu", False), "not a tensor"], "t") is None
    assert feature_maps("not a list", "t") is None


def test_small_maps_average_down_and_drop_non_finite_values():
    import numpy as np

    from grader.checks.modules import numbers, small, thinned

    grid = np.arange(64 * 64, dtype=np.float32).reshape(64, 64)
    shrunk = small(grid)
    assert len(shrunk) == len(shrunk[0]) == 32 and shrunk[0][0] == float(grid[:2, :2].mean())
    assert small(np.array([[np.nan, np.inf], [1.0, 2.0]])) == ((0.0, 0.0), (1.0, 2.0))
    assert numbers([1, 2.5, np.float32(3)]) == (1.0, 2.5, 3.0)
    assert numbers([1.0, float("nan")]) == () and numbers([True]) == () and numbers("12") == ()
    xs, ys = thinned(tuple(float(i) for i in range(450)))
    assert len(xs) == len(ys) <= 200 and xs[:2] == (1.0, 4.0) and ys[:2] == (0.0, 3.0)


def test_same_seed_same_accuracy():
    first = graded(EX, REPO / "solutions" / "exercise3.py", 11)
    again = __import__("grader.grading.engine", fromlist=["grade_exercise"]).grade_exercise(
        EX, submission=REPO / "solutions" / "exercise3.py", seed=11)
    pick = lambda r: next(c.message for c in r.checks if c.name == "it_learns")  # noqa: E731
    assert pick(first) == pick(again)


@pytest.mark.parametrize("code,found", [
    ("model.cuda()", ".cuda()"),
    ("x = x.to('cuda')", "'cuda'"),
    ("d = torch.device('cpu')", "torch.device(...)"),
    ("y = torch.zeros(3, device='cuda:0')", "'cuda:0'"),
])
def test_device_names_are_found_in_code(code, found):
    assert found in [what for _, what in device_names(code)]


def test_device_names_ignore_comments_docstrings_and_x_device():
    source = '"""Never call .cuda() or use "cuda" here."""\n# model.cuda()\ny = x.to(x.device)\n'
    assert device_names(source) == []


def test_probes_see_a_crash_a_resizing_block_and_a_plain_list(monkeypatch):
    import sys
    import types

    import torch
    import torch.nn as nn

    from grader.checks.modules import failed_in, layer_crash
    from grader.sandbox import torch_probes as tp

    class ConvBlock(nn.Module):
        def __init__(self, c_in, c_out, padding):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(c_in, c_out, 3, padding=padding), nn.BatchNorm2d(c_out)

        def forward(self, x):
            return nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)

    student = types.ModuleType("submission")
    student.ConvBlock = ConvBlock
    monkeypatch.setitem(sys.modules, "submission", student)

    mlp = nn.Sequential(nn.Linear(3072, 8), nn.ReLU(), nn.Linear(8, 2))
    trace = tp.trace(mlp, torch.zeros(2, 3, 32, 32))
    assert "mat1 and mat2" in trace["raised"]["message"]
    assert "nn.Flatten()" in layer_crash(failed_in(trace), "mlp_baseline()")

    net = nn.Sequential(ConvBlock(3, 4, padding=0), ConvBlock(4, 4, padding=1), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
    x = torch.zeros(2, 3, 16, 16)
    shapes = [(b["in_shape"], b["out_shape"]) for b in tp.trace(net, x, "ConvBlock")["blocks"]]
    assert shapes == [((2, 3, 16, 16), (2, 4, 7, 7)), ((2, 4, 7, 7), (2, 4, 3, 3))]
    assert tp.standin_blocks(net, "ConvBlock") == ["0"]  # only the block that does not halve the map
    assert tuple(net(x).shape) == (2, 2)

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [ConvBlock(3, 4, 1), ConvBlock(4, 4, 1)]

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    plain = Plain()
    assert tp.unregistered(plain) == [["blocks", "list", ["ConvBlock", "ConvBlock"]]]
    moved = tp.elsewhere(plain, torch.zeros(1, 3, 8, 8))
    assert moved["behind"] == ["blocks"] and moved["device"] is None and "meta" in moved["raised"]


def test_a_crash_explained_carries_the_id_of_the_mistake_it_names():
    from grader.checks.modules import Named, explained, network_crash
    from grader.errors import RaisedInfo, StudentRaised

    # A classifier built for 32x32 (128 * 4 * 4 = 2048 features) meets 28x28 images: 3 * 3 per map.
    linear = {"kind": "Linear", "path": "classifier.1", "settings": {"in_features": 2048}, "in_shape": (2, 1152)}
    trace = {"entered": [linear], "blocks": [], "raised": {"type": "RuntimeError", "message": "mat1 and mat2"}}
    hint = network_crash(trace, (2, 3, 28, 28), 128, "ThreeBlockCNN()")
    assert isinstance(hint, Named) and hint.diagnosis == "classifier_hard_coded" and "hard-coded" in hint
    raised = StudentRaised("ThreeBlockCNN.forward", RaisedInfo("RuntimeError", ("Exception",), "mat1 and mat2", ""))
    with pytest.raises(StudentRaised) as caught, explained(lambda: hint):
        raise raised
    assert caught.value.hint == str(hint) and type(caught.value.hint) is str
    assert caught.value.diagnosis == "classifier_hard_coded"
    plain = StudentRaised("f", RaisedInfo("ValueError", ("Exception",), "no", ""))
    with pytest.raises(StudentRaised) as caught, explained(lambda: "a hint naming nothing"):
        raise plain
    assert caught.value.hint == "a hint naming nothing" and not getattr(caught.value, "diagnosis", "")


def test_the_mlp_run_comes_from_the_cache_only_for_the_specified_mlp_and_a_damaged_cache_is_recomputed(
        tmp_path, monkeypatch):
    import json

    from grader.checks import learning

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(learning, "SHIPPED", tmp_path / "none.json")
    budget = learning.Budget(steps=12, batch=8, first=4, every=4)
    digest = learning.reference_digest(5)
    assert digest == learning.reference_digest(5) != learning.reference_digest(6)
    run = learning.cached_run(5, budget, digest)
    assert len(run["losses"]) == 12 and set(run["early"]) == {"4", "8"} and 0 <= run["full"] <= 1
    (path,) = learning.user_cache().glob("*.json")
    assert json.loads(path.read_text()) == run  # kept for the next grading of this seed
    path.write_text('{"losses": [1.0], "full": 7')  # damaged: never trusted, trained again and rewritten
    assert learning.cached_run(5, budget, digest) == run and json.loads(path.read_text()) == run


def test_a_student_mlp_that_starts_elsewhere_is_trained_itself(tmp_path, monkeypatch):
    """An MLP with a Dropout (or other starting weights) is not the cached one: its own run is reported."""
    from grader.checks import learning
    from grader.grading.engine import grade_exercise

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    key = (REPO / "solutions" / "exercise3.py").read_text()
    changed = key.replace("layers += [nn.Linear(previous, width), nn.ReLU()]",
                          "layers += [nn.Linear(previous, width), nn.ReLU(), nn.Dropout(0.0)]")
    assert changed != key
    path = tmp_path / "exercise3.py"
    path.write_text(changed)
    calls = []
    monkeypatch.setattr(learning, "cached_run", lambda *a: calls.append(a))
    check = grade_exercise(EX, submission=path, checks=["it_learns"]).checks[0]
    assert check.passed and calls == [] and " (MLP) " in check.message
    (curves,) = [f for f in check.figures if isinstance(f, Curves)]
    assert {label for label, _, _ in curves.series} == {"your ThreeBlockCNN", "your mlp_baseline"}


def test_a_run_stops_at_the_first_checkpoint_past_sure_and_a_failing_one_runs_the_whole_budget():
    from grader.checks.learning import BUDGET, OLD, Budget, scored_on

    assert BUDGET.checkpoints()[0] == 40 and BUDGET.checkpoints()[-1] < BUDGET.steps and OLD.checkpoints() == []
    assert BUDGET.sure > BUDGET.threshold
    assert Budget(steps=50, first=20, every=10).checkpoints() == [20, 30, 40]
    assert scored_on(150, BUDGET) == "all validation images" and "eighth" in scored_on(40, BUDGET)
    failing = next(c for c in graded(EX, REPO / "tests" / "submissions" / "exercise3" / "bad_fresh_classifier.py"
                                     ).checks if c.name == "it_learns")
    assert not failing.passed  # never stopped early: judged after all 150 steps on all validation images
    (table,) = [f for f in failing.figures if isinstance(f, Table)]
    assert "all validation images after 150 Adam steps" in table.title


def test_the_early_look_is_a_fixed_class_balanced_eighth_and_the_child_gets_the_same_floats():
    import numpy as np
    import torch

    from grader.checks.learning import EARLY_PER_CLASS, early_subset
    from grader.data import load_shapes, load_shapes_uint8
    from grader.sandbox.torch_probes import pixels

    labels = load_shapes_uint8("val")[1]
    picked = early_subset()
    assert len(picked) == 200 and np.all(np.diff(picked) > 0)
    assert np.bincount(labels[picked]).tolist() == [EARLY_PER_CLASS] * 8
    # Images cross the pipe as uint8 (a quarter of the bytes); the child scales them to what load_shapes gives.
    raw = load_shapes_uint8("train")[0][:50]
    sent = pixels(torch.from_numpy(raw.copy()))
    assert sent.dtype == torch.float32 and np.array_equal(sent.numpy(), load_shapes("train")[0][:50])
