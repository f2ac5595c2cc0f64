"""Mutants of a solution key: small deliberate bugs inside its marked solution regions.

Each mutant patches only the bytes it changes, so the rest of the key, its comments and (almost
always) its line numbers stay as they were, and a description can point at the key's own lines.
"""

from __future__ import annotations

import ast
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from .markers import Region, solution_regions

# operator name -> what it does, in the order a report lists them
OPERATORS = {
    "arithmetic": "+ ↔ -, * ↔ /, // → /, ** → *, and the same in augmented assignments",
    "sign": "a unary minus dropped",
    "condition": "< ↔ <=, > ↔ >=, == ↔ !=, is ↔ is not, in ↔ not in, and ↔ or, a `not` dropped",
    "constant": "an integer constant ± 1, True ↔ False",
    "arguments": "two neighbouring positional arguments of a call swapped",
    "delete": "a statement replaced by `pass` (a deleted `return` returns None)",
}
_ARITHMETIC = {ast.Add: (b"+", b"-"), ast.Sub: (b"-", b"+"), ast.Mult: (b"*", b"/"), ast.Div: (b"/", b"*"),
               ast.FloorDiv: (b"//", b"/"), ast.Pow: (b"**", b"*")}
_COMPARISON = {ast.Lt: (b"<", b"<="), ast.LtE: (b"<=", b"<"), ast.Gt: (b">", b">="), ast.GtE: (b">=", b">"),
               ast.Eq: (b"==", b"!="), ast.NotEq: (b"!=", b"=="), ast.Is: (b"is", b"is not"),
               ast.IsNot: (b"is not", b"is"), ast.In: (b"in", b"not in"), ast.NotIn: (b"not in", b"in")}
_BOOLEAN = {ast.And: (b"and", b"or"), ast.Or: (b"or", b"and")}
SNIPPET_WIDTH = 72

Patch = tuple[int, int, bytes]  # replace source bytes [start, end) with these bytes


@dataclass(frozen=True)
class Mutant:
    """One changed copy of a key: where, what changed, and the whole changed source."""

    operator: str  # a key of OPERATORS
    line: int  # 1-based line in the key where the change starts
    region: int  # index of the solution region it lies in
    before: str  # the changed line (or statement) as it was, shortened
    after: str  # the same as the mutant has it
    source: str = field(repr=False)  # the whole mutated key

    @property
    def description(self) -> str:
        """One line for a report, e.g. "line 87: `p_h + 1` → `p_h + 2`"."""
        return f"line {self.line}: `{self.before}` → `{self.after}`"


def generate(source: str, name: str = "<key>") -> list[Mutant]:
    """Every distinct mutant of the key's solution regions that compiles, in source order.

    A key that does not parse has no mutants (grading it shows why); bad markers raise MarkerError.
    """
    regions = solution_regions(source, name)
    try:
        tree = ast.parse(source, filename=name)
    except (SyntaxError, ValueError):
        return []
    data = source.encode("utf-8")
    starts = _line_starts(data)
    original = ast.dump(tree)
    found, seen = [], {data}
    for node in _region_nodes(tree, regions):
        for operator, patches in _patches(node, data, starts):
            mutated = _apply(data, patches)
            if mutated in seen:
                continue
            seen.add(mutated)
            text = mutated.decode("utf-8")
            try:
                if ast.dump(ast.parse(text, filename=name)) == original:
                    continue  # the same program spelt differently
                compile(text, name, "exec")
            except (SyntaxError, ValueError):
                continue
            line = _line_of(starts, patches[0][0])
            before, after = _snippets(data, starts, node, patches)
            found.append(Mutant(operator, line, _region_of(regions, line), before, after, text))
    found.sort(key=lambda m: (m.line, list(OPERATORS).index(m.operator)))
    return found


def sample(mutants: Sequence[Mutant], count: int, seed: int) -> list[Mutant]:
    """`count` mutants spread over regions, operators and lines, chosen by a fixed seed, in line order."""
    if count >= len(mutants):
        return list(mutants)
    rng = random.Random(seed)
    groups: dict[tuple[int, str], list[Mutant]] = {}
    for mutant in mutants:
        groups.setdefault((mutant.region, mutant.operator), []).append(mutant)
    queues = [list(group) for _, group in sorted(groups.items())]
    rng.shuffle(queues)
    used: Counter[int] = Counter()  # mutants taken per line, so one busy line does not take the sample
    chosen: list[Mutant] = []
    while len(chosen) < count:
        for queue in queues:
            if queue and len(chosen) < count:
                fewest = min(used[m.line] for m in queue)
                pick = rng.choice([m for m in queue if used[m.line] == fewest])
                queue.remove(pick)
                used[pick.line] += 1
                chosen.append(pick)
    chosen.sort(key=lambda m: (m.line, list(OPERATORS).index(m.operator)))
    return chosen


# -- finding the nodes and their patches ----------------------------------------------------------

def _region_nodes(tree: ast.AST, regions: list[Region]) -> Iterator[ast.AST]:
    """Nodes lying wholly inside one region's code lines, skipping f-strings (their positions are unreliable)."""
    def inside(node: ast.AST) -> bool:
        first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        return first is not None and any(first in r.body and last in r.body for r in regions)

    def walk(node: ast.AST) -> Iterator[ast.AST]:
        if isinstance(node, ast.JoinedStr):
            return
        if inside(node):
            yield node
        for child in ast.iter_child_nodes(node):
            yield from walk(child)

    return walk(tree)


