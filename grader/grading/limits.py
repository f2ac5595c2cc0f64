"""The limits of one grading run: their defaults and what makes them valid, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ToolError

MIN_MEMORY_MB = 256  # Python and NumPy alone need about 100 MiB; torch more


@dataclass(frozen=True)
class Limits:
    """Time per call into student code, time for the whole run, and memory; ToolError when out of range."""

    timeout: float = 10.0  # seconds per call into student code
    total_timeout: float | None = 600.0  # the whole run; exercises 3 and 5 train models and need a minute at most
    memory_mb: int | None = 2048  # what the student's code may use (see SECURITY.md); None: not capped

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise ToolError("--timeout must be a positive number of seconds.")
        if self.total_timeout is not None and not self.total_timeout > 0:
            raise ToolError("--total-timeout must be a positive number of seconds.")
        if self.memory_mb is not None and self.memory_mb < MIN_MEMORY_MB:
            raise ToolError(f"--memory must be at least {MIN_MEMORY_MB} MiB: Python and NumPy alone need about 100.")


DEFAULT = Limits()
