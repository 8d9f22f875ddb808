"""``personae traits``: one customer's traits, or all of them as a file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from personae.app import audit
from personae.app.customers import resolve_customer_id
from personae.app.export import plain, write_table
from personae.app.privacy import pseudonymised_traits
from personae.app.traits import customer_traits
from personae.cli.context import State, console, print_json
from personae.errors import NotFoundError

traits_app = typer.Typer(help="Customer traits (run `personae build` first).", no_args_is_help=True)


@traits_app.command("show")
def traits_show(
    customer: str = typer.Argument(..., help="Customer id or identifier"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Every trait of one customer, with their affinities."""

    with State.open_store() as store:
        cid = resolve_customer_id(
            store, customer, default_country_code=State.settings().identity.default_country_code
        )
        data = customer_traits(store, cid)
    if data is None:
        raise NotFoundError(f"no traits for customer {cid}", hint="run `personae build` first")
    if as_json:
        print_json(data)
        return
    table = Table("trait", "value", show_header=True)
    for k, v in data.items():
        if k != "affinities" and v not in (None, [], ""):
            table.add_row(k, str(plain(v)))
    console.print(table)
    affinities = data.get("affinities")
    for a in affinities[:10] if isinstance(affinities, list) else []:
        console.print(
            f"  {a['kind']:<8} {a['value']:<24} strength {a['strength']:.2f} ({a['signal']}, "
            f"{a['orders']} orders, {a['months_recent']} of the last 6 months)"
        )


@traits_app.command("export")
def traits_export(
    format: str = typer.Option("csv", "--format", "-f", help="csv, parquet or json"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output file (default: stdout for csv/json)"),
    pseudonymise: bool = typer.Option(
        False, "--pseudonymise", help="Stable pseudonyms instead of customer ids; no names, emails, phones"
    ),
) -> None:
    """All customers' traits as one table (pseudonymised for analysts with --pseudonymise)."""
    with State.open_store() as store:
        if pseudonymise:
            table = pseudonymised_traits(store, actor=audit.cli_actor())
        else:
            table = store.to_arrow(store.table("traits"))
            audit.record(
                store, actor=audit.cli_actor(), action="traits export", detail=f"{table.num_rows} rows"
            )
    write_table(table, format, out)
    if out is not None:
        console.print(f"wrote {table.num_rows:,} customers to {out}")
