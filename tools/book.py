"""Build the course website from the notebooks' stored outputs: `make book` (no re-execution, no network).

    python -m tools.book                    # stage into build/book/src, build build/book/html
    python -m tools.book --out DIR          # another output folder (the browser test builds into a temp dir)
    python -m tools.book --stage-only       # only write the Sphinx source folder

The Sphinx source is staged, not kept in the repository: book/ holds the configuration and the hand-written
pages (notation, run it yourself), and this tool adds

- every notebooks/NN_*.ipynb and exercises/exNN_*.ipynb, in course order, found by globbing (new notebooks
  appear on their own), copied with three changes: `pg.name` in the text links to its API entry; a live
  widget's view (which needs a kernel) is dropped and a note says that moving it needs the notebook,
  keeping the stored default state (figure, numbers) that the notebook shows beside or inside it (an
  output whose text/html holds the summary and an <img> is shown as that HTML); every other figure is
  written as an image file with its alt text (from the output's metadata `{"image/png": {"alt": ...}}`,
  else a non-default text/plain, else the cell's `mystnb.image.alt`);
- index.md (the navigation), exercises.md (each exercise and what it practises, from README.md's table,
  else the exercise's learning goals), api/*.md (autodoc of every pgcourse module).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
DEFAULT_REPR = re.compile(r"^<(Figure|matplotlib\.figure\.Figure) size .*>$")
LIVE_NOTE = (":::{note}\n:class: pg-live-note\n"
             "**Live explorer.** Moving its controls needs a running notebook "
             "([run it yourself](../run_it_yourself.md), or `make explore`). "
             "This page shows its stored default state.\n:::")


def course_notebooks(folder: Path, prefix: str = "") -> list[Path]:
    """folder/<prefix>NN_*.ipynb in course order (by number, then name)."""
    pat = re.compile(rf"^{prefix}(\d+)_.+\.ipynb$")
    found = [p for p in folder.glob(f"{prefix}*.ipynb") if pat.match(p.name)]
    return sorted(found, key=lambda p: (int(pat.match(p.name).group(1)), p.name))


def title_of(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def _alt_text(output, cell, index: int, total: int) -> str:
    meta = output.get("metadata", {})
    for mime in IMAGE_MIMES:
        alt = (meta.get(mime) or {}).get("alt") if isinstance(meta.get(mime), dict) else None
        if alt:
            return str(alt)
    if meta.get("alt"):
        return str(meta["alt"])
    plain = output.get("data", {}).get("text/plain", "")
    plain = "".join(plain) if isinstance(plain, list) else plain
    if plain and not DEFAULT_REPR.match(plain.strip()):
        return plain
    alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
    if alt:
        return str(alt)
    return "Figure produced by the code cell above" + (f" ({index} of {total})" if total > 1 else "")


def _image_output(output, cell, figdir: Path, rel: str, index: int, total: int):
    """The output with its image replaced by a MyST image directive (alt text, displayed size)."""
    data = output["data"]
    mime = next(m for m in IMAGE_MIMES if m in data)
    raw = data[mime]
    raw = "".join(raw) if isinstance(raw, list) else raw
    blob = raw.encode() if mime == "image/svg+xml" else base64.b64decode(raw)
    ext = {"image/png": ".png", "image/jpeg": ".jpg", "image/svg+xml": ".svg"}[mime]
    name = hashlib.sha256(blob).hexdigest()[:20] + ext
    (figdir / name).write_bytes(blob)
    alt = " ".join(_alt_text(output, cell, index, total).split())
    lines = [f"```{{image}} {rel}/{name}", f":alt: {alt}", ":class: pg-figure"]
    width = (output.get("metadata", {}).get(mime) or {}).get("width")
    if width:
        lines.append(f":width: {int(float(width))}px")
    lines.append("```")
    return nbformat.v4.new_output("display_data", data={"text/markdown": "\n".join(lines)})


def has_html_figure(output) -> bool:
    """True for an output whose text/html carries its own figure (an <img>): the explorers' static state."""
    html = output.get("data", {}).get("text/html", "")
    html = "".join(html) if isinstance(html, list) else html
    return "<img" in html


