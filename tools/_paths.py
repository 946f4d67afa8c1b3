"""The repository's folders, defined once for every tool, benchmark and test."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"                           # the course's executed .ipynb (what students open)
NOTEBOOK_SOURCES = ROOT / "sources" / "notebooks"        # their percent-format .py (jupytext.toml pairs them)
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
TESTS = ROOT / "tests"
BUILD = ROOT / "build"
