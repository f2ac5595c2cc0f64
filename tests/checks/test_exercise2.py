"""Exercise 2's own tests: the feedback tables and messages."""

from tests.conftest import REPO, graded

EX = "exercise2"


# The key, the stub, the correct styles and the bugs are graded by tests/checks/test_shared.py.


def test_trace_mismatch_shows_a_per_layer_table():
    report = graded(EX, REPO / "tests/submissions/exercise2/bad_no_jump.py")
    check = next(c for c in report.checks if c.name == "trace_receptive_fields")
    assert check.status == "failed"
    (table,) = check.figures
    assert table.columns == ("layer", "(k, s, p)", "yours", "expected")
    assert any(row[2] != row[3] for row in table.rows)
