"""`cnn-grade build`: stubs and notebooks from the keys, no lost student work, and a release that grades alone."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.instructor.build import MANIFEST, exercise_files
from grader.cli import cli
from grader.grading.engine import grade_exercise
from grader.errors import ToolError
from grader.grading.exercises import EXERCISES, resolve
from grader.instructor.markers import make_stub, solution_regions
from grader.grading.notebook_reader import read_notebook
from grader.instructor.notebook_writer import grading_cell, split_stub
from grader.instructor.release import release_folder
from grader.grading.submission import is_stub
from tests.conftest import REPO

KEYS = REPO / "solutions"


@pytest.fixture
def course(tmp_path) -> Path:
    """A course folder holding a copy of the keys (and the alternative key, which is no exercise)."""
    shutil.copytree(KEYS, tmp_path / "course" / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "course"


def build(*args, source: Path):
    return CliRunner().invoke(cli, ["build", "--source", str(source), *args], catch_exceptions=False)


def flat(text: str) -> str:
    """Rich wraps long lines to the terminal width; compare words, not line breaks."""
    return " ".join(text.split())


def module_body(source: str) -> str:
    """The AST of a module without its docstring and top-level `pass` (where a notebook's `!` line was)."""
    tree = ast.parse(source)
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant):
        tree.body = tree.body[1:]
    tree.body = [node for node in tree.body if not isinstance(node, ast.Pass)]
    return ast.dump(tree)


def paste_back(text: str, key: str, placeholder: str = "raise NotImplementedError") -> str:
    """The stub (or a notebook's code cells, joined) with each placeholder line replaced, in order, by the key's marked code."""
    bodies = [[key.splitlines()[i - 1] for i in region.body] for region in solution_regions(key)]
    out, used = [], 0
    for line in text.splitlines():
        if line.strip() == placeholder:
            out.extend(bodies[used])
            used += 1
        else:
            out.append(line)
    assert used == len(bodies), f"{used} placeholders for {len(bodies)} solution regions"
    return "\n".join(out) + "\n"


