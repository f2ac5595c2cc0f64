"""Solution markers in instructor keys: find the marked regions and turn a key into a student stub."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ToolError

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
DEFAULT_PLACEHOLDER = "raise NotImplementedError"
_MARKER = re.compile(r"^(?P<indent>[ \t]*)#\s*(?P<kind>BEGIN|END)\s+SOLUTION\b", re.IGNORECASE)


class MarkerError(ToolError):
    """An unbalanced or nested solution marker, naming the file and line."""


@dataclass(frozen=True)
class Region:
    """One marked solution: the marker lines (1-based) and the indentation of the BEGIN line."""

    begin: int  # line of `# BEGIN SOLUTION`
    end: int  # line of `# END SOLUTION`
    indent: str

    @property
    def body(self) -> range:
        """The 1-based line numbers of the solution code between the markers."""
        return range(self.begin + 1, self.end)


def solution_regions(source: str, name: str = "<key>") -> list[Region]:
    """Every BEGIN/END SOLUTION pair in order; a stray, missing or nested marker is a MarkerError."""
    regions, open_at, indent = [], None, ""
    for number, line in enumerate(source.splitlines(), start=1):
        match = _MARKER.match(line)
        if not match:
            continue
        if match["kind"].upper() == "BEGIN":
            if open_at is not None:
                raise MarkerError(f"{name}, line {number}: BEGIN SOLUTION inside the region opened on line {open_at}.")
            open_at, indent = number, match["indent"]
        else:
            if open_at is None:
                raise MarkerError(f"{name}, line {number}: END SOLUTION without a BEGIN SOLUTION before it.")
            regions.append(Region(open_at, number, indent))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{name}, line {open_at}: BEGIN SOLUTION is never closed by an END SOLUTION.")
    return regions


def make_stub(source: str, name: str = "<key>", placeholder: str = DEFAULT_PLACEHOLDER) -> str:
    """The key with every marked region (markers included) replaced by the placeholder, indented as the marker."""
    lines = source.splitlines(keepends=True)
    out, position = [], 0
    for region in solution_regions(source, name):
        out.extend(lines[position:region.begin - 1])
        newline = "\n" if lines[region.begin - 1].endswith("\n") else ""
        out.extend(f"{region.indent}{p}\n" for p in placeholder.splitlines() or [""])
        if not newline:
            out[-1] = out[-1].rstrip("\n")
        position = region.end
    out.extend(lines[position:])
    return "".join(out)
