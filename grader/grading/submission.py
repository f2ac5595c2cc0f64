"""Finding and reading a student's file, and the static checks done before any of it runs."""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import NoSubmission, ToolError
from .exercises import Exercise
from .notebook_reader import NotebookError, NotebookSource, read_notebook

SUFFIXES = (".py", ".ipynb")
BUILD_RECORD = ".cnn-grade-build.json"  # written by `cnn-grade build` beside the stubs
MAX_BYTES = 1_000_000  # a larger file is refused: no exercise needs it
MAX_NOTEBOOK_BYTES = 20_000_000  # notebooks carry outputs (plots!); their code still obeys MAX_BYTES
# Ways to reach a module without an import statement; refused where imports are restricted.
DYNAMIC_IMPORT_NAMES = frozenset({"__import__", "importlib", "builtins", "__builtins__", "exec", "eval",
                                  "compile", "globals", "__loader__", "__spec__", "ctypes", "subprocess",
                                  # the import machinery, and ways to dig a builtin out of an object
                                  "meta_path", "path_hooks", "path_importer_cache", "__subclasses__",
                                  "__globals__", "__closure__", "__code__", "__self__", "vars", "locals"})
# Ways to reach the grader's own objects in the child (the code that turns results into data).
DIGGING_NAMES = frozenset({"gc", "inspect", "_getframe", "f_globals", "f_locals", "f_back", "f_builtins", "tb_frame",
                           "gi_frame", "cr_frame", "ag_frame"})


@dataclass(frozen=True)
class Submission:
    """A student's file as read, with any problem that stops it from being run."""

    path: Path
    source: str
    problems: tuple[str, ...] = ()  # each a full message; non-empty means the code is not run
    notes: tuple[str, ...] = ()  # remarks that do not stop grading (e.g. notebook magics skipped)
    notebook: NotebookSource | None = None  # set for .ipynb files: maps source lines back to cells
    empty: bool = False  # parses, but holds no code yet (blank, comments, a docstring): nothing to run

    def place(self, line: int) -> str:
        """Where a line of the graded source is, in the student's terms: "line 12" or "cell 4, line 2"."""
        return self.notebook.place(line) if self.notebook else f"line {line}"

    def relabel(self, text: str) -> str:
        """Rewrite "line N" in a message about the graded source in the student's terms."""
        return self.notebook.relabel(text) if self.notebook else text


def locate(exercise: Exercise, file: str | Path | None = None, start: Path | None = None) -> Path:
    """The file to grade: --file if given, else exercises/<name>.py or .ipynb here or in a parent folder."""
    if file is not None:
        path = Path(file).expanduser()
        if not path.exists():
            raise ToolError(f"No such file: {path}")
        if not path.is_file():
            raise ToolError(f"Not a file: {path}")
        if path.suffix not in SUFFIXES:
            raise ToolError(f"Cannot grade {path.name}: give a .py file or a .ipynb notebook.")
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        found = find_in(exercise, folder / "exercises")
        if found is not None:
            return found
    raise NoSubmission(f"No exercises/{exercise.name}.py or .ipynb in {here} or its parent folders. "
                       f"Run cnn-grade from your course folder, or pass --file PATH.")


def find_in(exercise: Exercise, folder: Path) -> Path | None:
    """The one file of `exercise` in `folder` to grade, or None; a ToolError when both were edited.

    With both exerciseN.py and exerciseN.ipynb present, the one still equal to the released stub
    is the one the student did not work on, so the other is graded.
    """
    candidates = [folder / f"{exercise.name}{suffix}" for suffix in SUFFIXES]
    present = [p for p in candidates if p.is_file()]
    if len(present) < 2:
        return present[0] if present else None
    edited = [p for p in present if not _still_stub(exercise, p)]
    if len(edited) == 1:
        return edited[0]
    if not edited:
        return present[0]  # neither started: the .py scores the same zero
    raise ToolError(f"Both {present[0]} and {present[1].name} differ from the released stub: "
                    f"say which to grade with --file.")


def _still_stub(exercise: Exercise, path: Path) -> bool:
    """Unchanged since `cnn-grade build` wrote it (its recorded hash), or still only raising NotImplementedError."""
    try:
        if _released_hash(path) == hashlib.sha256(path.read_bytes()).hexdigest():
            return True
        sub = load(exercise, path)
    except (ToolError, OSError):
        return False
    return not sub.problems and is_stub(exercise, sub.source)


