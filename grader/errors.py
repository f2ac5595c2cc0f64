"""The two kinds of trouble: a tool error (exit 2) and what student code did inside a check."""

from __future__ import annotations

from dataclasses import dataclass


class ToolError(Exception):
    """Bad input to the tool itself (unknown exercise, missing file, bad option): exit 2."""


class NoSubmission(ToolError):
    """No file to grade was found for an exercise (not an error in `list` and `all`, which skip it)."""


class CheckFailed(Exception):
    """Raised by a check: the submission's behaviour is wrong. Carries the feedback."""

    def __init__(self, message: str, hint: str = "", figures: tuple = (), diagnosis: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.figures = tuple(figures)
        self.diagnosis = diagnosis  # the misconception named, as a stable id (e.g. "kernel_flipped")


@dataclass(frozen=True)
class RaisedInfo:
    """An exception raised by student code, as plain data sent back by the child."""

    type: str  # the class name, e.g. "ValueError"
    bases: tuple[str, ...]  # names along its MRO, so "is a ValueError" can be judged here
    message: str
    traceback: str  # student frames only
    where: str = ""  # "exercise1.py, line 12: out = ..." of the last student frame

    def is_a(self, name: str) -> bool:
        return name == self.type or name in self.bases


class StudentRaised(Exception):
    """Student code raised an exception during a call."""

    def __init__(self, target: str, info: RaisedInfo):
        super().__init__(f"{target} raised {info.type}: {info.message}")
        self.target = target
        self.info = info
        self.hint = ""  # a check may name the likely cause (see Context.hint_on_raise)
        self.diagnosis = ""  # and give that cause's stable id


class ChildDied(Exception):
    """The process running student code ended (exit, signal, memory) or sent garbage."""

    def __init__(self, message: str, *, memory: bool = False):
        super().__init__(message)
        self.memory = memory  # it was most likely ended for using too much memory


class CallTimeout(Exception):
    """A call into student code ran past its time limit."""

    def __init__(self, target: str, seconds: float):
        super().__init__(f"{target} did not return within {seconds:g} s")
        self.target = target
        self.seconds = seconds


class GraderSetupError(ToolError):
    """The process for student code could not be set up here (torch build, limits, GPU): the grader's fault, exit 2."""

    def __init__(self, cause: str, *, memory_mb: int | None = None, device: str = "cpu"):
        self.cause = cause
        super().__init__(f"Grader setup failed: the process that runs student code could not start ({cause}). "
                         f"{_fix(cause, memory_mb, device)} No student code was run.")


def _fix(cause: str, memory_mb: int | None, device: str) -> str:
    """The likely fix for a setup failure, from the words of its cause."""
    words = cause.lower()
    if any(w in words for w in ("memoryerror", "map segment", "allocate memory", "out of memory", "cannot allocate")):
        limit = f"the {memory_mb:,} MiB memory limit" if memory_mb else "the memory limit"
        return (f"Loading the libraries failed under {limit}: raise it with --memory (e.g. --memory "
                f"{max(4096, 2 * (memory_mb or 2048))}), or install PyTorch's CPU-only build, which needs less.")
    if "modulenotfounderror" in words or "importerror" in words:
        return "A library the exercise needs does not import here: reinstall the kit (pip install -e .) in this Python."
    if device != "cpu" and any(w in words for w in ("cuda", "mps", "device")):
        return f"The {device} device could not be used from the sandbox: check its driver, or grade with --device cpu."
    if memory_mb:
        return (f"Check that `python -c \"import torch\"` works in this environment; if it does, the {memory_mb:,} MiB "
                f"memory limit is too small for this PyTorch build: raise it with --memory "
                f"(e.g. --memory {max(4096, 2 * memory_mb)}).")
    return "Check that `python -c \"import torch\"` works in this environment, then grade again."
