"""``personae ingest KIND FILE``: validate and load a file; bad rows go to ``personae rejects``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from personae.app.ingest import ingest_file
from personae.cli.context import State, console, print_json, progress_bar
from personae.errors import InputError


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """``["customer_id=cust", …]`` → ``{"customer_id": "cust"}``."""
    mapping: dict[str, str] = {}
    for item in items or []:
        canonical, sep, source = item.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise InputError(f"--map {item!r}: expected CANONICAL=SOURCE, e.g. --map amount=dollars")
        mapping[canonical.strip()] = source.strip()
    return mapping


def ingest(
    kind: str = typer.Argument(..., help="customers, orders, events, products, stores, surveys or consents"),
    file: Path = typer.Argument(..., help="CSV, Parquet or JSON Lines file"),
    format: str | None = typer.Option(
        None, "--format", "-f", help="csv, parquet or jsonl (default: from the extension)"
    ),
    map_: list[str] | None = typer.Option(
        None, "--map", "-m", help="CANONICAL=SOURCE column mapping (repeatable)"
    ),
    date_format: str | None = typer.Option(
        None, "--date-format", help="strftime format of dates, e.g. %Y%m%d"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
) -> None:
    """Validate and load a file. Bad rows go to `personae rejects`; nothing is lost."""
    mapping = parse_mapping(map_)
    settings = State.settings()
    with State.open_store() as store, progress_bar(f"ingest {kind}") as report:
        summary = ingest_file(
            store,
            kind,
            file,
            fmt=format,
            mapping=mapping,
            date_format=date_format,
            identity=settings.identity,
            progress=report,
        )
    if as_json:
        print_json(summary.as_dict())
        return
    console.print(
        f"[bold]{summary.kind}[/bold] from {escape(summary.file)}: read {summary.read:,}, "
        f"accepted {summary.accepted:,} ({summary.updated:,} updates), "
        f"rejected {summary.rejected:,}, duplicates {summary.duplicates:,}"
        + (f", {summary.merges:,} profiles merged" if summary.merges else "")
    )
    if summary.rejected:
        console.print("  see the rejected rows and why with: personae rejects")
