"""The parent side of the sandbox: spawn a child, drive it call by call, survive anything it does."""

from __future__ import annotations

import json
import os
import functools
import queue
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import replace

from ..errors import CallTimeout, ChildDied, GraderSetupError, RaisedInfo, StudentRaised
from ..grading.limits import DEFAULT as LIMITS
from . import limits, zygote
from .cgroups import Cgroups
from .provision import GRADER_ROOT, HIDDEN, package_folders, readonly_folders, run_as, scrubbed_env
from .protocol import FrameError, read_frame, encode_frame

OUTPUT_CAP = 256 * 1024  # bytes of student output kept; the rest is counted and dropped
_EOF = object()
ISOLATION_FAILED = b"cnn-grade sandbox: could not isolate"  # what isolate.enter prints when mounts fail


@functools.lru_cache(maxsize=1)
def _hide_grader_once() -> bool:
    return limits.hide_grader()


def _memory_words(output: bytes) -> bool:
    """Did the dying child say it ran out of memory (C++ bad_alloc, a failed allocation)?"""
    tail = output[-4096:].lower()
    return any(w in tail for w in (b"bad_alloc", b"cannot allocate memory", b"out of memory", b"memoryerror"))


def describe_exit(code: int | None, *, student: bool = True) -> str:
    """Say in words how a child process ended (`student`: while it ran student code)."""
    if code is None:
        return "it stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = {"SIGKILL": " (killed: often the memory limit)", "SIGSEGV": " (a segmentation fault)",
               "SIGABRT": " (aborted)"}.get(name, "")
        return f"it was ended by {name}{why}"
    return f"it exited with code {code}" + (" (does your code call sys.exit() or os._exit()?)" if student else "")


