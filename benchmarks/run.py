"""How fast the course's machinery is: each figure a ratio against a baseline timed in the same run.

    python -m benchmarks.run [--quick] [--markdown] [--repeats K] [--no-notebooks] [--no-widgets]

Timing: wall clock (time.perf_counter); each quantity is timed K times (default 7), subject and baseline
interleaved, and the MINIMUM is used (the least disturbed run: the machine may be shared). Ratios are
"how many times faster than the baseline" (baseline time / our time) unless the row says "x the floor"
(our time / floor time, lower is better). Python-loop baselines are timed on a subset of the episodes
and scaled by the number of (n, t) steps or episodes, which their cost is proportional to.
Speed is reported, never asserted: the exit status is 0 unless something fails to run.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # `python benchmarks/run.py` as well as `python -m benchmarks.run`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pgcourse as pg
from benchmarks import baselines as base
from tools._paths import NOTEBOOK_SOURCES, ROOT


@dataclass
class Row:
    """One line of the table. ratio: a number (None when not applicable); ok: target met (None: no target)."""
    section: str
    what: str
    ours: str
    baseline: str
    ratio: float | None
    unit: str  # "x faster" (baseline / ours) or "x floor" (ours / floor) or "" (absolute)
    target: str
    ok: bool | None
    note: str = ""


@dataclass
class Config:
    quick: bool = False
    repeats: int = 7
    exact_repeats: int = 5
    sampler_N: int = 20_000
    sampler_T: int = 100
    gym_steps: int = 20_000
    exact_S: int = 2000
    growth_S: tuple = (250, 500, 1000, 2000)
    batch_N: int = 10_000
    batch_T: int = 200
    loop_episodes: int = 500  # the GAE double loop runs on this many episodes, scaled up
    loop_episodes_reinforce: int = 2500  # the per-episode REINFORCE loops (similar time per call as ours)
    widget_repeats: int = 5
    notebooks: bool = True
    widgets: bool = True
    notebook_timeout: int = 600
    extra: dict = field(default_factory=dict)

    @classmethod
    def quick_config(cls, **kw) -> Config:
        return cls(quick=True, repeats=3, exact_repeats=3, sampler_N=2000, sampler_T=50, gym_steps=2000, exact_S=300,
                   growth_S=(75, 150, 300), batch_N=500, batch_T=40, loop_episodes=50, loop_episodes_reinforce=100,
                   widget_repeats=2, **kw)


def best_time(fn, repeats: int) -> float:
    """Minimum wall time of `repeats` calls of fn()."""
    return min(_timed(fn) for _ in range(repeats))


def _best_wall_and_cpu(fn, repeats: int) -> tuple[float, float]:
    """Minimum wall time and minimum process CPU time of `repeats` calls (CPU time shows what a call costs
    by itself when the machine is shared: it excludes the time spent waiting for a core)."""
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleaved(fns: dict, repeats: int) -> dict:
    """{name: minimum wall time} of each fn, called round-robin `repeats` times (so that a burst of load
    from elsewhere hits all of them alike)."""
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            times[k].append(_timed(f))
    return {k: min(v) for k, v in times.items()}


def fmt_time(t: float) -> str:
    if t >= 1.0:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    if t >= 1e-6:
        return f"{t * 1e6:.2f} us"
    return f"{t * 1e9:.1f} ns"


# ---------------------------------------------------------------------------------------------------------
# 1. the batched sampler

def bench_sampler(cfg: Config) -> list[Row]:
    mdp = pg.frozen_lake()
    pi = np.full((mdp.S, mdp.A), 1.0 / mdp.A)
    N, T = cfg.sampler_N, cfg.sampler_T
    ep = pg.sample_episodes(mdp, pi, N, T, np.random.default_rng(0))
    steps = int(ep.mask.sum())
    assert base.bare_vectorised_loop(mdp, pi, N, T, np.random.default_rng(0)) == steps
    assert base.bare_loop_sampler_draws(mdp, pi, N, T, np.random.default_rng(0)) == steps
    fns = {
        "sampler": lambda: pg.sample_episodes(mdp, pi, N, T, np.random.default_rng(0)),
        "bare": lambda: base.bare_vectorised_loop(mdp, pi, N, T, np.random.default_rng(0)),
        "bare_draw": lambda: base.bare_loop_sampler_draws(mdp, pi, N, T, np.random.default_rng(0)),
    }
    env = None
    try:
        import gymnasium as gym
        env = gym.make("FrozenLake-v1")  # 4x4, slippery: the dynamics of pg.frozen_lake()
        fns["gym"] = lambda: base.gym_step_loop(env, cfg.gym_steps)
    except ImportError:
        pass
    t = interleaved(fns, cfg.repeats)
    per_step = t["sampler"] / steps
    ours = f"{fmt_time(t['sampler'])} ({fmt_time(per_step)}/step)"
    work = f"FrozenLake 4x4, uniform pi, N={N:,}, T={T}: {steps:,} steps, all 7 (N, T) arrays"
    rows = []
    if env is not None:
        gym_step = t["gym"] / cfg.gym_steps
        r = gym_step / per_step
        rows.append(Row("sampler", f"pg.sample_episodes vs gymnasium step loop, per env step [{work}]", ours,
                        f"gymnasium FrozenLake-v1, random actions: {fmt_time(gym_step)}/step "
                        f"({cfg.gym_steps:,} steps)", r, "x faster", ">= 80x", r >= 80))
        env.close()
    else:
        rows.append(Row("sampler", "pg.sample_episodes vs gymnasium step loop", ours, "gymnasium not installed",
                        None, "", ">= 80x", None, "skipped"))
    r = t["bare"] / t["sampler"]
    rows.append(Row("sampler", "pg.sample_episodes vs bare vectorised loop (same steps, nothing recorded)", ours,
                    f"textbook inverse-CDF loop: {fmt_time(t['bare'])}", r, "x faster", ">= 0.5x", r >= 0.5))
    r = t["bare_draw"] / t["sampler"]
    rows.append(Row("sampler", "  (info) vs the same loop with the sampler's own draw routine", ours,
                    f"{fmt_time(t['bare_draw'])}", r, "x faster", "", None,
                    "the gap is writing the seven (N, T) arrays"))
    return rows


# ---------------------------------------------------------------------------------------------------------
# 2. exact evaluation and gradient

def _exact_problem(S: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(S, 4, 0.9, rng, branching=10)
    policy = pg.SoftmaxPolicy.tabular(S, 4)
    theta = rng.normal(size=(S, 4))
    pi = policy.probs(theta)
    P_pi, r_pi = mdp.policy_matrices(pi)
    M = np.eye(S) - mdp.gamma * P_pi
    return mdp, policy, theta, pi, M, r_pi


def _exact_calls(S: int) -> dict:
    mdp, policy, theta, pi, M, r_pi = _exact_problem(S)
    return {
        (S, "solve"): lambda: np.linalg.solve(M, r_pi),
        (S, "gradient"): lambda: pg.policy_gradient(mdp, policy, theta),
        (S, "evaluate"): lambda: pg.evaluate(mdp, pi),
    }


def fit_exponent(sizes, times) -> float:
    """Least-squares slope of log(time) against log(size)."""
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def bench_exact(cfg: Config) -> list[Row]:
    S = cfg.exact_S
    grid = sorted(set(cfg.growth_S) | {S})
    times = {}
    for s in grid:  # one size at a time (as in a training loop: a call's temporaries reuse the last call's
        # memory); small sizes are cheap, so more repeats guard them against bursts of load from elsewhere
        every = interleaved(_exact_calls(s), cfg.exact_repeats * max(1, min(4, S // s)))
        times[s] = {k: v for (_, k), v in every.items()}
    t = times[S]
    floor = f"np.linalg.solve, one ({S} x {S}) system: {fmt_time(t['solve'])}"
    work = f"random_mdp({S}, 4, 0.9, branching=10), tabular softmax"
    r = t["gradient"] / t["solve"]
    rows = [
        Row("exact", f"pg.policy_gradient (= evaluate + gradient) [{work}]", fmt_time(t["gradient"]), floor, r,
            "x floor", "< 3x", r < 3),
        Row("exact", "pg.policy_gradient, absolute", fmt_time(t["gradient"]), "", None, "", "< 1 s",
            t["gradient"] < 1.0),
        Row("exact", "  (info) pg.evaluate alone (two solves: M V = r, M^T visits = mu)", fmt_time(t["evaluate"]),
            floor, t["evaluate"] / t["solve"], "x floor", "", None),
    ]
    k_grad = fit_exponent(grid, [times[s]["gradient"] for s in grid])
    k_solve = fit_exponent(grid, [times[s]["solve"] for s in grid])
    detail = ", ".join(f"S={s}: {fmt_time(times[s]['gradient'])}" for s in grid)
    rows.append(Row("exact", f"growth of pg.policy_gradient in S, fitted over S = {', '.join(map(str, grid))}",
                    f"S^{k_grad:.2f} ({detail})", f"the solve itself: S^{k_solve:.2f}", None, "",
                    "that of the solve (S^3)", abs(k_grad - k_solve) < 0.5, "exponent of a log-log fit"))
    return rows


# ---------------------------------------------------------------------------------------------------------
# 3. estimators on one batch

def _batch(cfg: Config):
    """A batch in which every step is real (no terminal state: every episode runs the full horizon)."""
    rng = np.random.default_rng(1)
    mdp = pg.random_mdp(50, 4, 0.99, rng, branching=5)
    policy = pg.SoftmaxPolicy.tabular(50, 4)
    theta = rng.normal(size=(50, 4))
    pi = policy.probs(theta)
    ep = pg.sample_episodes(mdp, pi, cfg.batch_N, cfg.batch_T, rng)
    V = pg.evaluate(mdp, pi).V
    return mdp, policy, theta, pi, ep, V


def bench_estimators(cfg: Config) -> list[Row]:
    mdp, policy, theta, pi, ep, V = _batch(cfg)
    N, T = ep.states.shape
    n, n_rf = min(cfg.loop_episodes, N), min(cfg.loop_episodes_reinforce, N)
    gamma, lam = mdp.gamma, 0.95
    # the baselines compute the same numbers
    ref = pg.gae(ep, V, gamma, lam)
    np.testing.assert_allclose(base.gae_double_loop(ep, V, gamma, lam, n), ref[:n], rtol=0, atol=1e-10)
    sub = pg.Episodes(*(getattr(ep, f)[:n_rf] for f in pg.Episodes.__dataclass_fields__))
    g_sub = pg.reinforce_gradient(policy, theta, sub, gamma)
    np.testing.assert_allclose(base.reinforce_per_episode(pi, ep, gamma, n_rf), g_sub, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(base.reinforce_per_episode_textbook(pi, ep, gamma, n_rf), g_sub, rtol=1e-9,
                               atol=1e-9)

    t = interleaved({
        "gae": lambda: pg.gae(ep, V, gamma, lam),
        "gae_loop": lambda: base.gae_double_loop(ep, V, gamma, lam, n),
        "reinforce": lambda: pg.reinforce_gradient(policy, theta, ep, gamma),
        "rf_loop": lambda: base.reinforce_per_episode(pi, ep, gamma, n_rf),
        "rf_textbook": lambda: base.reinforce_per_episode_textbook(pi, ep, gamma, n_rf),
    }, cfg.repeats)
    work = f"N={N:,}, T={T}, every step real (random_mdp(50, 4, 0.99), no terminal state)"
    loop_gae = t["gae_loop"] * N / n
    loop_rf = t["rf_loop"] * N / n_rf
    loop_tb = t["rf_textbook"] * N / n_rf
    scale = f"timed on {n:,} episodes, scaled to {N:,}"
    scale_rf = f"timed on {n_rf:,} episodes, scaled to {N:,}"
    rows = [
        Row("estimators", f"pg.gae [{work}]", fmt_time(t["gae"]),
            f"Python double loop over (n, t): {fmt_time(loop_gae)} ({scale})", loop_gae / t["gae"], "x faster",
            ">= 50x", loop_gae / t["gae"] >= 50),
        Row("estimators", "pg.reinforce_gradient, same batch", fmt_time(t["reinforce"]),
            f"per-episode Python loop, numpy inside: {fmt_time(loop_rf)} ({scale_rf})", loop_rf / t["reinforce"],
            "x faster", ">= 20x", loop_rf / t["reinforce"] >= 20),
        Row("estimators", "  (info) vs the textbook per-episode loop (returns by a loop over t)",
            fmt_time(t["reinforce"]), f"{fmt_time(loop_tb)} ({scale_rf})", loop_tb / t["reinforce"], "x faster", "",
            None),
    ]
    return rows


# ---------------------------------------------------------------------------------------------------------
# 4. widget updates

def bench_widgets(cfg: Config, explorers: dict | None = None) -> list[Row]:
    if explorers is None:
        from pgcourse.widgets import EXPLORERS as explorers
    rows = []
    if not explorers:
        return [Row("widgets", "Explorer.refresh()", "no explorer registered", "", None, "", "< 150 ms", None,
                    "skipped")]
    for name, factory in sorted(explorers.items()):
        try:
            ex = factory()
            ex.refresh()  # warm-up: first draw, caches
            dt, cpu = _best_wall_and_cpu(ex.refresh, cfg.widget_repeats)
        except Exception as e:  # noqa: BLE001 - any failure is reported in the table, and the run goes on
            rows.append(Row("widgets", f"{name}: Explorer.refresh()", f"failed: {type(e).__name__}: {_last_line(e)}",
                            "", None, "", "< 150 ms", False))
            continue
        rows.append(Row("widgets", f"{name}: Explorer.refresh() at default settings",
                        f"{fmt_time(dt)} (CPU {fmt_time(cpu)})", "", None, "", "< 150 ms", dt < 0.150))
    return rows


# ---------------------------------------------------------------------------------------------------------
# 5. notebooks executed headless

def notebook_sources(root: Path = ROOT) -> list[Path]:
    return sorted((root / NOTEBOOK_SOURCES.relative_to(ROOT)).glob("[0-9][0-9]_*.py"))


def bench_notebooks(cfg: Config, sources: list[Path] | None = None, build=None) -> list[Row]:
    """Execute every notebook headless (tools/build_notebooks.py's `build`, a fresh kernel each) in a temporary
    copy of the notebooks folder, so the repository's .ipynb files are never rewritten."""
    sources = notebook_sources() if sources is None else list(sources)
    if not sources:
        return [Row("notebooks", "notebooks executed headless", "no sources/notebooks/NN_*.py found", "", None, "",
                    "< 120 s total", None, "skipped")]
    if build is None:
        from tools.build_notebooks import build
    rows, total = [], 0.0
    with tempfile.TemporaryDirectory(prefix="pgcourse-bench-") as tmp:
        tmp = Path(tmp)
        # the notebooks run from their own folder: copy it, and link the project's other top-level entries
        # (read-only use) so relative paths such as ../solutions resolve as in the repository
        src_dir = sources[0].parent
        work = tmp / src_dir.name
        shutil.copytree(src_dir, work, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        for entry in src_dir.parent.iterdir():
            if entry.name not in {src_dir.name, ".git", ".venv"} and not (tmp / entry.name).exists():
                (tmp / entry.name).symlink_to(entry)
        for py in sources:
            try:
                dt = build(work / py.name, timeout=cfg.notebook_timeout)
            except Exception as e:  # noqa: BLE001 - a notebook that fails is a row of the table, not a crash
                rows.append(Row("notebooks", f"{py.stem}", f"failed: {type(e).__name__}: {_last_line(e)}", "", None,
                                "", "", False))
                continue
            total += dt
            rows.append(Row("notebooks", f"{py.stem}", f"{dt:.1f} s", "", None, "", "", None))
    ok = all(r.ok is not False for r in rows) and total < 120
    rows.append(Row("notebooks", f"all {len(sources)} notebooks, sequential, one fresh kernel each",
                    f"{total:.1f} s", "", None, "", "< 120 s total", ok))
    return rows


def _last_line(e: Exception, width: int = 100) -> str:
    """The last non-empty line of an exception's message (a notebook error ends with 'Name: message')."""
    lines = [x.strip() for x in str(e).splitlines() if x.strip()]
    return (lines[-1] if lines else "")[:width]


# ---------------------------------------------------------------------------------------------------------
# the table

def _ratio(r: Row) -> str:
    if r.ratio is None:
        return ""
    return f"{r.ratio:.2f}x" if r.ratio < 10 else f"{r.ratio:.0f}x"


def _met(r: Row) -> str:
    return {True: "yes", False: "NO", None: ""}[r.ok]


HEADERS = ("what", "ours", "baseline (same run)", "ratio", "target", "met")


def table_rows(rows: list[Row]) -> list[tuple[str, ...]]:
    out = []
    for r in rows:
        ratio = _ratio(r) + ({"x faster": " faster", "x floor": " the floor"}.get(r.unit, "") if r.ratio else "")
        what = r.what + (f" ({r.note})" if r.note else "")
        out.append((what, r.ours, r.baseline, ratio, r.target, _met(r)))
    return out


def format_text(rows: list[Row]) -> str:
    cells = table_rows(rows)
    lines = []
    for sec in dict.fromkeys(r.section for r in rows):
        lines.append(f"== {sec} ==")
        for r, c in zip(rows, cells, strict=True):
            if r.section != sec:
                continue
            lines.append(f"  {c[0]}")
            detail = f"      ours: {c[1]}" + (f" | baseline: {c[2]}" if c[2] else "")
            lines.append(detail if len(detail) < 200 else detail[:197] + "...")
            if c[3] or c[4]:
                lines.append(f"      ratio: {c[3] or '-':<20} target: {c[4] or '-':<24} met: {c[5] or '-'}")
    return "\n".join(lines)


def format_markdown(rows: list[Row]) -> str:
    def esc(s: str) -> str:
        return " ".join(s.split()).replace("|", "\\|")
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(esc(c) for c in cells) + " |" for cells in table_rows(rows)]
    return "\n".join(lines)


_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def environment() -> str:
    import numpy
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    blas = f"BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}"
    return (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; Python {platform.python_version()}, "
            f"numpy {numpy.__version__}; {os.cpu_count()} CPUs; {blas}; load average {load[0]:.2f}")


def run(cfg: Config, sections=("sampler", "exact", "estimators", "widgets", "notebooks"), log=print) -> list[Row]:
    funcs = {"sampler": bench_sampler, "exact": bench_exact, "estimators": bench_estimators,
             "widgets": bench_widgets, "notebooks": bench_notebooks}
    rows = []
    for name in sections:
        if name == "widgets" and not cfg.widgets or name == "notebooks" and not cfg.notebooks:
            continue
        t0 = time.perf_counter()
        rows += funcs[name](cfg)
        log(f"[{name}: {time.perf_counter() - t0:.1f} s]")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke test of every code path")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--repeats", type=int, default=None, help="timings per quantity (the minimum is used)")
    ap.add_argument("--no-notebooks", action="store_true", help="skip executing the notebooks")
    ap.add_argument("--no-widgets", action="store_true", help="skip the widget updates")
    ap.add_argument("--only", nargs="+", choices=["sampler", "exact", "estimators", "widgets", "notebooks"])
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="run with this many BLAS threads (1 gives steadier figures on a shared machine)")
    args = ap.parse_args(argv)
    if args.blas_threads and os.environ.get("OPENBLAS_NUM_THREADS") != str(args.blas_threads):
        # the thread count is read when numpy loads: start again with it set
        env = dict(os.environ, **{k: str(args.blas_threads) for k in _BLAS_VARS})
        env["PYTHONPATH"] = os.pathsep.join(x for x in (str(ROOT), env.get("PYTHONPATH")) if x)
        argv = sys.argv[1:] if argv is None else list(argv)
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable, "-m", "benchmarks.run", *argv], env)
    cfg = Config.quick_config() if args.quick else Config()
    if args.repeats:
        cfg.repeats = cfg.exact_repeats = args.repeats
    cfg.notebooks = not args.no_notebooks
    cfg.widgets = not args.no_widgets

    def log(*a):
        print(*a, file=sys.stderr, flush=True)

    log(f"pgcourse benchmarks{' (--quick)' if cfg.quick else ''}: {environment()}")
    rows = run(cfg, tuple(args.only) if args.only else ("sampler", "exact", "estimators", "widgets", "notebooks"),
               log=log)
    met = [r.ok for r in rows if r.ok is not None]
    quick = " (--quick: small sizes, not the sizes the targets are for)" if cfg.quick else ""
    print(f"pgcourse benchmarks{quick}: {environment()}")
    print(f"timing: wall clock, the minimum of {cfg.repeats} interleaved repeats (exact: {cfg.exact_repeats} per "
          "size, more for the small sizes); ratio = baseline / ours ('faster') or ours / floor ('the floor')")
    print(format_markdown(rows) if args.markdown else format_text(rows))
    print(f"targets met: {sum(met)} of {len(met)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
