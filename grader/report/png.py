"""Maps and heat maps drawn without matplotlib: colour maps computed in NumPy, and a small PNG writer.

The maps of exercises 1, 3 and 4 are arrays of numbers: colouring them and writing the PNGs takes
milliseconds, where importing matplotlib and drawing its figures took over a second. Each map is
its own PNG tile; the page lays the tiles out as a table, with labels and numbers as HTML text. The colour
maps are matplotlib's (viridis, RdBu_r, YlOrRd), kept here as 17 evenly spaced anchor colours:
linear interpolation between them is within 8/255 of the originals.
"""

from __future__ import annotations

import base64
import functools
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from grader.grading.results import Grid, Heatmap, Maps

NOT_FINITE = (0xE6, 0x00, 0xE6)  # magenta: NaN and infinity, in every picture
WITHIN = (0xE4, 0xE7, 0xEB)  # grey: heat map cells within tolerance
TABLES = {
    "sequential": "440154 48186a 472d7b 424086 3b528b 33638d 2c728e 26828e 21918c "
                  "1fa088 28ae80 3fbc73 5ec962 84d44b addc30 d8e219 fde725",  # viridis
    "diverging": "053061 175290 2a71b2 3f8ec0 6bacd1 9bc9e0 c2ddec e0ecf3 f7f6f6 "
                 "fbe5d8 fbccb4 f5aa89 e48066 d05548 ba2832 930e26 67001f",  # RdBu_r: white at the middle
    "heat": "ffffcc fff6b6 ffeda0 fee38b fed976 fec561 feb24c fd9f44 fd8c3c "
            "fc6c33 fc4d2a ef3323 e2191c cf0c21 bb0026 9d0026 800026",  # YlOrRd
}
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _anchors(kind: str) -> np.ndarray:
    return np.array([[int(h[i:i + 2], 16) for i in (0, 2, 4)] for h in TABLES[kind].split()], dtype=np.float64)


