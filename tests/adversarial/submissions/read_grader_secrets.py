"""Reads the grader's own environment through /proc/<parent>/environ and reports it through an exception.

exercise: exercise1
statuses: error
passes: none
via: cli
env: GRADER_API_TOKEN=s3cr3t-0451
secret: s3cr3t-0451
note: the child's environment is scrubbed of secrets; its parent's /proc entry must not hand them back
"""
import os


def conv2d(x, weight, bias=None, stride=1, padding=0):
    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as f:
            entries = f.read().decode("utf-8", "replace").split("\0")
        found = " ".join(e for e in entries if any(w in e.split("=")[0] for w in ("TOKEN", "SECRET", "KEY", "SEED")))
    except OSError as e:
        found = f"nothing ({e.strerror})"
    raise RuntimeError("parent environment: " + (found or "no secrets"))
