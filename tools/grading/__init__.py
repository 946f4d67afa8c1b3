"""The trusted side of `python -m tools.grade`: finding submissions, the sandbox, seeds, judging, reports.

    submissions.py  find notebooks, parse student ids, tell the exercise, pick the latest of duplicates
    sandbox.py      the bubblewrap command line and the limits (the student's code runs only in there)
    seeds.py        per-student seeds: HMAC-SHA256(course secret, student / exercise / part)
    evaluate.py     one submission: build the inputs, run the sandbox, read its plain data, judge
    report.py       the CSV (atomic) and the per-student feedback files
    bench.py        the class-scale throughput benchmark (`python -m tools.grade --bench 200`)
"""
