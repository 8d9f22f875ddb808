"""Soak and fault run of the service (issue 25.5), longer than the suite's.

Runs ``tests/e2e/test_soak.py`` — a shop-like mix (three senders posting Segment-style batches of
sign-ins, views, adds, orders and pages, a reader of live members and profiles) while a build,
an ingest, a segment change and an erasure happen, then a SIGKILL mid-traffic and a restart —
for ``--seconds`` (default 300; the suite runs 60), and prints its numbers: events acknowledged
(each checked stored exactly once), reads, latencies, how long each operation and the restart
took, live memberships against a batch evaluation, and whether any erased byte was found.

    python benchmarks/bench_soak.py [--seconds 300]

Needs the CDNOW sample (``../shared/datasets/cdnow`` or ``PERSONAE_CDNOW_DIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="traffic before the kill")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "soak.json"
        env = {
            **os.environ,
            "PERSONAE_SOAK_SECONDS": str(args.seconds),
            "PERSONAE_SOAK_REPORT": str(report),
        }
        env.setdefault("PERSONAE_CDNOW_DIR", str(ROOT.parent / "shared" / "datasets" / "cdnow"))
        test = ROOT / "tests" / "e2e" / "test_soak.py"
        run = subprocess.run(
            [sys.executable, "-m", "pytest", str(test), "-p", "no:randomly", "-p", "no:cacheprovider"],
            cwd=ROOT,
            env=env,
            check=False,
        )
        if report.exists():
            print(f"soak, {args.seconds:.0f} s of traffic:")
            print(json.dumps(json.loads(report.read_text()), indent=2))
        else:
            print("soak: no report (the test was skipped or stopped before its checks)")
        return run.returncode


if __name__ == "__main__":
    sys.exit(main())
