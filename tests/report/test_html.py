"""The HTML report: one self-contained page, student text escaped, every picture inline, small, and readable."""

from __future__ import annotations

import base64
import io
import re
import struct
import subprocess
import sys
import zlib

import html5lib
import numpy as np
import pytest

from grader.grading.results import Bars, CheckResult, Curves, Fields, Heatmap, Maps, Report, Table
from grader.report import png
from grader.report.html import to_html
from tests.conftest import REPO, SUBMISSIONS, graded
from tests.report.browser import ink, needs_chromium, screenshot

EVIL = "<script>alert(1)</script> {{ 7*7 }} {% raw %} &amp;"
HINT = ("Your output equals a true convolution: you flipped the kernel. PyTorch's Conv2d computes "
        "cross-correlation: slide the kernel over the input as it is, without flipping it.")
NS = "{http://www.w3.org/1999/xhtml}"
URL_ATTRIBUTES = ("src", "href", "srcset", "poster", "data", "action", "background", "xlink:href")


def grid(array) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in np.asarray(array))


def correlate(x, w):
    k = w.shape[-1]
    side = x.shape[1] - k + 1
    return np.array([[[(x[:, i:i + k, j:j + k] * w[o]).sum() for j in range(side)] for i in range(side)]
                     for o in range(w.shape[0])])


def flipped_maps(side: int = 12, channels: int = 4) -> Maps:
    """Exercise 1's picture for a flipped kernel: yours / expected / difference per output channel."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, side + 2, side + 2)), rng.standard_normal((channels, 3, 3, 3))
    yours, expected = correlate(x, w[:, :, ::-1, ::-1]), correlate(x, w)
    return Maps("your output against F.conv2d, per output channel", ("yours", "expected", "difference"),
                tuple((f"channel {o}", (grid(yours[o]), grid(expected[o]), grid(yours[o] - expected[o])))
                      for o in range(channels)),
                caption="Every value is off, with no pattern of padding or stride: the kernel is flipped.",
                diverging=("difference",))


def every_picture(side: int = 12) -> tuple:
    steps = tuple(float(s) for s in range(200))
    return (
        flipped_maps(side),
        Curves("training loss", "step", "loss",
               (("yours", steps, tuple(1.2 * np.exp(-np.array(steps) / 60) + 0.3)),
                ("reference", steps, tuple(np.exp(-np.array(steps) / 30)))), caption="stays above", threshold=0.35),
        Bars("running-mean drift per BatchNorm", ("bn1", "bn2", "bn3"),
             (("yours", (0.1, 0.6, 0.2)), ("reference", (0.1, 0.1, 0.1))), y_label="drift", caption="bn2 drifts"),
        Fields("receptive field per layer", 32, (("conv1", 3, 3), ("conv2", 5, 5), ("pool", 5, 6), ("conv3", 8, 10)),
               caption="the pooling layer's jump is missing"),
        Heatmap("|yours - expected|, channel 0", grid(np.abs(np.random.default_rng(1).standard_normal((side, side)))),
                0.01),
    )


def flipped_kernel_report(**changes) -> Report:
    """A synthetic exercise-1 report of a student who flipped the kernel (pictures from the dataclasses)."""
    message = "For x (3, 7, 7), weight (8, 3, 3, 3), no bias, stride=1, padding=0 your values differ from F.conv2d."
    figures = changes.pop("figures", every_picture())
    checks = [CheckResult("returns_array", "returns a NumPy array of shape (C_out, H_out, W_out)", "passed", 1, 1),
              CheckResult("shapes_grid", "gets the output shape right over a grid of sizes", "passed", 2, 2)]
    checks += [CheckResult(name, title, "failed", 0, 2, message=message, hint=HINT, figures=figures,
                           diagnosis="kernel_flipped")
               for name, title in (("values_plain", "matches F.conv2d with stride 1 and no padding"),
                                   ("values_padding", "matches F.conv2d with zero padding"))]
    traceback = 'Traceback (most recent call last):\n  File "exercise1.py", line 9\nTypeError: no'
    checks += [CheckResult("dtype", "keeps float32 as float32", "error", 0, 1, message="Your code raised TypeError.",
                           traceback=traceback),
               CheckResult("numpy_only", "computes with NumPy alone", "passed", 1, 1,
                           figures=(Table("imports", ("module", "allowed"), (("numpy", "yes"),)),))]
    fields = dict(exercise="exercise1", title="Multi-channel 2-D convolution in NumPy",
                  submission="exercises/exercise1.py", seed=1001, device="cpu", checks=tuple(checks),
                  captured_output="".join(f"step {i}: loss {1 / (i + 1):.3f}\n" for i in range(40)),
                  notes=("Not run: IPython magics are skipped (cell 3: %timeit conv2d(x, w)).",),
                  duration=2.5, limits=("10 s per call", "600 s in all"))
    return Report(**{**fields, **changes})


def parse(page: str):
    """The page as a browser's parser builds it; html5lib lists every parse error it met."""
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"))
    tree = parser.parse(page)
    assert parser.errors == [], parser.errors[:5]
    return tree


