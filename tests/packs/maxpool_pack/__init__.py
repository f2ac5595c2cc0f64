"""A course's own exercise, added without editing grader/: 2-D max pooling in NumPy (exercise 6).

The tests name this folder in a course's cnn-grade.toml (`packs = [".../maxpool_pack"]`) and take the
exercise through show, grading, build, verify, batch and gradescope-bundle.
"""

from pathlib import Path

from grader.grading.exercises import ARRAY_LIBRARIES, Exercise

HERE = Path(__file__).resolve().parent

EXERCISES = [
    Exercise("exercise6", 6, "max-pool", "2-D max pooling in NumPy", ("max_pool2d",),
             child_imports=("numpy",), blocked=ARRAY_LIBRARIES, aliases=("maxpool", "six"), default_seed=6006,
             checks_module="maxpool_pack.checks", statement_file=HERE / "statement.md",
             key_file=HERE / "key" / "exercise6.py", submissions=HERE / "submissions"),
]
