"""``personae warehouse``: move a DuckDB database into a Parquet warehouse for the Spark engine."""

from __future__ import annotations

import typer
from rich.table import Table

from personae.cli.context import State, console, print_json, progress_bar
from personae.store import DuckDBStore
from personae.store.export import export_to_warehouse
from personae.store.warehouse import Warehouse, table_rows

warehouse_app = typer.Typer(
    help="The Parquet warehouse the Spark engine reads and writes (docs/scaling.md).", no_args_is_help=True
)


@warehouse_app.command("export")
def export(
    to: str | None = typer.Option(
        None, "--to", help="Warehouse folder or URI (default: --warehouse / PERSONAE_WAREHOUSE)"
    ),
    table: list[str] | None = typer.Option(None, "--table", "-t", help="Only this table (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="Print rows per table as JSON"),
) -> None:
    """Copy the DuckDB database (--db) into the warehouse, all tables in one commit."""
    settings = State.settings()
    target = to or settings.warehouse
    with DuckDBStore.open(settings.db) as store, progress_bar("export") as report:
        rows = export_to_warehouse(store, target, tables=table, progress=report)
    if as_json:
        print_json(rows)
        return
    console.print(f"exported {len(rows)} tables ({sum(rows.values()):,} rows) from {settings.db} to {target}")


@warehouse_app.command("tables")
def tables(as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """The warehouse's tables with their rows and parts (read from the manifest; no Spark)."""
    warehouse = Warehouse.at(State.settings().warehouse)
    content = warehouse.load()
    rows = {
        name: {"rows": table_rows(warehouse, parts), "parts": len(parts)} for name, parts in content.items()
    }
    if as_json:
        print_json(rows)
        return
    out = Table("table", "rows", "parts", title=warehouse.uri)
    for name, info in rows.items():
        out.add_row(name, f"{info['rows']:,}", str(info["parts"]))
    console.print(out)
