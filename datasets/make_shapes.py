"""Generate the shapes dataset: 32x32 RGB images of eight simple shapes, from a seed, NumPy only.

Run from the repository root:  python datasets/make_shapes.py [--out DIR]
Writes shapes_train.npz, shapes_val.npz and SHA256SUMS; the same seeds rebuild the same bytes.

Every image is one shape at a random place, size and tilt, in a random foreground colour on a
random background colour (both drawn independently of the class), with pixel noise. Colour, place
and size say nothing about the class: only the arrangement of edges does, which a convolutional
network picks up quickly and a plain MLP on raw pixels does not.
"""

from __future__ import annotations

import argparse
import hashlib
import zipfile
from pathlib import Path

import numpy as np

CLASSES = ("disc", "square", "triangle", "plus", "ring", "h_stripes", "v_stripes", "x")
SIZE = 32
SPLITS = {"train": (4800, 20240), "val": (1600, 20241)}  # split: (images, seed)

R_MIN, R_MAX = 8.0, 13.0  # half-extent of a shape, in pixels
TILT = np.deg2rad(15)  # at most this much, so a tilted plus never looks like an x
MIN_CONTRAST = 0.35  # least luma gap between shape and background (luma in [0, 1])
# Pixel noise, rounded to whole steps of 24/255: about a third of the pixels move one step up or
# down and the rest keep their value, which zlib packs far better than fine-grained noise.
NOISE_SIGMA, NOISE_STEP = 0.05, 24


def _shape_distance(kind: str, u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Signed distance in pixels to the edge of a shape at the origin (negative inside)."""
    w = 0.18 * r  # half-width of the bars of plus, ring and x
    box = np.maximum(np.abs(u), np.abs(v))
    if kind == "disc":
        return np.hypot(u, v) - r
    if kind == "square":
        return box - 0.8 * r
    if kind == "triangle":  # equilateral, circumradius r: the farthest of its three edge lines
        edges = [u * np.cos(a) + v * np.sin(a) for a in np.pi / 2 + np.arange(3) * 2 * np.pi / 3]
        return np.maximum.reduce(edges) - r / 2
    if kind == "plus":
        return np.minimum(np.maximum(np.abs(u) - w, np.abs(v) - r), np.maximum(np.abs(v) - w, np.abs(u) - r))
    if kind == "ring":
        return np.abs(np.hypot(u, v) - 0.8 * r) - w
    if kind in ("h_stripes", "v_stripes"):  # three bars filling a square, bars and gaps equally wide
        b = 0.85 * r
        period = 0.8 * b
        t = v if kind == "h_stripes" else u
        bars = np.abs(np.mod(t + b + period / 4, period) - period / 2) - period / 4
        return np.maximum(box - b, bars)
    if kind == "x":
        diagonals = np.minimum(np.abs(u - v), np.abs(u + v)) / np.sqrt(2) - w
        return np.maximum(box - 0.8 * r, diagonals)
    raise ValueError(f"unknown shape {kind!r}")


def _colours(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and background RGB in [0, 1], each (n, 3), redrawn until their lumas differ enough."""
    luma = np.array([0.299, 0.587, 0.114])
    fg, bg = rng.random((n, 3)), rng.random((n, 3))
    while True:
        low = np.abs((fg - bg) @ luma) < MIN_CONTRAST
        if not low.any():
            return fg, bg
        fg[low], bg[low] = rng.random((low.sum(), 3)), rng.random((low.sum(), 3))


def generate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw n images, classes balanced then shuffled: images uint8 (n, 3, 32, 32), labels uint8 (n,)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASSES)).astype(np.uint8)
    r = rng.uniform(R_MIN, R_MAX, n)
    cx, cy = (rng.uniform(r, SIZE - 1 - r) for _ in range(2))  # the whole shape stays inside
    tilt = np.where(labels == CLASSES.index("triangle"), rng.uniform(-np.pi, np.pi, n), rng.uniform(-TILT, TILT, n))
    fg, bg = _colours(rng, n)
    noise = rng.normal(0, NOISE_SIGMA * 255 / NOISE_STEP, (n, 3, SIZE, SIZE))

    # Pixel centres in each shape's own frame: shift to its centre, then undo its tilt.
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)  # (32, 32) each
    dx, dy = x - cx[:, None, None], y - cy[:, None, None]  # (n, 32, 32)
    cos, sin = np.cos(tilt)[:, None, None], np.sin(tilt)[:, None, None]
    u, v = cos * dx + sin * dy, cos * dy - sin * dx

    cover = np.empty((n, SIZE, SIZE))
    for k, kind in enumerate(CLASSES):
        idx = labels == k
        d = _shape_distance(kind, u[idx], v[idx], r[idx, None, None])
        cover[idx] = np.clip(0.5 - d, 0, 1)  # a one-pixel soft edge: the part of a pixel inside

    cover = cover[:, None]  # (n, 1, 32, 32)
    image = fg[:, :, None, None] * cover + bg[:, :, None, None] * (1 - cover)  # (n, 3, 32, 32)
    pixels = np.rint(image * 255) + np.rint(noise) * NOISE_STEP
    return np.clip(pixels, 0, 255).astype(np.uint8), labels


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write what np.savez_compressed writes, minus the clock: members carry a fixed timestamp."""
    # np.savez_compressed stamps the current time into each zip member, so two runs would differ.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(array))


def build(out: Path) -> list[Path]:
    """Write every split and SHA256SUMS into out; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written, sums = [], []
    for split, (n, seed) in SPLITS.items():
        images, labels = generate(n, seed)
        path = out / f"shapes_{split}.npz"
        save_npz(path, images=images, labels=labels)
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n")
        written.append(path)
    listed = out / "SHA256SUMS"
    ours = {path.name for path in written}
    kept = [line + "\n" for line in (listed.read_text().splitlines() if listed.exists() else [])
            if line.split() and line.split()[-1] not in ours]  # e.g. the backbone's line stays
    listed.write_text("".join(sums + kept))
    return [*written, out / "SHA256SUMS"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="folder to write into (default: the folder of this script)")
    for path in build(parser.parse_args().out):
        print(f"{path}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
