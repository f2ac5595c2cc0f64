"""The course's exercises: what each one is, where its parts live, and how a name finds it.

An exercise is one unit: its metadata (below), its check module, its statement, and its key (from
which `cnn-grade build` makes the stub). The five of this course are built in. A course adds its own
without editing grader/ (packs.py says how: an installed package's entry point, or a folder named in
the course's cnn-grade.toml); `all_exercises()` is every exercise, built in or added.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from ..errors import ToolError

# Array and ML libraries that would do exercise 1's work for the student.
ARRAY_LIBRARIES = ("torch", "scipy", "tensorflow", "jax", "jaxlib", "cupy", "numba", "sklearn", "skimage",
                   "cv2", "keras", "mxnet", "paddle", "theano", "chainer", "tinygrad", "dask", "torchvision")
# The exercises that train: the first optimizer step imports torch._dynamo (and sympy with it, which a meta-device
# forward needs too), 1.5 s on a 2-core machine. The child does it before any student code, like torch itself: the
# student's per-call time limit never pays for it, and a batch's zygote does it once for every submission.
TRAINING_IMPORTS = ("numpy", "torch", "torch._dynamo")


@dataclass(frozen=True)
class Exercise:
    """One exercise: how it is named, what students implement, how its child runs, where its parts are."""

    name: str  # "exercise1": also the stem of its files (exercises/exercise1.py, solutions/exercise1.py)
    number: int
    slug: str  # a readable alias, e.g. "conv2d"
    title: str
    functions: tuple[str, ...]  # the names the contract asks for
    child_imports: tuple[str, ...]  # trusted imports done in the child before student code
    blocked: tuple[str, ...] = ()  # libraries refused, statically and at run time
    aliases: tuple[str, ...] = ()
    default_seed: int = 0
    checks_module: str = ""  # its @check module; built in: grader.checks.<name>
    statement_file: Path | None = None  # its statement; built in: grader/statements/<name>.md
    key_file: Path | None = None  # its own key, when the instructor's --source folder has none
    submissions: Path | None = None  # correct (good_*.py) and buggy (bad_*.py) examples, for the shared tests
    misconceptions: tuple = ()  # grader.instructor.misconceptions.Misconception entries verify makes mutants of

    def __post_init__(self) -> None:
        if not self.checks_module:
            object.__setattr__(self, "checks_module", f"grader.checks.{self.name}")

    @property
    def filename(self) -> str:
        return f"{self.name}.py"

    @property
    def built_in(self) -> bool:
        return self.checks_module.startswith("grader.checks.")

    def checks(self) -> list:
        """The CheckSpecs of this exercise, in order (imports its check module, and torch)."""
        from .registry import checks_of

        return checks_of(import_module(self.checks_module))

    def points(self) -> float:
        """The exercise's total points, read from its check module's source so that torch stays unimported."""
        from .registry import declared_checks

        try:
            spec = importlib.util.find_spec(self.checks_module)
            declared = declared_checks(Path(spec.origin).read_text(encoding="utf-8")) if spec and spec.origin else []
        except (ImportError, OSError, SyntaxError, ValueError):  # no source beside the package, or non-literal points
            declared = []
        if not declared:
            return sum(spec.points for spec in self.checks())
        return sum(points for _, points in declared)

    def statement(self) -> str:
        """The task statement, as Markdown."""
        if self.statement_file is not None:
            return Path(self.statement_file).read_text(encoding="utf-8")
        from importlib.resources import files  # here, not at the top: it costs `cnn-grade --help` ~10 ms

        return files("grader").joinpath("statements", f"{self.name}.md").read_text(encoding="utf-8")

    def key(self, source: Path) -> Path | None:
        """Its solution key: `source/<name>.py` if the instructor's folder has one, else its own, else None."""
        candidate = Path(source) / self.filename
        if candidate.is_file():
            return candidate
        return self.key_file if self.key_file is not None and Path(self.key_file).is_file() else None


EXERCISES: tuple[Exercise, ...] = (
    Exercise("exercise1", 1, "conv2d", "Multi-channel 2-D convolution in NumPy", ("conv2d",),
             child_imports=("numpy",), blocked=ARRAY_LIBRARIES,
             aliases=("one", "ex1", "convolution", "numpy-conv"), default_seed=1001),
    Exercise("exercise2", 2, "receptive-field", "Receptive field and output size calculator",
             ("conv_output_size", "trace", "receptive_field", "layers_of"),
             child_imports=("numpy", "torch"),
             aliases=("two", "ex2", "receptive_field", "rf", "output-size"), default_seed=2002),
    Exercise("exercise3", 3, "three-block-cnn", "A 3-block CNN for 32x32 RGB images",
             ("ConvBlock", "ThreeBlockCNN", "block_shapes", "count_parameters", "mlp_baseline"),
             child_imports=TRAINING_IMPORTS, aliases=("three", "ex3", "cnn", "three_block_cnn"), default_seed=3003),
    Exercise("exercise4", 4, "residual-block", "A ResNet residual block", ("ResidualBlock",),
             child_imports=("numpy", "torch"), aliases=("four", "ex4", "resnet", "residual", "residual_block"),
             default_seed=4004),
    Exercise("exercise5", 5, "transfer-learning", "Transfer learning from a pretrained ResNet",
             ("replace_head", "freeze_except", "make_optimizer", "fine_tune"), child_imports=TRAINING_IMPORTS,
             aliases=("five", "ex5", "transfer", "fine-tune", "transfer_learning"), default_seed=5005),
)  # the built-in ones


def all_exercises() -> tuple[Exercise, ...]:
    """Every exercise: the built-in ones, then those the course's packs add, by number."""
    from .packs import added_exercises

    return EXERCISES + added_exercises(EXERCISES)


def resolve(name: str) -> Exercise:
    """Find an exercise by name ("exercise1"), number ("1") or alias ("conv2d")."""
    key = str(name).strip().lower()
    known = all_exercises()
    for ex in known:
        if key in (ex.name, str(ex.number), ex.slug, *ex.aliases):
            return ex
    names = ", ".join(f"{ex.name} ({ex.slug})" for ex in known)
    raise ToolError(f"Unknown exercise {name!r}. Known exercises: {names}.")