def text_of(tree) -> str:
    return " ".join("".join(tree.itertext()).split())


def images(tree) -> list[str]:
    return [img.get("src", "") for img in tree.iter(f"{NS}img")]


@pytest.fixture(scope="module")
def page() -> str:
    return to_html(flipped_kernel_report())


def test_the_page_parses_without_errors_and_has_no_external_resource(page):
    tree = parse(page)

    tags = {element.tag.removeprefix(NS) for element in tree.iter() if isinstance(element.tag, str)}
    assert not tags & {"script", "link", "iframe", "object", "embed", "base"}, tags
    for element in tree.iter():
        for name, value in element.attrib.items():
            if name in URL_ATTRIBUTES:
                assert value.startswith(("data:image/png;base64,", "#")), (element.tag, name, value[:80])
    css = "".join("".join(style.itertext()) for style in tree.iter(f"{NS}style"))
    assert "font-family" in css.replace("font:", "font-family") and "@import" not in css and "url(" not in css
    assert not re.search(r"(?:https?:)?//[\w.-]+\.\w", page.replace("http://www.w3.org", "")), "a URL in the page"


def test_the_page_says_what_the_text_report_says_with_failed_checks_first(page):
    text = text_of(parse(page))

    for said in ("exercise1", "Multi-channel 2-D convolution in NumPy", "exercises/exercise1.py", "seed 1001",
                 "4.0 / 9.0", "2 checks failed for the same reason", "0/4 points", HINT, "keeps float32 as float32",
                 "error, 0/1 points", "Your code raised TypeError.", "TypeError: no", "%timeit conv2d(x, w)",
                 "step 39: loss 0.025", "10 s per call; 600 s in all", "Score: 4.0 / 9.0"):
        assert said in text, said
    assert "step 20: loss" in text and text.index("What to fix") < text.index("Passed checks")
    assert text.index("2 checks failed") < text.index("keeps float32 as float32 — error")
    in_sight, folded = page.split("<summary>All of it")  # the last 15 lines in sight, all of them folded
    assert "step 25: loss" in in_sight and "step 24: loss" not in in_sight and "step 0: loss" in folded


@pytest.mark.parametrize("where", ["message", "hint", "title", "output", "note", "table", "figure", "exercise"])
def test_student_text_shows_as_typed_never_as_markup_or_template(where):
    check = dict(name="c", title="a check", status="failed", score=0, max_score=1)
    report = dict(exercise="exercise1", title="t", submission="s.py", seed=1, device="cpu")
    figure = {"table": Table("t", ("column",), ((EVIL,),)),
              "figure": Maps(EVIL, (EVIL,), ((EVIL, (((0.0, 1.0),),)),), caption=EVIL)}.get(where)
    check.update({"message": {"message": EVIL}, "hint": {"hint": EVIL}, "title": {"title": EVIL}}.get(where, {}))
    report.update({"output": {"captured_output": EVIL}, "note": {"notes": (EVIL,)},
                   "exercise": {"title": EVIL, "submission": EVIL, "device": EVIL}}.get(where, {}))
    checks = (CheckResult(**check, figures=(figure,) if figure else ()),)

    page = to_html(Report(**report, checks=checks))

    tree = parse(page)
    assert not list(tree.iter(f"{NS}script"))
    assert EVIL in text_of(tree)
    assert "<script>alert" not in page and "49" not in text_of(tree)


@pytest.mark.parametrize("figure", every_picture(), ids=lambda f: type(f).__name__)
def test_each_picture_type_is_inline_png_with_its_caption(figure):
    report = flipped_kernel_report(figures=(figure,))

    tree = parse(to_html(report))

    sources = images(tree)
    # A chart is one PNG; maps are a PNG per map and per colour bar: 4 rows x (3 maps + 2 bars), or map + bar.
    assert len(sources) == {Maps: 20, Heatmap: 2}.get(type(figure), 1), len(sources)
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    text = text_of(tree)
    assert figure.title in text and getattr(figure, "caption", "") in text
    assert "could not be drawn" not in text


