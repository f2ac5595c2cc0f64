"""`cnn-grade build`: student stubs and notebooks from the solution keys, in place or as a release folder.

Every file build writes is recorded, with its SHA-256, in exercises/.cnn-grade-build.json. A file
that is neither what build would write now nor what it wrote last time was changed by someone, and
is only replaced with --force, after a copy of it is kept beside it.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolError
from ..grading.exercises import Exercise, all_exercises
from .markers import DEFAULT_PLACEHOLDER, make_stub, solution_regions
from .notebook_writer import stub_notebook
from .release import RELEASE_TREES, release_files, release_folder
from ..files import write_atomic

MANIFEST = "exercises/.cnn-grade-build.json"


@dataclass(frozen=True)
class BuiltFile:
    """One file of the build and what happened to it."""

    path: str  # relative to the build's root, with forward slashes
    action: str  # "created", "updated", "unchanged" or "backed up + updated"
    backup: str = ""  # where the replaced file was copied, relative to the root


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote, where, and from which keys."""

    root: Path  # the course folder (in place) or the release folder
    release: bool
    exercises: tuple[str, ...]  # built from a key
    without_key: tuple[str, ...]  # exercises with no key in the source folder
    files: tuple[BuiltFile, ...]
    recorded: bool  # the manifest of hashes was (re)written
    notes: tuple[str, ...] = ()

    @property
    def written(self) -> int:
        return sum(f.action != "unchanged" for f in self.files)


def build_release(*, source: Path, out: Path | None = None, force: bool = False,
                  placeholder: str | None = None) -> BuildResult:
    """Write the stubs and notebooks of every key in `source`; with `out`, a whole student release there."""
    source = Path(source).expanduser()
    placeholder = DEFAULT_PLACEHOLDER if placeholder is None else placeholder
    files: dict[str, str | bytes] = dict(exercise_files(source, placeholder))
    built = tuple(ex.name for ex in all_exercises() if f"exercises/{ex.filename}" in files)
    root = source.resolve().parent
    if out is not None:
        root = release_folder(Path(out), source)
        files.update(release_files([ex for ex in all_exercises() if ex.name in built]))
    notes = ()
    if "NotImplementedError" not in placeholder:
        notes = ("With this placeholder the stubs do not raise NotImplementedError, so `cnn-grade list` shows "
                 "them as edited, and a folder holding both exerciseN.py and exerciseN.ipynb needs --file.",)
    return BuildResult(root, out is not None, built, tuple(ex.name for ex in all_exercises() if ex.name not in built),
                       *_apply(root, files, force), notes)


def exercise_files(source: Path, placeholder: str = DEFAULT_PLACEHOLDER) -> dict[str, str]:
    """The stub and notebook of every exercise with a key in `source`, by path relative to the course folder."""
    if not source.is_dir():
        raise ToolError(f"No solutions folder at {source}: pass --source with the folder of keys "
                        f"(files with # BEGIN SOLUTION / # END SOLUTION markers).")
    files = {}
    for exercise in all_exercises():
        key = exercise.key(source)
        if key is not None:
            stub = _stub(exercise, key, placeholder)
            files[f"exercises/{exercise.filename}"] = stub
            files[f"exercises/{exercise.name}.ipynb"] = stub_notebook(exercise, stub, placeholder)
    if not files:
        expected = ", ".join(ex.filename for ex in all_exercises())
        raise ToolError(f"No keys in {source}: expected one or more of {expected}.")
    return files


def _stub(exercise: Exercise, key: Path, placeholder: str) -> str:
    """The student stub of one key; a key without markers or a stub that does not parse is a ToolError."""
    try:
        text = key.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ToolError(f"Cannot read {key}: {getattr(e, 'strerror', None) or e}") from None
    if not solution_regions(text, str(key)):
        raise ToolError(f"{key} has no # BEGIN SOLUTION / # END SOLUTION markers: its stub would be the whole key.")
    stub = make_stub(text, str(key), placeholder)
    try:
        ast.parse(stub)
    except SyntaxError as e:
        raise ToolError(f"The stub made from {key} is not valid Python (stub line {e.lineno}: {e.msg}); "
                        f"check the placeholder and the indentation of the markers.") from None
    return stub


# -- writing, without losing anyone's work -------------------------------------------------------


