"""Exercise 2's own tests: the feedback tables and messages."""

from grader.grading.results import Fields, Table
from grader.instructor import misconceptions
from tests.conftest import REPO, graded

EX = "exercise2"


# The key, the stub, the correct styles and the bugs are graded by tests/checks/test_shared.py.


def test_trace_mismatch_shows_a_per_layer_table():
    report = graded(EX, REPO / "tests/submissions/exercise2/bad_no_jump.py")
    check = next(c for c in report.checks if c.name == "trace_receptive_fields")
    assert check.status == "failed"
    table, fields = check.figures
    assert isinstance(table, Table) and isinstance(fields, Fields)
    assert table.columns == ("layer", "(k, s, p)", "yours", "expected")
    assert any(row[2] != row[3] for row in table.rows)


def test_ignored_jumps_are_pictured_as_fields_that_fall_behind_after_a_stride(tmp_path):
    (jump_ignored,) = [m for m in misconceptions.for_exercise(EX) if m.id == "jump_ignored"]
    path = tmp_path / "exercise2.py"
    path.write_text(misconceptions.apply((REPO / "solutions/exercise2.py").read_text(), jump_ignored, path.name).source)
    report = graded(EX, path)
    check = next(c for c in report.checks if c.name == "trace_receptive_fields")
    assert check.diagnosis == "jump_ignored"
    fields = next(f for f in check.figures if isinstance(f, Fields))
    assert fields.input_size == 32  # the course CNN's own input, where its fields are drawn
    assert len(fields.layers) == 6 and "jump" in fields.caption
    names, yours, measured = zip(*fields.layers)
    assert names[0].startswith("0 ") and list(measured) == [3, 4, 8, 10, 18, 22]  # what autograd measures
    assert yours[:2] == measured[:2]  # right until the first stride 2 ...
    assert all(y < m for y, m in zip(yours[2:], measured[2:]))  # ... then behind on every deeper layer
