"""The course website (`make book`) in headless Chromium, with the network unused.

A module fixture builds the site with tools.book into a temporary folder (the real build, from the stored
notebook outputs). Then:
- no broken internal link: every href/src of every built HTML page (viewcode pages included) that is not
  an external URL points at a file of the site, and its #fragment at an id on that page (html.parser);
- every page, served as a website is (a local HTTP server on 127.0.0.1, random port), loads with no
  console error and no page error, and no request leaves the machine: every request not to that server
  (nor data:/blob:) is aborted and recorded, and the test fails on any;
- math is typeset: every Sphinx math element holds MathJax output (mjx-container), and no raw `$...$`
  or `\\(...\\)` is left in the text outside code;
- each notebook page shows its figures: as many <img> in its outputs as the stored notebook has figure
  outputs (images, or an explorer's HTML holding one), each loaded (naturalWidth > 0) with a non-empty
  alt text; a page whose notebook has a live widget says that
  moving it needs the notebook;
- the search page finds "advantage" (results listed, a notebook page among them).
Needs Debian's Chromium at /usr/bin/chromium (fails when CI=true without it, else skipped).
"""
from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import sys
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
import lab_student as ls  # noqa: E402  (Chromium path, launch arguments)

from tools import book  # noqa: E402

pytestmark = pytest.mark.browser
LIVE_NOTE_TEXT = "Moving its controls needs a running notebook"



@pytest.fixture(scope="module")
def site():
    pytest.importorskip("sphinx", reason="the book extra is not installed: pip install -e '.[book]'")
    out = Path(tempfile.mkdtemp(prefix="pgcourse-book-"))
    try:
        summary = book.build(out)
        html = Path(summary["html"])
        # every page: the course, the reference, and viewcode's highlighted sources (_modules/)
        pages = sorted(p for p in html.rglob("*.html")
                       if p.relative_to(html).parts[0] not in ("_static", "_sources", "_images"))
        yield {"html": html, "pages": pages, "summary": summary}
    finally:
        shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(site):
    ls.require_chromium()
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site["html"])))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    profile = Path(tempfile.mkdtemp(prefix="pgcourse-book-chromium-"))
    pw = sync_playwright().start()
    context = None
    try:
        context = ls.launch_chromium(pw, profile)

        blocked = ls.offline_only(context, base)
        yield {"context": context, "blocked": blocked, "base": base, "root": site["html"]}
    finally:
        if context is not None:
            context.close()
        pw.stop()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


# ------------------------------------------------------------------------------------------- link checker

class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("preconnect", "dns-prefetch")):
                self.links.append(a[key])


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    return p


def broken_internal_links(html_root: Path) -> list[str]:
    """'page -> link: why' for every internal link of every page that points at nothing."""
    # Every page, viewcode's _modules/ included; not _static/ (the theme's Jinja macros live there).
    parsed = {p: _parse(p) for p in html_root.rglob("*.html")
              if p.relative_to(html_root).parts[0] != "_static"}
    broken = []
    for page, p in parsed.items():
        for link in p.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue                                   # external (or data:/mailto:/javascript:)
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            rel = page.relative_to(html_root).as_posix()
            if not target.exists():
                broken.append(f"{rel} -> {link}: no such file")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{rel} -> {link}: no id {parts.fragment!r} there")
    return broken


def test_no_broken_internal_link(site):
    assert len(site["pages"]) >= 20, site["pages"]
    broken = broken_internal_links(site["html"])
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:40])


def test_link_checker_catches_a_broken_link(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#x">b</a> <a href="https://example.org/">ext</a>'
                                     '<img src="missing.png"> <a href="#top" id="top">t</a>')
    (tmp_path / "b.html").write_text('<p id="y">no x here</p>')
    assert sorted(broken_internal_links(tmp_path)) == [
        "a.html -> b.html#x: no id 'x' there", "a.html -> missing.png: no such file"]


def test_navigation_in_course_order(site):
    index = (site["html"] / "index.html").read_text(encoding="utf-8")
    expected = [p.stem for p in book.course_notebooks(ROOT / "notebooks")]
    assert expected, "no notebooks/NN_*.ipynb found"
    found = re.findall(r'href="notebooks/(\d+_[^"#]+)\.html"', index)
    order = list(dict.fromkeys(found))
    assert order == expected
    for stem in [p.stem for p in book.course_notebooks(ROOT / "exercises", "ex")]:
        assert (site["html"] / "exercises" / f"{stem}.html").exists(), stem


# ------------------------------------------------------------------------------------------- in Chromium

_PAGE_JS = r"""async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const math = Array.from(document.querySelectorAll('.math'));
  const untypeset = math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60));
  const main = document.querySelector('article') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
  const text = clone.textContent;
  const imgs = Array.from(main.querySelectorAll('.cell_output img')).map(i => ({
     src: i.getAttribute('src'), alt: i.getAttribute('alt') || '', complete: i.complete, w: i.naturalWidth}));
  return {n_math: math.length, untypeset, text, imgs,
          n_mjx: document.querySelectorAll('mjx-container').length, title: document.title};
}"""
RAW_MATH = re.compile(r"\$[^$\s][^$\n]*\$|\\\(|\\\[")


