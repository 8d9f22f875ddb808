"""The examples in docstrings are tests: ``pytest`` collects and runs them from ``src/personae``.

``make test`` runs plain ``pytest``, whose settings (pyproject.toml) add ``src/personae`` to the
test paths and ``--doctest-modules`` to the options. These tests keep it that way: they fail if
the settings lose either, if pytest stops collecting the examples, or if most examples vanish.
"""

from __future__ import annotations

import doctest
import functools
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import personae

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(personae.__file__).resolve().parent
#: At least this many ``>>>`` examples across the package (132 when this test was written): a floor
#: that catches examples vanishing wholesale, not one example removed.
MIN_EXAMPLES = 100


def _module_names() -> list[str]:
    """Every module under ``personae``, including those in directories without ``__init__.py``."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@functools.cache
def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder()
    found = []
    for name in _module_names():
        module = importlib.import_module(name)
        found += [t for t in finder.find(module, name) if t.examples]
    return found


def test_pytest_settings_collect_doctests_from_src() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in settings["addopts"].split()
    assert "src/personae" in settings["testpaths"]
    assert "tests" in settings["testpaths"]
    assert {"NORMALIZE_WHITESPACE", "ELLIPSIS"} <= set(settings["doctest_optionflags"])


def test_the_package_has_examples() -> None:
    tests = _doctests()
    examples = sum(len(t.examples) for t in tests)
    assert examples >= MIN_EXAMPLES, f"only {examples} docstring examples left in personae"
    # the domain packages each show at least one
    packages = {t.name.split(".")[1] for t in tests}
    for package in ("segments", "identity", "privacy", "experience", "clv", "journeys", "live"):
        assert package in packages


@pytest.mark.slow
@pytest.mark.skipif(PACKAGE != ROOT / "src" / "personae", reason="personae is not imported from this tree")
def test_pytest_collects_every_docstring_with_examples() -> None:
    """``pytest src/personae`` with the project's settings (nothing added on the command line),
    in a fresh interpreter: one item per docstring with examples."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", "src/personae"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = [line for line in proc.stdout.splitlines() if "::" in line]
    assert len(collected) == len(_doctests()), proc.stdout
