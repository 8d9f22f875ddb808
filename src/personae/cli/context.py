"""What every command shares: the global options, the consoles, JSON and progress output.

Command modules import from here, never from :mod:`personae.cli.app` (which imports them all to
build the command table), so the CLI has no import cycle.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from personae.cli.server import Server, explain_lock, server_for
from personae.config import Settings, load_settings
from personae.coverage import Coverage
from personae.errors import InputError, StoreError
from personae.store import Store
from personae.store.engine import open_store

console = Console()
err_console = Console(stderr=True)


class State:
    db: Path | None = None
    quiet: bool = False
    engine: str | None = None
    warehouse: str | None = None
    spark_master: str | None = None

    @classmethod
    def settings(cls) -> Settings:
        if cls.engine not in (None, "duckdb", "spark"):
            raise InputError(f"--engine {cls.engine!r}: expected duckdb or spark")
        spark = {"master": cls.spark_master} if cls.spark_master else None
        return load_settings(db=cls.db, engine=cls.engine, warehouse=cls.warehouse, spark=spark)

    @classmethod
    def open_store(cls) -> Store:
        """The store the options name; a file held by another process is one line saying who."""
        settings = cls.settings()
        try:
            return open_store(settings)
        except StoreError as exc:
            raise explain_lock(exc, settings) from None

    @classmethod
    def server(cls) -> Server | None:
        """The ``personae serve`` holding the database, to hand the command to (cli/server.py)."""
        return server_for(cls.settings())


def print_json(data: Any) -> None:
    """JSON on stdout, nothing else (so scripts can pipe it)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, allow_nan=False) + "\n")


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[str, float], None]]:
    """A Rich progress bar fed by ``report(step, fraction)`` callbacks (on stderr).

    The step text may carry a rate (ingest shows rows read and rows per second); the time left
    is Rich's estimate from the fraction's recent speed.
    """
    if State.quiet or not err_console.is_terminal:
        yield lambda step, fraction: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=1.0, step="")

        def report(step: str, fraction: float) -> None:
            bar.update(task, completed=min(max(fraction, 0.0), 1.0), step=step)

        yield report


def say_left_out(left_out: dict[str, Any] | None) -> None:
    """The one line saying who an output left out and why (nothing when nobody was)."""
    line = Coverage.from_json(left_out).sentence() if left_out else None
    if line:
        console.print(f"[yellow]{escape(line)}[/yellow]")


def tidy(value: Any, digits: int = 4) -> Any:
    """JSON-ready: floats rounded, NaN/inf as null, tuples as lists."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, digits)
    if isinstance(value, dict):
        return {k: tidy(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [tidy(v, digits) for v in value]
    return value


def fmt_num(value: float | None, fmt: str = "{:.1f}") -> str:
    """A number for a table cell; an em dash where there is none."""
    return "—" if value is None else fmt.format(value)


def fmt_ci(ci: list[float] | None) -> str:
    """A confidence interval as ``[low, high]``, rounded."""
    return "" if not ci else f"[{ci[0]:.0f}, {ci[1]:.0f}]"


def fmt_p(p: float) -> str:
    """A p-value, never printed as zero."""
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"
