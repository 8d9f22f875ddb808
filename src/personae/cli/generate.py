"""``personae generate``: a synthetic omnichannel retail data set, as canonical files."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from personae.cli.context import console, progress_bar
from personae.devtools.generate import generate_dataset
from personae.errors import InputError


def generate(
    customers: int = typer.Option(20_000, "--customers", "-n", help="Number of customers"),
    seed: int = typer.Option(42, help="Random seed (same seed, same files)"),
    out: Path = typer.Option(Path("data/generated"), "--out", "-o", help="Output folder"),
    format: str = typer.Option("csv", "--format", "-f", help="csv or parquet"),
) -> None:
    """Write a realistic synthetic omnichannel retail data set as canonical files."""

    if format not in ("csv", "parquet"):
        raise InputError(f"--format {format!r}: use csv or parquet")
    if customers < 1:
        raise InputError("--customers must be at least 1")
    start = time.perf_counter()
    with progress_bar("generate") as report:
        files = generate_dataset(customers, seed, out, fmt=format, progress=report)  # type: ignore[arg-type]
    console.print(f"wrote {len(files)} files to {out} in {time.perf_counter() - start:.1f}s")
    for kind, path in files.items():
        console.print(f"  {kind:<10} {path}")
