"""Reading a student's Jupyter notebook: its code cells as one Python source, and where each line came from."""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass

MAX_NOTES = 5  # dropped lines listed one by one; the rest are counted
# Lines IPython would run but Python cannot: `%magic`, `!shell`, `x = !ls`, and help: `?obj`, `??obj`,
# `obj?`, `np.*zero*?`, `np.zeros(3)??`. A help line ends in `?` outside any comment or string; no Python
# line does. Lines that start inside a triple-quoted string are never taken for one.
_MAGIC = re.compile(r"^\s*(?:[%!]|[\w.,\s]+=\s*[%!]|\?|[^#'\"\s][^#'\"]*\?\s*$)")
# The notebook's own grading cell: `!cnn-grade ...` in old notebooks, `!... -m grader ...`, or the cell
# notebook_writer makes, which runs [sys.executable, "-m", "grader", ...].
_GRADING_LINE = re.compile(r"^\s*!(?:.*\s)?(?:cnn-grade|-m\s+grader)\b")
_GRADING_CALL = re.compile(r"""["']-m["']\s*,\s*["']grader["']""")
_LINE = re.compile(r"\bline (\d+)")


class NotebookError(Exception):
    """The file is not a notebook this tool can read; the message says why."""


@dataclass(frozen=True)
class NotebookSource:
    """The code cells of a notebook joined into one module, with a map back to cells."""

    source: str
    origins: tuple[tuple[int, int] | None, ...]  # per source line: (cell number, line in cell), 1-based
    notes: tuple[str, ...] = ()  # what was dropped and not run

    def place(self, line: int) -> str:
        """Say where source line `line` sits in the notebook: "cell 4, line 2"."""
        if 1 <= line <= len(self.origins) and self.origins[line - 1] is not None:
            cell, within = self.origins[line - 1]
            return f"cell {cell}, line {within}"
        return f"line {line}"

    def relabel(self, text: str) -> str:
        """Rewrite every "line N" of the joined source in `text` as "cell K, line J"."""
        return _LINE.sub(lambda m: self.place(int(m.group(1))), text)


def read_notebook(text: str, name: str) -> NotebookSource:
    """The code cells of the notebook in `text`, in order, with IPython-only lines dropped; or NotebookError."""
    cells = _cells(text, name)
    lines: list[str] = []
    origins: list[tuple[int, int] | None] = []
    dropped: list[str] = []
    for number, cell in enumerate(cells, start=1):
        kind, source = cell.get("cell_type"), cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(kind, str) or not isinstance(source, str):
            raise NotebookError(f"{name} is not a valid notebook: cell {number} has no readable type or source.")
        if kind != "code" or not source.strip():
            continue
        cell_lines = source.splitlines()
        if cell_lines and cell_lines[0].lstrip().startswith("%%"):
            # A cell magic (%%time, %%bash, ...) makes the whole cell IPython's business.
            dropped.append(f"cell {number}: the whole cell ({cell_lines[0].strip()[:40]})")
            continue
        if _GRADING_CALL.search(source):
            continue  # the notebook's grading cell: running it while grading would grade again
        if not _parses(source):
            inside = _in_string(cell_lines)
            cell_lines = [line if inside[i - 1] else _drop(line, number, i, dropped)
                          for i, line in enumerate(cell_lines, start=1)]
        for i, line in enumerate(cell_lines, start=1):
            lines.append(line)
            origins.append((number, i))
        lines.append("")  # a blank line between cells, as if each were its own paragraph
        origins.append(None)
    notes = ()
    if dropped:
        shown = "; ".join(dropped[:MAX_NOTES]) + (f"; and {len(dropped) - MAX_NOTES} more" if len(dropped) > MAX_NOTES else "")
        notes = (f"Not run: IPython magics, help lines and shell commands are skipped when grading ({shown}).",)
    return NotebookSource("".join(f"{line}\n" for line in lines), tuple(origins), notes)


def _cells(text: str, name: str) -> list:
    """The notebook's cells, read by nbformat (which also upgrades old versions); NotebookError otherwise."""
    import nbformat

    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated"):
            raise NotebookError(f"{name} is not a valid notebook: it ends too early (was it cut short, or saved "
                                f"while being written?). Save it again from Jupyter.") from None
        raise NotebookError(f"{name} is not a valid notebook: broken JSON at line {e.lineno}, column {e.colno} "
                            f"({e.msg}).") from None
    except RecursionError:
        raise NotebookError(f"{name} is not a valid notebook: its JSON is nested too deeply.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        raise NotebookError(f"{name} is not a valid notebook: it has no list of cells (is it a Jupyter notebook?).")
    for number, cell in enumerate(raw.get("cells") or [], start=1):
        if not isinstance(cell, dict):
            raise NotebookError(f"{name} is not a valid notebook: cell {number} is not a cell object.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about missing cell ids and the like
            notebook = nbformat.reads(text, as_version=4)
    except Exception as e:  # nbformat raises many kinds (KeyError, TypeError, ...) for malformed files
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise NotebookError(f"{name} does not follow the notebook format: {reason}") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise NotebookError(f"{name} is not a valid notebook: its cells are not cell objects.")
    return cells


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def _drop(line: str, cell: int, number: int, dropped: list[str]) -> str:
    """Replace an IPython-only line by `pass` at its indentation, so blocks and line numbers survive."""
    if not _MAGIC.match(line):
        return line
    if not _GRADING_LINE.match(line):  # the notebook's own grading command needs no remark
        dropped.append(f"cell {cell}, line {number}: {line.strip()[:60]}")
    return line[:len(line) - len(line.lstrip())] + "pass"


def _in_string(lines: list[str]) -> list[bool]:
    """For each line, whether it starts inside a triple-quoted string (so it is text, never a magic)."""
    inside: list[bool] = []
    quote = ""  # the triple quote we are in, if any
    for line in lines:
        inside.append(bool(quote))
        i = 0
        while i < len(line):
            if quote:
                if line.startswith(quote, i):
                    i, quote = i + 3, ""
                    continue
                i += 2 if line[i] == "\\" else 1
                continue
            char = line[i]
            if char == "#":
                break
            if char in "'\"":
                if line.startswith(char * 3, i):
                    i, quote = i + 3, char * 3
                    continue
                i += 1  # a one-line string: skip to its closing quote, or to the end of the line
                while i < len(line) and line[i] != char:
                    i += 2 if line[i] == "\\" else 1
            i += 1
    return inside
