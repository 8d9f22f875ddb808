"""``personae maintenance``: chores on the database file (``compact``: give back unused space)."""

from __future__ import annotations

import typer

from personae.cli.context import State, console, print_json
from personae.errors import InputError
from personae.store import DuckDBStore
from personae.store.maintenance import compact_file, reclaimable_bytes

maintenance_app = typer.Typer(
    help="Chores on the database file (docs/service.md, Operations).", no_args_is_help=True
)


def _size(n: int) -> str:
    """Bytes for people: 19.1 MB, 824 KB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


@maintenance_app.command("compact")
def compact(as_json: bool = typer.Option(False, "--json", help="Print the sizes and counts as JSON")) -> None:
    """Copy the database into a fresh file without the space failed or killed writes left, check
    every table's rows, and swap it in (the old file stays until the copy is checked)."""
    settings = State.settings()
    if settings.engine != "duckdb":
        raise InputError(
            "compact works on a DuckDB database", hint="the Spark warehouse keeps no free blocks"
        )
    if not settings.db.exists():
        raise InputError(f"no database at {settings.db}", hint="check --db / PERSONAE_DB")
    with DuckDBStore.open(settings.db) as store:
        spare = reclaimable_bytes(store)
        done = compact_file(store)
    if as_json:
        print_json(
            {
                "db": done.path,
                "bytes_before": done.bytes_before,
                "bytes_after": done.bytes_after,
                "given_back": done.given_back,
                "unused_before": spare,
                "tables": done.tables,
                "rows": done.rows,
            }
        )
        return
    console.print(
        f"compacted {done.path}: {_size(done.bytes_before)} → {_size(done.bytes_after)} "
        f"({_size(done.given_back)} given back); {done.tables} tables, {done.rows:,} rows, "
        "each table's count checked before the swap"
    )
