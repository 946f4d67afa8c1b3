"""Instant-feedback checkers for the exercises (exercises/exNN_*.ipynb).

Every checker has the form ``check_<thing>(student_fn, *, seed=None, quiet=False, time_limit=None) ->
CheckResult``. It calls the student's function on FRESH random problems (random MDPs, sampled episode batches),
compares the answer with the package's exact machinery, and when the answer is wrong it recomputes the known
wrong variants (sign flipped, the 1/(1-gamma) factor missing, gamma^t missing, G_0 instead of G_t, no bootstrap
on truncation, bootstrapping from a terminal state, ...) to name the mistake. A checker never raises (the
student's errors, NotImplementedError, sys.exit, KeyboardInterrupt and a loop past the time limit included,
become a failed result), never prints the solution, and prints its message as one paragraph unless ``quiet``.
``seed=None`` draws a fresh seed: only numbers in the message depend on it. While the student's function runs,
the package functions the part asks for (``forbid``: e.g. ``pg.gae`` in the GAE exercise) raise "you are asked
to write this yourself".

Exercises and their checkers (generated from the registry):
{table}

Adding an exercise (the registry is the single list: this table, ``__all__``, the tests' list and the grader's
list are generated from it):

1. write ``pgcourse/checks/exNN_topic.py``; for each part, a function ``check_<name>(rng)`` that yields
   ``Case``s (``compare_case(args, expected, what, variants, where=...)`` for the usual one-call case),
   decorated with ``@checker("exNN_topic", part, function="<student function>", summary="...",
   forbid=(package names the part asks for), uses=(earlier parts' functions it may call),
   reference=<pure-numpy reference, if a later part uses this one>, course_part=1 or 2)``;
   build only from the ``rng`` passed in, and keep the student's call (role 2) free of trusted work: the judge
   gets only the plain arrays the function returned;
2. nothing else to list: every ``exNN_*.py`` module here is imported (in name order) and registers itself;
3. in ``solutions/exNN_topic.py`` the graded cell of Part k (grade_id ``exNN-pk``) calls ``checks.check_<name>``.
"""
from __future__ import annotations

import importlib
import pkgutil
import re

from ._core import (
    NOT_IMPLEMENTED,
    REGISTRY,
    TIME_LIMIT,
    Case,
    Checker,
    CheckResult,
    Outcome,
    Rng,
    checker,
    checkers_of,
    compare_case,
    exercises,
    registry_table,
)

_MODULES = sorted(m.name for m in pkgutil.iter_modules(__path__) if re.fullmatch(r"ex\d\d_\w+", m.name))

for _m in _MODULES:
    _mod = importlib.import_module(f"{__name__}.{_m}")
    for _name, _chk in REGISTRY.items():
        if _chk.exercise == _m:
            globals()[_name] = getattr(_mod, _name)

from .ex08_training_loop import (  # noqa: E402
    TRAINING_SCREEN,
    TRAINING_SETTINGS,
    TRAINING_TARGET,
    training_case,
    training_problem,
)

__doc__ = __doc__.format(table=registry_table())

__all__ = ["CheckResult", "NOT_IMPLEMENTED", "TIME_LIMIT", "REGISTRY", "Checker", "Case", "Outcome", "Rng",
           "checker", "checkers_of", "compare_case", "exercises", *REGISTRY,
           "training_problem", "training_case", "TRAINING_SETTINGS", "TRAINING_TARGET", "TRAINING_SCREEN"]
