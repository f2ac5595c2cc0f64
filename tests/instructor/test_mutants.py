"""Mutants of a key: only inside the solution markers, each a compiling one-spot change described by its line."""

from __future__ import annotations

import ast
from collections import Counter

import pytest

from grader.instructor.markers import MarkerError, solution_regions
from grader.instructor.mutants import OPERATORS, generate, sample
from tests.conftest import REPO

KEY = '''\
"""A small key: é in the docstring, so byte and character offsets differ."""


def helper(a, b):
    return a + b * 2  # outside the markers: never mutated


def solve(a, b, values):
    # BEGIN SOLUTION
    label = "é" + str(a)  # a + b in a comment is not an operator
    if a < b and not values:
        return -a
    total = (a  # a + spread over lines
             + b)
    total += helper(a, b)
    return total is None, label[1:]
    # END SOLUTION


def untouched(a):
    return a - 1 if a > 0 else True
'''


@pytest.fixture(scope="module")
def mutants():
    return generate(KEY, "key.py")


def test_every_operator_is_used_and_only_inside_the_region(mutants):
    region = solution_regions(KEY)[0]
    assert {m.operator for m in mutants} == set(OPERATORS)
    original = KEY.splitlines()
    for m in mutants:
        assert m.line in region.body
        changed = [n for n, (a, b) in enumerate(zip(original, m.source.splitlines()), start=1) if a != b]
        assert changed and all(n in region.body for n in changed), m.description
        # everything outside the region is byte-identical, and every line stays where it was
        lines = m.source.splitlines()
        assert len(lines) == len(original)
        assert lines[:region.begin] == original[:region.begin] and lines[region.end - 1:] == original[region.end - 1:]


def test_each_mutant_compiles_differs_and_is_unique(mutants):
    tree = ast.dump(ast.parse(KEY))
    assert len({m.source for m in mutants}) == len(mutants)
    for m in mutants:
        compile(m.source, "key.py", "exec")
        assert ast.dump(ast.parse(m.source)) != tree


def test_descriptions_name_the_line_and_the_change(mutants):
    described = {m.description for m in mutants}
    assert 'line 10: `label = "é" + str(a) # a + b in a comment is not an operator` → ' \
           '`label = "é" - str(a) # a + b in a comment is not an operator`' in described
    assert "line 11: `if a < b and not values:` → `if a <= b and not values:`" in described
    assert "line 11: `if a < b and not values:` → `if a < b or not values:`" in described
    assert "line 11: `if a < b and not values:` → `if a < b and values:`" in described
    assert "line 12: `return -a` → `return a`" in described
    assert "line 15: `total += helper(a, b)` → `total -= helper(a, b)`" in described
    assert "line 15: `total += helper(a, b)` → `total += helper(b, a)`" in described
    assert "line 16: `return total is None, label[1:]` → `return total is not None, label[1:]`" in described
    assert "line 16: `return total is None, label[1:]` → `return total is None, label[2:]`" in described
    assert "line 15: `total += helper(a, b)` → `pass`" in described


def test_operator_spread_over_lines_is_found_past_the_comment(mutants):
    spread = [m for m in mutants if m.line == 14 and m.operator == "arithmetic"]
    assert len(spread) == 1
    assert "(a  # a + spread over lines\n             - b)" in spread[0].source


def test_a_deleted_multiline_statement_keeps_later_lines_in_place(mutants):
    deleted = next(m for m in mutants if m.operator == "delete" and m.line == 13)
    assert deleted.description.endswith("→ `pass`")
    lines = deleted.source.splitlines()
    assert len(lines) == len(KEY.splitlines())
    assert lines[12].strip() == "pass" and lines[13] == ""
    assert lines[14] == KEY.splitlines()[14]


def test_no_markers_or_no_parse_means_no_mutants():
    assert generate(KEY.replace("# BEGIN SOLUTION", "#").replace("# END SOLUTION", "#")) == []
    assert generate("def f(:\n    # BEGIN SOLUTION\n    pass\n    # END SOLUTION\n") == []
    with pytest.raises(MarkerError, match="line 2"):
        generate("x = 1\n# END SOLUTION\n")


def test_sample_is_deterministic_sized_and_spread(mutants):
    first, again = sample(mutants, 6, seed=1), sample(mutants, 6, seed=1)
    assert first == again and len(first) == 6
    assert len({m.operator for m in first}) == 6  # one of each of the six operators
    assert [m.line for m in first] == sorted(m.line for m in first)
    assert sample(mutants, 6, seed=2) != first or len(mutants) == 6
    assert sample(mutants, 10_000, seed=1) == mutants


@pytest.mark.parametrize("exercise", ["exercise1", "exercise2", "exercise3", "exercise4", "exercise5"])
def test_real_keys_have_mutants_only_in_their_regions(exercise):
    source = (REPO / "solutions" / f"{exercise}.py").read_text()
    regions = solution_regions(source)
    found = generate(source, exercise)
    assert len(found) >= 20
    assert all(any(m.line in r.body for r in regions) for m in found)
    picked = sample(found, 20, seed=int(exercise[-1]))
    assert len(picked) == 20 and len(set(picked)) == 20
    assert len(Counter(m.operator for m in picked)) >= 3