def decode(png_bytes: bytes) -> np.ndarray:
    """An 8-bit RGB PNG as written by grader.report.png, read back chunk by chunk (CRCs checked)."""
    assert png_bytes[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks = 8, {}
    while at < len(png_bytes):
        length, kind = struct.unpack(">I4s", png_bytes[at:at + 8])
        data = png_bytes[at + 8:at + 8 + length]
        assert struct.unpack(">I", png_bytes[at + 8 + length:at + 12 + length])[0] == zlib.crc32(kind + data)
        chunks[kind] = chunks.get(kind, b"") + data
        at += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) == (8, 2) and b"IEND" in chunks
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + 3 * width)
    assert not raw[:, 0].any()  # filter type 0 on every line
    return raw[:, 1:].reshape(height, width, 3)


def pixels(src: str) -> np.ndarray:
    return decode(base64.b64decode(src.split(",", 1)[1]))


def test_the_png_writer_gives_back_the_pixels_it_was_given():
    import matplotlib.image  # here only: importing this module must not load matplotlib (see below)

    rgb = np.random.default_rng(3).integers(0, 256, (7, 5, 3), dtype=np.uint8)

    data = png.encode(rgb)

    assert np.array_equal(decode(data), rgb)
    read = matplotlib.image.imread(io.BytesIO(data), format="png")  # another decoder (Pillow) agrees
    assert np.array_equal(np.rint(read[..., :3] * 255).astype(np.uint8), rgb)
    assert png.encode(rgb) == data  # no time stamp or other metadata: equal pictures, equal bytes


def test_a_map_is_enlarged_to_sharp_squares_with_magenta_for_nan():
    maps = Maps("m", ("yours",), (("c0", (((0.0, 1.0), (float("nan"), 0.5)),)),))

    tile, bar = png.maps_panel(maps).rows[0][1]

    image = pixels(tile.src)
    side = png.MAP_PIXELS // 2
    assert image.shape == (2 * side, 2 * side, 3) and (tile.width, tile.height) == (2 * side, 2 * side)
    assert (image[:side, :side] == image[0, 0]).all() and (image[side:, :side] == png.NOT_FINITE).all()
    assert tuple(image[0, 0]) == (0x44, 0x01, 0x54) and tuple(image[0, -1]) == (0xFD, 0xE7, 0x25)  # viridis ends
    assert bar.ticks == ("1", "0.5", "0") and pixels(bar.src).shape == (tile.height, png.BAR_WIDTH, 3)


