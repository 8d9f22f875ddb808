"""requirements.lock pins every dependency pyproject.toml names, at a version it allows.

``make install`` installs exactly the lock, so a dependency added to pyproject.toml but not to
the lock (``make lock``) would be missing on a fresh machine; this test says so first.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {
        canonicalize_name(m.group(1)): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", text, re.M)
    }


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in [*project["dependencies"], *extras["dev"], *extras["spark"]]]


def test_every_dependency_is_pinned_at_an_allowed_version() -> None:
    pins = _pins()
    problems = []
    for req in _declared():
        version = pins.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req.name} is not in requirements.lock")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}=={version} does not satisfy {req.specifier}")
    assert not problems, "; ".join(problems) + " (run `make lock`)"


def test_the_lock_pins_everything_exactly() -> None:
    """Every requirement line is ``name==version``: nothing floats."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith((" ", "#"))]
    assert lines and all("==" in ln for ln in lines), [ln for ln in lines if "==" not in ln]
    assert len(_pins()) == len(lines)
