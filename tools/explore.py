"""The course's explorers as an app: `make explore` (Voila, code hidden), one dashboard with a menu.

    python -m tools.explore                       # serve on http://127.0.0.1:8866/ (opens no browser)
    python -m tools.explore --port 8900 --open    # another port; open a browser
    python -m tools.explore --write-only          # only write build/explore/

The app is build/explore/ served by Voila: the dashboard, http://127.0.0.1:8866/voila/render/pgcourse_explorers.ipynb,
and beside it a copy of every course notebook, one page each (the tree at http://127.0.0.1:8866/ lists them).
The dashboard is a generated notebook: a menu with one entry per
course notebook that registers an explorer (pgcourse.widgets.EXPLORERS, in course order, titled by the
notebook's first heading), and below it the chosen explorer, live. Explorers are built when first chosen.
Voila runs it with the sources stripped (no code shown), the token off, on 127.0.0.1 only; it runs as root
too (Voila's own server has no root check).

Voila uses the course's template, share/jupyter/voila/templates/pgcourse (found through JUPYTER_PATH): Voila's
lab template without its CDN links (no network), the summary kept monospace (its columns line up), a figure
shown at its CSS size (figsize x plots.CSS_DPI px; the PNG has 2x pixels), never wider than the page.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "explore"
DASHBOARD = "pgcourse_explorers.ipynb"

MENU_CODE = """\
import ipywidgets as W
from IPython.display import display

import pgcourse.widgets as pgw

TITLES = {titles!r}
names = [n for n in TITLES if n in pgw.EXPLORERS] + sorted(n for n in pgw.EXPLORERS if n not in TITLES)
menu = W.Dropdown(options=[(f"{{n[:2]}} · {{TITLES.get(n, n)}}", n) for n in names], value=names[0],
                  description="notebook", style={{"description_width": "initial"}},
                  layout=W.Layout(width="48em", max_width="100%"))
menu.add_class("pg-menu")
built = {{}}
stage = W.VBox()
stage.add_class("pg-stage")


def show(change=None):
    name = menu.value
    if name not in built:
        built[name] = pgw.EXPLORERS[name]().widget()
    stage.children = [built[name]]


menu.observe(show, names="value")
show()
display(W.VBox([menu, stage]))
"""


def notebook_titles() -> dict[str, str]:
    """{notebook stem: its first '# ' heading without the 'NN · ' prefix}, in course order."""
    pat = re.compile(r"^(\d+)_.+\.ipynb$")
    paths = sorted((p for p in (ROOT / "notebooks").glob("*.ipynb") if pat.match(p.name)),
                   key=lambda p: (int(pat.match(p.name).group(1)), p.name))
    titles = {}
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        title = p.stem
        for cell in nb.cells:
            heads = [ln[2:].strip() for ln in cell.source.splitlines() if ln.startswith("# ")]
            if cell.cell_type == "markdown" and heads:
                title = re.sub(r"^\d+\s*·\s*", "", heads[0])
                break
        titles[p.stem] = re.sub(r"\$([^$]*)\$", r"\1", title).replace("\\", "")
    return titles


def write_dashboard(out: Path = OUT) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# pgcourse explorers\n\nEvery explorer of the course, live: choose a notebook, move a control, and "
            "the exact numbers, the sampled ones and the figure update. The lessons themselves are in "
            "`notebooks/` (`make course`) and on the website (`make book`)."),
        nbformat.v4.new_code_cell(MENU_CODE.format(titles=notebook_titles())),
    ]
    path = out / DASHBOARD
    nbformat.write(nb, path)
    return path


def write_app(out: Path = OUT) -> Path:
    """out/ with the dashboard and a copy of every course notebook (a page each, code hidden)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.ipynb"):
        old.unlink()
    for stem in notebook_titles():
        shutil.copy2(ROOT / "notebooks" / f"{stem}.ipynb", out / f"{stem}.ipynb")
    write_dashboard(out)
    return out


def dashboard_path(base_url: str) -> str:
    return base_url.rstrip("/") + "/voila/render/" + DASHBOARD


def voila_command(folder: Path, port: int, open_browser: bool = False, bin_dir: Path | None = None) -> list[str]:
    """Voila on `folder` (its tree lists the dashboard and the lessons), 127.0.0.1 only, no token; the
    voila of `bin_dir` (default: this Python's venv)."""
    voila = Path(bin_dir or Path(sys.executable).parent) / "voila"
    if not voila.exists():
        voila = Path(shutil.which("voila") or "voila")
    return [str(voila), str(folder),
            f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
            "--strip_sources=True", "--show_tracebacks=True", "--template=pgcourse",
            *([] if open_browser else ["--no-browser"])]


def voila_env(base: dict | None = None) -> dict:
    """The environment Voila runs in: the repository's share/jupyter first on JUPYTER_PATH (the template)."""
    env = dict(os.environ if base is None else base)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(ROOT / "share" / "jupyter"), env.get("JUPYTER_PATH")) if p)
    return env


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8866)))
    ap.add_argument("--open", action="store_true", help="open a browser")
    ap.add_argument("--write-only", action="store_true")
    args = ap.parse_args(argv)
    folder = write_app()
    if args.write_only:
        print(folder / DASHBOARD)
        return 0
    base = f"http://127.0.0.1:{args.port}/"
    print(f"pgcourse explorers: {dashboard_path(base)}\n"
          f"every lesson, code hidden: {base}  (Ctrl-C stops)", flush=True)
    cmd = voila_command(folder, args.port, args.open)
    os.chdir(folder)
    os.execve(cmd[0], cmd, voila_env())      # Voila replaces this process: Ctrl-C and signals reach it


if __name__ == "__main__":
    raise SystemExit(main())
