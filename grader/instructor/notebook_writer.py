"""Writing an exercise's Jupyter notebook from its stub (reading notebooks for grading is grader.grading.notebook_reader).

The notebook holds the statement as markdown, the stub as code cells (imports, one cell per top-level
def or class, the demo), and a last cell that grades the notebook. It is rebuilt byte for byte: cell
ids come from the exercise name and the cell's position, and nothing depends on time or machine.
"""

from __future__ import annotations

import ast
import re
import string

from ..grading.exercises import Exercise

NBFORMAT_MINOR = 5  # the first minor version with cell ids
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
_FENCE = re.compile(r"^\s*(```|~~~)")
# The last cell. `sys.executable -m grader`, not `!cnn-grade`: a kernel need not have the course's
# environment on its PATH, and a shell command that is not found still leaves the cell looking
# successful. Exit 1 is a score below full marks, anything else a failure to grade (see the CLI).
# The report shows as the HTML page (pictures included) where the notebook can show HTML, and as the
# terminal's text elsewhere (one display, both forms: the front end picks). "Grading ..." shows
# meanwhile and is then replaced. The reader knows this cell by its `"-m", "grader"` and skips it.
_GRADING_CELL = string.Template("""\
# Grades $file as saved on disk, with the Python running this notebook (grading skips this cell).
import importlib.util, os, subprocess, sys, tempfile
from pathlib import Path
from IPython.display import display

if importlib.util.find_spec("grader") is None:
    raise ModuleNotFoundError(f"cnn-grade is not installed for {sys.executable}: choose the course's kernel "
                              "(Kernel > Change Kernel), or install the course package into this Python.")
shown = display({"text/plain": "Grading $file ..."}, raw=True, display_id=True)
with tempfile.TemporaryDirectory() as folder:
    page = Path(folder, "report.html")
    command = [sys.executable, "-m", "grader", "$name", "--file", "$file",
               "--format", "html", "--out", str(page)]  # the page to a file, the text report to stdout
    grading = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8",
                             errors="replace", env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    report = {"text/plain": grading.stdout}  # the text report (or the reason it could not grade)
    if page.is_file():
        report["text/html"] = page.read_text(encoding="utf-8")
shown.update(report, raw=True)
if grading.returncode == 1:
    print("Not every check passed yet: the report above says what to fix.", file=sys.stderr)
elif grading.returncode:
    raise RuntimeError(f"cnn-grade could not grade $file (exit code {grading.returncode}): see the message above.")""")


def stub_notebook(exercise: Exercise, stub: str, placeholder: str) -> str:
    """The .ipynb text of `exercise` for the stub source `stub`, the same every time for the same input."""
    import nbformat
    from nbformat import v4

    doc, code, demo = split_stub(stub)
    name = exercise.name
    cells: list[tuple[str, str]] = [("markdown", s) for s in statement_sections(exercise.statement())]
    cells.append(("markdown", _your_code(name, placeholder)))
    if doc:
        cells.append(("markdown", doc))
    cells += [("code", c) for c in code]
    if demo:
        cells += [("markdown", f"Try it: the cell below is the demo at the end of `{name}.py`."), ("code", demo)]
    cells += [("markdown", _grade_it(name)), ("code", grading_cell(name, f"{name}.ipynb"))]

    made = []
    for index, (kind, source) in enumerate(cells):
        cell_id = f"{name}-{index:02d}"
        made.append(v4.new_markdown_cell(source, id=cell_id) if kind == "markdown"
                    else v4.new_code_cell(source, id=cell_id))
    notebook = v4.new_notebook(cells=made, metadata=METADATA)
    notebook.nbformat_minor = NBFORMAT_MINOR
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def split_stub(stub: str) -> tuple[str, list[str], str]:
    """The stub as (module docstring, code cells, `if __name__ == "__main__":` demo).

    Code is cut before each top-level def or class, together with its decorators and the comment
    lines right above it; what comes before the first one (the imports) is a cell of its own.
    Joined in order, the code cells and the demo are the stub without its docstring.
    """
    tree = ast.parse(stub)
    lines = stub.splitlines()
    body = tree.body
    doc = ""
    skip = range(0)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0].value, "value", None), str):
        doc = ast.get_docstring(tree) or ""
        skip = range(body[0].lineno - 1, body[0].end_lineno)
    starts, demo_start = [], None
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            starts.append(_start(node, lines))
        elif _is_main_guard(node):
            demo_start = _start(node, lines)
            starts.append(demo_start)
    bounds = [0, *starts, len(lines)]
    chunks = []
    for begin, end in zip(bounds, bounds[1:]):
        text = "\n".join(line for i, line in enumerate(lines[begin:end], start=begin) if i not in skip).strip("\n")
        chunks.append((begin, text))
    code = [text for begin, text in chunks if text.strip() and begin != demo_start]
    demo = next((text for begin, text in chunks if begin == demo_start), "")
    return doc, code, demo


def statement_sections(markdown: str) -> list[str]:
    """The statement cut before each `## ` heading (outside code fences), one markdown cell each."""
    sections: list[list[str]] = [[]]
    fenced = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        if line.startswith("## ") and not fenced and any(s.strip() for s in sections[-1]):
            sections.append([])
        sections[-1].append(line)
    return [text for text in ("\n".join(s).strip("\n") for s in sections) if text.strip()]


def _start(node: ast.stmt, lines: list[str]) -> int:
    """The 0-based first line of a top-level statement, counting its decorators and the comments just above."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    while first > 0 and lines[first - 1].startswith("#"):
        first -= 1
    return first


def _is_main_guard(node: ast.stmt) -> bool:
    """True for `if __name__ == "__main__":`, written either way round."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare) or len(node.test.comparators) != 1:
        return False
    sides = {ast.unparse(node.test.left), ast.unparse(node.test.comparators[0])}
    return isinstance(node.test.ops[0], ast.Eq) and sides == {"__name__", "'__main__'"}


def grading_cell(name: str, file: str) -> str:
    """The notebook's last cell: grade the saved `file` with the kernel's own Python, failing visibly if grading fails."""
    return _GRADING_CELL.substitute(name=name, file=file)


def _your_code(name: str, placeholder: str) -> str:
    marker = placeholder.strip().splitlines()[0] if placeholder.strip() else "the empty lines"
    return (f"## Your code\n\n"
            f"The code cells below hold the stub `{name}.py`. Replace each `{marker}` with your code, keeping "
            f"the names and signatures, and run the cells from the top after each change.\n\n"
            f"You can work here or in `{name}.py`: `cnn-grade {name}` grades the one you changed "
            f"(if you change both, choose with `--file`). When grading, the code cells run in order; "
            f"lines starting with `%` or `!`, and `obj?` help lines, are skipped.")


def _grade_it(name: str) -> str:
    return (f"## Grade it\n\n"
            f"**Save the notebook first** (Ctrl+S, or File → Save): the grader reads the file on disk, not "
            f"what the browser shows. Then run the cell below, or `cnn-grade {name}` in a terminal.")