class Sandbox:
    """One student submission behind a process boundary; a dead child is replaced on the next call."""

    def __init__(self, source: str, filename: str, *, imports=("numpy",), blocked=(), memory_mb: int | None = LIMITS.memory_mb,
                 timeout: float = LIMITS.timeout, startup_timeout: float = 120.0, relabel=None,
                 processes: int | None = limits.EXTRA_PROCESSES, isolate: bool = True, device: str = "cpu",
                 hide: tuple[str, ...] = ()):
        self.source, self.filename = source, filename
        self.token = secrets.token_hex(12)  # marks this sandbox's processes, to end them all at close
        self.applied: dict = {}  # the limits the child reported it could set
        self._cgroup: Cgroups | None = None  # where the system allows: caps memory and processes, finds them all
        self.stragglers = 0  # processes that left the child's group and were ended at close
        self.relabel = relabel or (lambda text: text)  # "line N" -> the student's terms (notebook cells)
        self.config = {"imports": list(imports), "blocked": list(blocked), "memory_mb": memory_mb,
                       "processes": processes, "device": device, "hide": [*HIDDEN, *hide]}
        self.timeout, self.startup_timeout = timeout, startup_timeout
        self.isolate = isolate  # own PID and mount namespaces where the system allows (see isolate.py)
        self.proc: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._loaded = False
        self._load_failure: Exception | None = None  # importing the file failed: it fails again
        self._output = bytearray()
        self._output_total = 0
        self._lock = threading.Lock()
        self._workdir = tempfile.TemporaryDirectory(prefix="cnn-grade-")
        self.restarts = 0
        self._oom_seen = 0  # the memory cgroup's kills already charged to earlier calls

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Spawn a child now (it imports its libraries while the parent prepares references)."""
        if self.proc is not None and self.proc.poll() is None:
            return
        if self.proc is not None:
            self.restarts += 1
        # The grader's folder goes on sys.path only while the child imports itself (see child.main):
        # student code must not find solutions/ or anything else that sits beside grader/.
        boot = f"import sys; sys.path.insert(0, {GRADER_ROOT!r}); from grader.sandbox.child import main; main()"
        _hide_grader_once()
        user = run_as()
        if self._cgroup is None:
            self._cgroup = Cgroups.create(self.token, max_tasks=limits.EXTRA_PROCESSES + 8,  # +8: the child's threads
                                          memory_mb=self.config["memory_mb"])
        folders = [str(f) for f in self._cgroup.folders] if self._cgroup else []
        config = {**self.config, "isolate": self.isolate, "cgroup": folders,
                  "memory_cgroup": bool(self._cgroup and self._cgroup.caps_memory),
                  "refuse": package_folders(tuple(self.config["blocked"])), "readonly": readonly_folders()}
        if isinstance(user, tuple):  # root: student code runs as an unprivileged user instead (set in the child)
            uid, gid, _ = user
            os.chown(self._workdir.name, uid, gid)
            config["user"] = [uid, gid]
        # HOME and TMPDIR in the working folder: in the isolated child nothing else is writable.
        env = {**scrubbed_env(), limits.TOKEN_VARIABLE: self.token, "HOME": self._workdir.name,
               "TMPDIR": self._workdir.name}
        self.proc = None
        forks = zygote.spawner(self.config["imports"]) if self.isolate else None
        if forks is not None:  # a fork of a process that already imported torch: no start-up to pay
            try:
                self.proc = forks.spawn(config, cwd=self._workdir.name, env=env)
            except OSError:
                self.proc = None
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-u", "-c", boot, json.dumps(config)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=self._workdir.name, env=env, start_new_session=(os.name == "posix"))
        self._in_cgroup = self._cgroup is not None and self._cgroup.add(self.proc.pid)
        self._replies = queue.Queue()
        self._loaded = False
        threading.Thread(target=self._read_replies, args=(self.proc, self._replies), daemon=True).start()
        self._drainer = threading.Thread(target=self._drain_output, args=(self.proc,), daemon=True)
        self._drainer.start()

    def close(self) -> None:
        """End the child and everything it started."""
        self._kill()
        if self._cgroup is not None:
            self._cgroup.remove()
        self._workdir.cleanup()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def limits_in_force(self, *, total: float | None = None) -> tuple[str, ...]:
        """The limits around the student code, in words, as the child reported setting them."""
        user = run_as()
        # A child that never started said nothing: describe what it was given.
        applied = self.applied or {"memory_mb": self.config["memory_mb"]}
        return limits.describe(applied, timeout=self.timeout, total=total, output_kb=OUTPUT_CAP // 1024,
                               user=user[2] if isinstance(user, tuple) else None,
                               why_not_user="" if isinstance(user, tuple) else user)

    @property
    def output(self) -> tuple[str, bool]:
        """What student code printed (capped), and whether some was dropped; complete after close()."""
        with self._lock:
            return self._output.decode("utf-8", "replace"), self._output_total > len(self._output)

    # -- calls ------------------------------------------------------------------------------
    def call(self, target: str, *args, **kwargs):
        """Call `target` (a student name, or "probe:NAME") with these arguments and return its data."""
        return self.run(target, args, kwargs)

    def run(self, target: str, args: tuple | list = (), kwargs: dict | None = None, *, timeout: float | None = None,
            store: bool = False, echo_args: bool = False, label: str | None = None):
        """Call `target` in the child with `args` and `kwargs`; the options are the grader's, never the student's.

        `store` keeps the result in the child (a Handle comes back); `echo_args` also returns the arguments
        as they were after the call; `label` names the call in messages ("ConvBlock.forward" reads better
        than "probe:forward").
        """
        self._ensure_loaded()
        reply = self._request({"op": "call", "target": target, "args": list(args), "kwargs": dict(kwargs or {}),
                               "store": store, "echo_args": echo_args}, label or target, timeout or self.timeout)
        if echo_args:
            return reply.get("value"), reply.get("args"), reply.get("kwargs")
        return reply.get("value")

    def _ensure_loaded(self) -> None:
        if self._load_failure is not None:
            raise self._load_failure
        if self.proc is None or self.proc.poll() is not None or not self._loaded:
            self.start()
            try:
                hello = self._hello()
                if isinstance(hello.get("limits"), dict):
                    self.applied = {k: v for k, v in hello["limits"].items()
                                    if isinstance(v, (int, bool, type(None))) or (k == "device" and isinstance(v, str))}
                if self._in_cgroup and self._cgroup.caps_processes:
                    self.applied["processes"] = limits.EXTRA_PROCESSES
                self._request({"op": "load", "source": self.source, "filename": self.filename},
                              "importing your file", self.timeout)
            except (StudentRaised, CallTimeout, ChildDied) as e:
                self._load_failure = e
                raise
            self._loaded = True

    def _hello(self) -> dict:
        """The child's first message, said before any student code exists.

        A system that would not build its namespaces gets a plain child instead; a child that cannot set
        itself up (torch won't load under the limits, no GPU) is the grader's failure: GraderSetupError.
        """
        try:
            try:
                hello = self._wait("starting Python", self.startup_timeout, expect_hello=True)
            except ChildDied:
                with self._lock:
                    refused = ISOLATION_FAILED in bytes(self._output)
                if not (self.isolate and refused):
                    raise
                with self._lock:  # the grader's own message, not the student's output
                    self._output.clear()
                    self._output_total = 0
                self.isolate = False
                self.start()
                hello = self._wait("starting Python", self.startup_timeout, expect_hello=True)
        except (ChildDied, CallTimeout) as e:
            with self._lock:
                said = bytes(self._output[-600:]).decode("utf-8", "replace").strip()
            raise self._setup_error(f"{e}" + (f": {said}" if said else "")) from None
        if "setup_failed" in hello:
            self._kill()
            raise self._setup_error(str(hello["setup_failed"])[:1000])
        return hello

    def _setup_error(self, cause: str) -> GraderSetupError:
        return GraderSetupError(cause, memory_mb=self.config["memory_mb"], device=self.config["device"])

    def _request(self, message: dict, target: str, timeout: float) -> dict:
        try:
            self.proc.stdin.write(encode_frame(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child is gone; the reply queue says how
        return self._wait(target, timeout)

    def _wait(self, target: str, timeout: float, expect_hello: bool = False) -> dict:
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            self._kill()
            raise CallTimeout(target, timeout) from None
        if reply is _EOF or isinstance(reply, Exception):
            if reply is _EOF:  # the isolated child's outer process reports how the student's process ended: let it
                try:
                    self.proc.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    pass
            code = self._kill()
            if isinstance(reply, Exception):
                raise ChildDied(f"it sent a malformed reply ({reply})")
            with self._lock:
                memory = code is not None and code < 0 and _memory_words(bytes(self._output))
            if self._cgroup is not None:  # the memory cgroup ended it: no words, only a SIGKILL and a count
                kills = self._cgroup.oom_kills()
                memory, self._oom_seen = memory or kills > self._oom_seen, kills
            raise ChildDied(describe_exit(code, student=not expect_hello) + (" after running out of memory" if memory else ""),
                            memory=memory)
        if expect_hello:
            if not isinstance(reply, dict) or "hello" not in reply:
                self._kill()
                raise ChildDied("it did not start properly")
            return reply
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            self._kill()
            raise ChildDied("it sent a reply of the wrong shape")
        if not reply["ok"]:
            info = _raised(reply.get("error"))
            info = replace(info, traceback=self.relabel(info.traceback), where=self.relabel(info.where))
            raise StudentRaised(target, info)
        return reply

    # -- plumbing -----------------------------------------------------------------------------
    def _kill(self) -> int | None:
        proc = self.proc
        if proc is None:
            return None
        if self._cgroup is not None:  # counted now: ending the namespace below would end them unseen
            self.stragglers += self._cgroup.count_outside(session=proc.pid)
        if proc.poll() is None:
            try:
                if os.name == "posix":
                    os.killpg(proc.pid, signal.SIGKILL)  # the child and anything it forked
                else:
                    proc.kill()
            except (ProcessLookupError, PermissionError):
                pass
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        if proc.returncode is not None and os.name == "posix":
            try:  # children the student forked may outlive the leader; end the group too
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            # ... and those that left the group (setsid, a double fork): by cgroup, or by session and marker.
            if self._cgroup is not None:
                self._cgroup.kill_all()
            self.stragglers += limits.end_stragglers(self.token, session=proc.pid)
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        # The pipe closes once the process group is gone: wait, so the report has the last prints.
        self._drainer.join(timeout=5)
        self._loaded = False
        return code

    def _read_replies(self, proc: subprocess.Popen, replies: queue.Queue) -> None:
        stream = proc.stdout

        def read_exact(n: int) -> bytes:
            data = stream.read(n)
            if len(data) != n:
                raise EOFError
            return data

        while True:
            try:
                replies.put(read_frame(read_exact))
            except (EOFError, OSError, ValueError):
                replies.put(_EOF)
                return
            except FrameError as e:
                replies.put(e)
                return

    def _drain_output(self, proc: subprocess.Popen) -> None:
        while True:
            try:
                chunk = proc.stderr.read1(65536)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            with self._lock:
                self._output_total += len(chunk)
                room = OUTPUT_CAP - len(self._output)
                if room > 0:
                    self._output += chunk[:room]


def _raised(error) -> RaisedInfo:
    """Rebuild a student exception description, distrusting every field."""
    if not isinstance(error, dict):
        error = {}

    def text(key: str, cap: int) -> str:
        value = error.get(key, "")
        return value[:cap] if isinstance(value, str) else ""

    bases = error.get("bases", [])
    bases = tuple(b[:100] for b in bases if isinstance(b, str))[:50] if isinstance(bases, list) else ()
    return RaisedInfo(text("type", 100) or "Exception", bases, text("message", 2000), text("traceback", 8000),
                      text("where", 400))
