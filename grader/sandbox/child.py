"""The child side of the sandbox: load the student's code, serve calls, send back data only.

Started by the parent as `python -I -u -m grader.sandbox.child CONFIG_JSON`. Requests arrive on
stdin; replies leave on a private copy of stdout. The student's own prints go to fd 1 and 2,
which both point at stderr, a pipe the parent drains and caps.
"""

from __future__ import annotations

import importlib.abc
import json
import linecache
import os
import sys
import traceback
import types


def _private_channels():
    """Keep the protocol's pipes on fresh fds; point fds 0-1 away so student code can't use them."""
    req = os.fdopen(os.dup(0), "rb", buffering=0)
    rep = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return req, rep


# What the course tells students to use in their own code: imported afresh, never the child's own modules.
STUDENT_MODULES = frozenset({"grader", "grader.data", "grader.backbone", "grader.errors"})


class _Blocker(importlib.abc.MetaPathFinder):
    """Refuses imports of modules this exercise forbids (exercise 1 is NumPy only)."""

    def __init__(self, blocked: list[str]):
        self.blocked = set(blocked)

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top == "grader" and name not in STUDENT_MODULES:
            raise ImportError(f"importing {name!r} is not allowed: the grader's own code is off limits to submissions")
        if top in self.blocked:
            raise ImportError(f"importing {name!r} is not allowed in this exercise")
        return None


def _raised_info(exc: BaseException, filename: str) -> dict:
    """Describe a student exception with only the student's own frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    where = ""
    if frames:
        last = frames[-1]
        where = f"{os.path.basename(filename)}, line {last.lineno}" + (f": {last.line.strip()}" if last.line else "")
    text = "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(type(exc), exc))
    try:
        message = str(exc)
    except Exception:  # a hostile __str__
        message = "<unprintable message>"
    return {"type": type(exc).__name__, "bases": [c.__name__ for c in type(exc).__mro__],
            "message": message[:2000], "traceback": text[-8000:], "where": where[:400]}


def _forget_grader() -> None:
    """Drop the grader's modules from sys.modules and refuse to import them again.

    The child keeps its own references; what student code could import or patch is a fresh copy
    (or nothing), never the code that describes its results.
    """
    for name in list(sys.modules):
        if name == "grader" or name.startswith("grader."):
            del sys.modules[name]


def _drop_privileges(config: dict, isolated: bool) -> None:
    """Run student code as the unprivileged user the parent chose, or at least as root without capabilities."""
    user = config.get("user")
    if user:
        os.setgroups([])
        os.setgid(user[1])
        os.setuid(user[0])
    elif isolated and os.geteuid() == 0:
        from .isolate import drop_capabilities

        drop_capabilities()


def _set_up(config: dict) -> dict:
    """Import what the exercise needs and try it once, under the memory cap; what took effect.

    Runs before any student code exists, so whatever fails here is the grader's environment (a torch
    build that cannot load under the cap, a missing library, a broken GPU), never the student.
    """
    from .limits import cap_memory

    memory_mb = config.get("memory_mb")
    applied = {"memory_mb": memory_mb if cap_memory(memory_mb) else None}
    for name in config.get("imports", []):
        __import__(name)  # trusted imports happen before any student code runs
    if "numpy" in sys.modules:
        sys.modules["numpy"].ones(8).sum()
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        # One thread: small models train fastest that way on a shared CPU, results don't depend on
        # the thread count, and parallel graders don't fight over cores.
        torch.set_num_threads(1)
        device = config.get("device") or "cpu"
        applied["device"] = device
        if device == "cuda" and memory_mb:
            # CUDA starts here, in the process that runs the student's code (a fork would not inherit it).
            total = torch.cuda.get_device_properties(0).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, memory_mb * 2**20 / total))
            applied["gpu_memory_mb"] = memory_mb
        x = torch.ones(1, 2, 5, 5, device=device)
        torch.nn.functional.conv2d(x, torch.ones(3, 2, 3, 3, device=device)).sum().item()
        del x
    return applied


def _why(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"[:1000]
    except Exception:  # noqa: BLE001
        return type(exc).__name__


def main() -> None:
    config = json.loads(sys.argv[1])
    from .isolate import enter
    from .protocol import FrameError, Handle, encode_frame, read_frame
    from .student import MODULE_NAME

    isolated = enter(config)  # from here on: C, pid 2 of its own namespace (or the plain child)
    req, rep = _private_channels()
    try:
        applied = _set_up(config)
    except BaseException as exc:  # noqa: BLE001 - told to the grader as its own failure, not the student's
        rep.write(encode_frame({"hello": os.getpid(), "setup_failed": _why(exc), "imports": config.get("imports", [])}))
        return
    from . import probes
    from .limits import apply_in_child

    table = probes.all_probes()
    del sys.path[0]  # the grader's folder, put first by the parent's boot line

    _drop_privileges(config, isolated)
    applied.update(apply_in_child(config.get("processes"), check_parent=not isolated))
    applied["isolated"] = isolated
    applied["memory_all"] = bool(config.get("memory_cgroup")) and bool(applied.get("memory_mb"))
    blocked = config.get("blocked", [])
    for name in list(sys.modules):
        if name.partition(".")[0] in blocked:
            del sys.modules[name]
    _forget_grader()
    sys.meta_path.insert(0, _Blocker(blocked))

    def read_exact(n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = req.read(left)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def send(message) -> None:
        rep.write(encode_frame(message))

    # A real module, registered before it runs, as `import` would make it: dataclasses, typing, enum and
    # pickle look classes up in sys.modules. Its name is not "__main__", so a demo block does not run.
    module = types.ModuleType(MODULE_NAME)
    filename = "<submission>"
    handles: dict[int, object] = {}
    send({"hello": os.getpid(), "limits": applied})
    while True:
        try:
            request = read_frame(read_exact)
        except (EOFError, FrameError):
            return
        op = request.get("op")
        if op == "exit":
            return
        try:
            if op == "load":
                filename = request["filename"]
                source = request["source"]
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                module.__file__ = filename
                sys.modules[MODULE_NAME] = module
                code = compile(source, filename, "exec")
                exec(code, module.__dict__)
                send({"ok": True, "value": sorted(k for k in vars(module) if not k.startswith("_"))})
                continue
            target = request["target"]
            if target.startswith("probe:"):
                fn = table.get(target[6:])
                if fn is None:
                    raise LookupError(f"no probe named {target[6:]!r}")
            else:
                fn = module.__dict__.get(target)
                if fn is None:
                    raise AttributeError(f"your file defines no {target!r}")
            args = probes.materialise(request.get("args", []), handles)
            kwargs = probes.materialise(request.get("kwargs", {}), handles)
            value = fn(*args, **kwargs)
            if request.get("store"):
                handles[len(handles) + 1] = value
                value = Handle(len(handles))
            else:
                value = probes.to_data(value)
            reply = {"ok": True, "value": value}
            if request.get("echo_args"):
                reply["args"] = probes.to_data(args)
                reply["kwargs"] = probes.to_data(kwargs)
            send(reply)
        except BaseException as exc:  # noqa: BLE001 - everything student code does is reported
            if isinstance(exc, KeyboardInterrupt):
                raise
            send({"ok": False, "error": _raised_info(exc, filename)})


if __name__ == "__main__":
    main()
