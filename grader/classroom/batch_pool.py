"""Long-lived worker processes for `cnn-grade batch`: each imports torch once and grades many tasks.

The parent and a worker speak JSON lines over the worker's stdin and stdout (never pickle). One
thread per worker hands it tasks from a shared queue; results come back to the caller in the order
they land. A worker that dies or hangs is replaced, and its task comes back as a `retry` error.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from ..errors import ToolError
from ..sandbox.parent import GRADER_ROOT, describe_exit

STARTUP_TIMEOUT = 300.0  # importing torch on a loaded machine can take a while
TASK_BASE_DEADLINE = 600.0  # a backstop for a stuck worker; student code has its own per-call limits
STDERR_TAIL = 40  # lines of a worker's stderr kept to explain its death


@dataclass(frozen=True)
class Task:
    """One (student, exercise) to grade, as sent to a worker."""

    id: int
    student: str
    exercise: str
    file: str  # the submission, relative to the workers' folder (the submissions folder): reports show it so
    feedback: str  # absolute path of the feedback file to write
    seed: int
    timeout: float


class WorkerDied(Exception):
    """A worker ended, hung or sent something that is not a reply."""


class Worker:
    """One worker process and its pipes."""

    def __init__(self, exercises: list[str], tag: str, cwd: str):
        config = json.dumps({"exercises": exercises, "tag": tag})
        # -I and an explicit path: the working folder holds students' folders, and a folder there named
        # "grader" must not be imported in place of this package.
        boot = f"import sys; sys.path.insert(0, {GRADER_ROOT!r}); from grader.classroom.batch_worker import main; main()"
        self.proc = subprocess.Popen([sys.executable, "-I", "-c", boot, config], cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, encoding="utf-8", errors="replace")
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        threading.Thread(target=self._drain, daemon=True).start()

    def wait_ready(self) -> dict:
        """The worker's greeting (with each exercise's maximum score), once it has imported everything."""
        hello = self._read(STARTUP_TIMEOUT)
        if not hello.get("ready"):
            raise WorkerDied(f"it greeted with {hello!r}")
        return hello

    def grade(self, task: Task) -> dict:
        """Send a task and wait for its reply."""
        try:
            self.proc.stdin.write(json.dumps(asdict(task)) + "\n")
            self.proc.stdin.flush()
        except OSError:
            pass  # gone: reading says how
        reply = self._read(TASK_BASE_DEADLINE + 60 * task.timeout)
        if reply.get("id") != task.id:
            raise WorkerDied(f"it answered task {reply.get('id')!r} to task {task.id}")
        return reply

    def _read(self, deadline: float) -> dict:
        timer = threading.Timer(deadline, self.proc.terminate)  # SIGTERM: it closes its sandbox first
        timer.start()
        try:
            line = self.proc.stdout.readline()
        finally:
            timer.cancel()
        if not line:
            raise WorkerDied(self.death())
        try:
            reply = json.loads(line)
        except ValueError:
            raise WorkerDied(f"it sent {line[:200]!r}") from None
        if not isinstance(reply, dict):
            raise WorkerDied(f"it sent {line[:200]!r}")
        return reply

    def death(self) -> str:
        """How the worker ended, with the end of its stderr."""
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            code = None
        tail = "\n".join(self._stderr).strip()
        how = describe_exit(code) if code is None or code < 0 else f"it exited with code {code}"
        return how + (f":\n{tail}" if tail else "")

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self._stderr.append(line.rstrip("\n"))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def close(self, interrupt: bool = False) -> None:
        """Let the worker finish (end of input), or on interrupt stop it now; kill it if it lingers."""
        if interrupt and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # its sandbox child is killed on the way out
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()


def grade_in_workers(tasks: list[Task], *, workers: int, exercises: list[str], cwd: str, tag: str = "",
                     on_ready: Callable[[dict], None] | None = None,
                     on_start: Callable[[Task], None] | None = None) -> Iterator[tuple[Task, dict]]:
    """Grade the tasks in `workers` processes; yield (task, reply) as each lands.

    A reply has status ok (score, max_score, seed, checks, diagnoses, fingerprints, hints, note, duration)
    or error (message, retry).
    Workers run in `cwd`. Closing the iterator early (an interrupt) stops the workers and their sandboxes.
    """
    todo: queue.Queue[Task] = queue.Queue()
    for task in tasks:
        todo.put(task)
    landed: queue.Queue = queue.Queue()
    stop = threading.Event()
    live: set[Worker] = set()
    lock = threading.Lock()

    def serve() -> None:
        worker = None
        try:
            while not stop.is_set():
                try:
                    task = todo.get_nowait()
                except queue.Empty:
                    return
                if worker is None:
                    worker = Worker(exercises, tag, cwd)
                    with lock:
                        live.add(worker)
                    try:
                        landed.put(("ready", worker.wait_ready()))
                    except WorkerDied as e:
                        landed.put(("fatal", f"a grading worker could not start: {e}"))
                        return
                landed.put(("start", task))
                try:
                    reply = worker.grade(task)
                except WorkerDied as e:
                    how, _, stderr = str(e).partition("\n")  # the reason, then the worker's last words
                    reply = {"id": task.id, "status": "error", "retry": True,
                             "message": f"the grading worker died ({how.rstrip(':')}); it is graded again on the "
                                        f"next run" + (f"\n{stderr}" if stderr else "")}
                    with lock:
                        live.discard(worker)
                    worker.close()
                    worker = None
                landed.put(("done", task, reply))
        finally:
            if worker is not None:
                worker.close()
                with lock:
                    live.discard(worker)

    threads = [threading.Thread(target=serve, daemon=True) for _ in range(max(1, min(workers, len(tasks))))]
    for thread in threads:
        thread.start()
    remaining, interrupted = len(tasks), True
    try:
        while remaining:
            try:
                item = landed.get(timeout=0.5)  # a timeout, so signals reach this thread promptly
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and landed.empty():
                    raise ToolError("the grading workers stopped before the batch was done") from None
                continue
            if item[0] == "fatal":
                raise ToolError(item[1])
            if item[0] == "ready" and on_ready:
                on_ready(item[1])
            elif item[0] == "start" and on_start:
                on_start(item[1])
            elif item[0] == "done":
                remaining -= 1
                yield item[1], item[2]
        interrupted = False
    finally:
        stop.set()
        with lock:
            stopping = list(live)
        for worker in stopping:
            worker.close(interrupt=interrupted)
        for thread in threads:
            thread.join(timeout=15)


def default_workers() -> int:
    """One worker per core."""
    return os.cpu_count() or 1


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM stops the batch like Ctrl-C: workers and their sandboxes are ended, the gradebook kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
