"""Data commands: ingest, rejects, customers, generate, demo."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from personae.app import audit
from personae.app.customers import customer_profile
from personae.app.ingest import ingest_file
from personae.app.ingest.rejects import list_rejects
from personae.cli.app import State, app, console, print_json, progress_bar
from personae.errors import InputError

customers_app = typer.Typer(help="Unified customer profiles.", no_args_is_help=True)
app.add_typer(customers_app, name="customers")


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """``["customer_id=cust", …]`` → ``{"customer_id": "cust"}``."""
    mapping: dict[str, str] = {}
    for item in items or []:
        canonical, sep, source = item.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise InputError(f"--map {item!r}: expected CANONICAL=SOURCE, e.g. --map amount=dollars")
        mapping[canonical.strip()] = source.strip()
    return mapping


@app.command()
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


@app.command()
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


@customers_app.command("show")
def customers_show(
    customer: str = typer.Argument(..., help="Customer id, email, phone or other identifier"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """The unified profile: attributes, identifiers, activity, consents, merges."""
    with State.open_store() as store:
        profile = customer_profile(
            store, customer, default_country_code=State.settings().identity.default_country_code
        )
        audit.record(
            store, actor=audit.cli_actor(), action="read profile", customer_id=profile["customer_id"]
        )
    if as_json:
        print_json(profile)
        return
    console.print(f"[bold]customer {escape(profile['customer_id'])}[/bold]")
    attrs = Table("attribute", "value", show_header=False)
    for k, v in profile["attributes"].items():
        if v not in (None, [], {}):
            attrs.add_row(k, escape(str(v)))
    console.print(attrs)
    console.print("identifiers: " + escape(", ".join(profile["identifiers"])))
    console.print("activity: " + ", ".join(f"{k} {v:,}" for k, v in profile["counts"].items()))
    console.print(
        "consents: "
        + (
            ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in profile["consents"].items())
            or "none recorded"
        )
    )
    for m in profile["merged_profiles"]:
        console.print(
            escape(f"merged {m['merged_customer_id']} ({m['rule']}: {m['identifiers']}) at {m['merged_at']}")
        )


@app.command()
def generate(
    customers: int = typer.Option(20_000, "--customers", "-n", help="Number of customers"),
    seed: int = typer.Option(42, help="Random seed (same seed, same files)"),
    out: Path = typer.Option(Path("data/generated"), "--out", "-o", help="Output folder"),
    format: str = typer.Option("csv", "--format", "-f", help="csv or parquet"),
) -> None:
    """Write a realistic synthetic omnichannel retail data set as canonical files."""
    from personae.devtools.generate import generate_dataset

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


@app.command()
def demo(
    customers: int = typer.Option(20_000, "--customers", "-n", help="Customers to generate"),
    seed: int = typer.Option(42, help="Random seed"),
    out: Path = typer.Option(Path("data/demo"), "--out", help="Where the generated files go"),
    report_out: Path = typer.Option(Path("report"), "--report-out", help="Where the HTML report goes"),
) -> None:
    """Generate a data set, load it and summarise it: the whole flow in one command."""
    from personae.app.demo import run_demo

    run_demo(
        State.open_store, customers=customers, seed=seed, out=out, quiet=State.quiet, report_dir=report_out
    )
