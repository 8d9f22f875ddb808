"""The Typer application, its global options, and how errors reach the user.

Thin shell: every command parses its options, calls one library function and prints.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from personae.config import Settings, load_settings
from personae.errors import InputError, PersonaeError
from personae.store import Store
from personae.store.engine import open_store

app = typer.Typer(
    name="personae",
    help="Know each customer, segment them, and personalize — from your own data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
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
        return open_store(cls.settings())


@app.callback()
def _global(
    db: Path | None = typer.Option(
        None, "--db", envvar="PERSONAE_DB", help="DuckDB database file (default: ./personae.duckdb)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    engine: str | None = typer.Option(
        None, "--engine", help="duckdb (default) or spark; env PERSONAE_ENGINE (docs/scaling.md)."
    ),
    warehouse: str | None = typer.Option(
        None,
        "--warehouse",
        help="Spark engine: Parquet warehouse folder or URI (default: ./personae-warehouse).",
    ),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="Spark engine: master URL (default: local[*], or spark-submit's)."
    ),
) -> None:
    """personae: customer segmentation and personalization engine."""
    State.db = db
    State.quiet = quiet
    State.engine, State.warehouse, State.spark_master = engine, warehouse, spark_master


def print_json(data: Any) -> None:
    """JSON on stdout, nothing else (so scripts can pipe it)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, allow_nan=False) + "\n")


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[str, float], None]]:
    """A Rich progress bar fed by ``report(step, fraction)`` callbacks (on stderr)."""
    if State.quiet or not err_console.is_terminal:
        yield lambda step, fraction: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=1.0, step="")

        def report(step: str, fraction: float) -> None:
            bar.update(task, completed=min(max(fraction, 0.0), 1.0), step=step)

        yield report


def main() -> None:
    """Console entry point: run the app, turning personae errors into one line and an exit code."""
    from personae.cli import commands  # noqa: F401  (registers the commands)

    try:
        app(standalone_mode=False)
    except PersonaeError as exc:
        # escape: messages quote file content (e.g. a column "amount [usd]"), not markup
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("interrupted: nothing was changed by the interrupted step")
        raise SystemExit(130) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except Exception as exc:
        # usage errors (missing argument, unknown command…), duck-typed: newer Typer vendors
        # Click as typer._click (no `click` module), older Typer raises click's own classes
        code, show = getattr(exc, "exit_code", None), getattr(exc, "show", None)
        if callable(show) and isinstance(code, int):
            show()
            raise SystemExit(code) from None
        raise
