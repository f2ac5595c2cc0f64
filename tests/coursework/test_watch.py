"""`cnn-grade exerciseN --watch`: real files edited under a watcher running in a thread, and the real command."""

from __future__ import annotations

import io
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from grader.cli import cli
from grader.errors import ToolError
from grader.coursework.watch import watch_exercise
from tests.conftest import REPO, SUBMISSIONS

KEY = (REPO / "solutions/exercise1.py").read_text()
STUB = (REPO / "exercises/exercise1.py").read_text()
NO_PADDING = (SUBMISSIONS / "exercise1/bad_no_padding.py").read_text()
WAIT = 120  # seconds allowed for one report on a busy 2-core machine


class Watcher:
    """watch_exercise in a thread: its reports arrive in a queue, its screen in a buffer."""

    def __init__(self, path: Path) -> None:
        self.reports: queue.Queue = queue.Queue()
        self.screen = io.StringIO()
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self.thread.start()

    def _run(self, path: Path) -> None:
        try:
            watch_exercise("exercise1", submission=path, console=Console(file=self.screen, width=100),
                           stop=self.stop, on_report=self.reports.put)
        except BaseException as e:  # surfaced by next(): a crash of the loop must fail the test
            self.failure = e
            self.reports.put(None)

    def next(self, timeout: float = WAIT):
        report = self.reports.get(timeout=timeout)
        assert self.failure is None, repr(self.failure)
        return report

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=WAIT)
        assert not self.thread.is_alive(), "the watcher did not stop"
        assert self.failure is None, repr(self.failure)


@pytest.fixture
def student_file(tmp_path) -> Path:
    path = tmp_path / "exercises" / "exercise1.py"
    path.parent.mkdir()
    path.write_text(NO_PADDING)
    return path


@pytest.fixture
def watcher(student_file):
    w = Watcher(student_file)
    yield w
    w.close()


def test_first_report_at_start_then_a_fixed_file_scores_higher(watcher, student_file):
    first = watcher.next()
    assert first.score < first.max_score == 19.0
    assert "watching" in watcher.screen.getvalue() and "Ctrl-C to stop" in watcher.screen.getvalue()
    student_file.write_text(KEY)
    second = watcher.next()
    assert second.score == 19.0 > first.score
    assert watcher.screen.getvalue().count("Score:") == 2


def test_the_last_line_says_the_file_its_save_the_grading_time_and_how_to_stop(watcher, student_file):
    watcher.next()
    saved = student_file.with_suffix(".tmp")  # saved by rename, as many editors do, with a known time
    saved.write_text(KEY)
    os.utime(saved, (time.time(), time.mktime((2026, 3, 4, 13, 14, 15, 0, 0, -1))))
    os.replace(saved, student_file)
    report = watcher.next()
    # A long report scrolls the header away: the status line is the last thing on screen.
    last = watcher.screen.getvalue().rstrip("\n").splitlines()[-1]
    assert "exercise1.py" in last and "saved 13:14:15" in last and "Ctrl-C to stop" in last
    assert f"graded in {report.duration:.1f} s" in last and "19/19" in last


def test_a_syntax_error_mid_edit_is_shown_and_watching_goes_on(watcher, student_file):
    watcher.next()
    student_file.write_text(KEY.replace("def conv2d(", "def conv2d((", 1))
    broken = watcher.next()
    assert broken.score == 0
    assert all(c.status == "error" and c.message.startswith("not run:") for c in broken.checks)
    assert "SyntaxError" in watcher.screen.getvalue() or "syntax" in watcher.screen.getvalue().lower()
    student_file.write_text(KEY)
    assert watcher.next().score == 19.0


def test_a_file_deleted_then_recreated_is_waited_for(watcher, student_file):
    watcher.next()
    student_file.unlink()
    deadline = time.monotonic() + 10
    while "is gone" not in watcher.screen.getvalue():
        assert time.monotonic() < deadline, watcher.screen.getvalue()[-500:]
        time.sleep(0.05)
    assert watcher.reports.empty()  # nothing graded while it is missing
    student_file.write_text(KEY)
    assert watcher.next().score == 19.0


def test_a_save_by_rename_is_graded(watcher, student_file):
    watcher.next()
    temporary = student_file.with_name("exercise1.py.swp")
    temporary.write_text(KEY)
    os.replace(temporary, student_file)  # how many editors save
    assert watcher.next().score == 19.0


def test_several_quick_saves_grade_once_with_the_last_content(watcher, student_file):
    watcher.next()
    for i in range(15):  # about 0.15 s of saves, longer than one look at the file, each gap shorter than the wait
        student_file.write_text(f"{(STUB, NO_PADDING)[i % 2]}\n# save {i}\n")
        time.sleep(0.01)
    student_file.write_text(KEY)
    assert watcher.next().score == 19.0
    with pytest.raises(queue.Empty):
        watcher.reports.get(timeout=2)


def test_a_save_during_a_run_is_graded_after_it(watcher, student_file):
    watcher.next()
    student_file.write_text(STUB)
    deadline = time.monotonic() + 10
    while "grading" not in watcher.screen.getvalue():
        assert time.monotonic() < deadline
        time.sleep(0.005)
    student_file.write_text(KEY)  # while the stub is being graded (or just before it is read)
    watcher.next()
    assert watcher.next().score == 19.0


def test_a_missing_file_is_a_tool_error_before_watching(tmp_path):
    with pytest.raises(ToolError, match="No such file"):
        watch_exercise("exercise1", submission=tmp_path / "nothing.py", stop=threading.Event())


@pytest.mark.parametrize("extra", [["--format", "json"], ["--output", "report.txt"]])
def test_watch_takes_neither_another_format_nor_an_output_file(student_file, extra):
    result = CliRunner().invoke(cli, ["exercise1", "--watch", "--file", str(student_file), *extra])
    assert result.exit_code == 2
    assert "--watch" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_the_real_command_regrades_on_save_and_exits_130_on_ctrl_c(tmp_path):
    path = tmp_path / "exercise1.py"
    path.write_text(STUB)
    env = {k: v for k, v in os.environ.items() if k != "CNN_GRADE_SEED"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.Popen([sys.executable, "-m", "grader", "exercise1", "--watch", "--file", str(path)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def wait_for(text: str) -> list[str]:
        seen, deadline = [], time.monotonic() + WAIT
        while not seen or text not in seen[-1]:
            try:
                seen.append(lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
            except queue.Empty:
                proc.kill()
                pytest.fail(f"no {text!r} in stdout: {''.join(seen)[-2000:]}\nstderr: {proc.stderr.read()[-2000:]}")
        return seen

    try:
        first = wait_for("Score:")
        assert any("watching exercise1.py" in line for line in first) and "Score: 0.0 / 19.0" in first[-1]
        path.write_text(KEY)
        assert "Score: 19.0 / 19.0" in wait_for("Score:")[-1]
        assert proc.poll() is None  # a report never ends the watch
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Interrupted." in err and "Traceback" not in err
