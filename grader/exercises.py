"""The course's exercises: names, titles, what each child may import, and name resolution."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from .errors import ToolError

CHECKS_FOLDER = Path(__file__).resolve().parent / "checks"

# Array and ML libraries that would do exercise 1's work for the student.
ARRAY_LIBRARIES = ("torch", "scipy", "tensorflow", "jax", "jaxlib", "cupy", "numba", "sklearn", "skimage",
                   "cv2", "keras", "mxnet", "paddle", "theano", "chainer", "tinygrad", "dask", "torchvision")


@dataclass(frozen=True)
class Exercise:
    """One exercise: how it is named, what students implement, and how its child runs."""

    name: str  # "exercise1"
    number: int
    slug: str  # a readable alias, e.g. "conv2d"
    title: str
    functions: tuple[str, ...]  # the names the contract asks for
    child_imports: tuple[str, ...]  # trusted imports done in the child before student code
    blocked: tuple[str, ...] = ()  # libraries refused, statically and at run time
    aliases: tuple[str, ...] = ()
    default_seed: int = 0

    @property
    def checks_module(self) -> str:
        return f"grader.checks.{self.name}"

    @property
    def filename(self) -> str:
        return f"{self.name}.py"

    def checks(self) -> list:
        """The CheckSpecs of this exercise, in order (imports its check module, and torch)."""
        from .registry import checks_of

        return checks_of(import_module(self.checks_module))

    def points(self) -> float:
        """The exercise's total points, read from its check module's source so that torch stays unimported."""
        from .registry import declared_checks

        try:
            declared = declared_checks((CHECKS_FOLDER / self.filename).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):  # no source beside the package, or points that are not literals
            declared = []
        if not declared:
            return sum(spec.points for spec in self.checks())
        return sum(points for _, points in declared)

    def statement(self) -> str:
        """The task statement, as Markdown."""
        from importlib.resources import files  # here, not at the top: it costs `cnn-grade --help` ~10 ms

        return files("grader").joinpath("statements", f"{self.name}.md").read_text(encoding="utf-8")


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
             child_imports=("numpy", "torch"), aliases=("three", "ex3", "cnn", "three_block_cnn"), default_seed=3003),
    Exercise("exercise4", 4, "residual-block", "A ResNet residual block", ("ResidualBlock",),
             child_imports=("numpy", "torch"), aliases=("four", "ex4", "resnet", "residual", "residual_block"),
             default_seed=4004),
    Exercise("exercise5", 5, "transfer-learning", "Transfer learning from a pretrained ResNet",
             ("replace_head", "freeze_except", "make_optimizer", "fine_tune"), child_imports=("numpy", "torch"),
             aliases=("five", "ex5", "transfer", "fine-tune", "transfer_learning"), default_seed=5005),
)


def resolve(name: str) -> Exercise:
    """Find an exercise by name ("exercise1"), number ("1") or alias ("conv2d")."""
    key = str(name).strip().lower()
    for ex in EXERCISES:
        if key in (ex.name, str(ex.number), ex.slug, *ex.aliases):
            return ex
    known = ", ".join(f"{ex.name} ({ex.slug})" for ex in EXERCISES)
    raise ToolError(f"Unknown exercise {name!r}. Known exercises: {known}.")
