"""Exercise 3's own tests: feedback that names each mistake, and the probes behind the checks."""

import pytest

from grader.checks.exercise3 import device_names
from tests.conftest import REPO, graded

EX = "exercise3"


# The key, the stub, the correct styles and the bugs are graded by tests/checks/test_shared.py.


def test_the_report_shows_cnn_and_mlp_accuracy_side_by_side():
    check = next(c for c in graded(EX, REPO / "solutions" / "exercise3.py").checks if c.name == "it_learns")
    assert check.passed
    (table,) = check.figures
    accuracy = {row[0]: row[1] for row in table.rows}
    cnn, mlp = float(accuracy["your ThreeBlockCNN(widths=(8, 16, 32))"]), float(accuracy["your mlp_baseline"])
    assert cnn > mlp + 0.3  # the lesson of the exercise, in numbers


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
