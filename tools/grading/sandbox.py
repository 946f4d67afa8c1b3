"""The sandbox the student's code runs in: bubblewrap (Debian's `bubblewrap`), as root or not.

Inside: no network and no other namespaces shared (--unshare-ipc/pid/net/uts/cgroup; the user namespace is not
unshared so that the runner can drop to a per-job unprivileged uid, which makes RLIMIT_NPROC bite), its own PID
namespace (the grader, the other jobs and their files are invisible; a process cannot outlive the job:
--die-with-parent, and the runner kills the PID namespace after each part), the interpreter, the venv and the
pgcourse package bound read-only (nothing else of the repository: no solutions/, no tools/, no submissions), a
private size-capped tmpfs as /tmp and the job folder (plan + that student's notebook) read-only as /job.
The runner (pgcourse/checks/_runner.py) sets the per-part rlimits (CPU time, address space, processes, file
size, open files) and runs the student's code under a uid of its own; results come back on stdout as plain data.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pgcourse

UID_BASE = 62000  # job slot k runs the student's code as uid UID_BASE + k (one uid per concurrent sandbox)
TMPFS_BYTES = 64 << 20
RLIMITS = {"RLIMIT_AS": 3 << 30, "RLIMIT_FSIZE": 16 << 20, "RLIMIT_NOFILE": 64, "RLIMIT_CORE": 0}
THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def bwrap() -> str | None:
    return shutil.which("bwrap")


def _real(p) -> str:
    return str(Path(p).resolve())


def read_only_paths() -> list[str]:
    """What the runner needs, read-only: system libraries, the interpreter, the venv, the pgcourse package."""
    pkg = Path(pgcourse.__file__).resolve().parent
    paths = ["/usr", _real(sys.base_prefix), sys.prefix, _real(sys.prefix), str(pkg)]
    for d in ("/lib", "/lib64", "/bin", "/sbin", "/lib32", "/libx32"):
        if os.path.isdir(d) and not os.path.islink(d):
            paths.append(d)
    out = []
    for p in paths:
        if p not in out and os.path.exists(p):
            out.append(p)
    return out


def _parents(paths) -> list[str]:
    dirs = []
    for p in paths:
        parts = Path(p).parts
        for i in range(2, len(parts)):
            d = str(Path(*parts[:i]))
            if d not in dirs and d not in paths:
                dirs.append(d)
    return dirs


def command(job_dir: Path, runner_args: list[str]) -> list[str]:
    """The bwrap command line that runs `python -I -m pgcourse.checks._runner /job` in the sandbox."""
    ro = read_only_paths()
    if os.geteuid() == 0:  # root: keep the user namespace, let the runner drop to a per-job uid
        argv = [bwrap(), "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session", "--clearenv",
                "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL"]
    else:  # an ordinary user: everything unshared (needs unprivileged user namespaces)
        argv = [bwrap(), "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    # The private /tmp first: bwrap mounts in order, so read-only paths that live under /tmp (a repository
    # cloned there, its venv) are bound on top of it instead of being hidden by it.
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp"]
    for d in _parents(ro):
        argv += ["--perms", "0755", "--dir", d]
    for p in ro:
        argv += ["--ro-bind", p, p]
    for link in ("/lib", "/lib64", "/bin", "/sbin"):
        if os.path.islink(link):
            argv += ["--symlink", os.readlink(link), link]
    argv += ["--ro-bind", str(job_dir), "/job", "--chdir", "/tmp",
             "--setenv", "HOME", "/tmp", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8"]
    for k, v in THREAD_ENV.items():
        argv += ["--setenv", k, v]
    return argv + [sys.executable, "-I", "-m", "pgcourse.checks._runner", "/job", *runner_args]


def unsandboxed_command(job_dir: Path, runner_args: list[str]) -> list[str]:
    """--no-sandbox: the same runner as a plain child process (rlimits, no isolation)."""
    return [sys.executable, "-I", "-m", "pgcourse.checks._runner", str(job_dir), *runner_args]


def environment() -> dict:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", **THREAD_ENV}
    return env
