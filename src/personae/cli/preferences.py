"""``personae preferences``: micro-segments, each customer's preference profile."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from personae.app.clusters import (
    customer_preferences,
)
from personae.cli.context import State, console, print_json

preferences_app = typer.Typer(
    help="Micro-segments: each customer's preference profile.", no_args_is_help=True
)


@preferences_app.command("show")
def preferences_show(
    customer_id: str = typer.Argument(..., help="Unified customer id"),
    top: int = typer.Option(3, "--top", help="Preferences shown per kind"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Favourite categories, brands, tags, price band, channel and time of day, with evidence."""
    with State.open_store() as store:
        profile = customer_preferences(store, customer_id)
    data = profile.as_dict(top)
    empty = not any(items for kind, items in data.items() if kind != "customer_id")
    if empty:
        data["note"] = (
            f"no preferences for {customer_id}: nothing in their history names a category, brand, "
            "tag, price band, channel or time of day (orders need a product_id found in the products "
            "file, a channel, or a time of day; `personae ingest products FILE`, then `personae build`)"
        )
    if as_json:
        print_json(data)
        return
    if empty:
        console.print(escape(data["note"]))
        return
    table = Table("kind", "value", "strength", "signal", "orders", "months (last 6)", "share")
    for kind, items in data.items():
        if kind in ("customer_id", "note"):
            continue
        for p in items:
            table.add_row(
                kind,
                p["value"],
                f"{p['strength']:.2f}",
                p["signal"],
                str(p.get("orders", "")),
                str(p.get("months_recent", "")),
                "" if p.get("share") is None else f"{p['share']:.0%}",
            )
    console.print(f"preferences of {customer_id}")
    console.print(table)
