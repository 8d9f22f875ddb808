"""``personae rejects``: rows that were rejected, with file, line and reason; ``rejects clear``."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from personae.app.ingest.rejects import clear_rejects, list_rejects
from personae.cli.context import State, console, print_json

rejects_app = typer.Typer(
    help="Rows that were rejected, with file, line and reason; `rejects clear` once dealt with.",
    invoke_without_command=True,
)


@rejects_app.callback()
def rejects(
    ctx: typer.Context,
    kind: str | None = typer.Option(None, help="Only this kind"),
    file: str | None = typer.Option(None, help="Only rows from this file"),
    limit: int = typer.Option(50, help="Show at most this many (0 = all)"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Rows that were rejected, with file, line and reason."""
    if ctx.invoked_subcommand is not None:
        return
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


@rejects_app.command("clear")
def rejects_clear(
    ingest: str | None = typer.Option(None, "--ingest", help="The rejects of one ingest run (its id)"),
    file: str | None = typer.Option(None, "--file", help="The rejects of one file (the path as listed)"),
    all_: bool = typer.Option(False, "--all", help="Every rejected row"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Delete rejected rows once they are dealt with (their raw lines go too)."""
    with State.open_store() as store:
        n = clear_rejects(store, ingest_id=ingest, file=file, everything=all_)
    if as_json:
        print_json({"cleared": n})
        return
    console.print(f"cleared {n:,} rejected row(s)" if n else "no rejected rows matched: nothing cleared")
