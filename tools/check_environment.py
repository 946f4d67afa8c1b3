"""Check that environment.yml resolves, without conda: translate its conda specs to pip requirements and ask
pip to resolve them (`pip install --dry-run`). A misspelt package or an impossible version fails.

    python -m tools.check_environment                  # check ./environment.yml
    python -m tools.check_environment path/to/env.yml  # another file
    python -m tools.check_environment --ignore-installed   # resolve everything from the index (slower)

It contacts the package index (PyPI), so it is a Makefile step, not a pytest test (tests stay offline).
Conda specs map to pip as: `pkg` -> `pkg`, `pkg>=1.2` -> `pkg>=1.2`, `pkg=1.2` -> `pkg==1.2.*`,
`pkg==1.2` -> `pkg==1.2`, `pkg 1.2.*` -> `pkg==1.2.*`, `pkg=1.2=build` -> `pkg==1.2.*` (build dropped).
`python` is checked against this interpreter instead; `pip` itself and local paths (`-e .`) are skipped.
Exit status 0 when the file resolves, 1 otherwise (with the reason), 2 when the file itself is malformed.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (python tools/x.py): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools._paths import ROOT

ALLOWED_KEYS = {"name", "channels", "dependencies", "variables", "prefix"}
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")


class EnvFileError(ValueError):
    """environment.yml is malformed (not a resolution failure)."""


def load(path: Path) -> dict:
    import yaml

    try:
        env = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as e:
        raise EnvFileError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(env, dict):
        raise EnvFileError(f"{path}: the top level must be a mapping, got {type(env).__name__}")
    unknown = set(env) - ALLOWED_KEYS
    if unknown:
        raise EnvFileError(f"{path}: unknown top-level keys {sorted(unknown)} (allowed: {sorted(ALLOWED_KEYS)})")
    deps = env.get("dependencies")
    if not isinstance(deps, list) or not deps:
        raise EnvFileError(f"{path}: 'dependencies' must be a non-empty list")
    return env


def split_dependencies(env: dict) -> tuple[list[str], list[str]]:
    """(conda specs, pip requirements) of an environment dict."""
    conda, pip = [], []
    for d in env["dependencies"]:
        if isinstance(d, str):
            conda.append(d.strip())
        elif isinstance(d, dict) and set(d) == {"pip"} and isinstance(d["pip"], list):
            if not all(isinstance(p, str) for p in d["pip"]):
                raise EnvFileError("the pip section must be a list of strings")
            pip.extend(p.strip() for p in d["pip"])
        else:
            raise EnvFileError(f"a dependency must be a string or a {{pip: [...]}} section, got {d!r}")
    return conda, pip


def conda_to_pip(spec: str) -> tuple[str, str]:
    """(name, pip requirement) for one conda spec, e.g. 'numpy=1.26' -> ('numpy', 'numpy==1.26.*')."""
    s = spec.strip()
    if "::" in s:  # channel::package
        s = s.split("::", 1)[1]
    m = _NAME.match(s)
    if not m:
        raise EnvFileError(f"cannot parse the conda spec {spec!r}")
    name, extras, rest = m.group(1), m.group(2) or "", m.group(3).strip()
    if not rest:
        return name, name + extras
    if rest[0].isdigit() or rest[0] == "*":  # 'pkg 1.2.*' (space-separated version) or 'pkg 1.2 build'
        rest = "==" + rest.split()[0]
    elif rest.startswith("=") and not rest.startswith("=="):  # conda's fuzzy '=1.2' (and '=1.2=build')
        ver = rest[1:].split("=")[0].strip()
        rest = "==" + (ver if ver.endswith("*") else ver + ".*")
    parts = [p.strip() for p in rest.split(",")]
    for p in parts:
        if not re.match(r"^(==|!=|>=|<=|~=|>|<)\s*[0-9A-Za-z.*+!-]+$", p):
            raise EnvFileError(f"cannot translate the version part {p!r} of the conda spec {spec!r}")
    return name, name + extras + ",".join(parts)


def python_ok(spec: str) -> bool:
    from packaging.specifiers import SpecifierSet

    req = conda_to_pip(spec)[1][len("python"):]
    return not req or SpecifierSet(req).contains(".".join(map(str, sys.version_info[:3])))


def requirements(env: dict) -> tuple[list[str], list[str], list[str]]:
    """(pip requirements to resolve, python specs, skipped entries)."""
    conda, pip = split_dependencies(env)
    reqs, pys, skipped = [], [], []
    for spec in conda:
        name, req = conda_to_pip(spec)
        if name.lower() == "python":
            pys.append(spec)
        elif name.lower() == "pip":
            skipped.append(spec)
        else:
            reqs.append(req)
    for p in pip:
        if p.startswith(("-e", "--editable", ".", "/", "file:", "git+")):
            skipped.append(p)
        else:
            reqs.append(p)
    return reqs, pys, skipped


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default=str(ROOT / "environment.yml"))
    ap.add_argument("--ignore-installed", action="store_true",
                    help="resolve every package from the index, not only the ones missing here")
    args = ap.parse_args(argv)
    try:
        env = load(Path(args.file))
        reqs, pys, skipped = requirements(env)
    except (EnvFileError, OSError) as e:
        print(f"check_environment: {e}", file=sys.stderr)
        return 2
    for spec in pys:
        if not python_ok(spec):
            print(f"check_environment: this interpreter (Python {sys.version.split()[0]}) does not satisfy {spec!r}",
                  file=sys.stderr)
            return 1
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--disable-pip-version-check"]
    if args.ignore_installed:
        cmd.append("--ignore-installed")
    t0 = time.monotonic()
    res = subprocess.run(cmd + reqs, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if res.returncode != 0:
        print(res.stdout + res.stderr, file=sys.stderr)
        print(f"check_environment: FAILED: {args.file} does not resolve with pip ({len(reqs)} requirements: "
              f"{' '.join(reqs)}); see pip's message above", file=sys.stderr)
        return 1
    print(f"check_environment: OK: {Path(args.file).name} resolves ({len(reqs)} packages with pip in {dt:.1f} s; "
          f"skipped {skipped or 'nothing'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
