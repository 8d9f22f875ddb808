"""``personae rejects``: rows that were rejected, with file, line and reason."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from personae.app.ingest.rejects import list_rejects
from personae.cli.context import State, console, print_json


def rejects(
    kind: str | None = typer.Option(None, help="Only this kind"),
    file: str | None = typer.Option(None, help="Only rows from this file"),
    limit: int = typer.Option(50, help="Show at most this many (0 = all)"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Rows that were rejected, with file, line and reason."""
    with State.open_store() as store:
        rows = list_rejects(store, kind=kind, file=file, limit=limit or None)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no rejected rows")
        return
    table = Table("file", "line", "kind", "reason", "raw", show_lines=False)
    for r in rows:  # escaped: file content is text to show, never Rich markup
        table.add_row(
            escape(r["file"]), str(r["line"]), r["kind"], escape(r["reason"]), escape(r["raw"][:60])
        )
    console.print(table)
