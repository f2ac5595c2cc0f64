"""`cnn-grade gradescope-bundle`: the zip, and its scripts run in a Gradescope-like folder."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.classroom.autograder import find_submission
from grader.classroom.bundle import CPU_INDEX_ARGS, TORCH_CPU_INDEX, gradescope_bundle, kit_root
from grader.cli import cli
from grader.errors import ToolError
from grader.grading.exercises import resolve
from grader.report import to_gradescope
from tests.conftest import REPO, SUBMISSIONS
from tests.report.test_formats import make_report
from tests.report.test_gradescope import assert_valid, fenced_blocks

GOOD = SUBMISSIONS / "exercise1" / "good_einsum.py"
NO_PADDING = SUBMISSIONS / "exercise1" / "bad_no_padding.py"
EX1_CHECKS = [s.name for s in resolve("exercise1").checks()]
BUNDLE_ARGS = ["exercise1", "--hidden", "values_plain", "--hidden", "bias", "--hidden-visibility", "after_due_date",
               "--seed", "5"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """One autograder.zip, built the way an instructor would: the real command in a subprocess."""
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "grader", "gradescope-bundle", *BUNDLE_ARGS, "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "exercise1 out of 19 points" in proc.stdout
    assert "values_plain, bias" in proc.stdout
    assert f"torch: pip install {CPU_INDEX_ARGS} torch (the CPU-only build)" in proc.stdout
    return out


def gradescope_folder(tmp_path: Path, bundle: Path) -> Path:
    """/autograder as Gradescope lays it out: source/ = the unzipped bundle, run_autograder copied up."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path, python: str = sys.executable) -> tuple[dict, subprocess.CompletedProcess]:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": python}
    proc = subprocess.run(["bash", "run_autograder"], cwd=root, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8")), proc


def notebook_of(source: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Exercise 1"), nbformat.v4.new_code_cell("%matplotlib inline"),
                nbformat.v4.new_code_cell(source)]
    return nbformat.writes(nb)


# Stands in for apt-get, python3 and the venv's python while setup.sh runs: each call is recorded
# (program name and shell-quoted arguments, one line) instead of installing anything; `-m venv DIR`
# makes DIR's python.
RECORDER = """#!{bash}
printf '%s' "$(basename "$0")" >> "$CALLS"; printf ' %q' "$@" >> "$CALLS"; echo >> "$CALLS"
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi
"""


def run_setup(tmp_path: Path, bundle: Path, **env: str) -> list[str]:
    """Run the bundle's setup.sh as Gradescope would, with RECORDER for the installers; the calls it made."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extract("setup.sh", tmp_path / "source")
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    for name in ("apt-get", "python3"):
        (fake / name).write_text(RECORDER.format(bash=shutil.which("bash")))
        (fake / name).chmod(0o755)
    calls = tmp_path / "calls.txt"
    environment = {k: v for k, v in os.environ.items() if k not in ("TORCH_SPEC", "PIP_INDEX_ARGS")}
    environment.update(PATH=f"{fake}{os.pathsep}{os.environ['PATH']}", CALLS=str(calls),
                       CNN_GRADE_VENV=str(tmp_path / "venv"), **env)
    proc = subprocess.run(["bash", str(tmp_path / "source" / "setup.sh")], env=environment, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return calls.read_text().splitlines()


# -- the zip ---------------------------------------------------------------------------------


def test_zip_holds_the_scripts_the_settings_and_the_kit_only(bundle):
    with zipfile.ZipFile(bundle) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        config = json.loads(archive.read("cnn-grade.json"))

    names = list(infos)
    assert names == sorted(names)
    for script in ("setup.sh", "run_autograder"):
        assert infos[script].create_system == 3
        assert stat.S_IMODE(infos[script].external_attr >> 16) == 0o755
    assert stat.S_IMODE(infos["cnn-grade/pyproject.toml"].external_attr >> 16) == 0o644
    for needed in ("cnn-grade/pyproject.toml", "cnn-grade/README.md", "cnn-grade/LICENSE",
                   "cnn-grade/grader/__init__.py", "cnn-grade/grader/classroom/bundle.py", "cnn-grade/grader/statements/exercise1.md",
                   "cnn-grade/datasets/SHA256SUMS", "cnn-grade/datasets/shapes_train.npz",
                   "cnn-grade/datasets/backbone.pt"):
        assert needed in infos
    assert {n.split("/")[0] for n in names} == {"setup.sh", "run_autograder", "cnn-grade.json", "cnn-grade"}
    assert {n.split("/")[1] for n in names if n.startswith("cnn-grade/")} == {
        "pyproject.toml", "README.md", "LICENSE", "grader", "datasets"}  # no solutions/, tests/, exercises/
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/." in n]
    assert {i.date_time for i in infos.values()} == {(1980, 1, 1, 0, 0, 0)}
    assert config == {"exercise": "exercise1", "seed": 5, "visibility": "visible",
                      "per_check": {"values_plain": "after_due_date", "bias": "after_due_date"}}


def test_rebuilding_gives_the_same_bytes_and_leaves_the_file_alone(bundle, tmp_path):
    again = tmp_path / "again.zip"
    first = CliRunner().invoke(cli, ["gradescope-bundle", *BUNDLE_ARGS, "--out", str(again)])
    assert first.exit_code == 0, first.output
    assert "wrote" in first.output
    assert again.read_bytes() == bundle.read_bytes()  # another process, same bytes
    mtime = again.stat().st_mtime_ns

    second = CliRunner().invoke(cli, ["gradescope-bundle", *BUNDLE_ARGS, "--out", str(again)])
    assert second.exit_code == 0 and "unchanged" in second.output
    assert again.stat().st_mtime_ns == mtime
    assert os.listdir(tmp_path) == ["again.zip"]  # no temporary file left behind


def test_scripts_are_valid_bash_and_name_no_address_but_the_cpu_index(bundle):
    with zipfile.ZipFile(bundle) as archive:
        setup, run = (archive.read(n).decode() for n in ("setup.sh", "run_autograder"))
    for text in (setup, run):
        assert text.startswith("#!/usr/bin/env bash\n")
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0
    assert "://" not in run and "http" not in run
    assert setup.replace(TORCH_CPU_INDEX, "").count("http") == 0 and setup.count(TORCH_CPU_INDEX) == 1
    assert '-m grader.classroom.autograder "$ROOT"' in run and "AUTOGRADER_ROOT" in run


def test_setup_installs_the_cpu_torch_then_the_kit_in_a_venv(tmp_path, bundle):
    calls = run_setup(tmp_path, bundle)

    venv_python = "python -m pip install"
    assert calls[:2] == ["apt-get update",
                         "apt-get install -y --no-install-recommends python3 python3-venv python3-pip"]
    assert calls[2].startswith("python3 -c $'import sys")  # the Python version check
    assert calls[3:] == [f"python3 -m venv {tmp_path / 'venv'}",
                         f"{venv_python} --upgrade pip",
                         f"{venv_python} {CPU_INDEX_ARGS} torch",  # first, so that installing the kit keeps it
                         f"{venv_python} {tmp_path / 'source' / 'cnn-grade'}",
                         "python -m grader --version"]


@pytest.mark.parametrize("bundled, environment, torch_install", [
    ({}, {"PIP_INDEX_ARGS": ""}, "torch"),  # the environment picks the default build ...
    ({"pip_index_args": ""}, {}, "torch"),  # ... or the bundle does
    ({"pip_index_args": ""}, {"PIP_INDEX_ARGS": CPU_INDEX_ARGS}, f"{CPU_INDEX_ARGS} torch"),
    ({"torch_spec": "torch==2.5.1"}, {}, f"{CPU_INDEX_ARGS} torch==2.5.1"),
], ids=["environment-default", "bundle-default", "environment-cpu", "pinned-cpu"])
def test_setup_installs_the_torch_build_chosen(tmp_path, bundled, environment, torch_install):
    out = tmp_path / "a.zip"
    gradescope_bundle("exercise2", out=out, **bundled)

    calls = run_setup(tmp_path, out, **environment)

    torch_call = next(c for c in calls if c.startswith("python -m pip install") and "torch" in c)
    assert torch_call == f"python -m pip install {torch_install}"


def test_torch_spec_and_index_args_are_baked_in_and_the_environment_overrides_them(tmp_path):
    out = tmp_path / "a.zip"
    args = "--no-cache-dir --prefer-binary"
    gradescope_bundle("exercise2", out=out, torch_spec="torch==2.3.1; python_version >= '3.10'", pip_index_args=args)
    with zipfile.ZipFile(out) as archive:
        setup = archive.read("setup.sh").decode()
    defaults = "\n".join(line for line in setup.splitlines() if line.startswith("if [ -z "))
    show = defaults + '\nprintf "%s|" "$TORCH_SPEC" "$PIP_INDEX_ARGS"'
    env = {k: v for k, v in os.environ.items() if k not in ("TORCH_SPEC", "PIP_INDEX_ARGS")}

    baked = subprocess.run(["bash", "-c", show], env=env, capture_output=True, text=True)
    chosen = subprocess.run(["bash", "-c", show], env={**env, "TORCH_SPEC": "torch==2.5.0", "PIP_INDEX_ARGS": ""},
                            capture_output=True, text=True)

    assert baked.stdout == f"torch==2.3.1; python_version >= '3.10'|{args}|"
    assert chosen.stdout == "torch==2.5.0||"


@pytest.mark.parametrize("args, words", [
    (["exercise9"], "exercise9"),
    (["exercise1", "--hidden", "no_such_check"], "no_such_check"),
    (["exercise1", "--out", "."], "is a directory"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, words):
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(cli, ["gradescope-bundle", *args])
    finally:
        os.chdir(old)
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output
    assert os.listdir(tmp_path) == []


def test_an_unknown_check_names_the_real_ones(tmp_path):
    with pytest.raises(ToolError) as caught:
        gradescope_bundle("exercise1", out=tmp_path / "never.zip", hidden=("values",))
    assert "values_plain" in str(caught.value) and os.listdir(tmp_path) == []
    with pytest.raises(ToolError, match="is a folder"):
        gradescope_bundle("exercise1", out=tmp_path)


def test_the_kit_is_found_beside_the_installed_grader():
    assert kit_root() == REPO


def test_a_kit_without_datasets_or_with_a_corrupt_one_is_refused(tmp_path):
    kit = tmp_path / "kit"
    (kit / "grader").mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, kit / name)
    (kit / "grader" / "__init__.py").write_text("")
    with pytest.raises(ToolError, match="datasets missing"):
        gradescope_bundle("exercise1", out=tmp_path / "a.zip", kit=kit)

    (kit / "datasets").mkdir()
    (kit / "datasets" / "data.npz").write_bytes(b"edited")
    (kit / "datasets" / "SHA256SUMS").write_text("0" * 64 + "  data.npz\n")
    with pytest.raises(ToolError, match="SHA256SUMS"):
        gradescope_bundle("exercise1", out=tmp_path / "a.zip", kit=kit)
    assert not (tmp_path / "a.zip").exists()


# -- run_autograder in a Gradescope-like folder -------------------------------------------------


@pytest.mark.parametrize("place, source, score", [
    ("exercise1.py", GOOD.read_text(), 19.0),
    ("my upload/Conv layer.py", NO_PADDING.read_text(), None),  # odd name, one folder deep
    ("exercise1.ipynb", notebook_of(GOOD.read_text()), 19.0),
], ids=["python-file", "nested-odd-name", "notebook"])
def test_run_autograder_grades_the_submission_into_results_json(tmp_path, bundle, place, source, score):
    root = gradescope_folder(tmp_path, bundle)
    target = root / "submission" / place
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source, encoding="utf-8")
    (root / "submission" / "notes.txt").write_text("not code")

    results, proc = run_autograder(root)

    assert_valid(json.dumps(results))  # Gradescope's specification, and no -v advice
    tests = results["tests"]
    assert len(tests) == len(EX1_CHECKS)
    assert [t["tags"] for t in tests] == [[name] for name in EX1_CHECKS]  # what --hidden names
    assert results["score"] == sum(t["score"] for t in tests)
    assert "Seed: 5" in results["output"] and place.rsplit("/", 1)[-1] in results["output"]
    visibility = {name: t["visibility"] for name, t in zip(EX1_CHECKS, tests)}
    assert visibility.pop("values_plain") == visibility.pop("bias") == "after_due_date"
    assert set(visibility.values()) == {"visible"}
    if score is None:  # the padding mistake is named to the student
        assert 0 < results["score"] < 19
        padding = next(t for name, t in zip(EX1_CHECKS, tests) if name == "values_padding")
        assert padding["status"] == "failed" and "padding" in padding["output"]
        (block,) = fenced_blocks(padding["output"])  # the terminal's block: verdict, message, hint
        assert block.startswith("✗ ") and "\n  hint: " in block
    else:
        assert results["score"] == score
        assert {t["status"] for t in tests} == {"passed"}
    assert "Score:" in proc.stdout  # the text report goes to the instructors' log


@pytest.mark.parametrize("files, words", [
    ({"notes.txt": "x", "pics/plot.png": "x"}, ["exercise1.py", "notes.txt", "pics/plot.png"]),
    ({"a.py": "x = 1", "b/c.ipynb": notebook_of("y = 2")}, ["several files", "a.py", "b/c.ipynb"]),
], ids=["no-code", "two-candidates"])
def test_no_usable_file_still_gives_a_valid_zero_with_a_reason(tmp_path, bundle, files, words):
    root = gradescope_folder(tmp_path, bundle)
    for name, text in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)

    results, _ = run_autograder(root)

    assert results["score"] == 0.0 and results["output_format"] == "text"
    assert "tests" not in results
    for word in words:
        assert word in results["output"]


def test_a_grader_that_cannot_start_still_leaves_a_result(tmp_path, bundle):
    root = gradescope_folder(tmp_path, bundle)
    shutil.copy(GOOD, root / "submission" / "exercise1.py")

    results, _ = run_autograder(root, python=shutil.which("false") or "/bin/false")

    assert results == {"score": 0.0, "output": "The autograder could not start (exit status 1), so nothing was "
                                                "graded. Tell your instructor.", "output_format": "text"}
    assert_valid(json.dumps(results))


def test_broken_settings_give_a_zero_that_says_to_tell_the_instructor(tmp_path):
    from grader.classroom.autograder import main

    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "cnn-grade.json").write_text("{not json")
    (tmp_path / "submission").mkdir()

    assert main([str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0.0 and "instructor" in results["output"]


# -- finding the student's file --------------------------------------------------------------


@pytest.mark.parametrize("files, chosen", [
    (["exercise1.py", "helper.py"], "exercise1.py"),
    (["work/exercise1.ipynb", "other.py"], "work/exercise1.ipynb"),
    (["Exercise1 (2).py", "utils.py"], "Exercise1 (2).py"),
    (["solution.py", "README.md"], "solution.py"),
    (["deep/conv.ipynb", ".ipynb_checkpoints/conv-checkpoint.ipynb", "__MACOSX/._conv.ipynb"], "deep/conv.ipynb"),
])
def test_find_submission_accepts_how_students_upload(tmp_path, files, chosen):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    assert find_submission(resolve("exercise1"), tmp_path) == tmp_path / chosen


def test_find_submission_refuses_two_nested_exercise_files(tmp_path):
    for name in ("a/exercise1.py", "b/exercise1.py"):
        (tmp_path / name).parent.mkdir(parents=True)
        (tmp_path / name).write_text("x = 1\n")
    with pytest.raises(ToolError, match="several files"):
        find_submission(resolve("exercise1"), tmp_path)


# -- Gradescope visibility -------------------------------------------------------------------


def test_to_gradescope_sets_visibility_per_check_and_keeps_its_default():
    report = make_report()
    default = json.loads(to_gradescope(report))
    chosen = json.loads(to_gradescope(report, "after_published", {"values": "hidden"}))

    assert to_gradescope(report) == to_gradescope(report, "visible", {})
    assert "visibility" not in default  # the assignment's own setting stays in charge
    assert [t["visibility"] for t in chosen["tests"]] == ["after_published", "hidden", "after_published",
                                                         "after_published"]
    with pytest.raises(ValueError, match="sometimes"):
        to_gradescope(report, "sometimes")
