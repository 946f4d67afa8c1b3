"""Sphinx configuration of the course website (`make book`; staged and built by tools/book.py).

tools/book.py copies this folder, the executed notebooks and the student exercises into a staging folder
and runs Sphinx there: nothing is re-executed (nb_execution_mode = "off") and nothing is fetched from the
network, at build time or when a page is viewed (MathJax is bundled by sphinx-mathjax-offline).
"""
import os
import sys

sys.path.insert(0, os.environ.get("PGCOURSE_ROOT", os.path.abspath("..")))

project = "pgcourse"
author = "the pgcourse authors"
copyright = "the pgcourse authors"
html_title = "pgcourse: policy gradients, exact beside sampled"

extensions = [
    "myst_nb",                   # notebooks (stored outputs) and MyST markdown pages
    "sphinx.ext.autodoc",        # the API reference, from pgcourse's docstrings
    "sphinx.ext.viewcode",       # each documented function links to its highlighted source
    "sphinx.ext.mathjax",        # MathJax 3 from sphinx-mathjax-offline, copied into _static/ (setup below)
]
mathjax_path = "mathjax/tex-chtml.js"

# Notebooks are rendered from their stored outputs, never executed.
nb_execution_mode = "off"
nb_ipywidgets_js = {}            # no widget manager from a CDN: widgets are shown in their stored state
nb_render_markdown_format = "myst"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_dmath_double_inline = True  # `$$...$$` inside a paragraph (as the notebooks write it) is display math
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_typehints = "description"
add_module_names = False

exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["pgcourse.css"]
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "launch_buttons": {},
    "navigation_with_keys": False,
    "home_page_in_toc": True,
}
# Light by default (the figures are drawn on white); without it the theme logs a console error.
html_context = {"default_mode": "light"}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False


def _plain_docstring(app, what, name, obj, options, lines):
    """pgcourse's docstrings are plain text (equations in the course notation, shapes like `(N, T)`), not
    reStructuredText: show each one verbatim, as a literal block, so nothing in it is misread as markup."""
    if not any(line.strip() for line in lines):
        return
    body = [("    " + line) if line.strip() else "" for line in lines]
    lines[:] = [".. code-block:: text", "", *body, ""]


def _copy_mathjax(app, exc):
    """Bundle MathJax (the copy shipped by the sphinx-mathjax-offline package) into _static/mathjax."""
    import importlib.util

    from sphinx.util.fileutil import copy_asset

    if exc is not None or app.builder.format != "html":
        return
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.origin:
        raise RuntimeError("sphinx-mathjax-offline is not installed: pip install -e '.[book]'")
    copy_asset(os.path.join(os.path.dirname(spec.origin), "static", "mathjax"),
               os.path.join(app.outdir, "_static", "mathjax"))


def setup(app):
    # Notebook titles carry math ($d^\pi$) into every page's navigation: load MathJax on every page.
    app.set_html_assets_policy("always")
    app.connect("autodoc-process-docstring", _plain_docstring)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
