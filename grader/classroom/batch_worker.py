"""A batch worker: imports torch and the grader once, then grades task after task sent as JSON lines.

Started by grader.classroom.batch_pool as `python -I -c "...main()" CONFIG_JSON` in the submissions folder. Each task names a
file, an exercise, a seed and where the feedback goes; the reply is one JSON line with the score
and every check's status. Student code never runs here: grade_exercise starts a sandbox child
per submission, so a hostile file can end that child but not this process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
import traceback

WATCH_PARENT_EVERY = 0.5  # seconds between looks at whether the batch process still exists
HTML_NOTE = "HTML feedback not written"  # how a cell's message starts when only the .txt was written
MAX_HINT = 600  # characters of a failed check's hint kept in the gradebook (the class report's text)


def _private_reply_channel():
    """Keep the protocol on a fresh copy of stdout; fd 1 goes to stderr so stray prints can't corrupt it."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def _stop(signum, frame):
    # SystemExit unwinds grade_exercise, whose `finally` kills the sandbox child running student code.
    raise SystemExit(128 + signum)


def _watch_parent(parent: int) -> None:
    """Stop when the batch process is gone (even SIGKILLed), so no grading outlives it."""
    while os.getppid() == parent:
        time.sleep(WATCH_PARENT_EVERY)
    os.kill(os.getpid(), signal.SIGTERM)


def feedback_text(report) -> str:
    """The plain-text report a student reads, as `cnn-grade EXERCISE` prints it, without color."""
    from ..report import plain_text

    return plain_text(report)


def write_html_feedback(txt_path: str, report) -> str:
    """Write the HTML report beside the .txt feedback; "" when written, else a note saying why not.

    The page is a courtesy on top of the .txt: a renderer's failure must cost neither the grade nor the text.
    """
    from pathlib import Path

    from ..files import write_atomic

    target = Path(txt_path).with_suffix(".html")
    try:
        from ..report.html import to_html

        write_atomic(target, to_html(report))
        return ""
    except Exception as e:  # noqa: BLE001 - whatever the renderer raised, the grade stands
        with contextlib.suppress(OSError):  # an older page would show an older grade
            target.unlink(missing_ok=True)
        return f"{HTML_NOTE} ({type(e).__name__}: {str(e)[:200]}); the .txt has it all."


def failures(report) -> dict:
    """What the gradebook keeps of the checks that did not pass: diagnoses, fingerprints and hints."""
    failed = [c for c in report.checks if not c.passed]
    return {"diagnoses": {c.name: c.diagnosis for c in failed if c.diagnosis},
            "fingerprints": {c.name: c.fingerprint for c in failed if c.fingerprint},
            "hints": {c.name: c.hint[:MAX_HINT] for c in failed if c.hint}}


def grade_task(task: dict) -> dict:
    """Grade one (student, exercise) task, write its feedback file, and describe the result."""
    from ..grading.engine import grade_exercise
    from ..errors import ToolError
    from ..files import write_atomic

    started = time.perf_counter()
    reply = {"id": task["id"]}
    try:
        report = grade_exercise(task["exercise"], submission=task["file"], seed=task["seed"],
                                timeout=task["timeout"])
    except ToolError as e:
        # The batch already found and read the file, so this is most likely the grader's own setup (a
        # missing dataset): record it, and try again on the next run rather than freeze it in the gradebook.
        message = str(e)
        write_atomic(task["feedback"], f"{task['exercise']}: not graded.\n{message}\n")
        with contextlib.suppress(OSError):
            os.unlink(os.path.splitext(task["feedback"])[0] + ".html")
        return {**reply, "status": "error", "message": message, "retry": True,
                "duration": time.perf_counter() - started}
    except Exception as e:  # a grader bug: record it, keep the worker, try again on the next run
        return {**reply, "status": "error", "retry": True, "duration": time.perf_counter() - started,
                "message": f"internal grader error: {type(e).__name__}: {e}\n"
                           + traceback.format_exc(limit=-3).strip()}
    write_atomic(task["feedback"], feedback_text(report))
    note = write_html_feedback(task["feedback"], report)
    return {**reply, "status": "ok", "score": report.score, "max_score": report.max_score, "seed": report.seed,
            "checks": {c.name: c.status for c in report.checks}, **failures(report), "note": note,
            "duration": report.duration, "retry": False}


def main() -> None:
    config = json.loads(sys.argv[1])
    channel = _private_reply_channel()
    signal.signal(signal.SIGTERM, _stop)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # the pool is the parallelism; threads would fight it

    import torch

    torch.set_num_threads(1)
    from ..grading.exercises import resolve

    # Importing the check modules now makes the first task as fast as the rest, and gives the maxima.
    max_scores = {name: float(sum(s.points for s in resolve(name).checks())) for name in config["exercises"]}
    from ..sandbox import zygote

    if zygote.enable():  # sandbox children forked from processes that imported torch once, started now
        for name in config["exercises"]:
            zygote.spawner(resolve(name).child_imports)
    from ..report.html import preload

    preload()  # every task writes an HTML page: Jinja2 and matplotlib load while the first one is graded
    channel.write(json.dumps({"ready": True, "pid": os.getpid(), "max_scores": max_scores}) + "\n")
    for line in sys.stdin:
        if line.strip():
            task = json.loads(line)
            try:
                reply = grade_task(task)
            except Exception as e:  # e.g. the feedback folder is not writable: this task only, try again later
                reply = {"id": task["id"], "status": "error", "retry": True, "duration": 0.0,
                         "message": f"internal grader error: {type(e).__name__}: {e}"}
            channel.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
