"""``benchmarks/bench_scale.py`` runs end to end at a tiny size and prints every step.

Speed is not tested (it is measured by the benchmark itself, docs/scaling.md): this only keeps
the script from rotting — every CLI command it drives still exists and accepts its files, and
every step and its bare-engine yardstick is printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BENCH = ROOT / "benchmarks" / "bench_scale.py"


@pytest.mark.slow
def test_bench_scale_prints_every_step(tmp_path: Path) -> None:
    def bench(*extra: str, timeout: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(BENCH), "--customers", "300", "--work", str(tmp_path), *extra],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            timeout=timeout,
        )

    done = bench(timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for kind in ("products", "stores", "customers", "consents", "orders", "events", "surveys"):
        assert f"ingest {kind}" in out
    for step in ("ingest (all files)", "install templates", "build", "segments list", "report", "total"):
        assert step in out, step
    assert "hand-written traits SQL" in out
    # the header, then seven files, all files, build and report beside their bare engine
    assert out.count("| bare") == 11
    assert out.count("rejected 0 ") == 7  # the generated files are clean
    # a second run reuses the generated files
    again = bench("--generate-only", timeout=300)
    assert "reusing the files" in again.stdout
