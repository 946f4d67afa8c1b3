"""The explorers' fast path (pgcourse.widgets: figures built once, moved in place, blitted on a cached
background): what a moved control shows is what a full redraw shows; the fast PNG encoder is lossless;
values computed ahead in the background are the values computed directly."""
import io
import threading
import time

import numpy as np
import pytest

import pgcourse.plots as pgp
import pgcourse.widgets as pgw
from benchmarks.explorers import _moves


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


@pytest.mark.parametrize("name", sorted(pgw.EXPLORERS))
def test_a_moved_control_shows_what_a_full_redraw_shows(name):
    """After each move the blitted figure (cached background + moving artists) equals the figure redrawn from
    scratch with the same artists: nothing that an update changes was left in the background."""
    ex = pgw.EXPLORERS[name]()
    ex.refresh()
    assert ex.draw is not None, f"{name}: a course explorer updates its figure in place (draw=...)"
    for cname, control in ex.make_controls().items():
        control.value = ex.params.get(cname, control.value)
        for v in _moves(control, 2):
            v = int(round(v)) if getattr(control, "_pg_integer", False) else v
            ex.refresh(**{cname: v})
            fast = _pixels(ex.png)
            ex._background = None          # the next refresh renders the whole figure again
            ex.refresh()
            full = _pixels(ex.png)
            differ = np.any(fast != full, axis=2)
            assert differ.mean() < 1e-4, f"{name}, {cname} = {v}: {differ.sum()} pixels differ from a full redraw"
        ex.refresh(**{cname: ex.defaults[cname]})


def test_png_rgba_is_lossless_and_the_right_size():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    assert np.array_equal(_pixels(pgp.png_rgba(a)), a)
    with pytest.raises(ValueError, match="rgba"):
        pgp.png_rgba(a[:, :, :3])


def test_update_html_reports_the_kernel_time_on_the_figure():
    ex = pgw.EXPLORERS["09_surrogates_trust_regions"]()
    ex.refresh()
    text, img = ex.update_html(step=0.1)
    assert "step t = 0.10" in text and "data-pg-update='" in img
    wall, wait = (float(x) for x in img.split("data-pg-update='")[1].split("'")[0].split())
    assert wall > 0 and (wait != wait or 0 <= wait <= wall)  # nan where /proc has no schedstat
    assert "data-pg-update" not in ex.static_html()  # the stored output stays the same


def test_precomputed_values_are_the_direct_values_whoever_computes_them():
    calls = []

    def f(a, b):
        calls.append((a, b))
        time.sleep(0.01)
        return a * 10 + b

    keys = [(a, b) for a in range(4) for b in range(3)]
    pc = pgw.Precomputed(f, keys)
    got = {}
    threads = [threading.Thread(target=lambda k=k: got.__setitem__(k, pc.get(*k))) for k in reversed(keys)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == {k: k[0] * 10 + k[1] for k in keys}
    assert sorted(calls) == sorted(keys), "a key was computed twice"
    pc.ahead([(9, 9)])
    assert pc.get(9, 9) == 99 and (9, 9) in pc


def test_precomputed_reraises_and_recovers():
    state = {"fail": True}

    def f(x):
        if state["fail"]:
            raise RuntimeError("boom")
        return x

    pc = pgw.Precomputed(f, start=False)
    with pytest.raises(RuntimeError, match="boom"):
        pc.get(1)
    state["fail"] = False
    assert pc.get(1) == 1


def test_precomputed_in_a_process_gives_the_direct_values_and_ends():
    """process=True: the listed keys are computed in a spawned low-priority process, with the values f gives in
    this one (np.linalg.matrix_power here, picklable); the process is gone once the list is done."""
    import functools
    import multiprocessing
    import time

    f = functools.partial(np.linalg.matrix_power, np.array([[1.0, 1.0], [1.0, 0.0]]))
    keys = [(n,) for n in (5, 10, 20, 30)]
    pc = pgw.Precomputed(f, keys, process=True)
    deadline = time.monotonic() + 120
    while not all(k in pc for k in keys) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(k in pc for k in keys), "the background process did not compute the listed keys"
    for (n,) in keys:
        assert np.array_equal(pc.get(n), f(n))
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children(), "the background process outlived its list"
    assert pc.get(7)[0, 1] == 13  # a key never listed: computed here, at once
    import os
    where = pgw.Precomputed(os.getpid, [()], process=True)   # the one key (): f() itself
    while () not in where and time.monotonic() < deadline:
        time.sleep(0.1)
    assert () in where and where.get() != os.getpid(), "the listed key was not computed in another process"
