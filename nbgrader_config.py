"""nbgrader configuration for the pgcourse exercises (one nbgrader assignment per exercise).

`python -m tools.release --nbgrader-source COURSE` writes COURSE/source/exNN_topic/exNN_topic.ipynb and copies this
file to COURSE/nbgrader_config.py (unless one exists: then merge these few lines into yours). Run nbgrader in
COURSE with the course venv's bin on PATH (nbgrader calls `alembic`), e.g.

    cd COURSE && PATH=/path/to/pgcourse/.venv/bin:$PATH nbgrader generate_assignment ex04_returns

The students' kernel and the grading kernel need `pgcourse` importable (its checkers run in the graded cells).
nbgrader's autograde runs the hidden tests IN the student's kernel, so a student can monkeypatch them; for grades
you must trust, use `python -m tools.grade` (sandboxed, the judging outside the student's process; README).
"""
c = get_config()  # noqa: F821  (provided by nbgrader/traitlets when this file is loaded)

c.CourseDirectory.course_id = "pgcourse"

# The same stub tools.release writes into exercises/ (nbgrader's default, spelled out so both agree).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# Autograding: a part that loops forever is interrupted after 60 s and costs only that part
# (the same defaults as `python -m tools.grade --timeout 60`).
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
