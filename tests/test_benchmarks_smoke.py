"""Smoke test of benchmarks/run.py at tiny sizes: every code path runs, the table comes out, and every ratio is
a positive finite number. Speed itself is never asserted here (that is what `python -m benchmarks.run` reports)."""
import math
import subprocess
import sys

import numpy as np
import pytest

import pgcourse as pg
from benchmarks import baselines as base
from benchmarks import run as bench
from tools._paths import ROOT

TINY = dict(quick=True, repeats=1, sampler_N=200, sampler_T=20, gym_steps=200, exact_S=40, growth_S=(20, 40),
            batch_N=30, batch_T=12, loop_episodes=8, loop_episodes_reinforce=8, widget_repeats=1)


def check_rows(rows):
    assert rows
    for r in rows:
        assert isinstance(r, bench.Row)
        if r.ratio is not None:
            assert math.isfinite(r.ratio) and r.ratio > 0, r
        assert r.ok in (True, False, None)


@pytest.mark.parametrize("section", ["sampler", "exact", "estimators"])
def test_numeric_sections_produce_rows_with_positive_finite_ratios(section):
    rows = bench.run(bench.Config(**TINY), sections=(section,), log=lambda *a: None)
    check_rows(rows)
    assert any(r.ratio is not None for r in rows)
    text, md = bench.format_text(rows), bench.format_markdown(rows)
    assert f"== {section} ==" in text
    assert md.splitlines()[0] == "| " + " | ".join(bench.HEADERS) + " |"
    assert len(md.splitlines()) == len(rows) + 2


def test_baselines_take_the_samplers_steps():
    mdp = pg.frozen_lake()
    pi = np.full((mdp.S, mdp.A), 0.25)
    ep = pg.sample_episodes(mdp, pi, 300, 30, np.random.default_rng(4))
    steps = int(ep.mask.sum())
    assert base.bare_vectorised_loop(mdp, pi, 300, 30, np.random.default_rng(4)) == steps
    assert base.bare_loop_sampler_draws(mdp, pi, 300, 30, np.random.default_rng(4)) == steps


def test_widget_section_times_every_registered_explorer():
    from pgcourse.widgets import Explorer

    def compute(fig, k=1):
        fig.add_subplot().plot([0, k])
        return f"k = {k}"

    def broken():
        raise RuntimeError("no")

    rows = bench.bench_widgets(bench.Config(**TINY), explorers={"aa": lambda: Explorer(compute, {"k": 2}),
                                                               "bb": broken})
    check_rows(rows)
    assert [r.ok for r in rows][1] is False and "failed" in rows[1].ours
    assert rows[0].target == "< 150 ms" and "(CPU " in rows[0].ours


def test_notebook_section_works_on_a_copy(tmp_path):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    src = nb_dir / "00_demo.py"
    src.write_text("# %%\nx = 1\n")
    (nb_dir / "00_demo.ipynb").write_text("stored")
    seen = []

    def fake_build(py, timeout):
        seen.append(py)
        py.with_suffix(".ipynb").write_text("rebuilt")
        return 0.25

    rows = bench.bench_notebooks(bench.Config(**TINY), sources=[src], build=fake_build)
    check_rows(rows)
    assert seen and seen[0].name == "00_demo.py" and seen[0].parent != nb_dir  # ran on a copy
    assert (nb_dir / "00_demo.ipynb").read_text() == "stored"  # the original is untouched
    assert rows[-1].target == "< 120 s total" and rows[-1].ok is True and rows[-1].ours == "0.2 s"


def test_cli_prints_the_markdown_table():
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--markdown", "--only", "sampler",
                          "--repeats", "1", "--blas-threads", "1"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "| what | ours |" in out.stdout and "targets met:" in out.stdout
    assert "BLAS threads: 1" in out.stdout  # the run restarted itself with the thread count set


def test_a_failing_notebook_is_one_line_of_the_table(tmp_path):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    (nb_dir / "01_bad.py").write_text("# %%\nraise ValueError('x')\n")

    def failing_build(py, timeout):
        raise RuntimeError("An error occurred\n------\nraise ValueError('x')\n\nValueError: x | y\n")

    rows = bench.bench_notebooks(bench.Config(**TINY), sources=[nb_dir / "01_bad.py"], build=failing_build)
    assert rows[0].ok is False and rows[0].ours.endswith("ValueError: x | y") and rows[-1].ok is False
    md = bench.format_markdown(rows).splitlines()
    assert len(md) == len(rows) + 2 and "x \\| y" in md[2]
