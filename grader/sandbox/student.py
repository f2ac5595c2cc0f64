"""The student's file as the child loaded it: a module registered under one fixed name."""

from __future__ import annotations

import sys

MODULE_NAME = "submission"  # what `__name__` is in the student's file: not "__main__", so a demo block doesn't run


def namespace() -> dict:
    """The student's module globals (empty before the file is loaded)."""
    module = sys.modules.get(MODULE_NAME)
    return vars(module) if module is not None else {}
