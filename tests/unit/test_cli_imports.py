"""The CLI starts without importing the heavy scientific libraries.

``personae --help`` used to take ~3 s of CPU because modules on the CLI's import path imported
scikit-learn, SciPy's stats/optimize and VADER at module level. Those imports now happen inside
the functions that use them; these tests keep it that way. Each check runs in a fresh
interpreter, since this test process may already have imported the libraries.

Not asserted: ``scipy.sparse`` (``personae.app.recommend`` and the recommenders build sparse
matrices at import; it costs ~0.1 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: Made lazy in the modules on the CLI's import path.
MADE_LAZY = (
    "sklearn",
    "scipy.stats",
    "scipy.optimize",
    "scipy.special",
    "scipy.sparse.csgraph",
    "vaderSentiment",
    "altair",
)
#: Already imported only where used; listed so that stays true.
ALREADY_LAZY = ("implicit", "py3langid", "pyspark", "plotly")
HEAVY = MADE_LAZY + ALREADY_LAZY

_PROBE = """
import json, sys
{body}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _heavy_loaded(body: str, cwd: Path) -> list[str]:
    """Run ``body`` in a fresh interpreter; the heavy modules it left in ``sys.modules``."""
    code = _PROBE.format(body=body, heavy=HEAVY)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return loaded


def test_probe_detects_a_heavy_import(tmp_path: Path) -> None:
    """The check can fail: a module imported in the probe is reported."""
    assert "scipy.stats" in _heavy_loaded("import scipy.stats", tmp_path)


def test_importing_the_commands_loads_no_heavy_library(tmp_path: Path) -> None:
    assert _heavy_loaded("import personae.cli.commands", tmp_path) == []


@pytest.mark.parametrize("args", [["--help"], ["keys", "list"], ["segments", "list"]])
def test_light_commands_load_no_heavy_library(tmp_path: Path, args: list[str]) -> None:
    body = f"""
from typer.testing import CliRunner
import personae.cli.commands
from personae.cli.app import app
result = CliRunner().invoke(app, ["--db", {str(tmp_path / "p.duckdb")!r}, *{args!r}])
assert result.exit_code == 0, (result.output, result.exception)
"""
    assert _heavy_loaded(body, tmp_path) == []
