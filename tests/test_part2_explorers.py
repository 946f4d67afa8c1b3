"""Part II explorers (notebooks 09-11): they build, refresh over their controls' values, and meet the course's
figure standards (the checks of tests/test_figures.py, applied to these explorers' default figures)."""
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import pgcourse.plots as pgp
import tests.test_figures as tf
from pgcourse.widgets.convergence import convergence_explorer
from pgcourse.widgets.critics import critic_explorer
from pgcourse.widgets.surrogates import surrogate_explorer

FACTORIES = {"09": surrogate_explorer, "10": convergence_explorer, "11": critic_explorer}
CHECKS = ["test_png_has_twice_the_pixels_of_its_css_size", "test_text_is_at_least_10_css_px",
          "test_nothing_is_clipped", "test_legends_sit_off_the_data", "test_colours_are_colour_blind_safe"]


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def drawn(request):
    ex = FACTORIES[request.param]()
    ex.refresh()
    FigureCanvasAgg(ex.fig)
    with pgp.styled():
        ex.fig.canvas.draw()
    return request.param, ex, ex.fig.canvas.get_renderer()


@pytest.mark.parametrize("check", CHECKS)
def test_figure_standards(drawn, check):
    getattr(tf, check)(drawn)


def test_controls_cover_their_values():
    moves = {"09": [dict(step=0.0), dict(step=3.0, eps=0.5)],
             "10": [dict(method="natural PG", lr=0.1, tau=0.1), dict(method="softmax PG", lr=10.0, tau=0.3)],
             "11": [dict(critic="compatible (score) features"), dict(critic="random features", k=18)]}
    for key, factory in FACTORIES.items():
        ex = factory()
        for kw in moves[key]:
            text = ex.refresh(**kw)
            assert text and ex.png
    ex = critic_explorer()
    assert "bias)   = 0.0000" in ex.refresh(critic="compatible (score) features")
