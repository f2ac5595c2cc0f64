"""Shares of a class for grading on many machines: `batch --shard I/N` grades the students whose folder hashes to I."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..errors import ToolError


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (1-based, as jest and Playwright number theirs)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, student: str) -> bool:
        """Whether this shard grades `student` (a folder name)."""
        return shard_of(student, self.count) == self.index


def parse_shard(text: str) -> Shard:
    """"2/16" -> Shard(2, 16); anything else is a ToolError that says what is expected."""
    index, slash, count = text.strip().partition("/")
    try:
        shard = Shard(int(index), int(count))
    except ValueError:
        shard = None
    if not slash or shard is None or not 1 <= shard.index <= shard.count:
        raise ToolError(f"--shard {text!r}: give I/N with 1 <= I <= N, e.g. --shard 1/4 "
                        f"(Kubernetes and Slurm count from 0: pass INDEX+1).")
    return shard


def shard_of(student: str, count: int) -> int:
    """The shard (1..count) of a student: a hash of the folder name alone, so adding students moves no one."""
    digest = hashlib.blake2b(student.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count + 1
