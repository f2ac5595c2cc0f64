"""The hostile submissions: what each expects (read from its docstring), and the ones generated at run time.

A submission's docstring holds machine-readable lines after its first sentence:

    exercise: exercise1             the exercise it is graded as
    statuses: crashed failed        the exact set of statuses its checks end with
    passes: none | all | a b ...    the checks allowed to pass (the honest part); repeat the line for more
    checks: a b ...                 grade only these checks (slow hostility, same verdicts)
    options: timeout=1 memory_mb=512   keyword arguments of grade_exercise
    via: cli                        run as `python -m grader` in a subprocess (it attacks its parent)
    cli: stdout                     read the JSON report from stdout instead of --output
    report: optional                the grader may die instead of writing a report (then it must exit nonzero)
    marker: yes                     @MARKER@ in the source becomes a unique word naming its processes
    env: NAME=value                 set for the grading run
    message: text                   every check's message must contain it
    secret: text                    must appear nowhere in what the grader prints or writes
    note: ...                       for people
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
KEYS = ("exercise", "statuses", "passes", "checks", "options", "via", "cli", "report", "marker", "env", "message",
        "secret", "note")
_DOCSTRING = re.compile(r'\A\s*"""(.*?)"""', re.S)


@dataclass(frozen=True)
class Case:
    """One hostile submission and the verdict it must get."""

    name: str
    exercise: str
    statuses: frozenset[str]
    passes: frozenset[str] | None  # None: every check may pass
    summary: str = ""
    checks: tuple[str, ...] | None = None
    options: dict = field(default_factory=dict)
    via: str = "engine"  # or "cli"
    cli: str = "output"  # where a cli run's JSON report is read: the --output file or stdout
    report_optional: bool = False
    marker: bool = False
    env: dict = field(default_factory=dict)
    message: str = ""
    secret: str = ""
    absent: str = ""  # a file name (in the run's folder) the submission tries to create and must not
    source: Path | None = None  # a committed file; None for generated ones
    make: Callable[[Path], Path] | None = None  # writes a generated submission into a folder, returns its path

    def materialise(self, folder: Path) -> tuple[Path, str]:
        """The file to grade, written into `folder`, and the unique marker its processes carry ('' if none)."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.make is not None:
            return self.make(folder), ""
        marker = f"cnn-adv-{self.name}-{uuid.uuid4().hex[:12]}" if self.marker else ""
        text = self.source.read_text(encoding="utf-8")
        path = folder / self.source.name
        path.write_text(text.replace("@MARKER@", marker), encoding="utf-8")
        return path, marker


def parse(path: Path) -> Case:
    """A committed submission's Case, from its docstring (read as text: some files do not parse, on purpose)."""
    match = _DOCSTRING.match(path.read_text(encoding="utf-8"))
    if not match:
        raise ValueError(f"{path.name} has no docstring")
    summary, *rest = match.group(1).strip().splitlines()
    fields: dict[str, str] = {}
    for line in rest:
        key, sep, value = line.partition(":")
        if sep and key.strip() in KEYS:
            fields[key.strip()] = (fields.get(key.strip(), "") + " " + value.strip()).strip()  # a key may repeat
    passes = fields.get("passes", "none")
    env = dict(pair.split("=", 1) for pair in fields.get("env", "").split())
    options = {k: _number(v) for k, v in (pair.split("=", 1) for pair in fields.get("options", "").split())}
    return Case(path.stem, fields["exercise"], frozenset(fields["statuses"].split()),
                None if passes == "all" else frozenset() if passes == "none" else frozenset(passes.split()),
                summary=summary, checks=tuple(fields["checks"].split()) if "checks" in fields else None,
                options=options, via=fields.get("via", "engine"), cli=fields.get("cli", "output"),
                report_optional=fields.get("report") == "optional", marker=fields.get("marker") == "yes",
                env=env, message=fields.get("message", ""), secret=fields.get("secret", ""), source=path)


def _number(text: str) -> float | int:
    return float(text) if "." in text else int(text)


# -- generated submissions: files that cannot (or should not) be committed --------------------------
def _write(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return make


def _notebook(name: str, *cells: tuple[str, str], raw: str | None = None) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        import nbformat
        from nbformat import v4

        path = folder / name
        if raw is not None:
            path.write_text(raw, encoding="utf-8")
            return path
        made = [v4.new_markdown_cell(text) if kind == "markdown" else
                v4.new_code_cell(text.replace("@DIR@", str(folder))) for kind, text in cells]
        path.write_text(nbformat.writes(v4.new_notebook(cells=made)), encoding="utf-8")
        return path

    return make


ZEROS = ("import numpy as np\n\n\n"
         "def conv2d(x, weight, bias=None, stride=1, padding=0):\n    return np.zeros((1, 1, 1))\n")


def generated() -> list[Case]:
    """Empty, binary, huge and non-UTF-8 files, and hostile notebooks, built at run time."""
    error = dict(exercise="exercise1", statuses=frozenset({"error"}), passes=frozenset())
    failed = dict(error, statuses=frozenset({"failed"}))
    return [
        Case("empty_file", summary="an empty exercise1.py (no code yet)", make=_write("empty_file.py", b""), **failed),
        Case("binary_file", summary="random bytes with NULs, named .py",
             make=_write("binary_file.py", bytes(range(256)) * 64), **error),
        Case("ten_megabytes", summary="10 MB of valid Python (a comment, repeated)",
             make=_write("ten_megabytes.py", ZEROS.encode() + b"# padding padding padding\n" * 400_000), **error),
        Case("not_utf8", summary="Latin-1 text (an accented comment) that is not UTF-8",
             make=_write("not_utf8.py", "# caf\u00e9 cr\u00e8me\n".encode("latin-1") + ZEROS.encode()), **error),
        Case("notebook_shell_escapes", summary="a notebook running shell escapes and magics before a wrong conv2d",
             absent="pwned",
             make=_notebook("notebook_shell_escapes.ipynb", ("markdown", "# conv2d"),
                            ("code", "!touch @DIR@/pwned\nfiles = !ls @DIR@\n%system touch @DIR@/pwned"),
                            ("code", "%%bash\ntouch @DIR@/pwned"), ("code", ZEROS)), **failed),
        Case("notebook_get_ipython", summary="a notebook that calls get_ipython().system(...) at import",
             absent="pwned",
             make=_notebook("notebook_get_ipython.ipynb",
                            ("code", "get_ipython().system('touch @DIR@/pwned')"), ("code", ZEROS)), **error),
        Case("notebook_invalid_json", summary="a notebook cut off in the middle of its JSON",
             make=_notebook("notebook_invalid_json.ipynb", raw='{"cells": [{"cell_type": "code", "source": "imp'),
             **error),
        Case("notebook_not_cells", summary="valid JSON whose cells are numbers",
             make=_notebook("notebook_not_cells.ipynb", raw='{"cells": [1, 2, 3], "nbformat": 4, "nbformat_minor": 5}'),
             **error),
    ]


def all_cases() -> list[Case]:
    """Every committed submission, then the generated ones."""
    return [parse(p) for p in sorted(SUBMISSIONS.glob("*.py"))] + generated()