def paste_into_notebook(path: Path, key: str) -> None:
    """Put the key's marked code back into the notebook's code cells, where the placeholders are."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    joined = paste_back("\n# <cell>\n".join(c.source for c in code), key)
    for cell, source in zip(code, joined.rstrip("\n").split("\n# <cell>\n"), strict=True):
        cell.source = source
    nbformat.validate(nb)
    nbformat.write(nb, path)


# -- what build writes -------------------------------------------------------------------------
def test_build_writes_each_stub_as_make_stub_gives_it_and_a_valid_notebook_beside_it(course):
    result = build(source=course / "solutions")
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (course / "exercises").iterdir())
    expected = [f"{ex.name}{suffix}" for ex in EXERCISES for suffix in (".py", ".ipynb")]
    assert written == sorted([".cnn-grade-build.json", *expected])
    assert "exercise1_loops" not in result.output  # an alternative key is no exercise
    for ex in EXERCISES:
        key = (course / "solutions" / ex.filename).read_text()
        stub = (course / "exercises" / ex.filename).read_text()
        assert stub == make_stub(key, ex.filename) and "BEGIN SOLUTION" not in stub
        nb = nbformat.read(course / "exercises" / f"{ex.name}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert (nb.nbformat, nb.nbformat_minor, nb.metadata.kernelspec.name) == (4, 5, "python3")
        assert [c.id for c in nb.cells] == [f"{ex.name}-{i:02d}" for i in range(len(nb.cells))]
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.outputs == [] and c.execution_count is None for c in code)
        assert nb.cells[0].source.splitlines()[0] == ex.statement().splitlines()[0]
        assert code[-1].source == grading_cell(ex.name, f"{ex.name}.ipynb")
        assert '[sys.executable, "-m", "grader", ' in code[-1].source  # not `!cnn-grade`, which PATH may lack
        assert "Save the notebook first" in nb.cells[-2].source
        assert code[0].source.startswith(("import", "from"))
        assert code[-2].source.startswith('if __name__ == "__main__":')
        # What the grader reads from the notebook is the stub's code, every function intact.
        graded = read_notebook((course / "exercises" / f"{ex.name}.ipynb").read_text(), f"{ex.name}.ipynb")
        assert module_body(graded.source) == module_body(stub)
        assert is_stub(ex, graded.source)


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.name)
def test_no_demo_raises_system_exit_which_would_stop_run_all_in_a_notebook(ex):
    _, _, demo = split_stub((REPO / "exercises" / ex.filename).read_text())
    assert demo.startswith('if __name__ == "__main__":')
    raised = [ast.unparse(node) for node in ast.walk(ast.parse(demo)) if isinstance(node, ast.Raise)
              or (isinstance(node, ast.Call) and ast.unparse(node.func) in ("exit", "quit", "sys.exit"))]
    assert raised == [], f"{ex.name}'s demo cell would end with an error in a kernel: {raised}"


def test_split_stub_keeps_decorators_and_comments_with_their_definition():
    source = ('"""Doc."""\n\nimport math\n\nRATE = 2\n\n\n# why this helper\n@staticmethod\ndef helper():\n'
              '    return math.pi\n\n\nclass Net:\n    pass\n\n\nif "__main__" == __name__:\n    print(helper())\n')
    doc, code, demo = split_stub(source)
    assert doc == "Doc."
    assert code == ["import math\n\nRATE = 2", "# why this helper\n@staticmethod\ndef helper():\n    return math.pi",
                    "class Net:\n    pass"]
    assert demo == 'if "__main__" == __name__:\n    print(helper())'


def test_the_committed_stubs_and_notebooks_are_what_build_makes_from_the_keys():
    expected = exercise_files(KEYS)
    committed = {f"exercises/{p.name}": p.read_text(encoding="utf-8")
                 for p in sorted((REPO / "exercises").glob("exercise*")) if p.suffix in (".py", ".ipynb")}
    assert sorted(committed) == sorted(expected)
    drifted = [name for name in expected if committed[name] != expected[name]]
    assert not drifted, f"run `cnn-grade build` and commit: {drifted} differ from what the keys give"


# -- the round trip: stubs score zero, the keys' code pasted back scores full ---------------------
@pytest.mark.parametrize("number, zero, full", [(1, ".py", ".ipynb"), (4, ".ipynb", ".py")])
def test_stubs_score_zero_and_the_marked_code_pasted_back_scores_full(course, tmp_path, number, zero, full):
    assert build(source=course / "solutions").exit_code == 0
    ex = resolve(str(number))
    key = (course / "solutions" / ex.filename).read_text()
    stub = grade_exercise(ex.name, submission=course / "exercises" / f"{ex.name}{zero}")
    assert stub.score == 0 and stub.max_score > 0
    assert all(c.status == "failed" and "NotImplementedError" in c.message for c in stub.checks)

    pasted = tmp_path / "student" / f"{ex.name}{full}"
    pasted.parent.mkdir()
    shutil.copy(course / "exercises" / pasted.name, pasted)
    if full == ".py":
        pasted.write_text(paste_back(pasted.read_text(), key))
        assert module_body(pasted.read_text()) == module_body(
            "".join(line for line in key.splitlines(keepends=True) if "SOLUTION" not in line))
    else:
        paste_into_notebook(pasted, key)
    report = grade_exercise(ex.name, submission=pasted)
    failed = [c.message for c in report.checks if c.status != "passed"]
    assert report.score == report.max_score == stub.max_score, failed


# -- idempotence and never losing a student's work --------------------------------------------
def test_a_second_build_writes_nothing_and_notebooks_are_byte_identical_across_builds(course, tmp_path):
    assert build(source=course / "solutions").exit_code == 0
    files = sorted((course / "exercises").iterdir())
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    again = build(source=course / "solutions")
    assert again.exit_code == 0 and "Up to date" in flat(again.output) and "created" not in again.output
    assert sorted((course / "exercises").iterdir()) == files
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before

    other = tmp_path / "elsewhere"
    shutil.copytree(course / "solutions", other / "solutions")
    assert build(source=other / "solutions").exit_code == 0
    for p in files:
        assert (other / "exercises" / p.name).read_bytes() == p.read_bytes(), p.name


def test_a_file_build_wrote_is_updated_when_its_key_changes(course):
    assert build(source=course / "solutions").exit_code == 0
    key = course / "solutions" / "exercise2.py"
    key.write_text(key.read_text().replace('"""Exercise 2', '"""Exercise 2 (revised)', 1))
    result = build(source=course / "solutions")
    assert result.exit_code == 0, result.output
    assert "(revised)" in (course / "exercises" / "exercise2.py").read_text()
    assert "(revised)" in (course / "exercises" / "exercise2.ipynb").read_text()
    assert "updated" in result.output and not list((course / "exercises").glob("*.bak-*"))


def test_a_student_modified_file_is_refused_then_backed_up_with_force(course):
    assert build(source=course / "solutions").exit_code == 0
    mine = course / "exercises" / "exercise1.py"
    work = mine.read_text().replace("    raise NotImplementedError\n", "    return x  # my work\n", 1)
    mine.write_text(work)
    key2 = course / "solutions" / "exercise2.py"
    key2.write_text(key2.read_text().replace('"""Exercise 2', '"""Exercise 2 (revised)', 1))

    refused = build(source=course / "solutions")
    assert refused.exit_code == 2
    assert "exercises/exercise1.py" in refused.stderr and "--force" in refused.stderr
    assert "exercise2.py" not in refused.stderr  # build wrote that one: replacing it loses nothing
    assert mine.read_text() == work
    assert "(revised)" not in (course / "exercises" / "exercise2.py").read_text()  # nothing written at all

    forced = build("--force", source=course / "solutions")
    assert forced.exit_code == 0, forced.output
    backups = list((course / "exercises").glob("exercise1.py.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == work
    assert "backed up" in forced.output and mine.read_text() == make_stub(
        (course / "solutions" / "exercise1.py").read_text())
    assert "(revised)" in (course / "exercises" / "exercise2.py").read_text()
    assert build(source=course / "solutions").exit_code == 0  # the backup itself is not in the way


def test_without_a_manifest_a_differing_file_counts_as_modified(course):
    exercises = course / "exercises"
    exercises.mkdir()
    (exercises / "exercise1.py").write_text("def conv2d(*a):\n    return 'mine'\n")
    shutil.copy(REPO / "exercises" / "exercise2.py", exercises / "exercise2.py")  # equal to the new stub
    refused = build(source=course / "solutions")
    assert refused.exit_code == 2 and "exercises/exercise1.py" in refused.stderr
    assert "exercise2.py" not in refused.stderr and not (course / MANIFEST).exists()
    assert build("--force", source=course / "solutions").exit_code == 0
    manifest = json.loads((course / MANIFEST).read_text())
    assert set(manifest["sha256"]) == {f"exercises/{ex.name}{s}" for ex in EXERCISES for s in (".py", ".ipynb")}


# -- bad keys and options -----------------------------------------------------------------------
def test_an_unbalanced_marker_is_an_error_naming_the_line_and_nothing_is_written(course):
    key = course / "solutions" / "exercise4.py"
    lines = key.read_text().splitlines(keepends=True)
    end = next(i for i, line in enumerate(lines, start=1) if "# END SOLUTION" in line)
    begin = max(i for i, line in enumerate(lines[:end], start=1) if "# BEGIN SOLUTION" in line)
    key.write_text("".join(lines[:end - 1] + lines[end:]))
    done = subprocess.run([sys.executable, "-m", "grader", "build", "--source", "solutions"], cwd=course,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    # The first region never closes: the next BEGIN is inside it.
    assert "exercise4.py, line" in done.stderr and "inside the region opened on line " + str(begin) in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (course / "exercises").exists()

    key.write_text("x = 1\n# END SOLUTION\n")
    stray = build(source=course / "solutions")
    assert stray.exit_code == 2 and "exercise4.py, line 2: END SOLUTION without a BEGIN" in stray.stderr


def test_a_key_without_markers_is_refused_rather_than_given_away(course):
    (course / "solutions" / "exercise2.py").write_text("def trace():\n    return 42\n")
    result = build(source=course / "solutions")
    assert result.exit_code == 2 and "no # BEGIN SOLUTION" in result.stderr
    assert not (course / "exercises").exists()


def test_placeholder_replaces_the_marked_code_at_its_indentation(course):
    result = build("--placeholder", "pass  # your code here", source=course / "solutions")
    assert result.exit_code == 0, result.output
    stub = (course / "exercises" / "exercise4.py").read_text()
    assert "        pass  # your code here\n" in stub and "raise NotImplementedError\n" not in stub
    ast.parse(stub)
    notebook = (course / "exercises" / "exercise4.ipynb").read_text()
    assert "Replace each `pass  # your code here`" in notebook
    assert "cnn-grade list" in flat(result.output)  # says what a non-raising placeholder changes

    broken = build("--force", "--placeholder", "return (", source=course / "solutions")
    assert broken.exit_code == 2 and "not valid Python" in broken.stderr
    assert (course / "exercises" / "exercise4.py").read_text() == stub


def test_missing_folder_no_keys_and_some_keys(tmp_path):
    missing = build(source=tmp_path / "nowhere")
    assert missing.exit_code == 2 and "No solutions folder" in missing.stderr
    keys = tmp_path / "solutions"
    keys.mkdir()
    shutil.copy(KEYS / "exercise1_loops.py", keys)
    none = build(source=keys)
    assert none.exit_code == 2 and "No keys in" in none.stderr
    shutil.copy(KEYS / "exercise1.py", keys)
    some = build(source=keys)
    assert some.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "exercises").glob("exercise*")) == ["exercise1.ipynb", "exercise1.py"]
    assert "No key for exercise2, exercise3, exercise4, exercise5" in flat(some.output)


def test_out_must_not_be_the_course_the_keys_or_hold_solutions(course, tmp_path):
    for out, says in [(course, "is the course folder"), (course / "solutions" / "r", "is inside")]:
        result = build("--out", str(out), source=course / "solutions")
        assert result.exit_code == 2 and says in result.stderr, (out, result.stderr)
    (tmp_path / "old" / "solutions").mkdir(parents=True)
    result = build("--out", str(tmp_path / "old"), source=course / "solutions")
    assert result.exit_code == 2 and "solutions/" in result.stderr
    assert not (course / "exercises").exists() and not (course / "solutions" / "r").exists()
    with pytest.raises(ToolError, match="is inside"):  # asked directly: a regression must not write into grader/
        release_folder(REPO / "grader" / "r", course / "solutions")


# -- a student release -------------------------------------------------------------------------
def test_a_release_has_no_keys_installs_and_grades_on_its_own(course, tmp_path):
    release = tmp_path / "release"
    result = build("--out", str(release), source=course / "solutions")
    assert result.exit_code == 0, result.output
    assert "grader/ (" in result.output and "datasets/ (" in result.output
    assert sorted(p.name for p in release.iterdir()) == ["LICENSE", "README.md", "datasets", "exercises", "grader",
                                                         "pyproject.toml"]
    assert not list(release.rglob("__pycache__")) and not list(release.rglob("*.pyc"))
    assert (release / "datasets" / "SHA256SUMS").read_bytes() == (REPO / "datasets" / "SHA256SUMS").read_bytes()
    assert "pip install -e ." in (release / "README.md").read_text()
    # No run of three lines of the keys' marked code is anywhere in the release.
    secrets = set()
    for key in course.glob("solutions/exercise?.py"):
        lines = [line.strip() for line in key.read_text().splitlines()]
        for region in solution_regions(key.read_text()):
            body = [lines[i - 1] for i in region.body if lines[i - 1]]
            secrets |= {"\n".join(body[i:i + 3]) for i in range(len(body) - 2)}
    assert len(secrets) > 100
    for path in release.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".ipynb", ".md", ".toml"):
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".ipynb":
                text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
            text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
            assert not [s for s in secrets if s in text], path
    again = build("--out", str(release), source=course / "solutions")
    assert again.exit_code == 0 and "Up to date" in flat(again.output)

    # Install it into a fresh environment and grade from inside it. The venv sees this Python's
    # packages (torch, numpy, pip and setuptools: no network, and no 2 GB download) but takes
    # `grader` from the release; --without-pip skips ensurepip, whose old setuptools cannot
    # build an editable wheel offline.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True,
                   timeout=120)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PIP_NO_INDEX": "1",
                                                                         "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e",
                              str(release)], capture_output=True, text=True, env=env, timeout=300)
    assert install.returncode == 0, install.stderr
    where = subprocess.run([str(python), "-c", "import grader; print(grader.__file__)"], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=60)
    assert Path(where.stdout.strip()).resolve() == (release / "grader" / "__init__.py").resolve()
    graded = subprocess.run([str(bin_dir / "cnn-grade"), "exercise1", "--format", "json"], cwd=release,
                            capture_output=True, text=True, env=env, timeout=120)
    assert graded.returncode == 1, graded.stderr
    report = json.loads(graded.stdout)
    assert (report["score"], report["max_score"]) == (0.0, 19.0)
    assert report["submission"].endswith("exercise1.py")