def test_a_diverging_column_is_drawn_on_a_scale_centred_on_zero_with_a_colour_bar():
    maps = Maps("m", ("yours", "expected", "difference"),
                (("c0", (((0.0, 5.0),), ((1.0, 2.0),), ((-1.0, 3.0),))),), diverging=("difference",))

    panel = png.maps_panel(maps)

    assert panel.header == ("yours", "expected", "", "difference", "")  # a bar after the plain maps, one after
    label, (yours, expected, plain_bar, difference, diverging_bar) = panel.rows[0]
    assert label == "c0" and plain_bar.ticks == ("5", "2.5", "0") and diverging_bar.ticks == ("3", "0", "-3")
    # yours and expected share the row's scale: expected's 1.0 and 2.0 are not its own ends.
    assert tuple(pixels(yours.src)[0, 0]) == (0x44, 0x01, 0x54) != tuple(pixels(expected.src)[0, 0])
    left, right = pixels(difference.src)[0, 0], pixels(difference.src)[0, -1]
    assert left[2] > left[0] and tuple(right) == (0x67, 0x00, 0x1F)  # -1 light blue, 3 the darkest red
    assert min(pixels(diverging_bar.src)[len(pixels(diverging_bar.src)) // 2, 0]) > 230  # zero: (nearly) white


def test_nan_and_infinity_are_drawn_and_named_in_the_legend():
    bad = ((float("nan"), 1.0), (float("inf"), -float("inf")))
    report = flipped_kernel_report(figures=(Maps("m", ("yours",), (("c", (bad,)),)), Heatmap("h", bad, 0.1)))

    tree = parse(to_html(report))

    maps_tile, _, heat_tile, _ = images(tree)
    for src in (maps_tile, heat_tile):
        image = pixels(src)
        assert (image[0, 0] == png.NOT_FINITE).all() and (image[-1, -1] == png.NOT_FINITE).all()
        assert not (image[0, -1] == png.NOT_FINITE).all()  # the one finite value keeps its colour
    assert text_of(tree).count("magenta: NaN or infinite") == 2


def test_a_heat_map_is_grey_within_tolerance_and_names_its_scale():
    heat = Heatmap("h", ((0.0, 0.05), (0.5, 1.0)), 0.1)

    tree = parse(to_html(flipped_kernel_report(figures=(heat,))))

    image = pixels(images(tree)[0])
    assert (image[0, 0] == png.WITHIN).all() and (image[0, -1] == png.WITHIN).all()
    assert tuple(image[-1, -1]) == (0x80, 0x00, 0x26)  # the largest difference: the darkest red
    text = text_of(tree)
    assert "|difference|" in text and "1 0.55 0.1" in text and "grey: within tolerance" in text


def test_an_exercise_with_large_pictures_stays_under_one_megabyte():
    # Four rows of 32x32 maps in three columns, 200-point curves, and a 256x256 map (downsampled).
    figures = (*every_picture(side=32), Heatmap("big", grid(np.random.default_rng(2).random((256, 256))), 0.1))

    size = len(to_html(flipped_kernel_report(figures=figures)).encode())

    assert 20_000 < size < 1_000_000, size


def test_a_real_report_of_a_flipped_kernel_renders():
    report = graded("exercise1", SUBMISSIONS / "exercise1" / "bad_flipped_kernel.py")

    text = text_of(parse(to_html(report)))

    assert f"{report.score:.1f} / {report.max_score:.1f}" in text and "flipped" in text


def test_importing_the_report_and_writing_text_or_json_loads_neither_matplotlib_nor_jinja2():
    code = ("import sys\n"
            "from grader.report import plain_text, to_json\n"
            "from tests.report.test_html import flipped_kernel_report\n"
            "report = flipped_kernel_report()\n"
            "assert 'Score: 4.0 / 9.0' in plain_text(report) and to_json(report)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'jinja2')))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_report_with_only_maps_and_heat_maps_is_made_without_matplotlib():
    # Exercises 1 and 4 show only maps: importing matplotlib for them cost most of a second a run.
    out = run_python("import sys\n"
                     "from grader.grading.results import Heatmap\n"
                     "from grader.report.html import to_html\n"
                     "from tests.report.test_html import flipped_kernel_report, flipped_maps\n"
                     "heat = Heatmap('h', ((0.0, 1.0),), 0.1)\n"
                     "page = to_html(flipped_kernel_report(figures=(flipped_maps(), heat)))\n"
                     "assert page.count('data:image/png;base64,') == 22, page.count('data:image/png')\n"
                     "print('jinja2' in sys.modules, sorted(m for m in sys.modules if 'matplotlib' in m))\n")
    assert out == "True []"


PRELOAD = ("import sys, threading\n"
           "from grader.report.html import preload, to_html\n"
           "from tests.report.test_html import flipped_kernel_report, flipped_maps\n"
           "preload({exercise!r}); preload()\n"
           "names = [t.name for t in threading.enumerate() if t.name == 'cnn-report-preload']\n"
           "[t.join() for t in threading.enumerate() if t.name == 'cnn-report-preload']\n"
           "loaded = ['jinja2' in sys.modules, 'matplotlib.backends.backend_agg' in sys.modules]\n"
           "page = to_html(flipped_kernel_report(figures=({figures})))\n"
           "print(len(names), *loaded, 'Score: 4.0 / 9.0' in page and 'could not be drawn' not in page)\n")


def test_preload_loads_jinja2_and_matplotlib_once_in_a_background_thread():
    out = run_python(PRELOAD.format(exercise="exercise5", figures="flipped_maps(), *flipped_kernel_report()"
                                                                  ".checks[2].figures"))
    assert out == "1 True True True"


def test_preload_for_an_exercise_of_maps_only_leaves_matplotlib_out():
    # Importing matplotlib in the background slowed exercise 1's grading by half a second on a busy machine.
    out = run_python(PRELOAD.format(exercise="exercise1", figures="flipped_maps(),"))
    assert out == "1 True False True"


def test_preload_starts_on_matplotlib_only_once_the_grading_thread_waits():
    # Both imports hold the GIL: importing matplotlib while grading imports torch only took turns with it.
    out = run_python("import sys, time\n"
                     "from grader.report.html import preload\n"
                     "preload('exercise3')\n"
                     "end = time.perf_counter() + 2.0\n"
                     "while time.perf_counter() < end:  # busy, as grading is while it imports torch\n"
                     "    pass\n"
                     "busy = 'matplotlib' in sys.modules\n"
                     "end = time.perf_counter() + 60\n"
                     "while 'matplotlib.backends.backend_agg' not in sys.modules and time.perf_counter() < end:\n"
                     "    time.sleep(0.05)  # waiting, as grading does on the sandbox child\n"
                     "print(busy, 'jinja2' in sys.modules, 'matplotlib.backends.backend_agg' in sys.modules)\n")
    assert out == "False True True"


@needs_chromium
def test_a_browser_shows_the_page_with_its_pictures(tmp_path, page):
    html = tmp_path / "exercise1.html"
    html.write_text(page, encoding="utf-8")

    shot = screenshot(html, tmp_path / "exercise1.png", width=1280, height=2000)

    covered, spread = ink(shot)
    assert covered > 0.08 and spread > 0.05, (covered, spread)  # text and colour maps, not a blank page
