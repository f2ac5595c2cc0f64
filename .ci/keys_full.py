"""Grade every answer key with the Python this runs under, and fail unless each scores full marks.

Run by .ci/run in a second venv that holds the default PyTorch build (the CUDA one a plain
`pip install torch` gives), so the grader is proven right on the build students actually get.
Also checks that a memory limit too small for that build is a tool error, never the student's fault.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def grade(exercise: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", exercise, *options], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)


def main() -> int:
    import torch

    print(f"torch {torch.__version__} (CUDA {torch.version.cuda or 'none'}), {sys.executable}")
    wrong = 0
    for key in sorted((ROOT / "solutions").glob("exercise[0-9].py")):
        started = time.perf_counter()
        done = grade(key.stem, "--file", str(key), "--format", "json")
        try:
            report = json.loads(done.stdout)
            score, total = report["score"], report["max_score"]
            lost = [f"{c['name']}: {c['status']}" for c in report["checks"] if c["status"] != "passed"]
        except (ValueError, KeyError):
            score, total, lost = None, None, [f"no JSON report (exit {done.returncode}): {done.stderr.strip()[-400:]}"]
        ok = done.returncode == 0 and score == total
        wrong += not ok
        print(f"{'ok ' if ok else 'BAD'} {key.stem}: {score} / {total} in {time.perf_counter() - started:.1f} s"
              + (f"  {lost}" if lost else ""))
    # A cap the libraries cannot load under: exit 2 naming the setup, or full marks; never checks failed.
    done = grade("exercise4", "--file", str(ROOT / "solutions" / "exercise4.py"), "--memory", "256")
    ok = done.returncode == 0 or (done.returncode == 2 and "Grader setup failed" in done.stderr
                                  and "Traceback" not in done.stderr)
    wrong += not ok
    print(f"{'ok ' if ok else 'BAD'} exercise4 --memory 256: exit {done.returncode} {done.stderr.strip()[:300]}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