def _released_hash(path: Path) -> str | None:
    """The SHA-256 that `cnn-grade build` recorded for this file in exercises/.cnn-grade-build.json, if any."""
    try:
        recorded = json.loads((path.parent / BUILD_RECORD).read_text(encoding="utf-8"))["sha256"]
        value = recorded.get(f"{path.parent.name}/{path.name}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def load(exercise: Exercise, path: Path) -> Submission:
    """Read the file (a .py or a notebook's code cells) and run the static checks; unreadable files are tool errors."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ToolError(f"Cannot read {path}: {e.strerror or e}") from None
    is_notebook = path.suffix == ".ipynb"
    cap = MAX_NOTEBOOK_BYTES if is_notebook else MAX_BYTES
    if len(data) > cap:
        return Submission(path, "", (f"{path.name} is {len(data):,} bytes; files over {cap:,} bytes are not graded.",))
    if b"\0" in data:
        return Submission(path, "", (f"{path.name} is not a text file (it contains NUL bytes).",))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return Submission(path, "", (f"{path.name} is not UTF-8 text (byte {e.start}).",))
    if not is_notebook:
        return Submission(path, text, tuple(static_problems(exercise, text, path.name)), empty=not has_code(text))
    try:
        notebook = read_notebook(text, path.name)
    except NotebookError as e:
        return Submission(path, "", (str(e),))
    if len(notebook.source.encode()) > MAX_BYTES:
        return Submission(path, "", (f"The code cells of {path.name} hold over {MAX_BYTES:,} bytes; not graded.",))
    problems = tuple(notebook.relabel(p) for p in static_problems(exercise, notebook.source, path.name))
    return Submission(path, notebook.source, problems, notebook.notes, notebook, empty=not has_code(notebook.source))


def has_code(source: str) -> bool:
    """False for source with nothing to run: only blank lines, comments, `pass` or strings (a docstring)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return True  # a syntax error is code, and gets its own message
    return not all(_inert(node) for node in tree.body)


def _inert(node: ast.stmt) -> bool:
    # `pass` is also what the notebook reader leaves where magics were: a notebook of magics has no code either.
    text = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    return isinstance(node, ast.Pass) or text


def static_problems(exercise: Exercise, source: str, name: str) -> list[str]:
    """Syntax errors and refused imports, each as a message a student can act on."""
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as e:
        return [syntax_message(e, name)]
    except ValueError as e:  # e.g. source with NUL bytes that slipped through
        return [f"{name} cannot be parsed: {e}"]
    if not exercise.blocked:
        return []
    found: set[tuple[int, str]] = set()
    plain = f"{exercise.name} must use NumPy only, imported with plain import statements."
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        modules = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        for module in modules:
            top = module.partition(".")[0]
            if top in exercise.blocked:
                found.add((line, f"imports {module}. {exercise.name} must use NumPy only: write the computation yourself."))
            elif top in DYNAMIC_IMPORT_NAMES:
                found.add((line, f"imports {module}, which can load other libraries. {plain}"))
            elif top in DIGGING_NAMES:
                found.add((line, f"imports {module}, which reaches into the grader's code beside yours. {plain}"))
        word = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if word in DYNAMIC_IMPORT_NAMES:
            found.add((line, f"uses {word}, which can load other libraries. {plain}"))
        elif word in DIGGING_NAMES and not isinstance(node, ast.Name):  # an attribute: sys._getframe, frame.f_back
            found.add((line, f"uses {word}, which reaches into the grader's code beside yours. {plain}"))
        # getattr(obj, "__builtins__") and friends: the same names, spelled as strings
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in DYNAMIC_IMPORT_NAMES \
                and node.value.startswith("__"):
            found.add((line, f"names {node.value} in a string, a way to load other libraries. {plain}"))
        if (isinstance(node, ast.Attribute) and node.attr == "modules") or (
                isinstance(node, ast.ImportFrom) and node.module == "sys" and any(a.name == "modules" for a in node.names)):
            found.add((line, f"uses sys.modules. {plain}"))
    return [f"line {line}: {text}" for line, text in sorted(found)]


def syntax_message(error: SyntaxError, name: str) -> str:
    """A syntax error as Python shows it: the line, a caret under the spot, and the reason."""
    line = (error.text or "").rstrip("\n")
    stripped = line.lstrip()
    caret = ""
    if stripped and error.offset:
        caret = "\n    " + " " * max(0, error.offset - 1 - (len(line) - len(stripped))) + "^"
    code = f"\n    {stripped}{caret}" if stripped else ""
    return f"SyntaxError in {name}, line {error.lineno}: {error.msg}{code}"


def is_stub(exercise: Exercise, source: str) -> bool:
    """True while every function and class the contract asks for still only raises NotImplementedError."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    for name in exercise.functions:
        node = defined.get(name)
        if node is None:
            return False
        functions = [node] if isinstance(node, ast.FunctionDef) else [
            f for f in node.body if isinstance(f, ast.FunctionDef)]
        if not functions or not all(_only_raises(f.body) for f in functions):
            return False
    return True


def _only_raises(body: list[ast.stmt]) -> bool:
    """A body that is, past its docstring and a super().__init__() call, one `raise NotImplementedError`."""
    rest = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, (ast.Constant, ast.Call))
                                    and (isinstance(s.value, ast.Constant) or "super()" in ast.unparse(s.value)))]
    return len(rest) == 1 and isinstance(rest[0], ast.Raise) and "NotImplementedError" in ast.unparse(rest[0])