def colour(values: np.ndarray, kind: str, low: float, high: float) -> np.ndarray:
    """Values as RGB bytes (..., 3) on the colour map `kind`, from `low` to `high`; NaN and infinity magenta."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    span = high - low if high > low else 1.0
    with np.errstate(invalid="ignore"):
        t = np.clip((np.where(finite, values, low) - low) / span, 0.0, 1.0)
    anchors = _anchors(kind)
    at = np.linspace(0.0, 1.0, len(anchors))
    rgb = np.stack([np.interp(t, at, anchors[:, k]) for k in range(3)], axis=-1)
    rgb = np.rint(rgb).astype(np.uint8)
    rgb[~finite] = NOT_FINITE
    return rgb


def strip(kind: str, length: int = 128) -> np.ndarray:
    """A vertical colour bar, high values on top: RGB bytes (length, 1, 3)."""
    return colour(np.linspace(1.0, 0.0, length)[:, None], kind, 0.0, 1.0)


def enlarge(rgb: np.ndarray, scale: int) -> np.ndarray:
    """Each pixel as a scale x scale block (nearest neighbour): cells stay sharp squares in any viewer."""
    return np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1) if scale > 1 else rgb


def encode(rgb: np.ndarray) -> bytes:
    """RGB bytes (H, W, 3) as a PNG file: 8-bit truecolour, no metadata, so equal pictures give equal bytes."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width, _ = rgb.shape
    raw = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # each line starts with filter type 0 (none)
    raw[:, 1:] = rgb.reshape(height, 3 * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # depth 8, colour type 2 (RGB)
    return (SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
            + chunk(b"IEND", b""))


def data_uri(png: bytes) -> str:
    """PNG bytes as a data: URI for an <img src>."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# --- Maps and heat maps as HTML tables of PNG tiles: labels, headings and numbers are HTML text -----------
MAP_PIXELS = 144  # a map's longer side on the page, in pixels (each cell a square of whole pixels)
HEAT_PIXELS = 256
BAR_WIDTH = 10
MIN_BAR = 64  # pixels: the shortest colour bar, for maps much wider than tall
MAX_MAP_SIDE = 48  # larger maps are downsampled by block means (checks already send at most ~32x32)
MAX_MAP_ROWS = 8


@dataclass(frozen=True)
class Tile:
    """One cell of a drawn grid: a map, or a colour bar (with its numbers, top to bottom), or nothing."""

    src: str = ""
    width: int = 0
    height: int = 0
    alt: str = ""
    ticks: tuple[str, ...] = ()  # a colour bar's numbers: top, middle, bottom
    label: str = ""  # a colour bar's name


@dataclass(frozen=True)
class Panel:
    """A figure of maps as the page lays it out: column headings, then (row label, tiles) per row."""

    header: tuple[str, ...]  # one per tile ("" above a colour bar)
    rows: tuple[tuple[str, tuple[Tile, ...]], ...]


def has_not_finite(figure: Maps | Heatmap) -> bool:
    """True when a map holds NaN or infinity (drawn in magenta; the page says so)."""
    grids = [figure.values] if isinstance(figure, Heatmap) else [g for _, row in figure.rows for g in row]
    return any(not math.isfinite(v) for grid in grids for line in grid for v in line)


def maps_panel(figure: Maps) -> Panel:
    """A Maps figure as tiles: every plain map of a row on one scale, each diverging column centred on zero."""
    columns = figure.columns
    plain = [c for c in columns if c not in figure.diverging]
    # A colour bar after the last plain column (the row's shared scale), and after each diverging one.
    barred = set(figure.diverging) | set(plain[-1:])
    header = tuple(h for c in columns for h in ((c, "") if c in barred else (c,)))
    rows = []
    for label, grids in figure.rows[:MAX_MAP_ROWS]:
        arrays = [_array(g) for g in grids[:len(columns)]]
        low, high = _finite_limits([a for a, c in zip(arrays, columns) if c not in figure.diverging])
        tiles = []
        for c, column in enumerate(columns):
            if column in figure.diverging:
                # Zero in the middle (white): the sign of a difference reads at a glance.
                bound = _largest_size(arrays[c]) if c < len(arrays) else 1.0
                kind, scale = "diverging", (-bound, bound)
            else:
                kind, scale = "sequential", (low, high)
            tile = _map_tile(colour(arrays[c], kind, *scale), MAP_PIXELS, f"{label}: {column}") \
                if c < len(arrays) else Tile()
            tiles.append(tile)
            if column in barred:
                tiles.append(_bar_tile(kind, tile.height or MAP_PIXELS, *scale) if c < len(arrays) else Tile())
        rows.append((label, tuple(tiles)))
    return Panel(header, tuple(rows))


def heat_panel(figure: Heatmap) -> Panel:
    """A Heatmap as tiles: grey within tolerance, yellow to red above it, and its colour bar."""
    array = _array(figure.values)
    finite = np.isfinite(array)
    high = max(float(array[finite].max()) if finite.any() else 1.0, figure.tolerance * 1.01, 1e-12)
    rgb = colour(array, "heat", figure.tolerance, high)
    with np.errstate(invalid="ignore"):
        rgb[finite & (array <= figure.tolerance)] = WITHIN
    tile = _map_tile(rgb, HEAT_PIXELS, figure.title)
    bar = _bar_tile("heat", tile.height, figure.tolerance, high, label="|difference|")
    return Panel((), (("", (tile, bar)),))


def _map_tile(rgb: np.ndarray, pixels: int, alt: str) -> Tile:
    scale = max(1, pixels // max(rgb.shape[:2]))
    big = enlarge(rgb, scale)
    return Tile(data_uri(encode(big)), big.shape[1], big.shape[0], alt)


def _bar_tile(kind: str, height: int, low: float, high: float, label: str = "") -> Tile:
    height = max(height, MIN_BAR)  # as tall as its map, with room for its three numbers
    return Tile(_strip_uri(kind, height), BAR_WIDTH, height, f"colour scale {_number(low)} to {_number(high)}",
                (_number(high), _number((low + high) / 2), _number(low)), label)


@functools.lru_cache(maxsize=16)
def _strip_uri(kind: str, height: int) -> str:
    return data_uri(encode(np.repeat(strip(kind, height), BAR_WIDTH, axis=1)))


def _number(value: float) -> str:
    return "0" if abs(value) < 1e-300 else f"{value:.3g}"


def _array(grid: Grid) -> np.ndarray:
    """A grid as a float array, downsampled by block means when larger than MAX_MAP_SIDE."""
    width = max((len(line) for line in grid), default=0)
    array = np.full((len(grid), width), np.nan)
    for i, line in enumerate(grid):
        array[i, :len(line)] = line
    if array.size == 0:
        return np.full((1, 1), np.nan)
    step = max(1, math.ceil(max(array.shape) / MAX_MAP_SIDE))
    if step > 1:
        h, w = (array.shape[0] // step) * step, (array.shape[1] // step) * step
        array = array[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3))
    return array


def _largest_size(array: np.ndarray) -> float:
    """The largest finite |value|; 1 when there is none, or it is 0 (a scale must have a width)."""
    sizes = np.abs(array[np.isfinite(array)])
    return float(sizes.max()) if sizes.size and sizes.max() > 0 else 1.0


def _finite_limits(arrays: list[np.ndarray]) -> tuple[float, float]:
    """(min, max) of the finite values; widened by 0.5 either side when they are all one value."""
    values = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.array([])
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    return (low - 0.5, high + 0.5) if low == high else (low, high)