def _patches(node: ast.AST, data: bytes, starts: list[int]) -> Iterator[tuple[str, list[Patch]]]:
    """The mutations of one node: (operator, patches) pairs."""
    def span(n: ast.AST) -> tuple[int, int]:
        return starts[n.lineno - 1] + n.col_offset, starts[n.end_lineno - 1] + n.end_col_offset

    def token(left: ast.AST, right: ast.AST, old: bytes, new: bytes) -> list[Patch]:
        """Replace the operator `old` found between two operands (outside comments and parentheses)."""
        gap_start, gap_end = span(left)[1], span(right)[0]
        at = _find_token(data[gap_start:gap_end], old)
        return [] if at < 0 else [(gap_start + at, gap_start + at + len(old), new)]

    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        yield "arithmetic", token(node.left, node.right, *_ARITHMETIC[type(node.op)])
    elif isinstance(node, ast.AugAssign) and type(node.op) in _ARITHMETIC:
        old, new = _ARITHMETIC[type(node.op)]
        yield "arithmetic", token(node.target, node.value, old + b"=", new + b"=")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        operator = "sign" if isinstance(node.op, ast.USub) else "condition"
        yield operator, [(span(node)[0], span(node.operand)[0], b"")]
    elif isinstance(node, ast.Compare):
        for left, op, right in zip([node.left, *node.comparators], node.ops, node.comparators):
            if type(op) in _COMPARISON:
                yield "condition", token(left, right, *_COMPARISON[type(op)])
    elif isinstance(node, ast.BoolOp):
        for left, right in zip(node.values, node.values[1:]):
            yield "condition", token(left, right, *_BOOLEAN[type(node.op)])
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        yield "constant", [(*span(node), str(not node.value).encode())]
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        for value in (node.value - 1, node.value + 1):
            yield "constant", [(*span(node), str(value).encode())]
    elif isinstance(node, ast.Call):
        args = node.args
        for a, b in zip(args, args[1:]):
            if not isinstance(a, ast.Starred) and not isinstance(b, ast.Starred):
                (a0, a1), (b0, b1) = span(a), span(b)
                yield "arguments", [(a0, a1, data[b0:b1]), (b0, b1, data[a0:a1])]
    if isinstance(node, ast.stmt) and not isinstance(node, ast.Pass) and not _is_docstring(node):
        start, end = span(node)
        # Blank lines where the statement was keep every later line where it was.
        yield "delete", [(start, end, b"pass" + b"\n" * (node.end_lineno - node.lineno))]


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _find_token(gap: bytes, token: bytes) -> int:
    """Where `token` stands in the text between two operands, comments blanked; -1 if absent."""
    blanked = b"\n".join(line.split(b"#", 1)[0].ljust(len(line)) for line in gap.split(b"\n"))
    if token[:1].isalpha():  # a keyword operator: match whole words only
        words = blanked.replace(b"(", b" ").replace(b")", b" ").replace(b"\\", b" ")
        at = f" {words.decode('utf-8', 'replace')} ".find(f" {token.decode()} ")
        return at  # the padding space and the leading space cancel out
    return blanked.find(token)


# -- text helpers -----------------------------------------------------------------------------

def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    for index, byte in enumerate(data):
        if byte == 0x0A:
            starts.append(index + 1)
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:  # the last line start at or before offset
        middle = (low + high + 1) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low + 1


def _region_of(regions: list[Region], line: int) -> int:
    return next((i for i, r in enumerate(regions) if line in r.body), 0)


def _apply(data: bytes, patches: list[Patch]) -> bytes:
    if not patches:
        return data
    for start, end, new in sorted(patches, reverse=True):
        data = data[:start] + new + data[end:]
    return data


def _snippets(data: bytes, starts: list[int], node: ast.AST, patches: list[Patch]) -> tuple[str, str]:
    """The changed line before and after when the change is on one line, else the changed node's text."""
    lines = {_line_of(starts, p[0]) for p in patches} | {_line_of(starts, max(p[0], p[1] - 1)) for p in patches}
    if len(lines) == 1 and not any(b"\n" in p[2] for p in patches):
        line = lines.pop()
        begin, end = starts[line - 1], (starts[line] - 1 if line < len(starts) else len(data))
    else:
        begin = starts[node.lineno - 1] + node.col_offset
        end = starts[node.end_lineno - 1] + node.end_col_offset
    inner = [(s - begin, e - begin, new) for s, e, new in patches]
    before, after = data[begin:end], _apply(data[begin:end], inner)
    return _shorten(_squeeze(before), _squeeze(after))


def _squeeze(text: bytes) -> str:
    return " ".join(text.decode("utf-8", "replace").split())


def _shorten(before: str, after: str, width: int = SNIPPET_WIDTH) -> tuple[str, str]:
    """Both texts cut to about `width` characters around where they differ."""
    if max(len(before), len(after)) <= width:
        return before, after
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    start = max(0, prefix - width // 3)

    def cut(text: str) -> str:
        piece = text[start:start + width]
        return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")

    return cut(before), cut(after)