def stored_figures(nb) -> int:
    """How many outputs of the notebook show a figure (an image, or HTML holding one)."""
    return sum(has_html_figure(o) or any(m in o.get("data", {}) for m in IMAGE_MIMES)
               for c in nb.cells for o in c.get("outputs", []))


API_REF = re.compile(r"`pg\.([A-Za-z_]\w*)([^`<>]*)`")


def link_api(markdown: str) -> str:
    """`pg.name...` in a notebook's text -> a link to that function's entry in the API reference."""
    try:
        import pgcourse
    except ImportError:
        return markdown

    def sub(m):
        obj = getattr(pgcourse, m.group(1), None)
        module = getattr(obj, "__module__", "") or ""
        if not (callable(obj) and module.startswith("pgcourse")):
            return m.group(0)
        return f"{{py:obj}}`pg.{m.group(1)}{m.group(2)} <{module}.{obj.__qualname__}>`"

    return API_REF.sub(sub, markdown)


def prepare_notebook(src: Path, dst: Path, figdir: Path, figrel: str) -> dict:
    """Copy src to dst for the site: widget views out (with a note), figures as files with alt text."""
    nb = nbformat.read(src, as_version=4)
    nb.metadata.pop("widgets", None)
    cells, n_widgets, n_figures = [], 0, 0
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type == "markdown":
            cell.source = link_api(cell.source)
        if cell.cell_type != "code":
            continue
        images = [o for o in cell.get("outputs", []) if any(m in o.get("data", {}) for m in IMAGE_MIMES)]
        outputs, had_widget = [], False
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME in data:
                had_widget = True
                data.pop(WIDGET_MIME)
                if not any(m in data for m in IMAGE_MIMES) and set(data) <= {"text/plain"}:
                    continue        # only the widget's Python repr is left: nothing worth showing
            if has_html_figure(out):
                n_figures += 1          # the output's own HTML (summary + <img> with alt) is shown as is
                for m in IMAGE_MIMES:
                    data.pop(m, None)
            elif any(m in data for m in IMAGE_MIMES):
                n_figures += 1
                out = _image_output(out, cell, figdir, figrel, images.index(out) + 1, len(images))
            outputs.append(out)
        cell.outputs = outputs
        if had_widget:
            n_widgets += 1
            cells.append(nbformat.v4.new_markdown_cell(LIVE_NOTE))
    nb.cells = cells
    nbformat.write(nb, dst)
    return {"title": title_of(nb), "figures": n_figures, "widgets": n_widgets}


def exercise_table(readme: Path) -> dict[str, tuple[str, str]]:
    """{exercise stem: (parts, mistakes recognised)} from README.md's exercise table."""
    rows = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*`(ex\d+_[A-Za-z0-9_]+)`\s*\|(.*)\|(.*)\|\s*$", line.replace(r"\|", "¦"))
        if m:
            rows[m.group(1)] = (m.group(2).strip().replace("¦", "|"), m.group(3).strip().replace("¦", "|"))
    return rows


