"""The class report: a real class graded by `grade_batch`, then one self-contained page about it."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import html5lib
import pytest

from grader.classroom.batch import grade_batch
from grader.classroom.class_report import NOT_JUDGED, class_report
from grader.errors import ToolError
from grader.grading.results import TROUBLE
from grader.instructor import misconceptions

from ..conftest import REPO
from ..report.browser import ink, screenshot

NS = {"h": "http://www.w3.org/1999/xhtml"}
KEY1, KEY2 = (REPO / "solutions" / "exercise1.py").read_text(), (REPO / "solutions" / "exercise2.py").read_text()
# A mistake no check names: every output off by a constant. Two students hand in the same file.
ODD = KEY1.replace("return np.ascontiguousarray(out)", "return np.ascontiguousarray(out + 0.25)")
HOSTILE = '<img src=x onerror=alert(1)>zed & "co"'


def mutant(key: str, exercise: str, mistake: str, comment: str = "") -> str:
    """The key with one misconception of the table made in it; a comment makes each student's file their own."""
    found = next(m for m in misconceptions.for_exercise(exercise) if m.id == mistake)
    return misconceptions.apply(key, found).source + comment


def make_class(root: Path) -> Path:
    files = {
        "ann/exercise1.py": KEY1, "ann/exercise2.py": KEY2,
        "ben/exercise1.py": ODD, "cat/exercise1.py": ODD,  # the copied pair
        # Three students flip the kernel on their own: equal outputs, a named misconception, no copying.
        "dan/exercise1.py": mutant(KEY1, "exercise1", "kernel_flipped"),
        "eve/exercise1.py": mutant(KEY1, "exercise1", "kernel_flipped", "\n# eve\n"),
        "gus/exercise1.py": mutant(KEY1, "exercise1", "kernel_flipped", "\n# gus\n"),
        "dan/exercise2.py": mutant(KEY2, "exercise2", "jump_ignored"),
        "eve/exercise2.py": mutant(KEY2, "exercise2", "jump_ignored", "\n# eve\n"),
        "gus/exercise2.py": mutant(KEY2, "exercise2", "ceil_not_floor"),
        "fay/exercise1.py": mutant(KEY1, "exercise1", "padding_ignored"),
        f"{HOSTILE}/exercise1.py": "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
                                   "    raise NotImplementedError\n",
    }
    for name, text in files.items():
        (root / "class" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "class" / name).write_text(text)
    return root / "class"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(gradebook folder, the class report's path, its HTML)."""
    root = tmp_path_factory.mktemp("class-report")
    result = grade_batch(make_class(root), out=root / "gradebook", workers=2, timeout=10)
    assert result.complete and result.graded == 12
    page = class_report(root / "gradebook")
    return root / "gradebook", page, page.read_text(encoding="utf-8")


def parse(html: str):
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(html)


def text(element) -> str:
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def ranking(html: str) -> list[tuple[int, str, list[str]]]:
    """(students hit, the entry's text, the students listed) for each misconception, in the page's order."""
    entries = []
    for li in parse(html).findall(".//h:ol[@class='ranking']/h:li", NS):
        count = int(text(li.find("h:span[@class='count']", NS)).split()[0])
        who = [text(a) for a in li.findall("h:div[@class='who']/h:a", NS)]
        entries.append((count, text(li), who))
    return entries


def test_the_gradebook_keeps_each_failed_checks_diagnosis_fingerprint_and_hint(graded):
    book, _, _ = graded
    cells = {s: row["exercises"] for s, row in json.loads((book / "grades.json").read_text())["students"].items()}
    dan = cells["dan"]["exercise1"]
    failed = {name for name, status in dan["checks"].items() if status != "passed"}
    assert failed and set(dan["diagnoses"]) == failed and set(dan["diagnoses"].values()) == {"kernel_flipped"}
    assert set(dan["fingerprints"]) == failed and set(dan["hints"]) == failed
    assert cells["ann"]["exercise1"]["diagnoses"] == {} and cells["ann"]["exercise1"]["fingerprints"] == {}
    # Independent students with the same named mistake return the same values: the report must not flag them.
    assert dan["fingerprints"] == cells["eve"]["exercise1"]["fingerprints"] == cells["gus"]["exercise1"]["fingerprints"]
    assert (book / "feedback" / "ann" / "exercise1.html").is_file()  # beside the .txt


def test_misconceptions_are_ranked_by_students_hit_with_their_names(graded):
    _, _, html = graded
    found = ranking(html)
    assert [(count, who) for count, _, who in found] == [
        (3, ["dan", "eve", "gus"]), (2, ["ben", "cat"]), (2, ["dan", "eve"]), (1, ["fay"]), (1, ["gus"])]
    flipped, odd, jump, padding, ceil = (entry for _, entry, _ in found)
    assert "exercise1" in flipped and "the kernel flipped" in flipped and "kernel_flipped" in flipped
    # A failure no check named: the checks that failed and a failing check's hint, as one entry.
    assert "no misconception named" in odd and "values_plain" in odd and "by hand" in odd
    assert "exercise2" in jump and "jump" in jump and "padding ignored" in padding and "(ceil)" in ceil
    not_judged = [text(p) for p in parse(html).iter("{%s}p" % NS["h"]) if "could not be judged" in text(p)]
    assert not_judged == [f"exercise1: could not be judged (not counted above): not implemented yet: {HOSTILE}."]
    assert all(HOSTILE not in who for _, _, who in found)


def test_the_copied_pair_is_flagged_and_the_common_named_mistake_is_not(graded):
    _, _, html = graded
    section = html.split('id="identical"')[1].split('id="students"')[0]
    assert "a signal to look at, never a verdict" in section.lower()
    rows = [[text(td) for td in tr.findall("h:td", NS)]
            for tr in parse(html).findall(".//h:table[@class='identical']//h:tr", NS) if tr.find("h:td", NS) is not None]
    assert len(rows) == 1
    exercise, students, checks = rows[0]
    assert (exercise, students) == ("exercise1", "ben, cat")
    assert checks.startswith("4:") and "values_plain" in checks


def test_every_student_links_to_their_feedback(graded, tmp_path):
    book, page, html = graded
    links = {unquote(a.get("href")) for a in parse(html).iter("{%s}a" % NS["h"]) if not a.get("href").startswith("#")}
    for student in ("ann", "ben", "dan", HOSTILE):
        assert f"feedback/{student}/exercise1.html" in links or f"feedback/{student}/exercise1.txt" in links
    assert "feedback/ann/exercise2.html" in links and "feedback/fay/exercise2.txt" in links  # missing: text only
    assert all((page.parent / link).is_file() for link in links)
    elsewhere = class_report(book / "grades.json", out=tmp_path / "reports" / "week3.html")  # links follow the page
    other = {unquote(a.get("href")) for a in parse(elsewhere.read_text()).iter("{%s}a" % NS["h"])
             if not a.get("href").startswith("#")}
    assert other and all((elsewhere.parent / link).resolve().is_file() for link in other)


def test_the_page_is_self_contained_valid_and_escapes_student_names(graded):
    _, _, html = graded
    tree = parse(html)  # strict: a parse error raises
    assert not tree.findall(".//h:script", NS) and not tree.findall(".//h:link", NS)
    images = tree.findall(".//h:img", NS)
    assert len(images) == 4  # a histogram and pass-rate bars per exercise
    for image in images:
        assert image.get("src").startswith("data:image/png;base64,") and image.get("alt")
        assert base64.b64decode(image.get("src").split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "url(" not in html and not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;zed &amp; " in html
    assert len(html) < 1_000_000


def test_every_status_that_stops_a_check_reads_as_not_judged():
    assert set(TROUBLE) | {"not_implemented", "no_code", "cannot_load"} <= set(NOT_JUDGED)


def test_pass_rate_table_counts_each_graded_student(graded):
    _, _, html = graded
    tables = parse(html).findall(".//h:table[@class='rates']", NS)
    rates = {text(tr.findall("h:td", NS)[0]): text(tr.findall("h:td", NS)[2]) for tr in tables[0].findall(".//h:tr", NS)
             if tr.find("h:td", NS) is not None}
    assert rates["values_plain"] == "2 / 8"  # ann and fay (padding only matters with padding)
    assert rates["shapes_grid"] == "6 / 8" and rates["returns_array"] == "7 / 8"


def test_an_older_gradebook_still_resumes_and_its_cells_are_noted(graded, tmp_path):
    book, _, _ = graded
    old = tmp_path / "gradebook"
    shutil.copytree(book, old)
    data = json.loads((old / "grades.json").read_text())
    for row in data["students"].values():
        for cell in row["exercises"].values():
            for name in ("diagnoses", "fingerprints", "hints"):
                del cell[name]
    (old / "grades.json").write_text(json.dumps(data))
    again = grade_batch(Path(data["submissions"]), out=old, workers=1)
    assert (again.graded, again.kept) == (0, 12)
    html = class_report(old).read_text()
    assert "10 graded cells come from a gradebook written before" in html and not ranking(html)


def test_no_gradebook_is_a_tool_error(tmp_path):
    with pytest.raises(ToolError, match="No gradebook in"):
        class_report(tmp_path)


def test_a_browser_shows_the_page(graded, tmp_path):
    _, page, _ = graded
    png = screenshot(page, tmp_path / "class.png", height=2400)
    share, spread = ink(png)
    assert share > 0.05 and spread > 0.1  # text and pictures, not a blank or error page
