"""environment.yml and pyproject.toml name the same packages (offline: parsing only; the "it resolves" check
is tools/check_environment.py, which contacts the package index and is run by the Makefile)."""
import re
import sys

import pytest

from tools._paths import ROOT
from tools.check_environment import EnvFileError, conda_to_pip, requirements, split_dependencies

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")
yaml = pytest.importorskip("yaml")

EXTRAS = ("course", "test", "instructor")  # the environment is core + these extras


def norm(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def split_req(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*(?:;.*)?$", req)
    assert m, f"cannot parse {req!r}"
    return norm(m.group(1)), m.group(2).replace(" ", "")


@pytest.fixture(scope="module")
def env():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


@pytest.fixture(scope="module")
def pyproject_reqs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in EXTRAS:
        reqs += project["optional-dependencies"][extra]
    return dict(split_req(r) for r in reqs), project


def env_reqs(env):
    conda, pip = split_dependencies(env)
    out = {}
    for spec in conda:
        name, req = conda_to_pip(spec)
        out[norm(name)] = split_req(req)[1]
    for p in pip:
        if p.startswith("-e") or p.startswith("."):
            continue
        name, ver = split_req(p)
        out[name] = ver
    return out


def test_keys_and_layout(env):
    assert isinstance(env, dict)
    assert set(env) <= {"name", "channels", "dependencies"}, sorted(env)
    assert env["name"] == "pgcourse"
    assert env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    assert all(isinstance(d, str) or (isinstance(d, dict) and list(d) == ["pip"]) for d in deps), deps
    assert sum(isinstance(d, dict) for d in deps) <= 1
    strings = [d for d in deps if isinstance(d, str)]
    assert len(strings) == len(set(strings)), "duplicate entries"
    if any(isinstance(d, dict) for d in deps):
        assert "pip" in strings, "list pip itself when there is a pip: section"


def test_python_version_matches_pyproject(env, pyproject_reqs):
    _, project = pyproject_reqs
    py = [d for d in env["dependencies"] if isinstance(d, str) and split_req(d)[0] == "python"]
    assert py == ["python" + project["requires-python"]], py


def test_same_packages_as_pyproject(env, pyproject_reqs):
    want, _ = pyproject_reqs
    got = {k: v for k, v in env_reqs(env).items() if k not in ("python", "pip")}
    assert sorted(got) == sorted(want), (
        f"only in environment.yml: {sorted(set(got) - set(want))}; "
        f"only in pyproject.toml: {sorted(set(want) - set(got))}")
    # and the same lower bounds, so the two never drift apart
    assert got == want


def test_editable_install_of_the_course_package(env):
    _, pip = split_dependencies(env)
    assert "-e ." in pip


@pytest.mark.parametrize("spec, expect", [
    ("numpy", "numpy"), ("numpy>=1.24", "numpy>=1.24"), ("numpy=1.26", "numpy==1.26.*"),
    ("numpy==1.26.4", "numpy==1.26.4"), ("numpy 1.26.*", "numpy==1.26.*"), ("numpy=1.26=py311h0", "numpy==1.26.*"),
    ("conda-forge::numpy>=1.24,<3", "numpy>=1.24,<3"), ("numpy=1.26.*", "numpy==1.26.*"),
])
def test_conda_to_pip_translation(spec, expect):
    assert conda_to_pip(spec)[1] == expect


@pytest.mark.parametrize("spec", ["numpy>>1", "==1.0", "numpy>=1.0 | <3"])
def test_conda_to_pip_rejects_what_it_cannot_translate(spec):
    with pytest.raises(EnvFileError):
        conda_to_pip(spec)


def test_requirements_skip_python_pip_and_local_paths(env):
    reqs, pys, skipped = requirements(env)
    assert pys == [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert "pip" in skipped and "-e ." in skipped
    assert not any(r.startswith(("python", "-e")) for r in reqs)
    assert len(reqs) == len(env_reqs(env)) - 2  # everything but python and pip


# binder/environment.yml: the student's environment (Binder), what `make course` installs into .venv-course.
STUDENT_EXTRAS = ("course", "gym")


@pytest.fixture(scope="module")
def student_env():
    return yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())


def test_student_environment_is_the_course_extras(student_env):
    """Core + course + gym, with pyproject's bounds, the package editable: what the Makefile's COURSE_EXTRAS
    installs; nothing of the instructor's or the test suite's (nbgrader, Playwright, pytest)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    want = dict(split_req(r) for r in project["dependencies"])
    for extra in STUDENT_EXTRAS:
        want.update(split_req(r) for r in project["optional-dependencies"][extra])
    got = {k: v for k, v in env_reqs(student_env).items() if k not in ("python", "pip")}
    assert got == want, (sorted(set(got) ^ set(want)), got, want)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^COURSE_EXTRAS\s*:=\s*" + ",".join(STUDENT_EXTRAS) + r"\s*$", makefile, re.MULTILINE)
    others = {split_req(r)[0] for extra in ("test", "instructor", "dev", "book")
              for r in project["optional-dependencies"][extra]} - set(want)
    assert others and not others & set(got), sorted(others & set(got))
    py = [d for d in student_env["dependencies"] if isinstance(d, str) and split_req(d)[0] == "python"]
    assert py == ["python" + project["requires-python"]], py
    assert "-e ." in split_dependencies(student_env)[1]
    assert student_env["name"] == "pgcourse-course" and student_env["channels"] == ["conda-forge"]


def test_binder_post_build_installs_the_course_lab_settings():
    """binder/postBuild installs the same JupyterLab overrides (no news popup) as the Makefile's make-venv."""
    post = ROOT / "binder" / "postBuild"
    assert post.stat().st_mode & 0o111, "binder/postBuild must be executable"
    text = post.read_text()
    settings = "share/jupyter/lab/settings/overrides.json"
    assert f"install -D -m 644 {settings} " in text and f"{settings}\"" in text
    assert f"LAB_SETTINGS := {settings}" in (ROOT / "Makefile").read_text()