def _apply(root: Path, files: dict[str, str | bytes], force: bool) -> tuple[tuple[BuiltFile, ...], bool]:
    """Write what changed; refuse, or with `force` back up first, files changed since the last build."""
    recorded = _read_manifest(root / MANIFEST)
    actions = {relative: _classify(root / relative, content, recorded.get(relative))
               for relative, content in files.items()}
    changed = [relative for relative, action in actions.items() if action == "changed"]
    if changed and not force:
        raise ToolError(f"Not overwriting {len(changed)} file(s) in {root} that someone changed (they are neither "
                        f"what build wrote last nor what it would write now): {', '.join(changed)}. Run cnn-grade "
                        f"build --force to replace them; each is first copied to a .bak-<time> file beside it.")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results = []
    for relative, content in files.items():
        target, backup = root / relative, ""
        if actions[relative] == "changed":
            backup_path = _free_name(target.with_name(f"{target.name}.bak-{stamp}"))
            _write(backup_path, target.read_bytes())
            backup, actions[relative] = backup_path.relative_to(root).as_posix(), "backed up + updated"
        if actions[relative] != "unchanged":
            _write(target, content)
        results.append(BuiltFile(relative, actions[relative], backup))
    return tuple(results), _record(root, recorded, files)


def _classify(target: Path, content: str | bytes, recorded_hash: str | None) -> str:
    """"unchanged", "created", "updated" (build wrote it and nobody touched it since) or "changed" (someone did)."""
    if target.is_dir():
        raise ToolError(f"{target} is a folder; build needs to write a file there.")
    try:
        current = target.read_bytes()
    except FileNotFoundError:
        return "created"
    except OSError as e:
        raise ToolError(f"Cannot read {target}: {e.strerror or e}") from None
    if current == _bytes(content):
        return "unchanged"
    return "updated" if recorded_hash == _sha256(current) else "changed"


def _record(root: Path, recorded: dict[str, str], files: dict[str, str | bytes]) -> bool:
    """Write the manifest of hashes if it changed (entries of files no longer built are kept while they exist)."""
    kept = {k: v for k, v in recorded.items() if k not in files and (root / k).is_file()}
    hashes = {**kept, **{relative: _sha256(_bytes(content)) for relative, content in files.items()}}
    text = json.dumps({"written_by": "cnn-grade build", "sha256": dict(sorted(hashes.items()))}, indent=1) + "\n"
    path = root / MANIFEST
    if path.is_file() and path.read_text(encoding="utf-8", errors="replace") == text:
        return False
    _write(path, text)
    return True


def _read_manifest(path: Path) -> dict[str, str]:
    """The hashes build recorded; none when the manifest is missing or unreadable (every file counts as changed)."""
    try:
        hashes = json.loads(path.read_text(encoding="utf-8")).get("sha256", {})
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(hashes, dict):
        return {}
    return {k: v for k, v in hashes.items() if isinstance(k, str) and isinstance(v, str)}


def _free_name(path: Path) -> Path:
    """`path`, or `path-2`, `path-3`, ... if a backup of that second already exists."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(path: Path, content: str | bytes) -> None:
    """Write atomically (a temporary file, then a rename); an OS error becomes a ToolError."""
    try:
        if isinstance(content, str):
            write_atomic(path, content)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(content)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    except OSError as e:
        raise ToolError(f"Cannot write {path}: {e.strerror or e}") from None


# -- display -------------------------------------------------------------------------------------


def print_build(result: BuildResult, console) -> None:
    """A table of the files and what happened to each (copied trees summed up), then one line."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("file")
    table.add_column("action")
    groups: dict[str, list[str]] = {}
    for f in result.files:
        top = f.path.split("/", 1)[0]
        if result.release and top in RELEASE_TREES and not f.backup:
            groups.setdefault(top, []).append(f.action)
            continue
        shown = f"{f.action} (old copy: {f.backup})" if f.backup else f.action
        table.add_row(escape(f.path), _styled(escape(shown), f.action))
    for top, actions in groups.items():
        counts = ", ".join(f"{actions.count(a)} {a}" for a in ("created", "updated", "unchanged") if a in actions)
        table.add_row(f"{top}/ ({len(actions)} files)", _styled(counts, "unchanged" if set(actions) == {"unchanged"}
                                                                else "updated"))
    console.print(table)
    where = f"the release in {_shown(result.root)}" if result.release else str(_shown(result.root / "exercises"))
    where = escape(where)
    summary = (f"Built {', '.join(result.exercises)} into {where}: {result.written} file(s) written, "
               f"{len(result.files) - result.written} unchanged.")
    if result.written == 0:
        summary = f"Up to date: {where} already holds what the keys give; nothing written."
        if result.recorded:
            summary = f"Up to date: {where} already holds what the keys give; recorded their hashes in {MANIFEST}."
    console.print(summary)
    if result.without_key:
        console.print(f"[yellow]No key for {', '.join(result.without_key)}: not built.[/]")
    for note in result.notes:
        console.print(f"[yellow]Note:[/] {note}")


def _styled(text: str, action: str) -> str:
    style = {"unchanged": "dim", "backed up + updated": "yellow"}.get(action, "green")
    return f"[{style}]{text}[/]"


def _shown(path: Path) -> Path:
    """A path relative to the current folder when it lies inside it: shorter to read."""
    with contextlib.suppress(ValueError):
        return path.relative_to(Path.cwd().resolve())
    return path
