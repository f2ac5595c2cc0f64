"""The parent side of the zygote: start it once per set of imports, ask it for children, track how they end.

A process that grades many times (a batch worker, `--watch`) calls `enable()`. Its sandboxes then get
their children forked from a zygote that imported torch once, instead of a fresh Python that imports
it again (about 1.3 s of every exercise-4 run). Each child still is its own process in its own
session, namespaces and pids cgroup, with its own limits, and its group is killed at the end
(grader/sandbox/zygote_server.py says how the fork becomes a child).

Used only where the child gets its own namespaces (isolate.available()): there its end is certain
whoever its parent is. Elsewhere sandboxes start children with subprocess, as before.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

from . import isolate

_enabled = False
_zygotes: dict[tuple[str, ...], "Zygote"] = {}
_lock = threading.Lock()


def enable() -> bool:
    """Let this process's sandboxes use zygotes from now on; False where that is not possible here."""
    global _enabled
    _enabled = sys.platform.startswith("linux") and isolate.available()
    return _enabled


def disable() -> None:
    """Back to starting every child with subprocess; running zygotes are ended."""
    global _enabled
    _enabled = False
    shutdown()


def spawner(imports) -> "Zygote | None":
    """The running zygote for these imports (started on first use), or None to start children the usual way."""
    if not _enabled:
        return None
    key = tuple(imports)
    with _lock:
        zygote = _zygotes.get(key)
        if zygote is None or not zygote.alive():
            try:
                zygote = _zygotes[key] = Zygote(key)
            except OSError:
                return None
    return zygote


def pids() -> set[int]:
    """The process ids of this process's running zygotes (long-lived on purpose, unlike sandbox children)."""
    with _lock:
        return {z.proc.pid for z in _zygotes.values() if z.alive()}


def shutdown() -> None:
    """End every zygote of this process (their children are ended by their own sandboxes)."""
    with _lock:
        for zygote in _zygotes.values():
            zygote.close()
        _zygotes.clear()


atexit.register(shutdown)


class Zygote:
    """One zygote process and the socket to it."""

    def __init__(self, imports: tuple[str, ...], startup_timeout: float = 120.0):
        from .provision import GRADER_ROOT, scrubbed_env

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        boot = f"import sys; sys.path.insert(0, {GRADER_ROOT!r}); from grader.sandbox.zygote_server import main; main()"
        self.proc = subprocess.Popen([sys.executable, "-I", "-u", "-c", boot, json.dumps(list(imports)),
                                      str(theirs.fileno())], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=scrubbed_env(),
                                     start_new_session=True)
        theirs.close()
        self.sock = ours
        self._replies: queue.Queue = queue.Queue()
        self._ended: dict[int, int | None] = {}
        self._changed = threading.Condition()
        self._spawn_lock = threading.Lock()
        self._gone = False
        threading.Thread(target=self._listen, daemon=True).start()
        try:
            ready = self._replies.get(timeout=startup_timeout)
        except queue.Empty:
            ready = None
        if not isinstance(ready, dict) or "ready" not in ready:
            self.close()
            raise OSError("the zygote did not start")

    def alive(self) -> bool:
        return not self._gone and self.proc.poll() is None

    def spawn(self, config: dict, *, cwd: str, env: dict[str, str]) -> "ForkedChild":
        """A new child serving `config`, with pipes like subprocess.Popen(stdin/stdout/stderr=PIPE) gives."""
        ends = [os.pipe() for _ in range(3)]  # (read, write) for stdin, stdout, stderr
        theirs = [ends[0][0], ends[1][1], ends[2][1]]
        try:
            with self._spawn_lock:
                socket.send_fds(self.sock, [json.dumps({"config": config, "cwd": cwd, "env": env}).encode()], theirs)
                reply = self._replies.get(timeout=30)
        except (OSError, queue.Empty) as e:
            for r, w in ends:
                os.close(r)
                os.close(w)
            raise OSError(f"the zygote did not answer: {e}") from None
        finally:
            for fd in theirs:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if not isinstance(reply, dict) or not isinstance(reply.get("pid"), int):
            for fd in (ends[0][1], ends[1][0], ends[2][0]):
                os.close(fd)
            raise OSError(f"the zygote refused: {reply}")
        return ForkedChild(self, reply["pid"], os.fdopen(ends[0][1], "wb"), os.fdopen(ends[1][0], "rb"),
                           os.fdopen(ends[2][0], "rb"))

    def close(self) -> None:
        self._gone = True
        try:
            self.sock.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def returncode(self, pid: int) -> tuple[bool, int | None]:
        """(ended, code) of a child of this zygote."""
        with self._changed:
            if pid in self._ended:
                return True, self._ended[pid]
            return self._gone, None

    def wait_for(self, pid: int, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while pid not in self._ended and not self._gone:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return
                self._changed.wait(left)

    def _listen(self) -> None:
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                with self._changed:
                    self._gone = True
                    self._changed.notify_all()
                self._replies.put(None)
                return
            try:
                message = json.loads(data)
            except ValueError:
                continue
            if isinstance(message, dict) and "ended" in message:
                with self._changed:
                    self._ended[message["ended"]] = message.get("code")
                    self._changed.notify_all()
            else:
                self._replies.put(message)


class ForkedChild:
    """What Sandbox needs of subprocess.Popen, for a child the zygote forked."""

    def __init__(self, zygote: Zygote, pid: int, stdin, stdout, stderr):
        self.zygote, self.pid = zygote, pid
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        ended, code = self.zygote.returncode(self.pid)
        if ended:
            self.returncode = code if code is not None else -9  # the zygote died, and its children with it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        self.zygote.wait_for(self.pid, timeout)
        if self.poll() is None:
            raise subprocess.TimeoutExpired("sandbox child", timeout)
        return self.returncode
