"""A real browser for the HTML reports: headless Chromium takes a screenshot of a page opened from disk."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Everything that would reach the network (or a desktop session) off: the page must show with none.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars")

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 2000, timeout: float = 120) -> Path:
    """Open the HTML file `page` in headless Chromium and save a width x height screenshot of it to `png`."""
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    profile = png.parent / f"{png.stem}-chromium-profile"  # a fresh profile: nothing of the user's browser
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                           f"--window-size={width},{height}", page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=timeout)
    assert png.is_file(), f"chromium wrote no screenshot (exit {done.returncode}):\n{done.stderr[-2000:]}"
    return png


def ink(png: Path) -> tuple[float, float]:
    """(share of pixels that are not background white, standard deviation of grey levels) of a screenshot."""
    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(str(png))[..., :3]  # floats in [0, 1]
    grey = pixels.mean(axis=2)
    return float((grey < 0.97).mean()), float(grey.std())
