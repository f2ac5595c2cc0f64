"""Exercise 4's own tests: the pictures of a wrong block output and the path they point to."""

from __future__ import annotations

from grader.grading.results import Heatmap, Maps
from grader.instructor import misconceptions
from tests.conftest import REPO, graded

EX = "exercise4"


# The key, the stub, the correct styles and the bugs are graded by tests/checks/test_shared.py.


def mutant(tmp_path, misconception_id: str):
    (m,) = [m for m in misconceptions.for_exercise(EX) if m.id == misconception_id]
    path = tmp_path / "exercise4.py"
    path.write_text(misconceptions.apply((REPO / "solutions/exercise4.py").read_text(), m, path.name).source)
    return path


def test_relu_before_the_addition_is_pictured_and_pointed_at_the_main_path(tmp_path):
    report = graded(EX, mutant(tmp_path, "relu_before_addition"))
    for name in ("numerics_train", "numerics_eval"):
        check = next(c for c in report.checks if c.name == name)
        assert check.diagnosis == "relu_before_addition"
        (maps,) = check.figures
        assert isinstance(maps, Maps) and maps.caption.startswith("The main path")
        assert maps.columns == ("yours", "expected", "difference") and maps.diverging == ("difference",)
        assert 1 <= len(maps.rows) <= 4
        for _, grids in maps.rows:
            assert len(grids) == 3
            assert all(len(grid) == 9 and all(len(row) == 9 for row in grid) for grid in grids)  # ResidualBlock(8)
            yours, _, difference = grids
            assert min(v for row in yours for v in row) < 0  # what the missing final ReLU lets through
            assert max(abs(v) for row in difference for v in row) > 1e-3


def test_a_relu_on_the_shortcut_points_at_the_shortcut(tmp_path):
    check = next(c for c in graded(EX, mutant(tmp_path, "relu_on_shortcut")).checks if c.name == "numerics_eval")
    assert check.diagnosis == "relu_on_shortcut"
    (maps,) = check.figures
    assert maps.caption.startswith("The shortcut")


def test_an_unnamed_wrong_output_keeps_its_heat_map_and_names_no_path(tmp_path):
    key = (REPO / "solutions/exercise4.py").read_text()
    line = "return self.relu(self.main(x) + self.shortcut(x))"
    assert key.count(line) == 1
    path = tmp_path / "exercise4.py"
    path.write_text(key.replace(line, "return self.relu(self.main(x) + 2 * self.shortcut(x))"))  # a skip, but scaled
    checks = {c.name: c for c in graded(EX, path).checks}
    numerics = checks["numerics_train"]
    assert numerics.diagnosis == "numerics_train"  # no misconception named: the registry's default
    heatmap, maps = numerics.figures
    assert isinstance(heatmap, Heatmap) and isinstance(maps, Maps)
    assert maps.caption.startswith("Where your block's output differs")
    assert checks["skip_connection"].diagnosis == "skip_connection"  # something passes the skip: it is not missing
