"""Benchmarks of the course's machinery: every figure is a ratio against a baseline timed in the same run.

    python -m benchmarks.run              # the full table (a few minutes on 2 cores)
    python -m benchmarks.run --quick      # small sizes: a smoke test of every code path
    python -m benchmarks.run --markdown   # the table as Markdown, for README's "Performance" section
"""
