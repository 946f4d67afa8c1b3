"""Where an explorer's update goes, per notebook and per control: a Python-side view of the browser test.

    python -m benchmarks.explorers [--moves 5] [--only 07_gae ...] [--json build/explorers.json]

For every registered explorer (pgcourse.widgets.EXPLORERS) and every control of its live widget, the
control is moved the way the browser test moves it (a slider one step at a time in one direction, turning
at the end of its range; a dropdown to the next option; a toggle flipped): one first move, then `moves`
more. Each move runs what the widget's callback runs (`Explorer.update_html`: recompute, redraw, PNG, the
HTML of the summary and the <img>) and is split into phases (`Explorer.timings` of the last refresh):
numbers (the explorer's numbers from pgcourse), artists (moving or building the matplotlib artists), draw
(Agg rasterisation), png (encoding), html (base64 + HTML). Wall clock (and the process's CPU time per
move, column cpu, which a loaded machine inflates less).
Speed is reported, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PHASES = ("numbers", "artists", "draw", "png", "html")


def _moves(control, n: int):
    """The values a student gets by moving `control` n times from its current value (as the browser test)."""
    import ipywidgets as W
    if isinstance(control, W.ToggleButton | W.Checkbox):
        v = control.value
        out = []
        for _ in range(n):
            v = not v
            out.append(v)
        return out
    if isinstance(control, W.Dropdown | W.SelectionSlider):
        opts = [o[1] if isinstance(o, tuple) else o for o in control.options]
        i = opts.index(control.value)
        if isinstance(control, W.Dropdown):
            return [opts[(i + k) % len(opts)] for k in range(1, n + 1)]
        grid, lo, hi = opts, 0, len(opts) - 1
        pos = i
    else:
        import numpy as np
        if isinstance(control, W.FloatLogSlider):
            grid = list(10.0 ** np.arange(control.min, control.max + 1e-9, control.step))
        else:
            grid = list(np.arange(control.min, control.max + 1e-9 * control.step, control.step))
        pos = int(np.abs(np.asarray(grid, dtype=float) - float(control.value)).argmin())
        lo, hi = 0, len(grid) - 1
    d = 1 if hi - pos >= pos - lo else -1
    out = []
    for _ in range(n):
        if not lo <= pos + d <= hi:
            d = -d
        pos += d
        out.append(grid[pos])
    return out


def measure(name: str, factory, moves: int = 5) -> dict:
    t0 = time.perf_counter()
    ex = factory()
    ex.refresh()
    load_s = time.perf_counter() - t0
    controls = ex.make_controls() if ex.make_controls else {}
    rows = []
    for cname, c in controls.items():
        c.value = ex.params.get(cname, c.value)
        times, cpu, phases = [], [], {k: [] for k in PHASES}
        for v in _moves(c, moves + 1):
            if getattr(c, "_pg_integer", False):
                v = int(round(v))
            t, c0 = time.perf_counter(), time.process_time()
            ex.update_html(**{cname: v})
            times.append(1e3 * (time.perf_counter() - t))
            cpu.append(1e3 * (time.process_time() - c0))
            for k in PHASES:
                phases[k].append(1e3 * ex.timings.get(k, 0.0))
        rows.append({"control": cname, "first_ms": round(times[0], 1),
                     "median_ms": round(statistics.median(times[1:]), 1), "max_ms": round(max(times[1:]), 1),
                     "cpu_median_ms": round(statistics.median(cpu[1:]), 1),
                     "phases_median_ms": {k: round(statistics.median(v[1:]), 1) for k, v in phases.items()}})
        ex.refresh(**{cname: ex.defaults[cname]})
    return {"explorer": name, "load_s": round(load_s, 2), "png_kB": round(len(ex.png) / 1024, 1), "controls": rows}


def table(results: list[dict]) -> str:
    head = (f"{'explorer':<28} {'control':<14} {'first':>6} {'median':>6} {'max':>6} {'cpu':>5}  "
            + " ".join(f"{k:>7}" for k in PHASES) + "   load   png")
    lines = [head, "-" * len(head)]
    for r in results:
        for c in r["controls"]:
            ph = " ".join(f"{c['phases_median_ms'][k]:7.1f}" for k in PHASES)
            lines.append(f"{r['explorer'][:28]:<28} {c['control'][:14]:<14} {c['first_ms']:6.0f} "
                         f"{c['median_ms']:6.0f} {c['max_ms']:6.0f} {c['cpu_median_ms']:5.0f}  {ph}  "
                         f"{r['load_s']:5.1f}s {r['png_kB']:4.0f}kB")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=5)
    ap.add_argument("--only", nargs="+")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    from pgcourse.widgets import EXPLORERS
    names = [n for n in sorted(EXPLORERS) if not args.only or any(n.startswith(o) for o in args.only)]
    results = []
    for n in names:
        results.append(measure(n, EXPLORERS[n], args.moves))
        print(table(results[-1:]).splitlines()[-1] if results[-1]["controls"] else n, flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(table(results))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
