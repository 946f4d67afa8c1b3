"""The attack suite of issue 12: one submission per attack class, each with wrong answers, graded together with
honest ones by `python -m tools.grade` (sandboxed). Every attacker must score 0 on its wrong parts, every honest
student full marks (also the one a cheater tried to delete), no file outside the sandbox may change, no process
may be left behind, and the CSV must be written (and stay as written).

The submissions are made from solutions/ex04_returns.py (tests/fixtures/submissions.py): an attacker is the
exercise with every part wrong plus one cell carrying the attack.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from fixtures.submissions import add_cell, honest, parts_of, read_csv, tree_hash, write, wrong
from tools import grade
from tools._paths import ROOT
from tools.grading import sandbox

if sandbox.bwrap() is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("bubblewrap (bwrap) is missing in CI: .ci/run installs it (apt-get install -y bubblewrap)")
    pytest.skip("bubblewrap (bwrap) is not installed: `apt-get install -y bubblewrap` to run the attack suite",
                allow_module_level=True)

MARKER = "PGCOURSE_ATTACK_MARKER"
EX = "ex04_returns"
FULL = {"ex04-p1": ("1", "1", ""), "ex04-p2": ("1", "2", ""), "ex04-p3": ("1", "2", ""),
        "total": ("1", "5", "3/3 parts passed")}


def attacks(subs: Path, out: Path) -> dict[str, tuple[str, bool]]:
    """{attack name: (the attack cell, put it at the end (after the student's functions) or not)}."""
    sol = str(ROOT / "solutions" / f"{EX}.py")
    victim = str(subs / f"victim__{EX}.ipynb")
    return {
        "allclose": ("np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
                     "np.array_equal = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None", False),
        "patch_checks": ("import pgcourse.checks as c\nfrom pgcourse.checks import _core\n"
                         "ok = lambda *a, **k: c.CheckResult(True, 'correct!')\n"
                         "for n in list(vars(c)):\n    if n.startswith('check_'):\n        setattr(c, n, ok)\n"
                         "_core.judge_cases = ok\n_core.Ctx.compare = lambda *a, **k: None\n"
                         "_core.Ctx.fail = lambda *a, **k: None", False),
        "showtraceback": ("import sys\nsys.excepthook = lambda *a: None\n"
                          "get_ipython().showtraceback = lambda *a, **k: None", False),
        "set_custom_exc": ("get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)", False),
        "input_transformer": ("get_ipython().input_transformers_cleanup.append(\n"
                              "    lambda lines: [l.replace('assert', 'pass  #') for l in lines])", False),
        "read_solutions": ("import pgcourse, pathlib\n"
                           "for p in [pathlib.Path(pgcourse.__file__).resolve().parents[1] / 'solutions' / "
                           f"'{EX}.py', pathlib.Path({sol!r})]:\n"
                           "    try:\n        src = p.read_text()\n    except OSError:\n        continue\n"
                           "    cells = [c for c in src.split('# %%') if 'def ' in c and 'checks.check' not in c]\n"
                           "    for c in cells:\n        exec(c.split('\\n', 1)[1], globals())", True),
        "proc_cwd_write": ("import os\nfor pid in os.listdir('/proc'):\n    try:\n"
                           "        cwd = os.readlink(f'/proc/{pid}/cwd')\n"
                           f"        open(os.path.join(cwd, 'PWNED_{MARKER}'), 'w').write('x')\n"
                           "    except Exception:\n        pass\n"
                           f"for d in [{str(ROOT)!r}, {str(ROOT / 'pgcourse')!r}, '/tmp']:\n    try:\n"
                           f"        open(os.path.join(d, 'PWNED_{MARKER}'), 'w').write('x')\n"
                           "    except Exception:\n        pass", False),
        "append_to_checks": ("import pgcourse.checks, pathlib\nd = pathlib.Path(pgcourse.checks.__file__).parent\n"
                             "payload = '\\nimport pgcourse.checks._core as _c\\n"
                             "_c.judge_cases = lambda *a, **k: _c.CheckResult(True, \"ok\")\\n'\n"
                             "for f in ['__init__.py', '_core.py', 'ex04_returns.py']:\n    try:\n"
                             "        open(d / f, 'a').write(payload)\n    except OSError:\n        pass", False),
        "harm_others": ("import os\n"
                        f"targets = [{victim!r}]\n"
                        "for root, dirs, files in os.walk('/'):\n"
                        "    if root.startswith(('/proc', '/sys', '/dev')):\n        dirs[:] = []\n        continue\n"
                        "    targets += [os.path.join(root, f) for f in files if f.endswith('.ipynb')]\n"
                        "for t in targets:\n    for act in (lambda: open(t, 'w').write('{}'), lambda: os.unlink(t)):\n"
                        "        try:\n            act()\n        except Exception:\n            pass", False),
        "detached_rewrite": ("import os, subprocess, sys\n"
                             f"code = \"import time; time.sleep(4); open({str(out)!r}, 'w').write('hacked') "
                             f"# {MARKER}\"\n"
                             "try:\n    subprocess.Popen([sys.executable, '-c', code], start_new_session=True)\n"
                             "except Exception:\n    pass\n"
                             "try:\n    if os.fork() == 0:\n        os.setsid()\n        import time\n"
                             "        time.sleep(4)\n        try:\n"
                             f"            open({str(out)!r}, 'w').write('hacked')\n"
                             "        finally:\n            os._exit(0)\nexcept Exception:\n    pass", False),
        "mkdir_out": (f"import os\nfor p in [{str(out)!r}, {str(out) + '.tmp'!r}, {str(out.parent / 'x')!r}]:\n"
                      "    try:\n        os.makedirs(p)\n    except Exception:\n        pass", False),
        "sigkill": ("import os, signal\nme = os.getpid()\nfor pid in [os.getppid(), 1] + list(range(2, 4000)):\n"
                    "    if pid != me:\n        try:\n            os.kill(pid, signal.SIGKILL)\n"
                    "        except Exception:\n            pass", False),
        "forge_results": ("import os, glob\n"
                          "for fd in glob.glob(f'/proc/{os.getppid()}/fd/*') + glob.glob('/proc/1/fd/*'):\n    try:\n"
                          "        with open(fd, 'wb') as f:\n            f.write(b'PGCR' + b'\\x00' * 12)\n"
                          "    except Exception:\n        pass\n"
                          "for n in range(3, 64):\n    try:\n        os.write(n, b'PGCR' + b'\\x00' * 12)\n"
                          "    except Exception:\n        pass", False),
        "eq_tricks": ("class Liar(np.ndarray):\n    def __eq__(self, o):\n        return True\n"
                      "    def __array_ufunc__(self, *a, **k):\n        return True\n"
                      "_real = episode_returns\n"
                      "def episode_returns(rewards, gamma):\n"
                      "    return np.zeros(len(rewards)).view(Liar)\n"
                      "class Weird:\n    def __array__(self, *a, **k):\n        raise KeyboardInterrupt\n"
                      "def batch_returns(rewards, gamma, mask):\n    return Weird()\n"
                      "def stream_returns(rewards, dones, gamma):\n    return np.zeros(len(rewards)) + 0j", True),
    }


def student(attack: str) -> str:
    return "attack-" + attack.replace("_", "-")


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        uid = int(status.split("Uid:")[1].split()[0])
        if marker in cmd or sandbox.UID_BASE <= uid < sandbox.UID_BASE + 1000:
            found.append(int(pid))
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attacks")
    subs, out = tmp / "subs", tmp / "out" / "grades.csv"
    out.parent.mkdir()
    write(honest(EX), subs / f"alice__{EX}.ipynb")
    write(honest(EX), subs / f"victim__{EX}.ipynb")
    names = attacks(subs, out)
    for name, (src, at_end) in names.items():
        nb = add_cell(wrong(EX), src, index=None if at_end else 2)
        write(nb, subs / f"{student(name)}__{EX}.ipynb")
    write(wrong(EX), subs / f"zz-next__{EX}.ipynb")  # graded after the attempts to change the package
    before_repo, before_subs = tree_hash(ROOT), tree_hash(subs)
    t0 = time.monotonic()
    status = grade.main([str(subs), "--out", str(out), "--jobs", "2", "--timeout", "10"])
    seconds = time.monotonic() - t0
    text = out.read_text() if out.is_file() else None
    time.sleep(6)  # long enough for a detached process to have rewritten the CSV
    return {"status": status, "rows": read_csv(out) if out.is_file() else [], "text": text, "out": out,
            "after_text": out.read_text() if out.is_file() else None, "names": list(names), "subs": subs,
            "before_repo": before_repo, "after_repo": tree_hash(ROOT), "before_subs": before_subs,
            "after_subs": tree_hash(subs), "seconds": seconds, "tmp": tmp}


def test_the_csv_is_written_and_stays_as_written(attacked):
    assert attacked["status"] == 0
    assert attacked["out"].is_file() and attacked["text"] and attacked["text"].startswith("student,")
    assert attacked["after_text"] == attacked["text"]  # no detached process rewrote it


def test_honest_students_get_full_marks(attacked):
    rows = attacked["rows"]
    assert parts_of(rows, "alice", EX) == FULL
    assert parts_of(rows, "victim", EX) == FULL  # the one a cheater tried to delete


@pytest.mark.parametrize("name", list(attacks(Path("/x"), Path("/x/g.csv"))))
def test_each_attack_scores_zero_on_its_wrong_parts(attacked, name):
    got = parts_of(attacked["rows"], student(name), EX)
    assert set(got) == set(FULL), (name, got)
    assert all(v[0] == "0" and v[1] == "0" for v in got.values()), (name, got)


def test_the_next_student_is_not_helped(attacked):
    got = parts_of(attacked["rows"], "zz-next", EX)
    assert got["total"][:2] == ("0", "0"), got


def test_no_file_outside_the_sandbox_changed(attacked):
    before, after = attacked["before_repo"], attacked["after_repo"]
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert not [p for p in changed if "PWNED" in p or MARKER in p]
    ours = ("pgcourse/checks/", "solutions/", "tools/grading/", "tools/grade.py", "tools/release.py", "exercises/",
            "tests/fixtures/")  # (other folders may be edited by others while this runs outside CI)
    assert not [p for p in changed if p.startswith(ours)], changed
    if os.environ.get("CI") == "true":  # nobody else edits the tree in CI: nothing may change at all
        assert not changed, changed
    assert attacked["after_subs"] == attacked["before_subs"]
    assert not list(Path("/tmp").glob(f"PWNED_{MARKER}"))


def test_no_process_is_left_behind(attacked):
    left = _processes_with(MARKER)
    for pid in left:  # clean up before failing, so that one failure does not leave the machine dirty
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert not left


def test_the_suite_has_teeth_without_the_sandbox(tmp_path):
    """The read-the-solutions attack does give full marks when its code runs unsandboxed (--no-sandbox): the
    sandbox, not luck, is what stops it above."""
    subs = tmp_path / "subs"
    src, _ = attacks(subs, tmp_path / "g.csv")["read_solutions"]
    write(add_cell(wrong(EX), src), subs / f"eve__{EX}.ipynb")
    assert grade.main([str(subs), "--out", str(tmp_path / "g.csv"), "--no-sandbox", "--jobs", "1"]) == 0
    assert parts_of(read_csv(tmp_path / "g.csv"), "eve", EX) == FULL
