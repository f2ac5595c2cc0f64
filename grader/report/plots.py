"""The HTML report's charts: curves, bars and receptive fields drawn with matplotlib (Agg) into small PNGs.

matplotlib is imported here only, and this module only when a chart is drawn (or preloaded by
grader.report.html.preload), so text and JSON runs never load it; maps and heat maps are drawn
without it (grader.report.png). Figures are built from matplotlib.figure.Figure, never pyplot: no
global backend or state is touched, whoever calls this. Sizes and dpi are small on purpose: one
exercise's page carries every picture inline and has to stay well under a megabyte.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from grader.grading.results import Bars, Curves, Fields

DPI = 96
MAX_POINTS = 400  # per curve
FIELDS_PER_ROW = 4
CHAR = 0.075  # inches: room for one character of an 8-point tick label (digits are ~0.06)
LINE = 0.2  # inches: room for one line of 9-point text
YOURS, MEASURED = "#d9480f", "#1c7ed6"  # Fields: the student's square, the measured one
_RC = {
    "text.parse_math": False,  # a "$" in a label is a dollar sign, not TeX
    "font.size": 9,  # points: 12 px at 96 dpi
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
}


def picture(figure: Curves | Bars | Fields) -> bytes:
    """The chart drawn as PNG bytes."""
    import matplotlib

    draw = {Curves: _curves, Bars: _bars, Fields: _fields}[type(figure)]
    with matplotlib.rc_context(_RC):
        fig = draw(figure)
        buffer = io.BytesIO()
        # No metadata: the same report gives the same bytes, and a few hundred fewer of them.
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI)  # no layout engine: margins are set by hand, see _place


def _thin(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    n = min(len(xs), len(ys))
    step = max(1, math.ceil(n / MAX_POINTS))
    return [_finite(v) for v in xs[:n:step]], [_finite(v) for v in ys[:n:step]]


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else math.nan  # matplotlib leaves a gap at NaN


def _curves(figure: Curves):
    fig = _figure(6.4, 3.2)
    ax = fig.add_axes((0, 0, 1, 1))
    for label, xs, ys in figure.series:
        x, y = _thin(xs, ys)
        ax.plot(x, y, label=label, marker="o" if len(x) <= 30 else None, markersize=3, linewidth=1.6)
    if figure.threshold is not None and math.isfinite(figure.threshold):
        ax.axhline(figure.threshold, color="#495057", linestyle="--", linewidth=1.2,
                   label=f"threshold {figure.threshold:g}")
    ax.set_xlabel(figure.x_label)
    ax.set_ylabel(figure.y_label)
    ax.grid(True, color="#dee2e6", linewidth=0.6)
    if len(figure.series) > 1 or figure.threshold is not None:
        ax.legend(frameon=False)
    _place(ax, bottom=0.5)
    return fig


def _bars(figure: Bars):
    import numpy as np

    labels = list(figure.labels)
    n_series = max(len(figure.series), 1)
    fig = _figure(min(max(4.0, 0.45 * len(labels) * n_series + 1.5), 8.0), 3.2)
    ax = fig.add_axes((0, 0, 1, 1))
    positions = np.arange(len(labels))
    width = 0.8 / n_series
    for i, (label, values) in enumerate(figure.series):
        heights = [_finite(v) for v in values[:len(labels)]]
        heights += [math.nan] * (len(labels) - len(heights))
        ax.bar(positions + (i - (n_series - 1) / 2) * width, heights, width, label=label)
    slanted = sum(map(len, labels)) > 40
    ax.set_xticks(positions, labels, rotation=30 if slanted else 0, ha="right" if slanted else "center",
                  rotation_mode="anchor" if slanted else "default")
    ax.set_ylabel(figure.y_label)
    ax.axhline(0, color="#495057", linewidth=0.8)
    ax.grid(True, axis="y", color="#dee2e6", linewidth=0.6)
    ax.set_axisbelow(True)
    if len(figure.series) > 1:
        ax.legend(frameon=False)
    # A label slanted at 30 degrees reaches down half its length (sin 30), and left of its bar by cos 30 of it.
    lengths = [len(label) * CHAR if slanted else 0.0 for label in labels]
    step = (fig.get_figwidth() - 1.0) / max(len(labels), 1)  # inches between bars, roughly
    spill = max((0.87 * length - (i + 0.5) * step for i, length in enumerate(lengths)), default=0.0)
    _place(ax, bottom=0.3 + 0.5 * max(lengths, default=0.0), spill=spill + 0.1)
    return fig


def _place(ax, *, bottom: float, spill: float = 0.0) -> None:
    """Put the axes at margins (inches) worked out from its tick labels: constrained layout took a third of the
    drawing time. `bottom` makes room for the x tick labels and label; `spill` for labels reaching left of the axes."""
    width, height = ax.figure.get_size_inches()
    ticks = ax.yaxis.get_major_formatter().format_ticks(ax.get_yticks())  # after the data: the final ticks
    offset = ax.yaxis.get_major_formatter().get_offset() if hasattr(ax.yaxis.get_major_formatter(),
                                                                   "get_offset") else ""
    left = max(0.12 + max(map(len, ticks), default=1) * CHAR + (LINE if ax.get_ylabel() else 0) + 0.08, spill)
    top = 0.12 + (LINE if offset else 0.0)  # the "1e-5" above the axis
    ax.set_position((left / width, bottom / height, 1 - (left + 0.15) / width, 1 - (bottom + top) / height))


def _fields(figure: Fields):
    from matplotlib.patches import Patch, Rectangle

    layers = figure.layers or (("", 0, 0),)
    n_cols = min(len(layers), FIELDS_PER_ROW)
    n_rows = math.ceil(len(layers) / n_cols)
    width, height = n_cols * 1.9 + 0.2, n_rows * 2.0 + 0.4
    fig = _figure(width, height)
    # Fixed margins (inches): two lines of title above each square, the legend below them all.
    axes = fig.subplots(n_rows, n_cols, squeeze=False,
                        gridspec_kw=dict(left=0.1 / width, right=1 - 0.1 / width, top=1 - 0.42 / height,
                                         bottom=0.4 / height, wspace=0.12, hspace=0.42 / 1.58))
    size = max(int(figure.input_size), 1)
    for ax, (name, yours, measured) in zip(axes.flat, layers):
        # Both squares centred on the input: a field wider than the input overflows its frame.
        span = max(size, yours, measured) * 1.04
        low, high = size / 2 - span / 2, size / 2 + span / 2
        ax.add_patch(Rectangle((0, 0), size, size, facecolor="#f8f9fa", edgecolor="#212529", linewidth=1.0))
        if size <= 40:  # one line per input pixel while they can still be told apart
            ax.vlines(range(1, size), 0, size, color="#dee2e6", linewidth=0.4)
            ax.hlines(range(1, size), 0, size, color="#dee2e6", linewidth=0.4)
        for side, style in ((measured, dict(facecolor=MEASURED, alpha=0.35, edgecolor=MEASURED, linewidth=1.0)),
                            (yours, dict(facecolor="none", edgecolor=YOURS, linewidth=2.0, linestyle="--"))):
            if side > 0:
                ax.add_patch(Rectangle((size / 2 - side / 2,) * 2, side, side, **style))
        ax.set_xlim(low, high)
        ax.set_ylim(high, low)
        ax.set_aspect("equal")
        ax.set_axis_off()  # no ticks or spines to lay out: the title still shows
        ax.set_title(f"{name}\nyours {yours} · measured {measured}",
                     color="#212529" if yours == measured else "#c92a2a")
    for ax in list(axes.flat)[len(layers):]:
        ax.set_visible(False)
    fig.legend(handles=[Patch(facecolor=MEASURED, alpha=0.35, edgecolor=MEASURED, label="measured"),
                        Patch(facecolor="none", edgecolor=YOURS, linestyle="--", linewidth=2.0, label="yours"),
                        Patch(facecolor="#f8f9fa", edgecolor="#212529", label=f"input {size}×{size}")],
               loc="lower center", ncols=3, frameon=False, borderaxespad=0.2)
    return fig