def _stored_images(nb_path: Path) -> tuple[int, bool]:
    nb = nbformat.read(nb_path, as_version=4)
    widget = any(book.WIDGET_MIME in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    return book.stored_figures(nb), widget


def _open(browser, path: Path):
    page = browser["context"].new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(browser["base"] + path.relative_to(browser["root"]).as_posix(), wait_until="load")
    return page, problems


def test_every_page_loads_typesets_math_and_shows_figures(site, browser):
    report, n_figures = [], 0
    for path in site["pages"]:
        before = len(browser["blocked"])
        page, problems = _open(browser, path)
        try:
            st = page.evaluate(_PAGE_JS)
            page.wait_for_timeout(50)             # let late console messages arrive
        finally:
            page.close()
        rel = path.relative_to(site["html"]).as_posix()
        report.append({"page": rel, "math": st["n_math"], "mathjax": st["n_mjx"], "images": len(st["imgs"])})
        assert not problems, f"{rel}: {problems}"
        assert len(browser["blocked"]) == before, f"{rel} tried the network: {browser['blocked'][before:]}"
        assert not st["untypeset"], f"{rel}: math not typeset: {st['untypeset'][:5]}"
        raw = RAW_MATH.findall(st["text"])
        assert not raw, f"{rel}: raw TeX left in the text: {raw[:5]}"
        if rel.startswith("notebooks/"):
            n_stored, has_widget = _stored_images(ROOT / "notebooks" / (path.stem + ".ipynb"))
            figures = st["imgs"]
            assert len(figures) == n_stored, f"{rel}: {len(figures)} figures shown, {n_stored} stored"
            n_figures += len(figures)
            bad = [i for i in figures if not (i["complete"] and i["w"] > 0)]
            assert not bad, f"{rel}: figures not loaded: {bad}"
            assert all(i["alt"].strip() for i in figures), f"{rel}: a figure without alt text"
            assert st["n_mjx"] > 0, f"{rel}: no math typeset on a notebook page"
            if has_widget:
                assert LIVE_NOTE_TEXT in st["text"], f"{rel}: no note that the explorer needs the notebook"
    print(json.dumps(report, indent=0))
    assert len(report) == len(site["pages"])
    assert n_figures >= len(book.course_notebooks(ROOT / "notebooks")), f"only {n_figures} figures in all"
    assert not browser["blocked"], f"requests to the network: {browser['blocked']}"


def test_search_finds_advantage(site, browser):
    page, problems = _open(browser, site["html"] / "search.html")
    try:
        page.goto(browser["base"] + "search.html?q=advantage", wait_until="load")
        page.wait_for_function(
            "() => document.querySelectorAll('#search-results ul.search li, ul.search li').length > 0",
            timeout=20_000)
        hits = page.eval_on_selector_all("ul.search li a", "els => els.map(e => e.getAttribute('href'))")
    finally:
        page.close()
    assert not problems, problems
    assert any("notebooks/" in (h or "") for h in hits), hits
    assert not browser["blocked"], f"the search tried the network: {browser['blocked']}"


# ------------------------------------------------------------------------------------------- staging

def _png() -> str:
    import base64
    # a valid 1x1 PNG
    return base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


def test_staging_keeps_stored_state_drops_live_views_and_links_the_api(tmp_path):
    view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 01 · Title\n\nSee `pg.evaluate` and `pg.not_a_function`."),
        nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output(
            "execute_result", data={book.WIDGET_MIME: view, "text/plain": "VBox(...)"}, execution_count=1)]),
        nbformat.v4.new_code_cell("ex", outputs=[nbformat.v4.new_output(
            "display_data", data={book.WIDGET_MIME: view, "text/plain": "summary",
                                  "text/html": "<pre>summary</pre><img alt='a figure' src='data:image/png;base64,x'>",
                                  "image/png": _png()})]),
        nbformat.v4.new_code_cell("plt.show()", outputs=[nbformat.v4.new_output(
            "display_data", data={"image/png": _png(), "text/plain": "<Figure size 600x320 with 1 Axes>"},
            metadata={"image/png": {"alt": "bars of the variance", "width": 600}})]),
    ]
    src, dst, figs = tmp_path / "01_x.ipynb", tmp_path / "out.ipynb", tmp_path / "figs"
    figs.mkdir()
    nbformat.write(nb, src)
    info = book.prepare_notebook(src, dst, figs, "../figs")
    out = nbformat.read(dst, as_version=4)
    assert info == {"title": "01 · Title", "figures": 2, "widgets": 2}
    assert "{py:obj}`pg.evaluate <pgcourse.exact.evaluate>`" in out.cells[0].source
    assert "`pg.not_a_function`" in out.cells[0].source
    assert out.cells[1].outputs == []                                   # only the widget's repr: dropped
    assert LIVE_NOTE_TEXT in out.cells[2].source and out.cells[2].cell_type == "markdown"
    html_out = out.cells[3].outputs[0].data
    assert set(html_out) == {"text/plain", "text/html"}                 # the explorer's own HTML, no live view
    assert LIVE_NOTE_TEXT in out.cells[4].source
    md = out.cells[5].outputs[0].data["text/markdown"]
    assert ":alt: bars of the variance" in md and ":width: 600px" in md and "../figs/" in md
    assert len(list(figs.iterdir())) == 1


def test_course_order_is_numeric(tmp_path):
    for name in ("10_b.ipynb", "02_a.ipynb", "1_c.ipynb", "notes.ipynb", "03_x.py"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in book.course_notebooks(tmp_path)] == ["1_c.ipynb", "02_a.ipynb", "10_b.ipynb"]
