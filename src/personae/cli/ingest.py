"""``personae ingest KIND FILE``: validate and load a file; bad rows go to ``personae rejects``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from personae.app.ingest import IngestPreview, IngestSummary, ingest_file, preview_file
from personae.cli.context import State, console, err_console, print_json, progress_bar
from personae.errors import InputError


def parse_mapping(items: list[str] | None, flag: str = "--map") -> dict[str, str]:
    """``["customer_id=cust", …]`` → ``{"customer_id": "cust"}`` (``--map``; ``--set`` alike).

    >>> parse_mapping(["amount=dollars", " ordered_at = date "])
    {'amount': 'dollars', 'ordered_at': 'date'}
    """
    shape, example = (
        ("CANONICAL=SOURCE", "--map amount=dollars")
        if flag == "--map"
        else ("COLUMN=VALUE", "--set type=review")
    )
    mapping: dict[str, str] = {}
    for item in items or []:
        canonical, sep, source = item.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise InputError(f"{flag} {item!r}: expected {shape}, e.g. {example}")
        mapping[canonical.strip()] = source.strip()
    return mapping


def ingest(
    kind: str = typer.Argument(
        ..., help="customers, orders, events, products, stores, surveys, consents, texts or postcodes"
    ),
    file: Path = typer.Argument(
        ..., help="CSV, Parquet or JSON Lines file (with --engine spark, also a folder of them)"
    ),
    format: str | None = typer.Option(
        None, "--format", "-f", help="csv, tsv, parquet or jsonl (default: from the extension)"
    ),
    map_: list[str] | None = typer.Option(
        None, "--map", "-m", help="CANONICAL=SOURCE column mapping (repeatable)"
    ),
    set_: list[str] | None = typer.Option(
        None, "--set", help="COLUMN=VALUE: one value for a column on every row (repeatable)"
    ),
    date_format: str | None = typer.Option(
        None,
        "--date-format",
        help="strftime format of dates, e.g. %Y%m%d, or epoch / epoch_ms for Unix times "
        "(9-10 / 13-digit integers are read as Unix times without it)",
    ),
    delimiter: str | None = typer.Option(
        None, "--delimiter", help="field separator of a delimited file (default: sniffed: , tab ; |)"
    ),
    list_sep: str | None = typer.Option(
        None,
        "--list-sep",
        help="separator inside list cells (customers' interests, products' tags; a products "
        "category naming several keeps the first and tags all), e.g. '|' (default ;)",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show the mapping, 5 parsed rows and the reject counts; write nothing"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
) -> None:
    """Validate and load a file. Bad rows go to `personae rejects`; nothing is lost."""
    mapping = parse_mapping(map_)
    constants = parse_mapping(set_, "--set")
    settings = State.settings()
    if dry_run:
        preview = preview_file(
            kind,
            file,
            fmt=format,
            mapping=mapping,
            date_format=date_format,
            identity=settings.identity,
            constants=constants,
            delimiter=delimiter,
            settings=settings.ingest,
            list_sep=list_sep,
            timezone=settings.timezone,
        )
        if as_json:
            print_json(preview.as_dict())
        else:
            _show_preview(preview)
        return
    if (server := State.server()) is not None:
        # `personae serve` holds the file: the server ingests it, between tracking groups
        params = {
            "kind": kind,
            "file": str(file.expanduser().resolve()),
            "format": format,
            "mapping": mapping,
            "date_format": date_format,
            "constants": constants,
            "delimiter": delimiter,
            "list_sep": list_sep,
        }
        _show_summary(IngestSummary(**server.call("ingest", params)), as_json)
        return
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
            constants=constants,
            delimiter=delimiter,
            settings=settings.ingest,
            list_sep=list_sep,
            timezone=settings.timezone,
        )
    _show_summary(summary, as_json)


def _show_summary(summary: IngestSummary, as_json: bool) -> None:
    if as_json:
        print_json(summary.as_dict())
        return
    console.print(
        f"[bold]{summary.kind}[/bold] from {escape(summary.file)}: read {summary.read:,}, "
        f"accepted {summary.accepted:,} ({summary.updated:,} updates), "
        f"rejected {summary.rejected:,}, duplicates {summary.duplicates:,}"
        + (f", {summary.merges:,} profiles merged" if summary.merges else "")
    )
    if summary.conflicts:
        err_console.print(
            f"[yellow]warning:[/yellow] {summary.conflicts:,} row(s) share an id with another row but "
            "differ: the first was kept, the others are rejected (personae rejects)",
            highlight=False,
        )
    if summary.rejected:
        console.print("  see the rejected rows and why with: personae rejects")


def _show_preview(p: IngestPreview) -> None:
    """The dry run for people: where each column comes from, a few rows, what would be refused."""
    console.print(f"[bold]{p.kind}[/bold] from {escape(p.file)} ({p.format}) — dry run, nothing written")
    mapping = Table("column", "from", title="mapping")
    for canonical, source in p.mapping.items():
        mapping.add_row(canonical, escape(source))
    if p.extra:
        mapping.add_row("properties_extra", escape(", ".join(p.extra)))
    console.print(mapping)
    if p.rows:
        shown = Table(*p.rows[0], title=f"first {len(p.rows)} parsed rows")
        for row in p.rows:
            shown.add_row(*(escape("" if v is None else str(v)) for v in row.values()))
        console.print(shown)
    console.print(
        f"read {p.read:,}: {p.valid:,} valid, {p.rejected:,} would be rejected "
        "(duplicates and conflicts with stored rows are found by the real ingest)"
    )
    for r in p.rejects:
        console.print(f"  line {r['line']}: {escape(str(r['reason']))}", highlight=False)
