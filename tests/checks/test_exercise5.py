"""Exercise 5 checks on the key, the stub, styled correct solutions and one bug per file."""

import pytest

from tests.checks.submission_suite import (assert_bug_caught, assert_every_check_is_caught, assert_full_marks,
                                           assert_stub_scores_zero)
from tests.conftest import REPO, graded, submissions

EX = "exercise5"


@pytest.mark.parametrize("seed", [None, 11])
def test_key_scores_full_marks(seed):
    assert_full_marks(graded(EX, REPO / "solutions" / "exercise5.py", seed))


def test_stub_scores_zero():
    assert_stub_scores_zero(EX)


@pytest.mark.parametrize("path", submissions(EX, "good"), ids=lambda p: p.stem)
def test_correct_styles_score_full_marks(path):
    assert_full_marks(graded(EX, path))


@pytest.mark.parametrize("path", submissions(EX, "bad"), ids=lambda p: p.stem)
def test_bug_is_caught_and_named(path):
    assert_bug_caught(EX, path)


def test_every_check_is_failed_by_some_bug():
    assert_every_check_is_caught(EX)


def test_the_report_shows_fine_tuned_beside_from_scratch():
    check = next(c for c in graded(EX, REPO / "solutions" / "exercise5.py").checks if c.name == "fine_tune_accuracy")
    assert check.passed
    (table,) = check.figures
    rows = {row[0]: row[1] for row in table.rows}
    assert float(rows["pretrained, layer4 + fc trained"]) > float(rows["same budget from scratch"])


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
