"""Files the tool writes: whole or not at all (a temporary file and a rename)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from .errors import ToolError


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write text to path via a temporary file and a rename, creating parent folders; failure is a ToolError."""
    target = Path(path)
    try:
        replace_atomically(target, text)
    except OSError as e:
        reason = e.strerror or str(e)
        raise ToolError(f"Cannot write {target}: {reason}. Choose another path.") from None


def replace_atomically(target: Path, text: str) -> None:
    """Write text to target via a temporary file and a rename, creating parent folders; OSError on failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp makes the file 0600; keep the mode of the file being replaced, else a usual 0644.
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    # Same folder as the target, so os.replace is a rename on one file system, hence atomic.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