def learning_goals(nb) -> str:
    """The bullet list under an exercise's 'Learning goals', joined into one line."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "earning goals" in cell.source:
            after = cell.source.split("earning goals", 1)[1]
            items = [ln[2:].strip() for ln in after.splitlines() if ln.startswith("- ")]
            return "; ".join(i.rstrip(",.") for i in items)
    return ""


def checker_registry() -> dict[str, list[str]]:
    """{exercise: [the student's function of each part, in part order]} from pgcourse.checks.REGISTRY
    (empty if the package has no registry)."""
    try:
        from pgcourse.checks import REGISTRY
    except ImportError:
        return {}
    out: dict[str, list[tuple[int, str]]] = {}
    for chk in REGISTRY.values():
        out.setdefault(chk.exercise, []).append((chk.part, chk.function))
    return {ex: [fn for _, fn in sorted(parts)] for ex, parts in out.items()}


def pgcourse_modules() -> list[str]:
    """Every public module of the package (subpackages included), found on disk, in a stable order."""
    pkg = ROOT / "pgcourse"
    names = []
    for p in sorted(pkg.rglob("*.py")):
        rel = p.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if len(parts) == 1:
                continue                      # the top-level package re-exports: documented per module
        if any(part.startswith("_") for part in parts[1:]) or "__pycache__" in parts:
            continue
        pkgs = [ROOT.joinpath(*rel.parts[:i]) for i in range(2, len(rel.parts))]
        if not all((d / "__init__.py").exists() for d in pkgs):
            continue                          # a folder that is not (yet) a package: not importable
        names.append(".".join(parts))
    return names


def api_page(mod: str) -> str:
    """One module's reference page. A subpackage's page documents what its __init__ defines (not what it
    re-exports: each object is documented once, where it is defined) and its private modules' members
    (e.g. pgcourse/widgets/_explorer.py), which have no page of their own."""
    rst = [f".. automodule:: {mod}"]
    folder = ROOT.joinpath(*mod.split("."))
    if folder.is_dir():
        rst.append("   :ignore-module-all:")
        for p in sorted(folder.glob("_*.py")):
            if p.stem != "__init__":
                rst += ["", f".. automodule:: {mod}.{p.stem}", "   :members:"]
    body = "\n".join(rst)
    return f"# `{mod}`\n\n```{{eval-rst}}\n{body}\n```\n"


def _cell(text: str) -> str:
    """Text for a markdown table cell (a pipe would end the cell)."""
    return text.replace("|", r"\|")


def _toctree(caption: str, entries: list[str], maxdepth: int = 1) -> str:
    body = "\n".join(entries)
    return f"```{{toctree}}\n:caption: {caption}\n:maxdepth: {maxdepth}\n\n{body}\n```\n"


def stage(src: Path) -> dict:
    """Write the Sphinx source folder `src`; returns what was staged."""
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(BOOK, src, ignore=shutil.ignore_patterns("__pycache__", "_build"))
    figdir = src / "_figures"
    figdir.mkdir()
    staged = {"notebooks": [], "exercises": []}
    for kind, folder, prefix in (("notebooks", ROOT / "notebooks", ""), ("exercises", ROOT / "exercises", "ex")):
        (src / kind).mkdir()
        for nbpath in course_notebooks(folder, prefix):
            info = prepare_notebook(nbpath, src / kind / nbpath.name, figdir, "../_figures")
            info["doc"] = f"{kind}/{nbpath.stem}"
            info["stem"] = nbpath.stem
            staged[kind].append(info)

    # exercises.md: each exercise, what it practises, the mistakes its checkers recognise.
    table = exercise_table(ROOT / "README.md")
    lines = ["# Exercises", "",
             ("Each exercise is a notebook in `exercises/`: write each part's function, run the check cell "
             "below it, and it answers at once with *passed* or with what is wrong. The checkers test your "
             "function on fresh random MDPs against the exact machinery of `pgcourse`, recognise the typical "
             "mistakes by name and never print the solution. Open them in JupyterLab "
             "([run it yourself](run_it_yourself.md)); here they are shown unsolved."), "",
             "| exercise | what it practises | you write (one checked part each) | mistakes recognised (examples) |",
             "|---|---|---|---|"]
    registry = checker_registry()
    for info in staged["exercises"]:
        nb = nbformat.read(src / (info["doc"] + ".ipynb"), as_version=4)
        parts, mistakes = table.get(info["stem"], ("", ""))
        practises = parts or learning_goals(nb)
        functions = ", ".join(f"`{fn}`" for fn in registry.get(info["stem"], []))
        title = _cell(info["title"] or info["stem"])
        lines.append(f"| [{title}]({info['doc']}.ipynb) | {_cell(practises)} | {functions} | {_cell(mistakes)} |")
    lines += ["", _toctree("Exercise notebooks", [i["doc"] for i in staged["exercises"]])]
    (src / "exercises.md").write_text("\n".join(lines), encoding="utf-8")

    # api/: one page per module, autodoc from the docstrings.
    (src / "api").mkdir()
    modules = pgcourse_modules()
    for mod in modules:
        (src / "api" / f"{mod}.md").write_text(api_page(mod), encoding="utf-8")
    api_lines = ["# API reference", "",
                 ("Every equation of the course is a function of `pgcourse` (`import pgcourse as pg`; the public "
                 "names are re-exported at the top). One page per module, generated from the docstrings, "
                 "which give each function's equation in the course's [notation](../notation.md) and its "
                 "array shapes; *[source]* links show the code."), "",
                 _toctree("Modules", [m for m in modules])]
    (src / "api" / "index.md").write_text("\n".join(api_lines), encoding="utf-8")

    # index.md: the home page and the navigation, in course order.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    intro = readme.split("\n## ", 1)[0].split("\n", 1)[1].strip()
    rows = "\n".join(f"| [{i['stem'][:2]}]({i['doc']}.ipynb) | {i['title'] or i['stem']} |"
                     for i in staged["notebooks"])
    index = ["# pgcourse: policy gradients, exact beside sampled", "", intro, "",
             ("This website shows every notebook as it was last executed, with its printed numbers and figures. "
             "The explorers' controls need a running notebook: see [run it yourself](run_it_yourself.md)."), "",
             "| | notebook |", "|---|---|", rows, "",
             _toctree("Course", [i["doc"] for i in staged["notebooks"]]),
             _toctree("Practice", ["exercises"]),
             _toctree("Reference", ["notation", "api/index", "run_it_yourself"])]
    (src / "index.md").write_text("\n".join(index), encoding="utf-8")
    staged["modules"] = modules
    return staged


def build(out: Path, jobs: str = "auto", quiet: bool = True) -> dict:
    """Stage into out/src and build HTML into out/html; returns a summary (pages, seconds)."""
    t0 = time.monotonic()
    src = out / "src"
    staged = stage(src)
    html = out / "html"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-j", str(jobs), "-E", str(src), str(html),
           "-d", str(out / "doctrees")]
    if quiet:
        cmd.append("-q")
    env = {**__import__("os").environ, "PGCOURSE_ROOT": str(ROOT)}
    subprocess.run(cmd, check=True, env=env, cwd=src)
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if not p.relative_to(html).as_posix().startswith("_"))
    summary = {"seconds": round(time.monotonic() - t0, 1), "pages": len(pages),
               "notebooks": len(staged["notebooks"]), "exercises": len(staged["exercises"]),
               "api_modules": len(staged["modules"]), "html": str(html)}
    (out / "summary.json").write_text(json.dumps({**summary, "page_list": pages}, indent=1))
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "book")
    ap.add_argument("--jobs", default="auto", help="sphinx-build -j (default auto)")
    ap.add_argument("--stage-only", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="show Sphinx's progress, not only its warnings")
    args = ap.parse_args(argv)
    if args.stage_only:
        staged = stage(args.out / "src")
        print(f"staged {len(staged['notebooks'])} notebooks, {len(staged['exercises'])} exercises "
              f"into {args.out / 'src'}")
        return 0
    s = build(args.out, args.jobs, quiet=not args.verbose)
    print(f"built {s['pages']} pages ({s['notebooks']} notebooks, {s['exercises']} exercises, "
          f"{s['api_modules']} API modules) in {s['seconds']} s: open {s['html']}/index.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
