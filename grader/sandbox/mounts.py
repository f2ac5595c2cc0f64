"""The isolated child's view of the file system, set up by its reaper (pid 1) before the child exists.

Everything is read-only except the child's working folder (its HOME and TMPDIR too) and /dev/shm, which
is a tmpfs of its own: its pages count against the sandbox's memory cgroup, and it is gone with the namespace.
/proc shows only the namespace, with /proc/sys and /proc/sysrq-trigger read-only; /dev lets through
only harmless character devices (null, zero, random, a terminal, and GPUs for --device cuda), so
root in there can't write a disk directly. The instructor's keys and the cgroup controls are
empty; each library an exercise forbids is a package whose import fails with the reason.
"""

from __future__ import annotations

import ctypes
import glob
import os

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
READ_ONLY = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
DEVICES = ("null", "zero", "full", "random", "urandom", "tty", "nvidia*", "nvidia-caps/*", "dri/*")
KERNEL_KNOBS = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs")


def prepare(libc, config: dict, *, workdir: str) -> None:
    """Build the view (in a fresh mount namespace); OSError if any step that matters fails."""
    mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here leaks to the grader's view
    mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for folder in config.get("hide", []):  # the keys, the cgroup file system
        if os.path.isdir(folder):
            mount(libc, "tmpfs", folder, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k,mode=555")
    for folder in config.get("refuse", []):  # forbidden libraries: a package whose import says why it fails
        if os.path.isdir(folder):
            mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=16k,mode=755")
            name = os.path.basename(folder)
            with open(os.path.join(folder, "__init__.py"), "w") as f:
                f.write(f"raise ImportError({f'importing {name!r} is not allowed in this exercise'!r})\n")
            mount(libc, None, folder, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _devices(libc)
    if os.path.isdir("/dev/shm"):  # its own, sized to the memory cap: nothing there outlives the namespace
        size = f"size={config.get('memory_mb') or 64}m,mode=1777".encode()
        mount(libc, "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, size)
    for path in KERNEL_KNOBS:
        if os.path.exists(path):
            mount(libc, path, path, None, MS_BIND | MS_REC)
            mount(libc, None, path, None, READ_ONLY)
    mount(libc, workdir, workdir, None, MS_BIND)  # its own mount, so it stays writable below
    must = {os.path.realpath(p) for p in config.get("readonly", [])}
    for point in _mount_points():
        if point in (workdir, "/proc", "/dev") or point.startswith(("/proc/", "/dev/")):
            continue  # done above, or the namespace's own /proc, the devices let through, /dev/shm and /dev/pts
        try:
            mount(libc, None, point, None, READ_ONLY)
        except OSError:
            if point == "/" or point in must:
                raise
    os.chdir(workdir)  # the working folder through its own (writable) mount, not the read-only one beneath
    for folder in must:  # the grader's and Python's folders: read-only with the mount they sit on, or no isolation
        if os.path.isdir(folder) and not _read_only(folder):
            raise OSError(f"{folder} stayed writable")


def _devices(libc) -> None:
    """/dev without block devices: the harmless ones get their own mounts, then /dev itself refuses devices."""
    for pattern in DEVICES:
        for path in glob.glob(os.path.join("/dev", pattern)):
            if os.path.exists(path) and not os.path.isdir(path):
                mount(libc, path, path, None, MS_BIND)
    mount(libc, None, "/dev", None, READ_ONLY)


def _mount_points() -> list[str]:
    """Every mount point in this namespace, parents first (from /proc/self/mountinfo)."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 4:
                points.append(fields[4].encode().decode("unicode_escape"))  # \040 for a space
    return points


def _read_only(path: str) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def mount(libc, source, target, fstype, flags, data=None) -> None:
    """mount(2), raising OSError with the target's name."""
    def b(text):
        return None if text is None else os.fsencode(text)

    if libc.mount(b(source), b(target), b(fstype), ctypes.c_ulong(flags), data) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")
