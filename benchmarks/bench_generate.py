"""Benchmark the synthetic data generator: wall time, rows and rows per second per file.

Usage::

    .venv/bin/python benchmarks/bench_generate.py --customers 20000
    .venv/bin/python benchmarks/bench_generate.py --customers 1000000 --format parquet

Files go to a temporary directory that is deleted afterwards unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from personae.devtools.generate import generate_dataset


def count_rows(path: Path) -> int:
    """Data rows of a CSV (newlines minus the header) or Parquet file."""
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    lines = 0
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            lines += block.count(b"\n")
    return lines - 1  # no field contains a newline, so every other line is a row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=None, help="keep the files here")
    args = parser.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="personae-bench-"))
    last = [""]

    def progress(step: str, fraction: float) -> None:
        if step != last[0]:
            print(f"  {step} ...", file=sys.stderr, flush=True)
            last[0] = step

    try:
        start = time.perf_counter()
        cpu = time.process_time()
        paths = generate_dataset(
            args.customers, args.seed, out, fmt=args.format, years=args.years, progress=progress
        )
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu
        total_rows = total_bytes = 0
        print(f"{'file':<16}{'rows':>14}{'MB':>10}")
        for path in paths.values():
            rows, size = count_rows(path), path.stat().st_size
            total_rows += rows
            total_bytes += size
            print(f"{path.name:<16}{rows:>14,}{size / 1e6:>10.1f}")
        print(f"{'total':<16}{total_rows:>14,}{total_bytes / 1e6:>10.1f}")
        print(
            f"customers={args.customers:,} format={args.format} wall={wall:.1f}s "
            f"cpu={cpu:.1f}s rows/s={total_rows / wall:,.0f}"
        )
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
